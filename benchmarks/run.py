"""Benchmark the generated suite: isolation cost per test, server start-up, parallel speed-up.

    uv run python benchmarks/run.py [--tests 400] [--no-docker]

Renders the default variant from the working tree, adds synthetic integration
tests (each writes 5 rows and commits) and prints Markdown tables measured in
this run. Needs TEST_DATABASE_URL and TEST_REDIS_URL (as the meta-tests do).

Everything the run makes goes when it ends: its folders (the embedded servers'
cache included, so the cold start is cold without touching anyone else's) and
its databases, which are named with TEST_DATABASE_PREFIX as the generated
suites name theirs, plus a suffix of this run's own.
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
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.docker_engine import (  # noqa: E402
    EngineFailed,
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
# Not measured: they run first and last, so that no strategy's test pays for setting up
# or tearing down the session-scoped fixtures (server, run database, migrations).
SESSION_START = (
    "def test_session_start(postgres, engine, tables, clone_template):\n"
    '    """Sets up the session-scoped fixtures that the strategies share."""\n'
)
SESSION_END = (
    "def test_session_end():\n"
    '    """The last test: the session-scoped fixtures are torn down in its teardown."""\n'
)

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
engine.dispose()
"""

STARTUP_SCRIPT = """
import sys, time, types
from service_harness.postgres import POSTGRES
from service_harness.providers import obtain_server
from service_harness.redis import REDIS
config = types.SimpleNamespace(getoption=lambda name: None, getini=lambda name: "")
for service in (POSTGRES, REDIS):
    start = time.perf_counter()
    server = obtain_server(config, service)
    ready = time.perf_counter()
    server.stop()
    print(service.key, (ready - start) * 1000, (time.perf_counter() - ready) * 1000)
"""

CACHE_SCRIPT = "from service_harness.embedded import cache_root; print(cache_root())"


def sh(command: list[str], cwd: Path, env: dict | None = None) -> str:
    # The project's own environment, not the one this script runs in.
    outer = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result = subprocess.run(
        command, cwd=cwd, env={**outer, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return result.stdout


def share_of(count: int, strategy: str) -> int:
    return max(1, int(count * STRATEGIES[strategy][2]))


def write_synthetic_tests(project: Path, count: int) -> None:
    bench = project / "tests" / "integration" / "bench"
    bench.mkdir()
    (bench / "__init__.py").write_text("")
    shutil.copy(HERE / "synthetic_conftest.py.tmpl", bench / "conftest.py")
    api = (HERE / "synthetic_api_tests.py.tmpl").read_text()
    (bench / "test_api.py").write_text(api.format(count=count))
    (bench / "test_session_start.py").write_text(SESSION_START)
    (bench / "test_session_end.py").write_text(SESSION_END)
    template = (HERE / "synthetic_tests.py.tmpl").read_text()
    (bench / "test_baseline.py").write_text(
        f"import pytest\n\n\n@pytest.mark.parametrize('n', range({count}))\n"
        "def test_baseline(n):\n    pass\n"
    )
    for strategy, (fixture, marks, _share) in STRATEGIES.items():
        if strategy == "baseline":
            continue
        source = template.format(
            package=PACKAGE,
            marks=marks,
            count=share_of(count, strategy),
            strategy=strategy,
            fixture=fixture,
        )
        (bench / f"test_{strategy}.py").write_text(source)


def isolation_costs(project: Path, env: dict, work: Path) -> dict[str, float]:
    """Mean setup + teardown time per test and strategy, in ms."""
    out = work / "durations.json"
    files = ["session_start", *STRATEGIES, "session_end"]  # pytest keeps this order
    sh(
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"]
        + [f"tests/integration/bench/test_{name}.py" for name in files],
        project,
        {**env, "BENCH_DURATIONS": str(out)},
    )
    durations = json.loads(out.read_text())
    # Two phases per test: setup and teardown.
    return {name: statistics.fmean(durations[name]) * 2 * 1000 for name in STRATEGIES}


def floor(project: Path, env: dict, db_url: str) -> tuple[float, float]:
    script = FLOOR_SCRIPT.format(package=PACKAGE)
    select, savepoint = sh(["uv", "run", "python", "-c", script, db_url], project, env).split()
    return float(select), float(savepoint)


def wall_time(project: Path, env: dict, *args: str) -> float:
    """The integration tier as a team would have it: its own tests plus the API ones."""
    bench = ["session_start", *STRATEGIES, "session_end"]
    others = [f"--ignore=tests/integration/bench/test_{name}.py" for name in bench]
    command = ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration"]
    start = time.perf_counter()
    sh([*command, *others, *args], project, env)
    return time.perf_counter() - start


def startup(project: Path, env: dict) -> dict[str, tuple[float, float]]:
    lines = sh(["uv", "run", "python", "-c", STARTUP_SCRIPT], project, env).splitlines()
    return {key: (float(up), float(down)) for key, up, down in (line.split() for line in lines)}


def docker_startup(project: Path, env: dict, work: Path) -> dict[str, tuple[float, float]]:
    """Start-up on a dockerd of this run's own, with images built locally (minutes)."""
    engine = LocalDockerEngine(root=work / "docker")
    try:
        docker = {
            **env,
            "TEST_INFRA": "docker",
            "DOCKER_HOST": engine.start(),
            **build_local_images(engine, cache_dir()),
            "TESTCONTAINERS_RYUK_DISABLED": "true",
            "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
            "TC_HOST": "127.0.0.1",
        }
        return startup(project, docker)
    finally:
        engine.stop()


def run_prefix() -> str:
    """TEST_DATABASE_PREFIX for the generated suite: the one set (or its default), then this run."""
    return f"{os.environ.get('TEST_DATABASE_PREFIX') or 'test'}_bench{uuid.uuid4().hex[:6]}"


def drop_databases(server_url: str, prefix: str) -> list[str]:
    """Drop the databases named with `prefix` that are still on the server; their names."""
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute("SELECT datname FROM pg_database").fetchall()
        left = sorted(name for (name,) in rows if name.startswith(f"{prefix}_"))
        for name in left:
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(statement.format(sql.Identifier(name)))
    return left


def measure(options: argparse.Namespace, urls: dict[str, str], prefix: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        work = Path(folder)
        # As root the embedded PostgreSQL runs as `nobody`, which must reach its folder here.
        work.chmod(0o755)
        scratch = work / "tmp"
        scratch.mkdir(mode=0o755)
        scratch.chmod(0o755)
        template = snapshot_template(ROOT, work / "template")
        project = render_variant(template, work / "project", default_variant().data)
        # The generated suite's temporary files and the embedded servers' cache go in `scratch`.
        env = {"TMPDIR": str(scratch), "TEST_DATABASE_PREFIX": prefix, "BENCH_PACKAGE": PACKAGE}
        sh(["uv", "sync", "--quiet"], project, env)
        write_synthetic_tests(project, options.tests)
        server_cache = Path(sh(["uv", "run", "python", "-c", CACHE_SCRIPT], project, env).strip())
        if not server_cache.is_relative_to(scratch):
            sys.exit(
                f"the embedded servers would use {server_cache}, shared with other runs, for "
                f"the cold start: point TMPDIR at a folder that all users can traverse"
            )
        with_urls = {**env, **urls, "TEST_INFRA": "url"}

        results: dict = {"starts": {}, "notes": []}
        results["costs"] = isolation_costs(project, with_urls, work)
        results["floor"] = floor(project, env, urls["TEST_DATABASE_URL"])
        results["serial"] = wall_time(project, with_urls)
        results["parallel"] = wall_time(project, with_urls, "-n", "2")
        starts = results["starts"]
        starts["url"] = startup(project, with_urls)
        without_urls = {**env, **{name: "" for name in urls}}
        shutil.rmtree(server_cache, ignore_errors=True)  # a fresh folder: this is only a guard
        embedded = {**without_urls, "TEST_INFRA": "embedded"}
        starts["embedded (cold cache)"] = startup(project, embedded)
        starts["embedded"] = startup(project, embedded)
        missing = missing_tools()
        if options.no_docker:
            results["notes"].append("Docker start-up left out (--no-docker).")
        elif missing:
            results["notes"].append(f"Docker start-up left out: {', '.join(missing)} not found.")
        else:
            try:
                starts["docker (local images)"] = docker_startup(project, without_urls, work)
            except (EngineFailed, subprocess.CalledProcessError) as exc:
                reason = " ".join(str(exc).split())[:300]
                results["notes"].append(f"Docker start-up left out: {reason}")
        return results


def server_urls() -> dict[str, str]:
    """TEST_DATABASE_URL and TEST_REDIS_URL, which a benchmark needs; exits without them."""
    urls = {name: os.environ.get(name, "") for name in ("TEST_DATABASE_URL", "TEST_REDIS_URL")}
    if not all(urls.values()):
        sys.exit("set TEST_DATABASE_URL and TEST_REDIS_URL to running servers")
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=400, help="synthetic tests per strategy")
    parser.add_argument(
        "--no-docker",
        action="store_true",
        help="leave out the Docker start-up row (starting dockerd and building images: minutes)",
    )
    options = parser.parse_args()
    if options.tests < 1:
        parser.error("--tests must be at least 1")
    urls = server_urls()

    prefix = run_prefix()
    try:
        results = measure(options, urls, prefix)
    finally:
        left = drop_databases(urls["TEST_DATABASE_URL"], prefix)
    if left:
        sys.exit(f"the generated suite left databases behind (now dropped): {', '.join(left)}")
    print(report(options.tests, **results))


def report(count, costs, floor, serial, parallel, starts, notes) -> str:
    select_ms, savepoint_ms = floor
    base = costs["baseline"]
    overhead = {name: ms - base for name, ms in costs.items() if name != "baseline"}
    rollback = overhead["rollback"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL over loopback; "
        f"{count} synthetic tests per strategy (clone: {share_of(count, 'clone')}), "
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
    if notes:
        lines += ["", *notes]
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
