"""benchmarks/run.py runs against the fullest variant, prints its tables and leaves nothing behind.

Tiny counts: this checks that the benchmark works, not what it measures.
"""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checks import run
from tests.conftest import run_databases
from tests.variants import ROOT

BENCHMARK = ROOT / "benchmarks" / "run.py"
STRATEGIES = ("rollback", "delete", "truncate", "clone")
FLOORS = ("floor: SAVEPOINT + RELEASE round trip", "floor: SELECT 1 round trip")
PROVIDERS = ("url", "embedded (cold cache)", "embedded")
WALL_TIMES = ("1 worker", "2 workers (`-n 2`)", "speed-up")


def tables(output: str) -> dict[str, dict[str, list[str]]]:
    """The Markdown tables in `output`: {first header cell: {first cell of a row: other cells}}."""
    found: dict[str, dict[str, list[str]]] = {}
    lines = output.splitlines()
    for header, rule, start in zip(lines, lines[1:], range(2, len(lines) + 1), strict=False):
        if not (header.startswith("|") and rule.startswith("| ---")):
            continue
        rows = found.setdefault(cells(header)[0], {})
        for line in lines[start:]:
            if not line.startswith("|"):
                break
            first, *rest = cells(line)
            rows[first] = rest
    return found


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def number(cell: str) -> float:
    """A cell's figure as a finite float: `1.23`, or a ratio such as `4.5x`."""
    value = float(cell.removesuffix("x"))
    assert math.isfinite(value), cell
    return value


def run_benchmark(script: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a benchmark script as a person would, outside this environment; it must pass."""
    env = {key: value for key, value in env.items() if key != "VIRTUAL_ENV"}
    result = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"benchmark exited {result.returncode}:\n{output[-8000:]}"
    return result


@pytest.mark.slow
def test_benchmark_prints_its_tables_and_cleans_up(service_urls, isolated_tmp) -> None:
    # A prefix of this test's own (under the run's, which the leak check in conftest.py watches).
    prefix = f"{os.environ['TEST_DATABASE_PREFIX']}_benchtest"
    env = {
        **os.environ,
        **service_urls,
        "TEST_DATABASE_PREFIX": prefix,
        "TMPDIR": str(isolated_tmp),
    }
    result = run_benchmark(BENCHMARK, "--tests", "4", "--no-docker", env=env)

    found = tables(result.stdout)
    assert set(found) == {
        "isolation per test",
        "server start-up",
        "integration tier: its own tests + 4 API tests",
    }, result.stdout

    isolation = found["isolation per test"]
    assert set(isolation) == {*STRATEGIES, *FLOORS}, result.stdout
    for name in STRATEGIES:  # overhead (ms) and its ratio to rollback's
        assert len([number(cell) for cell in isolation[name]]) == 2, (name, isolation[name])
    assert number(isolation["rollback"][1]) == pytest.approx(1.0)
    for name in FLOORS:
        round_trip, _ = (number(cell) for cell in isolation[name])
        assert 0 < round_trip < 1000, (name, round_trip)

    startup = found["server start-up"]
    assert set(startup) == set(PROVIDERS), result.stdout  # --no-docker: no docker row
    for provider in PROVIDERS:
        figures = [number(cell) for cell in startup[provider]]
        assert len(figures) == 4, (provider, figures)
        assert all(figure >= 0 for figure in figures), (provider, figures)

    wall = found["integration tier: its own tests + 4 API tests"]
    assert set(wall) == set(WALL_TIMES), result.stdout
    for row in WALL_TIMES:
        (figure,) = (number(cell) for cell in wall[row])
        assert figure > 0, (row, figure)

    assert run_databases(prefix) == set(), "the benchmark left databases behind"
    assert sorted(path.name for path in Path(isolated_tmp).iterdir()) == [], "left in TMPDIR"
    processes = run(["pgrep", "-af", str(isolated_tmp)], cwd=ROOT).stdout.splitlines()
    assert processes == [], "the benchmark left processes running"


@pytest.mark.slow
def test_async_drivers_benchmark_prints_its_tables_and_cleans_up(
    service_urls, isolated_tmp
) -> None:
    """benchmarks/async_drivers.py: sync psycopg, async psycopg and async asyncpg side by side."""
    setups = ("sync, psycopg", "async, psycopg", "async, asyncpg")
    prefix = f"{os.environ['TEST_DATABASE_PREFIX']}_asyncbenchtest"
    env = {
        **os.environ,
        **service_urls,
        "TEST_DATABASE_PREFIX": prefix,
        "TMPDIR": str(isolated_tmp),
    }
    benchmark = ROOT / "benchmarks" / "async_drivers.py"
    args = ("--tests", "5", "--requests", "3", "--rounds", "2")
    result = run_benchmark(benchmark, *args, env=env)
    output = result.stdout + result.stderr

    found = tables(result.stdout)
    assert set(found) == {"rollback isolation per test", "in-process API tests"}, result.stdout
    isolation, api = found["rollback isolation per test"], found["in-process API tests"]
    assert set(isolation) == set(api) == set(setups), result.stdout
    for setup in setups:
        ms, ratio = (number(cell) for cell in isolation[setup])
        assert 0 < ms < 1000, (setup, ms)
        assert ratio > 0, (setup, ratio)
        _client, *figures = api[setup]
        rate, ratio = (number(cell) for cell in figures)
        assert rate > 0, (setup, rate)
        assert ratio > 0, (setup, ratio)
    assert number(isolation["sync, psycopg"][1]) == pytest.approx(1.0)
    assert number(api["sync, psycopg"][2]) == pytest.approx(1.0)
    conclusions = [line for line in result.stdout.splitlines() if line.startswith("Under asyncio")]
    assert len(conclusions) == 2, result.stdout
    assert all(" as fast as " in line for line in conclusions), conclusions
    assert "may be left" not in output, "the benchmark could not delete its Redis keys"

    assert run_databases(prefix) == set(), "the benchmark left databases behind"
    assert sorted(path.name for path in Path(isolated_tmp).iterdir()) == [], "left in TMPDIR"
    processes = run(["pgrep", "-af", str(isolated_tmp)], cwd=ROOT).stdout.splitlines()
    assert processes == [], "the benchmark left processes running"
