"""Write the generated projects' `.test_durations` as one Jinja template.

    uv run python -m tests.durations_template

Projects with CI shards ship `.test_durations`, which must name exactly their
integration tests. Those depend on the answers `database`, `event_bus`,
`http_recording` and `style`. This renders one project per combination of them, collects
each one's integration tests, times the fullest runs (sync and async), and writes the template
with an `if` per test where the variants differ. Run it after adding or
renaming an integration test; the generated suites fail until it matches.
"""

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.render import render_variant, snapshot_template
from tests.variants import ROOT, default_variant

TARGET = ROOT / "template" / "{% if with_shards %}.test_durations{% endif %}.jinja"
FLAGS = ("with_postgres", "with_redis", "http_recording", "is_async")


def answers(flags: tuple[bool, ...]) -> dict:
    postgres, redis, recording, asynchronous = flags
    return {
        **default_variant().data,
        "database": "postgresql" if postgres else "sqlite",
        "event_bus": "redis" if redis else "none",
        "http_recording": recording,
        "style": "async" if asynchronous else "sync",
        "ci": "github",
        "ci_shards": 2,
    }


def condition(having: set[tuple[bool, ...]]) -> str:
    """The shortest conjunction of flags that is true exactly for the variants in `having`."""
    everything = set(itertools.product((True, False), repeat=len(FLAGS)))
    literals = [(index, value) for index in range(len(FLAGS)) for value in (True, False)]
    for size in range(len(FLAGS) + 1):
        for chosen in itertools.combinations(literals, size):
            truth = {f for f in everything if all(f[index] == value for index, value in chosen)}
            if truth == having:
                terms = [
                    FLAGS[index] if value else f"not {FLAGS[index]}" for index, value in chosen
                ]
                return " and ".join(terms) or "true"
    raise ValueError(f"no simple condition for {sorted(having)}")


def main() -> None:
    tests: dict[str, set[tuple[bool, ...]]] = {}
    durations: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        template = snapshot_template(ROOT, Path(work) / "template")
        for flags in itertools.product((True, False), repeat=len(FLAGS)):
            project = render_variant(
                template, Path(work) / "-".join(map(str, flags)), answers(flags)
            )
            collected = subprocess.run(
                ["uv", "run", "--quiet", "pytest", "--collect-only", "-q", "tests/integration"],
                cwd=project, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            for line in collected.splitlines():
                if line.startswith("tests/integration/"):
                    tests.setdefault(line, set()).add(flags)
            if all(flags[:3]):  # the fullest of each style
                stored = Path(work) / "durations.json"
                command = ["uv", "run", "--quiet", "pytest", "-q", "-p", "no:randomly"]
                command += ["tests/integration", "--store-durations", f"--durations-path={stored}"]
                subprocess.run(command, cwd=project, capture_output=True, text=True, check=True)
                durations = {**json.loads(stored.read_text()), **durations}
    lines = [
        "{#- The integration tests this project has, and their seconds; pytest-split balances",
        "    the CI shards with them. `pytest tests/integration --store-durations` refreshes it.",
        "    The template's `python -m tests.durations_template` writes this file. #}",
        "{%- set durations = [",
    ]
    for test in sorted(tests):
        seconds = max(round(durations.get(test, 0.01), 3), 0.001)
        lines.append(f"    ({condition(tests[test])}, {json.dumps(test)}, {seconds}),")
    lines += [
        "] -%}",
        "{",
        "{%- for wanted, test, seconds in durations if wanted %}",
        '    {{ test | tojson }}: {{ seconds }}{{ "," if not loop.last }}',
        "{%- endfor %}",
        "}",
    ]
    TARGET.write_text("\n".join(lines) + "\n")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(tests)} tests", file=sys.stderr)


if __name__ == "__main__":
    main()
