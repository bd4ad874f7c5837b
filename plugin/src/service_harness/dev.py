"""Servers for running an app on a developer's machine, from the providers the tests use.

A project's dev command asks for each server it needs: the URL the developer
gave, else a Docker container, else an embedded server. Servers it started
are stopped, and their data removed, when the command ends, Ctrl-C included.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from service_harness.providers import require_answer, start_container, start_embedded
from service_harness.services import (
    InfrastructureError,
    ProviderUnavailable,
    Server,
    Service,
)


@contextmanager
def dev_server(service: Service, *, url: str | None, url_name: str) -> Iterator[Server]:
    """The server at `url` (from the variable `url_name`), else one started for the block."""
    if url:
        remedy = f"Start that server, or unset {url_name} to get one started for you."
        require_answer(service, url, url_name, remedy)
        yield Server(service=service, url=url, provider="url", detail=f"from {url_name}")
        return
    server = _started_server(service)
    try:
        yield server
    finally:
        server.stop()


def _started_server(service: Service) -> Server:
    image = (service.image.env and os.environ.get(service.image.env)) or service.image.default
    providers: dict[str, Callable[[], Server]] = {
        "docker": lambda: start_container(service, image or ""),
        "embedded": lambda: start_embedded(service),
    }
    attempts = []
    for name, start in providers.items():
        try:
            return start()
        except ProviderUnavailable as exc:
            attempts.append(f"  - {name}: {exc}")
    raise InfrastructureError(
        f"No {service.name} server could be started. Tried:\n" + "\n".join(attempts) + "\n"
        "Start a Docker engine, run `uv sync` so that the embedded servers are installed, "
        "or give the URL of a running server."
    )
