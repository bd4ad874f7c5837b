"""Where this run's servers come from.

Each service's server URL resolves from, in order: a command-line option, an
environment variable, an ini setting in pyproject.toml. The first one set wins,
and the run's header says which. `find_server` is the one place that decides,
so that other ways to obtain a server can be added behind it.
"""

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest


class InfrastructureError(RuntimeError):
    """No usable server for a service; the message says what was tried and what to do."""


@dataclass(frozen=True, kw_only=True)
class Service:
    name: str
    option: str
    env: str
    ini: str
    example: str


@dataclass(frozen=True, kw_only=True)
class Server:
    """A running server that this run may use."""

    service: str
    url: str
    source: str

    @property
    def display_url(self) -> str:
        return masked(self.url)


def masked(url: str) -> str:
    """`url` with its password replaced by ***, fit for logs and headers."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def register(parser: pytest.Parser, service: Service) -> None:
    parser.addoption(
        service.option,
        default=None,
        help=f"URL of a running {service.name} server for the tests (env: {service.env}).",
    )
    parser.addini(service.ini, f"URL of a running {service.name} server for the tests.")


def configured_url(config: pytest.Config, service: Service) -> tuple[str, str] | None:
    """The (url, source) the run is configured with: option, then environment, then ini."""
    candidates = (
        (config.getoption(service.option), service.option),
        (os.environ.get(service.env), service.env),
        (config.getini(service.ini), f"[tool.pytest.ini_options] {service.ini}"),
    )
    return next(((url, source) for url, source in candidates if url), None)


def find_server(config: pytest.Config, service: Service) -> Server:
    """Resolve a reachable server for `service` or raise InfrastructureError."""
    configured = configured_url(config, service)
    if configured is None:
        raise InfrastructureError(
            f"No {service.name} server configured. Set {service.env} "
            f"(e.g. {service.env}={service.example}), pass {service.option}=URL, "
            f"or set {service.ini} under [tool.pytest.ini_options]."
        )
    url, source = configured
    server = Server(service=service.name, url=url, source=source)
    _check_reachable(server)
    return server


def _check_reachable(server: Server, timeout: float = 3.0) -> None:
    parsed = urlsplit(server.url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or _DEFAULT_PORTS[server.service]
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise InfrastructureError(
            f"{server.service} at {server.display_url} (from {server.source}) is not reachable: "
            f"{exc}. Start the server or point {server.source} at one that runs."
        ) from None


_DEFAULT_PORTS = {"PostgreSQL": 5432, "Redis": 6379}


def header_line(config: pytest.Config, service: Service) -> str:
    configured = configured_url(config, service)
    if configured is None:
        return f"{service.name}: not configured (set {service.env})"
    url, source = configured
    return f"{service.name}: {masked(url)} (from {source})"
