"""Servers named by URL: an option, an environment variable or an ini setting."""

import os
from urllib.parse import urlsplit

import pytest

from tests.support.infra.services import (
    InfrastructureError,
    ProviderUnavailable,
    Server,
    Service,
    answers,
    masked,
)


def configured_url(config: pytest.Config, service: Service) -> tuple[str, str] | None:
    """The (url, source) the run is configured with: option, then environment, then ini."""
    candidates = (
        (config.getoption(service.url_option), service.url_option),
        (os.environ.get(service.url_env), service.url_env),
        (config.getini(service.url_ini), f"{service.url_ini} in [tool.pytest.ini_options]"),
    )
    return next(((url, source) for url, source in candidates if url), None)


def server_from_url(config: pytest.Config, service: Service) -> Server:
    configured = configured_url(config, service)
    if configured is None:
        raise ProviderUnavailable(
            f"{service.url_env} is not set (nor {service.url_option}, nor {service.url_ini} "
            "in [tool.pytest.ini_options])"
        )
    url, source = configured
    parts = urlsplit(url)
    error = answers(parts.hostname or "127.0.0.1", parts.port or service.port)
    if error is not None:
        # The URL was asked for by name: never fall back to another server.
        raise InfrastructureError(
            f"{service.name} at {masked(url)} (from {source}) does not answer: {error}. "
            f"Start that server, or point {source} at one that runs."
        )
    return Server(service=service, url=url, provider="url", detail=f"from {source}")
