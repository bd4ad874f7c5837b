"""Run the fullest generated suite many times, in random order, half of the runs on two
xdist workers, and count the runs that failed.

    uv run python benchmarks/repeat.py [--runs 50] [--style sync|async]

Every run uses embedded servers unless TEST_DATABASE_URL / TEST_REDIS_URL are
set. Each run's order comes from pytest-randomly with a seed of its own, printed
next to a failing run so that it can be replayed (`--randomly-seed=N`).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.render import render_variant, snapshot_template  # noqa: E402
from tests.variants import STYLES, fullest_variant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--style", choices=STYLES, default="sync", help="the project's style")
    options = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    failures = []
    with tempfile.TemporaryDirectory(prefix="repeat-") as work:
        template = snapshot_template(ROOT, Path(work) / "template")
        fullest = fullest_variant(options.style).data
        project = render_variant(template, Path(work) / "project", fullest)
        subprocess.run(["uv", "sync", "--quiet"], cwd=project, env=env, check=True)
        for run in range(1, options.runs + 1):
            seed = 1000 + run
            workers = ["-n", "2"] if run % 2 == 0 else []
            command = ["uv", "run", "--quiet", "pytest", "-q", f"--randomly-seed={seed}"]
            started = time.monotonic()
            result = subprocess.run(
                [*command, *workers], cwd=project, env=env, capture_output=True, text=True
            )
            seconds = time.monotonic() - started
            outcome = "passed" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
            how = "-n 2" if workers else "serial"
            print(f"run {run:3}: seed {seed}, {how}: {outcome} in {seconds:.1f} s", flush=True)
            if result.returncode != 0:
                failures.append(run)
                print(result.stdout[-4000:] + result.stderr[-2000:], flush=True)
    print(f"{options.runs - len(failures)} of {options.runs} runs passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
