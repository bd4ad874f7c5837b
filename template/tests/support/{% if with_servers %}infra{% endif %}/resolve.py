"""Which way each service's server is obtained.

The mode comes from `--infra`, else TEST_INFRA, else `infra` in
[tool.pytest.ini_options], else `auto`. In `auto`, each service tries, in
order: a URL the run is configured with, a reachable Docker engine, an
embedded server. A URL that is configured but dead is an error, never a
reason to fall back. Any other mode uses that one way only.
"""

import os
from collections.abc import Callable

import pytest

from tests.support.infra.docker import server_in_docker
from tests.support.infra.embedded import server_embedded
from tests.support.infra.services import (
    InfrastructureError,
    ProviderUnavailable,
    Server,
    Service,
)
from tests.support.infra.url import server_from_url

PROVIDERS: dict[str, Callable[[pytest.Config, Service], Server]] = {
    "url": server_from_url,
    "docker": lambda config, service: server_in_docker(service),
    "embedded": lambda config, service: server_embedded(service),
}
MODES = ("auto", *PROVIDERS)


def infra_mode(config: pytest.Config) -> tuple[str, str]:
    """(mode, where it was set): option, then environment, then ini, then the default."""
    candidates = (
        (config.getoption("infra"), "--infra"),
        (os.environ.get("TEST_INFRA"), "TEST_INFRA"),
        (config.getini("infra"), "infra in [tool.pytest.ini_options]"),
    )
    mode, source = next(((m, s) for m, s in candidates if m), ("auto", "default"))
    if mode not in MODES:
        raise pytest.UsageError(f"{source}={mode!r} is not one of {', '.join(MODES)}")
    return mode, source


def obtain_server(config: pytest.Config, service: Service) -> Server:
    """Start or find a server for `service`, or raise InfrastructureError saying what was tried."""
    mode, source = infra_mode(config)
    attempts = []
    for name in PROVIDERS if mode == "auto" else (mode,):
        try:
            return PROVIDERS[name](config, service)
        except ProviderUnavailable as exc:
            attempts.append(f"  - {name}: {exc}")
    raise InfrastructureError(
        f"No {service.name} server for the tests (infra={mode}, {source}). Tried:\n"
        + "\n".join(attempts)
        + "\nTo fix it, do one of:\n"
        f"  - point {service.url_env} at a running server, e.g. {service.example_url}\n"
        f"  - start a Docker engine (the image is {service.image_env}, "
        f"default {service.default_image})\n"
        "  - run `uv sync` so that the embedded servers are installed\n"
        "and force one way with --infra=url|docker|embedded or TEST_INFRA."
    )
