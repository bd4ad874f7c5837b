"""The PostgreSQL and Redis modules against the real servers in TEST_DATABASE_URL and TEST_REDIS_URL.

A run gets a database and a key namespace of its own, and leaves neither behind.
"""

import json
import os
import uuid

import psycopg
import pytest
import redis

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
needs_postgres = pytest.mark.skipif(not DATABASE_URL, reason="TEST_DATABASE_URL is not set")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")

CONFTEST = """
from pathlib import Path

import psycopg

pytest_plugins = ["service_harness.postgres", "service_harness.redis"]
HERE = Path(__file__).parent


def pytest_harness_postgres_template(url):
    with open(HERE / "template-hook.log", "a") as log:
        log.write(url + "\\n")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE made_by_the_hook (id int)")
"""
DATABASE_TESTS = """
import json
from pathlib import Path

import psycopg
import pytest

HERE = Path(__file__).parent
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


def seen(url):
    with psycopg.connect(url) as connection:
        [(name,)] = connection.execute("SELECT current_database()").fetchall()
        return {"name": name, "tables": [table for (table,) in connection.execute(TABLES)]}


@pytest.mark.parametrize("number", range(4))
def test_db_url(db_url, request, number):
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    (HERE / f"db-{worker}.json").write_text(json.dumps(seen(db_url)))


def test_empty_db_url(empty_db_url):
    (HERE / "empty-db.json").write_text(json.dumps(seen(empty_db_url)))
"""


@pytest.fixture
def prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    """A database name prefix of this test's own, under the run's (function)."""
    prefix = f"{os.environ.get('TEST_DATABASE_PREFIX') or 'test'}_sh{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TEST_DATABASE_PREFIX", prefix)
    return prefix


def databases(prefix: str) -> list[str]:
    with psycopg.connect(DATABASE_URL, autocommit=True, connect_timeout=5) as connection:
        names = [str(name) for (name,) in connection.execute("SELECT datname FROM pg_database")]
    return sorted(name for name in names if name.startswith(f"{prefix}_"))


@pytest.fixture
def database_project(pytester: pytest.Pytester, prefix: str) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_database=DATABASE_TESTS)
    return pytester


def seen(project: pytest.Pytester, name: str) -> dict[str, object]:
    result: dict[str, object] = json.loads((project.path / name).read_text())
    return result


@needs_postgres
def test_run_gets_a_migrated_database_of_its_own_and_drops_it(
    database_project: pytest.Pytester, prefix: str
) -> None:
    result = database_project.runpytest()
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["  PostgreSQL URL from TEST_DATABASE_URL", "PostgreSQL: * (url: from TEST_DATABASE_URL)"]
    )
    hook_calls = (database_project.path / "template-hook.log").read_text().splitlines()
    db = seen(database_project, "db-main.json")
    assert hook_calls == [f"{DATABASE_URL.rsplit('/', 1)[0]}/{db['name']}"]
    assert str(db["name"]).startswith(f"{prefix}_")
    assert db["tables"] == ["made_by_the_hook"]
    empty = seen(database_project, "empty-db.json")
    assert str(empty["name"]).startswith(f"{prefix}_")
    assert empty["name"] != db["name"]
    assert empty["tables"] == []
    assert databases(prefix) == [], "the run left databases behind"


@needs_postgres
def test_xdist_workers_get_copies_of_one_template(
    database_project: pytest.Pytester, prefix: str
) -> None:
    result = database_project.runpytest("-n", "2")
    result.assert_outcomes(passed=5)
    hook_calls = (database_project.path / "template-hook.log").read_text().splitlines()
    assert len(hook_calls) == 1, "the template hook ran more than once"
    copies = [seen(database_project, f"db-{worker}.json") for worker in ("gw0", "gw1")]
    assert copies[0]["name"] != copies[1]["name"]
    for copy in copies:
        assert str(copy["name"]).startswith(f"{prefix}_")
        assert copy["tables"] == ["made_by_the_hook"]
    assert databases(prefix) == [], "the run left databases behind"


REDIS_TESTS = """
from pathlib import Path

import pytest
import redis as redis_py

HERE = Path(__file__).parent


@pytest.mark.committed
def test_committed_writes(redis, redis_namespace):
    (HERE / "namespace.txt").write_text(redis_namespace)
    with redis_py.Redis.from_url(redis.url) as client:
        client.set(f"{redis_namespace}committed", "1")
        assert client.get(f"{redis_namespace}committed") == b"1"


def test_next_test_finds_the_namespace_empty(redis, redis_namespace):
    with redis_py.Redis.from_url(redis.url) as client:
        assert list(client.scan_iter(match=f"{redis_namespace}*")) == []
        client.set(f"{redis_namespace}kept", "1")
"""


@needs_redis
def test_redis_namespace_keys_are_deleted(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["service_harness.redis"]')
    pytester.makepyfile(test_namespace=REDIS_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["  Redis URL from TEST_REDIS_URL"])
    namespace = (pytester.path / "namespace.txt").read_text()
    assert namespace.startswith("test-")
    assert namespace.endswith(":")
    with redis.Redis.from_url(REDIS_URL) as client:
        assert list(client.scan_iter(match=f"{namespace}*")) == []
