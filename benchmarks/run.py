"""Benchmark the generated suite: isolation cost per test, server start-up, parallel speed-up.

    uv run python benchmarks/run.py [--tests 400]

Renders the fullest variant from the working tree, adds synthetic integration
tests (each writes 5 rows and commits) and prints one Markdown table measured
in this run. Needs TEST_DATABASE_URL and TEST_REDIS_URL (as the meta-tests do).
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.docker_engine import (  # noqa: E402
    LocalDockerEngine,
    build_local_images,
    cache_dir,
    missing_tools,
)
from tests.render import render_variant, snapshot_template  # noqa: E402
from tests.variants import default_variant  # noqa: E402

HERE = Path(__file__).parent
PACKAGE = "my_service"
STRATEGIES = {
    # name: (fixture, module-level marks, share of --tests)
    "baseline": ("", "", 1.0),
    "rollback": ("db_session", "", 1.0),
    "delete": ("db_session", "pytestmark = pytest.mark.committed\n", 1.0),
    "truncate": ("truncate_session", "pytestmark = pytest.mark.committed\n", 1.0),
    "clone": ("clone_session", "", 0.25),  # ~100 ms each: a quarter of the tests is enough
}

FLOOR_SCRIPT = """
import sys, time
from sqlalchemy import text
from {package}.db import make_engine
engine = make_engine(sys.argv[1])
with engine.connect() as c:
    c.begin()
    for sql in ("SELECT 1", "SAVEPOINT s; RELEASE SAVEPOINT s"):
        for _ in range(200): c.exec_driver_sql(sql)
        start = time.perf_counter()
        for _ in range(2000): c.exec_driver_sql(sql)
        print((time.perf_counter() - start) / 2000 * 1000)
"""

STARTUP_SCRIPT = """
import sys, time, types
from tests.support.infra.resolve import obtain_server
from tests.support.infra.services import POSTGRES, REDIS
config = types.SimpleNamespace(getoption=lambda name: None, getini=lambda name: "")
for service in (POSTGRES, REDIS):
    start = time.perf_counter()
    server = obtain_server(config, service)
    ready = time.perf_counter()
    server.stop()
    print(service.key, (ready - start) * 1000, (time.perf_counter() - ready) * 1000)
"""


def sh(command: list[str], cwd: Path, env: dict | None = None) -> str:
    # The project's own environment, not the one this script runs in.
    outer = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result = subprocess.run(
        command, cwd=cwd, env={**outer, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return result.stdout


def write_synthetic_tests(project: Path, count: int) -> None:
    bench = project / "tests" / "integration" / "bench"
    bench.mkdir()
    (bench / "__init__.py").write_text("")
    shutil.copy(HERE / "synthetic_conftest.py.tmpl", bench / "conftest.py")
    api = (HERE / "synthetic_api_tests.py.tmpl").read_text()
    (bench / "test_api.py").write_text(api.format(count=count))
    template = (HERE / "synthetic_tests.py.tmpl").read_text()
    (bench / "test_baseline.py").write_text(
        f"import pytest\n\n\n@pytest.mark.parametrize('n', range({count}))\n"
        "def test_baseline(n):\n    pass\n"
    )
    for strategy, (fixture, marks, share) in STRATEGIES.items():
        if strategy == "baseline":
            continue
        source = template.format(
            package=PACKAGE,
            marks=marks,
            count=max(1, int(count * share)),
            strategy=strategy,
            fixture=fixture,
        )
        (bench / f"test_{strategy}.py").write_text(source)


def isolation_costs(project: Path, env: dict) -> dict[str, float]:
    """Mean setup + teardown time per test and strategy, in ms."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    sh(
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration/bench"]
        + ["--ignore=tests/integration/bench/test_api.py"],
        project,
        {**env, "BENCH_DURATIONS": str(out), "BENCH_PACKAGE": PACKAGE},
    )
    durations = json.loads(out.read_text())
    out.unlink()
    # Two phases per test: setup and teardown.
    return {name: statistics.fmean(values) * 2 * 1000 for name, values in durations.items()}


def floor(project: Path, db_url: str) -> tuple[float, float]:
    script = FLOOR_SCRIPT.format(package=PACKAGE)
    select, savepoint = sh(["uv", "run", "python", "-c", script, db_url], project).split()
    return float(select), float(savepoint)


def wall_time(project: Path, env: dict, *args: str) -> float:
    """The integration tier as a team would have it: its own tests plus the API ones."""
    others = [f"--ignore=tests/integration/bench/test_{name}.py" for name in STRATEGIES]
    command = ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration"]
    start = time.perf_counter()
    sh([*command, *others, *args], project, env)
    return time.perf_counter() - start


def startup(project: Path, env: dict) -> dict[str, tuple[float, float]]:
    lines = sh(["uv", "run", "python", "-c", STARTUP_SCRIPT], project, env).splitlines()
    return {key: (float(up), float(down)) for key, up, down in (line.split() for line in lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=400, help="synthetic tests per strategy")
    options = parser.parse_args()
    urls = {name: os.environ.get(name) for name in ("TEST_DATABASE_URL", "TEST_REDIS_URL")}
    if not all(urls.values()):
        sys.exit("set TEST_DATABASE_URL and TEST_REDIS_URL to running servers")
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

    with tempfile.TemporaryDirectory(prefix="benchmark-") as work:
        work = Path(work)
        template = snapshot_template(ROOT, work / "template")
        project = render_variant(template, work / "project", default_variant().data)
        sh(["uv", "sync", "--quiet"], project)
        write_synthetic_tests(project, options.tests)
        env = {"BENCH_PACKAGE": PACKAGE, **urls}

        costs = isolation_costs(project, env)
        select_ms, savepoint_ms = floor(project, urls["TEST_DATABASE_URL"])
        serial = wall_time(project, env)
        parallel = wall_time(project, env, "-n", "2")
        starts = {"url": startup(project, {**urls, "TEST_INFRA": "url"})}
        shutil.rmtree(Path(tempfile.gettempdir()) / f"test-server-cache-{os.getuid()}", True)
        embedded = {**{k: "" for k in urls}, "TEST_INFRA": "embedded"}
        starts["embedded (cold cache)"] = startup(project, embedded)
        starts["embedded"] = startup(project, embedded)
        if not missing_tools():
            engine = LocalDockerEngine(root=work / "docker")
            try:
                docker = {
                    **{k: "" for k in urls},
                    "TEST_INFRA": "docker",
                    "DOCKER_HOST": engine.start(),
                    **build_local_images(engine, cache_dir()),
                    "TESTCONTAINERS_RYUK_DISABLED": "true",
                    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
                    "TC_HOST": "127.0.0.1",
                }
                starts["docker (local images)"] = startup(project, docker)
            finally:
                engine.stop()

    print(report(options.tests, costs, select_ms, savepoint_ms, serial, parallel, starts))


def report(count, costs, select_ms, savepoint_ms, serial, parallel, starts) -> str:
    base = costs.pop("baseline")
    overhead = {name: costs[name] - base for name in STRATEGIES if name in costs}
    rollback = overhead["rollback"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL over loopback; "
        f"{count} synthetic tests per strategy (clone: {int(count * 0.25)}), "
        "each writing 5 rows and committing.",
        "",
        "| isolation per test | overhead (ms) | vs rollback |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {ms:.2f} | {ms / rollback:.1f}x |" for name, ms in overhead.items()]
    lines += [
        f"| floor: SAVEPOINT + RELEASE round trip | {savepoint_ms:.2f} | "
        f"{savepoint_ms / rollback:.2f}x |",
        f"| floor: SELECT 1 round trip | {select_ms:.2f} | {select_ms / rollback:.2f}x |",
        "",
        f"Overhead: setup + teardown of a test minus that of a test without fixtures "
        f"({base:.2f} ms). Rollback is {rollback / savepoint_ms:.1f}x the SAVEPOINT floor.",
        "",
        "| server start-up | PostgreSQL ready (ms) | stop (ms) | Redis ready (ms) | stop (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for provider, values in starts.items():
        (pg_up, pg_down), (r_up, r_down) = values["postgres"], values["redis"]
        lines.append(f"| {provider} | {pg_up:.0f} | {pg_down:.0f} | {r_up:.0f} | {r_down:.0f} |")
    lines += [
        "",
        f"| integration tier: its own tests + {count} API tests | wall time (s) |",
        "| --- | ---: |",
        f"| 1 worker | {serial:.1f} |",
        f"| 2 workers (`-n 2`) | {parallel:.1f} |",
        f"| speed-up | {serial / parallel:.2f}x |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
