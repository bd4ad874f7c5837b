"""Which way each service's server is obtained: a URL, a Docker container, or embedded.

The mode comes from the `infra` setting (--infra, TEST_INFRA, `infra` in
[tool.pytest.ini_options], else auto). In auto, each service tries in order:
a URL the run is configured with, a reachable Docker engine, an embedded
server. A URL that is configured but dead is an error, never a reason to
fall back. Any other mode uses that one way only.
"""

import os
import socket
from collections.abc import Callable
from contextlib import suppress
from urllib.parse import urlsplit

import pytest

from service_harness.services import (
    Container,
    InfrastructureError,
    ProviderUnavailable,
    Server,
    Service,
    answers,
    masked,
)
from service_harness.settings import Resolved, Setting, resolve, resolve_choice

INFRA = Setting(
    ini="infra",
    option="--infra",
    env="TEST_INFRA",
    default="auto",
    help="How to obtain servers: auto, url, docker or embedded.",
)
DOCKER_PROBE_TIMEOUT = 2  # seconds: a missing engine must cost almost nothing


def from_url(config: pytest.Config, service: Service) -> Server:
    configured = resolve(config, service.url)
    if configured.value is None:
        raise ProviderUnavailable(
            f"{service.url.env} is not set (nor {service.url.option}, nor {service.url.ini} "
            "in [tool.pytest.ini_options])"
        )
    url, source = configured.value, configured.source
    # The URL was asked for by name: never fall back to another server.
    require_answer(service, url, source, f"Start that server, or point {source} at one that runs.")
    return Server(service=service, url=url, provider="url", detail=f"from {source}")


def require_answer(service: Service, url: str, source: str, remedy: str) -> None:
    """Raise InfrastructureError, ending with `remedy`, unless the server at `url` answers."""
    parts = urlsplit(url)
    error = answers(parts.hostname or "127.0.0.1", parts.port or service.port)
    if error is not None:
        raise InfrastructureError(
            f"{service.name} at {masked(url)} (from {source}) does not answer: {error}. {remedy}"
        )


def _docker_socket_problem(where: str) -> OSError | None:
    """Whether anything listens where DOCKER_HOST (or the default socket) says, checked
    with a socket closed here: when the docker client's constructor fails to connect,
    it leaves its socket to the garbage collector, whose ResourceWarning then fails a
    later test in a project that turns warnings into errors."""
    if where.startswith("unix://") or not where:
        path = where.removeprefix("unix://") or "/var/run/docker.sock"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(DOCKER_PROBE_TIMEOUT)
                probe.connect(path)
        except OSError as exc:
            return exc
        return None
    if where.startswith("tcp://"):
        parts = urlsplit(where)
        return answers(parts.hostname or "127.0.0.1", parts.port or 2375, DOCKER_PROBE_TIMEOUT)
    return None  # ssh:// and the like: the client itself is the only probe


def _docker_engine_problem() -> str | None:
    try:
        import docker
    except ImportError:
        return "the docker package is not installed (install pytest-service-harness[docker])"
    where = os.environ.get("DOCKER_HOST", "")
    problem: Exception | None = _docker_socket_problem(where)
    if problem is None:
        try:
            client = docker.from_env(timeout=DOCKER_PROBE_TIMEOUT)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:  # docker raises many types for "no engine"
            problem = exc
    if problem is None:
        return None
    where = where or "the default socket"
    return f"no Docker engine answers at {where} ({type(problem).__name__}: {problem})"


def in_docker(config: pytest.Config, service: Service) -> Server:
    return start_container(service, resolve(config, service.image).value or "")


def start_container(service: Service, image: str) -> Server:
    """A container of `image` for `service`, or ProviderUnavailable saying why not."""
    problem = _docker_engine_problem()
    if problem:
        raise ProviderUnavailable(problem)
    container = service.container(image)
    try:
        container.start()
    except Exception as exc:
        with suppress(Exception):
            container.stop()
        raise ProviderUnavailable(
            f"container {image} did not start ({type(exc).__name__}: {exc}); "
            f"set {service.image.env} to an image this engine has or can pull"
        ) from exc
    return Server(
        service=service,
        url=service.container_url(container),
        provider="docker",
        detail=f"container {_short_id(container)} from {image}",
        stop=container.stop,
        problem=lambda: _container_problem(container),
    )


def _short_id(container: Container) -> str:
    return str(getattr(container.get_wrapped_container(), "short_id", "?"))


def _container_problem(container: Container) -> str | None:
    wrapped = container.get_wrapped_container()
    try:
        wrapped.reload()  # type: ignore[attr-defined]
    except Exception as exc:  # removed, or the engine is gone
        return f"container {_short_id(container)} cannot be inspected: {exc}"
    status = getattr(wrapped, "status", "?")
    if status == "running":
        return None
    logs = wrapped.logs(tail=30).decode(errors="replace")  # type: ignore[attr-defined]
    return f"container {_short_id(container)} is {status}. Its log:\n{logs}"


def embedded(config: pytest.Config, service: Service) -> Server:
    return start_embedded(service)


def start_embedded(service: Service) -> Server:
    """`service`'s embedded server, or ProviderUnavailable saying why not."""
    server = service.embedded()
    if server is None:
        raise ProviderUnavailable(f"{service.name} has no embedded server")
    return server.start(service)


PROVIDERS: dict[str, Callable[[pytest.Config, Service], Server]] = {
    "url": from_url,
    "docker": in_docker,
    "embedded": embedded,
}
MODES = ("auto", *PROVIDERS)


def infra_mode(config: pytest.Config) -> Resolved:
    return resolve_choice(config, INFRA, MODES)


def obtain_server(config: pytest.Config, service: Service) -> Server:
    """Start or find a server for `service`, or raise InfrastructureError saying what was tried."""
    mode = infra_mode(config)
    attempts = []
    for name in PROVIDERS if mode.value == "auto" else (mode.value or "",):
        try:
            return PROVIDERS[name](config, service)
        except ProviderUnavailable as exc:
            attempts.append(f"  - {name}: {exc}")
    raise InfrastructureError(
        f"No {service.name} server for the tests (infra={mode.value}, {mode.source}). Tried:\n"
        + "\n".join(attempts)
        + "\nTo fix it, do one of:\n"
        f"  - point {service.url.env} at a running server, e.g. {service.example_url}\n"
        f"  - start a Docker engine (the image is {service.image.env}, "
        f"default {service.image.default})\n"
        "  - run `uv sync` so that the embedded servers are installed\n"
        "and force one way with --infra=url|docker|embedded or TEST_INFRA."
    )
