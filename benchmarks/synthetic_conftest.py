"""Benchmark fixtures, copied into the rendered project's tests/integration/bench/.

`rollback` and `delete` use the project's own fixtures (db_session, and the
cleanup of tests marked `committed`); TRUNCATE and a database cloned per test
are written out here, as a suite that chose them would have them.
"""

import json
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.support.postgres_server import RunDatabase

PACKAGE = os.environ["BENCH_PACKAGE"]
DURATIONS: dict[str, list[float]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when in ("setup", "teardown") and "/bench/" in report.nodeid:
        strategy = report.nodeid.split("::")[1].split("[")[0].removeprefix("test_")
        DURATIONS.setdefault(strategy, []).append(report.duration)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("BENCH_DURATIONS")
    if target and DURATIONS:
        with open(target, "w") as out:
            json.dump(DURATIONS, out)


@pytest.fixture
def truncate_session(engine: Engine, tables: None) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE users, orders, inventory RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def _clone_template(postgres, tables) -> Iterator[str]:
    from importlib import import_module

    db = import_module(f"{PACKAGE}.db")
    template = RunDatabase(server_url=postgres.url, prefix="test_bench_template")
    engine = db.make_engine(template.create())
    with engine.begin() as connection:
        db.migrate(connection)
    engine.dispose()
    yield template.name
    template.drop()


@pytest.fixture
def clone_session(postgres, _clone_template: str) -> Iterator[Session]:
    from importlib import import_module

    db = import_module(f"{PACKAGE}.db")
    database = RunDatabase(server_url=postgres.url, prefix="test_bench", template=_clone_template)
    engine = db.make_engine(database.create())
    with Session(engine) as session:
        yield session
    engine.dispose()
    database.drop()
