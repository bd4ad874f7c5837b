"""Benchmark sync against async, and psycopg against asyncpg, in the generated projects.

    uv run python benchmarks/async_drivers.py [--tests 2000] [--requests 500] [--rounds 3]

Renders the fullest sync project and the fullest async project from the working
tree and measures, in each project's own environment and with its own code:

- the rollback isolation a test pays for: a connection from the pool, BEGIN, a
  session joined with create_savepoint, one row written and committed (a
  savepoint), the rollback; as the db_session fixture does it;
- in-process API tests: POST /api/users then GET /api/users/{id}, through the
  client the `client` fixture gives (TestClient; httpx.AsyncClient over ASGI),
  inside a rolled-back transaction as the `app` fixture sets it up.

The sync project runs psycopg; the async one runs psycopg (`postgresql+psycopg`,
what it ships with) and asyncpg (`postgresql+asyncpg`, added with `uv run --with`).
The setups take turns, round after round, and each figure is the median of its
rounds: a machine that is busy for a while slows every setup alike.
Needs TEST_DATABASE_URL and TEST_REDIS_URL (as the meta-tests do).

Everything the run makes goes when it ends, also when it fails: its folders, its
databases (named with TEST_DATABASE_PREFIX, as the generated suites name theirs,
plus a suffix of this run's own) and its Redis keys (a namespace of the same name).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import PACKAGE, drop_databases, run_prefix, server_urls, sh  # noqa: E402
from tests.render import render_variant, snapshot_template  # noqa: E402
from tests.variants import fullest_variant  # noqa: E402

# label: (style of the project, SQLAlchemy driver, client of the API tests)
SETUPS = {
    "sync, psycopg": ("sync", "postgresql+psycopg", "TestClient"),
    "async, psycopg": ("async", "postgresql+psycopg", "httpx.AsyncClient"),
    "async, asyncpg": ("async", "postgresql+asyncpg", "httpx.AsyncClient"),
}
BASELINE = "sync, psycopg"

# What both scripts below start with: the standard modules, then the project's own.
PRELUDE = """
import itertools
import json
import sys
import time
from importlib import import_module
"""
ARGUMENTS = """
package, database_url, redis_url, namespace, tests, requests = sys.argv[1:7]
db = import_module(f"{package}.db")
User = import_module(f"{package}.models").User
create_app = import_module(f"{package}.app").create_app
with_namespace = import_module(f"{package}.events").with_namespace
numbers = itertools.count()
"""

# Both scripts run inside a rendered project, with its environment and its package:
#   python <script> PACKAGE DATABASE_URL REDIS_URL REDIS_NAMESPACE TESTS REQUESTS
# and print {"isolation_ms": ..., "requests_per_s": ...} as their last line.
SYNC_SCRIPT = (
    PRELUDE
    + """
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

"""
    + ARGUMENTS
    + '''

def seconds_per_call(function, count):
    for _ in range(max(10, count // 10)):  # warm-up: pool, caches, compiled statements
        function()
    start = time.perf_counter()
    for _ in range(count):
        function()
    return (time.perf_counter() - start) / count


def isolated_test():
    """What the db_session fixture costs a test that writes a row and commits."""
    n = next(numbers)
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            session.add(User(name="Bench", email=f"bench-{n}@example.com", api_token_hash=str(n)))
            session.commit()
        if transaction.is_active:
            transaction.rollback()


engine = db.make_engine(database_url)
with engine.begin() as connection:
    db.migrate(connection)
isolation = seconds_per_call(isolated_test, int(tests))

app = create_app(
    database_url=database_url, redis_url=with_namespace(redis_url, namespace), testing=True
)
with engine.connect() as connection:
    transaction = connection.begin()
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )

    def session_in_test_transaction():
        with sessions() as session:
            yield session

    app.dependency_overrides[db.get_session] = session_in_test_transaction
    with TestClient(app) as client:

        def create_and_read():
            email = f"api-{next(numbers)}@example.com"
            created = client.post("/api/users", json={"name": "Bench", "email": email})
            assert created.status_code == 201, created.text
            read = client.get(f"/api/users/{created.json()['id']}")
            assert read.status_code == 200, read.text

        pair = seconds_per_call(create_and_read, int(requests))
    transaction.rollback()
engine.dispose()
print(json.dumps({"isolation_ms": isolation * 1000, "requests_per_s": 2 / pair}))
'''
)

ASYNC_SCRIPT = (
    PRELUDE
    + """import asyncio

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

"""
    + ARGUMENTS
    + '''

async def seconds_per_call(function, count):
    for _ in range(max(10, count // 10)):  # warm-up: pool, caches, compiled statements
        await function()
    start = time.perf_counter()
    for _ in range(count):
        await function()
    return (time.perf_counter() - start) / count


async def main():
    engine = db.make_engine(database_url)
    async with engine.begin() as connection:
        await db.migrate(connection)

    async def isolated_test():
        """What the db_session fixture costs a test that writes a row and commits."""
        n = next(numbers)
        async with engine.connect() as connection:
            transaction = await connection.begin()
            session = AsyncSession(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            async with session:
                session.add(
                    User(name="Bench", email=f"bench-{n}@example.com", api_token_hash=str(n))
                )
                await session.commit()
            if transaction.is_active:
                await transaction.rollback()

    isolation = await seconds_per_call(isolated_test, int(tests))

    app = create_app(
        database_url=database_url, redis_url=with_namespace(redis_url, namespace), testing=True
    )
    async with engine.connect() as connection:
        transaction = await connection.begin()
        sessions = async_sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

        async def session_in_test_transaction():
            async with sessions() as session:
                yield session

        app.dependency_overrides[db.get_session] = session_in_test_transaction
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
            ) as client,
        ):

            async def create_and_read():
                email = f"api-{next(numbers)}@example.com"
                created = await client.post("/api/users", json={"name": "Bench", "email": email})
                assert created.status_code == 201, created.text
                read = await client.get(f"/api/users/{created.json()['id']}")
                assert read.status_code == 200, read.text

            pair = await seconds_per_call(create_and_read, int(requests))
        await transaction.rollback()
    await engine.dispose()
    print(json.dumps({"isolation_ms": isolation * 1000, "requests_per_s": 2 / pair}))


asyncio.run(main())
'''
)

# Run in a rendered project: deletes the keys under the run's Redis namespace.
REDIS_CLEANUP_SCRIPT = """
import sys
from service_harness.redis import delete_namespace
delete_namespace(sys.argv[1], sys.argv[2])
"""


def database_url(server_url: str, name: str, driver: str) -> str:
    """`server_url` (postgresql://...) naming database `name` through SQLAlchemy's `driver`."""
    parts = urlsplit(server_url)
    return parts._replace(scheme=driver, path=f"/{name}").geturl()


def create_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def measure(
    options: argparse.Namespace, urls: dict[str, str], prefix: str
) -> dict[str, list[dict[str, float]]]:
    """{setup label: [{"isolation_ms": ..., "requests_per_s": ...} for each round]}"""
    server_url, redis_url = urls["TEST_DATABASE_URL"], urls["TEST_REDIS_URL"]
    namespace = f"{prefix}:"
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        work = Path(folder)
        scratch = work / "tmp"
        scratch.mkdir()
        env = {"TMPDIR": str(scratch), "TEST_DATABASE_PREFIX": prefix}
        template = snapshot_template(ROOT, work / "template")
        projects: dict[str, Path] = {}
        for style in ("sync", "async"):
            variant = fullest_variant(style)
            projects[style] = render_variant(template, work / style, variant.data)
            sh(["uv", "sync", "--quiet"], projects[style], env)
            create_database(server_url, f"{prefix}_{style}")
        scripts = {"sync": work / "measure_sync.py", "async": work / "measure_async.py"}
        scripts["sync"].write_text(SYNC_SCRIPT)
        scripts["async"].write_text(ASYNC_SCRIPT)
        counts = [str(options.tests), str(options.requests)]
        results: dict[str, list[dict[str, float]]] = {label: [] for label in SETUPS}
        try:
            for _round in range(options.rounds):
                for label, (style, driver, _client) in SETUPS.items():
                    extra = ["--with", "asyncpg"] if driver == "postgresql+asyncpg" else []
                    url = database_url(server_url, f"{prefix}_{style}", driver)
                    arguments = [PACKAGE, url, redis_url, namespace, *counts]
                    command = ["uv", "run", *extra, "python", str(scripts[style]), *arguments]
                    output = sh(command, projects[style], env)
                    results[label].append(json.loads(output.strip().splitlines()[-1]))
        finally:
            delete_redis_namespace(projects["sync"], env, redis_url, namespace)
        return results


def delete_redis_namespace(project: Path, env: dict, redis_url: str, namespace: str) -> None:
    """Delete the run's Redis keys, with the harness of `project`; a failure only warns."""
    outer = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    cleanup = ["uv", "run", "python", "-c", REDIS_CLEANUP_SCRIPT, redis_url, namespace]
    result = subprocess.run(
        cleanup, cwd=project, env={**outer, **env}, capture_output=True, text=True
    )
    if result.returncode != 0:
        message = f"warning: Redis keys under {namespace} may be left:\n{result.stderr[-2000:]}"
        print(message, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=2000, help="isolated tests per setup")
    parser.add_argument(
        "--requests", type=int, default=500, help="POST + GET pairs per setup (2 requests each)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="turns each setup takes")
    options = parser.parse_args()
    if min(options.tests, options.requests, options.rounds) < 1:
        parser.error("--tests, --requests and --rounds must be at least 1")
    urls = server_urls()

    prefix = run_prefix()
    try:
        results = measure(options, urls, prefix)
    finally:
        drop_databases(urls["TEST_DATABASE_URL"], prefix)
    print(report(options, results))


def faster(
    rounds: dict[str, list[float]], *, higher_is_better: bool, unit: str, decimals: int
) -> str:
    """Which async driver wins on the medians of `rounds`, by how much and how often."""
    drivers = {name: rounds[f"async, {name}"] for name in ("psycopg", "asyncpg")}
    medians = {name: statistics.median(figures) for name, figures in drivers.items()}
    winner, loser = sorted(medians, key=medians.__getitem__, reverse=higher_is_better)
    ratio = max(medians.values()) / min(medians.values())
    won = sum(
        (mine > theirs) == higher_is_better
        for mine, theirs in zip(drivers[winner], drivers[loser], strict=True)
    )
    return (
        f"Under asyncio, {winner} is {ratio:.2f}x as fast as {loser} "
        f"({medians[winner]:.{decimals}f} against {medians[loser]:.{decimals}f} {unit}; "
        f"faster in {won} of {len(drivers[winner])} rounds); "
        f"sync psycopg: {statistics.median(rounds[BASELINE]):.{decimals}f} {unit}."
    )


def report(options: argparse.Namespace, results: dict[str, list[dict[str, float]]]) -> str:
    rounds = {
        figure: {label: [each[figure] for each in runs] for label, runs in results.items()}
        for figure in ("isolation_ms", "requests_per_s")
    }
    isolation = {label: statistics.median(ms) for label, ms in rounds["isolation_ms"].items()}
    throughput = {
        label: statistics.median(rates) for label, rates in rounds["requests_per_s"].items()
    }
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL over loopback; "
        f"{options.tests} isolated tests and {options.requests} POST + GET pairs per setup "
        f"and round, median of {options.rounds} rounds, "
        "in the rendered projects' own environments.",
        "",
        "| rollback isolation per test | ms | vs sync |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {ms:.3f} | {ms / isolation[BASELINE]:.2f}x |"
        for label, ms in isolation.items()
    ]
    lines += [
        "",
        faster(rounds["isolation_ms"], higher_is_better=False, unit="ms per test", decimals=3),
        "",
        "| in-process API tests | client | requests/s | vs sync |",
        "| --- | --- | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {SETUPS[label][2]} | {rate:.0f} | {rate / throughput[BASELINE]:.2f}x |"
        for label, rate in throughput.items()
    ]
    lines += [
        "",
        faster(rounds["requests_per_s"], higher_is_better=True, unit="requests/s", decimals=0),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
