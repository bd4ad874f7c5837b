"""Servers in Docker containers, through testcontainers."""

import os
from contextlib import suppress

from tests.support.infra.services import POSTGRES, ProviderUnavailable, Server, Service

PROBE_TIMEOUT = 2  # seconds: a missing engine must cost almost nothing


def _engine_problem() -> str | None:
    try:
        import docker
    except ImportError:
        return "the docker package is not installed (uv sync installs testcontainers)"
    try:
        client = docker.from_env(timeout=PROBE_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # docker raises many types for "no engine"
        where = os.environ.get("DOCKER_HOST", "the default socket")
        return f"no Docker engine answers at {where} ({type(exc).__name__}: {exc})"
    return None


def server_in_docker(service: Service) -> Server:
    problem = _engine_problem()
    if problem:
        raise ProviderUnavailable(problem)
    image = os.environ.get(service.image_env) or service.default_image
    container = _container(service, image)
    try:
        container.start()
    except Exception as exc:
        with suppress(Exception):
            container.stop()
        raise ProviderUnavailable(
            f"container {image} did not start ({type(exc).__name__}: {exc}); "
            f"set {service.image_env} to an image this engine has or can pull"
        ) from exc
    return Server(
        service=service,
        url=_url(service, container),
        provider="docker",
        detail=f"container {container.get_wrapped_container().short_id} from {image}",
        stop=container.stop,
        problem=lambda: _container_problem(container),
    )


def _container(service: Service, image: str):
    if service is POSTGRES:
        from testcontainers.community.postgres import PostgresContainer

        return PostgresContainer(
            image, username="postgres", password="postgres", dbname="postgres", driver=None
        )
    from testcontainers.community.redis import RedisContainer

    return RedisContainer(image)


def _url(service: Service, container) -> str:
    if service is POSTGRES:
        return container.get_connection_url()
    host = container.get_container_host_ip()
    return f"redis://{host}:{container.get_exposed_port(service.port)}/0"


def _container_problem(container) -> str | None:
    wrapped = container.get_wrapped_container()
    try:
        wrapped.reload()
    except Exception as exc:  # removed, or the engine is gone
        return f"container {wrapped.short_id} cannot be inspected: {exc}"
    if wrapped.status == "running":
        return None
    logs = wrapped.logs(tail=30).decode(errors="replace")
    return f"container {wrapped.short_id} is {wrapped.status}. Its log:\n{logs}"
