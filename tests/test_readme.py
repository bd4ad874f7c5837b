"""The generated README's "Run it" steps give a service that answers."""

import os
import uuid

import psycopg
import pytest

from tests.checks import run
from tests.variants import default_variant

SMOKE = """
from fastapi.testclient import TestClient
from my_service.app import create_app

with TestClient(create_app()) as client:
    created = client.post("/api/users", json={"name": "Ada", "email": "ada@example.com"})
    assert created.status_code == 201, created.text
    assert client.get(f"/api/users/{created.json()['id']}").status_code == 200
print("service answers")
"""


@pytest.mark.slow
def test_run_it_steps_give_a_working_service(render, service_urls) -> None:
    project = render(default_variant())
    readme = (project / "README.md").read_text()
    assert "uv run alembic upgrade head" in readme
    assert "createdb" in readme

    name = f"run_it_{uuid.uuid4().hex[:12]}"
    server = service_urls["TEST_DATABASE_URL"]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            **os.environ,
            "DATABASE_URL": server.rsplit("/", 1)[0] + f"/{name}",
            "REDIS_URL": service_urls["TEST_REDIS_URL"],
        }
        for command in (
            ["uv", "run", "--quiet", "alembic", "upgrade", "head"],
            ["uv", "run", "--quiet", "python", "-c", SMOKE],
        ):
            result = run(command, cwd=project, env=env)
            assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
        assert "service answers" in result.stdout
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
