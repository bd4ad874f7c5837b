"""The harness in a project made without the template, added as the README says.

A small FastAPI + SQLAlchemy project (no Alembic: the hook runs
`metadata.create_all`) takes pytest-service-harness with the README's
`uv add` command, from a snapshot of this working tree tagged as the README's
release, and its suite passes on two xdist workers against the machine's
servers: the integration tests on a database of the run's own, the unit tests
without network.
"""

import os
import re
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.checks import run, run_suite
from tests.conftest import run_databases
from tests.releases import releases
from tests.render import git, snapshot_template
from tests.test_readme import TEMPLATE_URL, console_commands
from tests.variants import ROOT

# The harness's release, which the template's release ships and the READMEs name.
PLUGIN_PROJECT = tomllib.loads((ROOT / "plugin" / "pyproject.toml").read_text())["project"]
HARNESS_VERSION = PLUGIN_PROJECT["version"]

SECTION = "## Use the harness in an existing project"

PROJECT = {
    "pyproject.toml": """
        [project]
        name = "notes"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = [
            "fastapi>=0.115",
            "psycopg[binary]>=3.2",
            "sqlalchemy>=2.0.30",
        ]

        [dependency-groups]
        # Starlette's TestClient prefers httpx2 and deprecates plain httpx.
        dev = ["httpx2>=2.0", "pytest-xdist>=3.6"]

        [build-system]
        requires = ["hatchling>=1.25"]
        build-backend = "hatchling.build"

        [tool.hatch.build.targets.wheel]
        packages = ["src/notes"]

        [tool.pytest.ini_options]
        testpaths = ["tests"]
        addopts = ["--strict-markers", "-ra"]
    """,
    "src/notes/__init__.py": '''
        """Notes: a service made without the template."""
    ''',
    "src/notes/db.py": """
        from sqlalchemy import Engine, String, create_engine
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Note(Base):
            __tablename__ = "notes"

            id: Mapped[int] = mapped_column(primary_key=True)
            text: Mapped[str] = mapped_column(String(200))


        def make_engine(url: str) -> Engine:
            return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    """,
    "src/notes/app.py": """
        from fastapi import FastAPI, HTTPException
        from pydantic import BaseModel
        from sqlalchemy import Engine
        from sqlalchemy.orm import Session

        from notes.db import Note


        class NoteIn(BaseModel):
            text: str


        class NoteOut(NoteIn):
            id: int


        def create_app(engine: Engine) -> FastAPI:
            app = FastAPI()

            @app.post("/notes", status_code=201)
            def add_note(body: NoteIn) -> NoteOut:
                with Session(engine) as session, session.begin():
                    note = Note(text=body.text)
                    session.add(note)
                    session.flush()
                    return NoteOut(id=note.id, text=note.text)

            @app.get("/notes/{note_id}")
            def get_note(note_id: int) -> NoteOut:
                with Session(engine) as session:
                    note = session.get(Note, note_id)
                    if note is None:
                        raise HTTPException(404, "no such note")
                    return NoteOut(id=note.id, text=note.text)

            return app
    """,
    "tests/conftest.py": '''
        from notes.db import Base, make_engine

        pytest_plugins = ["service_harness.postgres", "service_harness.redis"]


        def pytest_harness_postgres_template(url: str) -> None:
            """Runs once per run, on the database that every test database is copied from."""
            engine = make_engine(url)
            Base.metadata.create_all(engine)
            engine.dispose()
    ''',
    "tests/integration/test_notes.py": """
        from urllib.parse import urlsplit

        import pytest
        import redis as redis_client
        from fastapi.testclient import TestClient
        from sqlalchemy import inspect

        from notes.app import create_app
        from notes.db import make_engine


        @pytest.fixture(scope="module")
        def client(db_url):
            engine = make_engine(db_url)
            with TestClient(create_app(engine)) as client:
                yield client
            engine.dispose()


        def test_a_note_is_stored_and_read_back(client):
            created = client.post("/notes", json={"text": "buy milk"})
            assert created.status_code == 201
            found = client.get(f"/notes/{created.json()['id']}")
            assert found.json() == {"id": created.json()["id"], "text": "buy milk"}


        def test_a_missing_note_is_404(client):
            assert client.get("/notes/999999").status_code == 404


        def test_the_run_has_a_database_of_its_own(db_url, record_property):
            name = urlsplit(db_url).path.lstrip("/")
            record_property("database", name)
            assert name != "postgres"
            engine = make_engine(db_url)
            assert inspect(engine).get_table_names() == ["notes"]
            engine.dispose()


        def test_an_empty_database_has_no_tables(empty_db_url, db_url):
            assert empty_db_url != db_url
            engine = make_engine(empty_db_url)
            assert inspect(engine).get_table_names() == []
            engine.dispose()


        def test_redis_keys_go_under_the_run_namespace(redis, redis_namespace):
            with redis_client.Redis.from_url(redis.url) as client:
                client.set(f"{redis_namespace}greeting", "hello")
                assert client.get(f"{redis_namespace}greeting") == b"hello"
    """,
    "tests/unit/test_something.py": """
        import socket

        import pytest
        from pytest_socket import SocketBlockedError

        from notes.db import Note


        def test_note_text_is_bounded():
            assert Note.__table__.c.text.type.length == 200


        @pytest.mark.xfail(strict=True, raises=SocketBlockedError, reason="no network in unit")
        def test_a_unit_test_cannot_open_a_tcp_socket():
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    """,
}
EXPECTED = {
    "tests.integration.test_notes": {
        "test_a_note_is_stored_and_read_back": "passed",
        "test_a_missing_note_is_404": "passed",
        "test_the_run_has_a_database_of_its_own": "passed",
        "test_an_empty_database_has_no_tables": "passed",
        "test_redis_keys_go_under_the_run_namespace": "passed",
    },
    "tests.unit.test_something": {
        "test_note_text_is_bounded": "passed",
        "test_a_unit_test_cannot_open_a_tcp_socket": "xfailed",
    },
}


def readme_commands() -> list[str]:
    """The commands of the README's console blocks in the section on an existing project."""
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    blocks = console_commands(text[start : end if end != -1 else None])
    return [command for block in blocks for command in block]


def outcomes(junit: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Each test's outcome by module and name, and the properties the tests recorded."""
    found: dict[str, dict[str, str]] = {}
    properties = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = child.tag
            elif child.tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
        found.setdefault(case.get("classname", ""), {})[case.get("name", "")] = outcome
        properties |= {p.get("name"): p.get("value") for p in case.iter("property")}
    return found, properties


@pytest.mark.slow
def test_a_project_made_without_the_template_uses_the_harness(service_urls, tmp_path: Path) -> None:
    version = HARNESS_VERSION
    commands = readme_commands()
    assert len(commands) == 1, f"expected one command in the README's {SECTION!r}: {commands}"
    (add,) = commands
    assert f"@v{version}#subdirectory=plugin" in add, f"the README adds another release: {add}"

    # This working tree, tagged as the release the README names.
    template = snapshot_template(ROOT, tmp_path / "template")
    git("tag", f"v{version}", cwd=template)
    commit = git("rev-parse", "HEAD", cwd=template).strip()

    project = tmp_path / "notes"
    for relative, text in PROJECT.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(textwrap.dedent(text).lstrip())

    # The README's command; only the repository's address changes.
    added = run(["bash", "-c", add.replace(TEMPLATE_URL, f"file://{template}")], cwd=project)
    assert added.returncode == 0, f"{add}:\n{added.stdout}{added.stderr}"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["sources"]["pytest-service-harness"] == {
        "git": f"file://{template}",
        "subdirectory": "plugin",
        "rev": f"v{version}",
    }
    assert "pytest-service-harness[postgres,redis]" in pyproject["dependency-groups"]["dev"]
    lock = (project / "uv.lock").read_text()
    assert f'subdirectory=plugin&rev=v{version}#{commit}" }}' in lock, "uv.lock pins another commit"

    junit = tmp_path / "junit.xml"
    result = run_suite(
        project, env={**service_urls, "TEST_INFRA": ""}, junit=junit, args=("-n", "2")
    )
    assert junit.exists(), f"the suite produced no report:\n{result.output[-5000:]}"
    found, properties = outcomes(junit)
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.output[-8000:]}"
    assert found == EXPECTED, result.output[-8000:]
    assert "infrastructure: auto (default)" in result.output, result.output[:3000]
    assert "PostgreSQL URL from TEST_DATABASE_URL" in result.output, result.output[:3000]
    assert "Redis URL from TEST_REDIS_URL" in result.output, result.output[:3000]

    # A worker's copy of the run's template database, named with this run's prefix, and gone.
    database = properties["database"]
    assert re.fullmatch(r"\w+_gw[01]", database), database
    assert database.startswith(f"{os.environ['TEST_DATABASE_PREFIX']}_"), database
    assert database not in (run_databases() or set()), f"{database} was left on the server"


# Where the READMEs name a release of the harness: a git tag or a PyPI pin.
HARNESS_RELEASE = re.compile(
    r"service-template@v(?P<tag>[\d.]+)#|rev = \"v(?P<rev>[\d.]+)\"|"
    r"pytest-service-harness[^\"`]*==(?P<pin>[\d.]+)|harness_requirement }}==(?P<jinja>[\d.]+)"
)
READMES = ("README.md", "plugin/README.md", "template/README.md.jinja")


def test_the_harness_is_released_with_the_template_and_the_readmes_name_that_release() -> None:
    version = HARNESS_VERSION
    assert version == releases()[-1].version, "plugin/pyproject.toml: the newest release is not its"
    named = {
        readme: {
            next(v for v in match.groups() if v)
            for match in HARNESS_RELEASE.finditer((ROOT / readme).read_text())
        }
        for readme in READMES
    }
    assert all(named.values()), f"a README names no release of the harness: {named}"
    assert named == {readme: {version} for readme in READMES}, f"harness {version}: {named}"
