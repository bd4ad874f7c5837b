"""Engine and session plumbing shared by the app and its tests."""

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session

if TYPE_CHECKING:
    from alembic.config import Config

# Named constraints: migrations can refer to them, and SQLite can alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, choosing the driver this project ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed)
    # A server that stops answering fails the connection instead of hanging it.
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _make_sqlite_engine(url) -> Engine:
    # Requests run in a thread pool, so connections cross threads.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

    # pysqlite opens transactions lazily and breaks SAVEPOINT; let SQLAlchemy
    # emit BEGIN itself, as the SQLAlchemy documentation recommends.
    @event.listens_for(engine, "connect")
    def _disable_pysqlite_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        # Readers never wait for a writer, so a server process and its tests share the file.
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request, closed afterwards."""
    with request.app.state.session_factory() as session:
        yield session


def alembic_config(connection: Connection | None = None) -> "Config":
    """Alembic configuration that migrates the database behind `connection`, if given."""
    # Imported here: serving requests never needs Alembic, and it is slow to import.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", f"{__package__}:migrations")
    config.attributes["connection"] = connection
    return config


def migrate(connection: Connection, revision: str = "head") -> None:
    """Bring the database behind `connection` to `revision` (the schema is the migrations)."""
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


@cache
def migration_heads() -> frozenset[str]:
    """The revisions the migrations end at: a schema at head carries exactly these."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """None when the database answers and its schema is at head; otherwise what is wrong."""
    from alembic.migration import MigrationContext

    try:
        with engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return f"unreachable ({type(exc).__name__})"
    if current == migration_heads():
        return None
    if not current:
        return "no schema: run `alembic upgrade head`"
    return f"schema at {', '.join(sorted(current))}, not at head: run `alembic upgrade head`"
