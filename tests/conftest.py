"""Fixtures for the template's own tests: a snapshot of the template and renders of it."""

import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.checks import PROJECT_ENVIRONMENTS
from tests.render import render_variant, snapshot_template
from tests.variants import ROOT, Variant


def pytest_configure(config: pytest.Config) -> None:
    # Generated suites must never make uv download an interpreter.
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    os.environ.setdefault("UV_PYTHON", "3.11")
    # Bytecode as on a developer's machine: Python writes it on first import, and the
    # next process of the same render (xdist workers, the bug catalogue's runs) reads it.
    # Where PYTHONDONTWRITEBYTECODE is set, every process compiled its imports and
    # pytest rewrote the plugins' asserts again (2.5 s a process). uv's compile of the
    # whole environment at each install (`compile-bytecode` in the generated
    # pyproject.toml: 5 s on two cores, for each of some 130 environments) is then not
    # needed either. UV_COMPILE_BYTECODE can only switch it on; a uv.toml given as
    # UV_CONFIG_FILE switches it off. No test's outcome depends on either.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("UV_CONFIG_FILE", str(Path(__file__).with_name("uv-settings.toml")))
    # The generated suites name their databases with this run's prefix, so that the
    # leak check below sees only them, not those of other runs on the same server.
    os.environ.setdefault("TEST_DATABASE_PREFIX", f"tmeta_{uuid.uuid4().hex[:8]}")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than there are cores.

    These tests spend much of their time waiting on the processes they start
    (Copier, uv, the generated suites, servers), so one more worker keeps the
    cores busy.
    """
    return (os.cpu_count() or 1) + 1


def run_databases(prefix: str | None = None) -> set[str] | None:
    """Databases on the TEST_DATABASE_URL server that this run's generated suites made."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    prefix = prefix or os.environ["TEST_DATABASE_PREFIX"]
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute("SELECT datname FROM pg_database")
        return {name for (name,) in rows if name.startswith(f"{prefix}_")}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        session.config.stash[_DATABASES_BEFORE] = run_databases()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when a generated suite left its database on the server."""
    if hasattr(session.config, "workerinput"):
        return
    before = session.config.stash.get(_DATABASES_BEFORE, None)
    if before is None:
        return
    left = sorted(run_databases() - before)
    if left:
        session.config.get_terminal_writer().line(
            f"generated suites left {len(left)} database(s) behind: {', '.join(left)}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_DATABASES_BEFORE = pytest.StashKey[set[str] | None]()


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that every xdist worker of this run shares (session)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def made_once(target: Path, make: Callable[[Path], object]) -> Path:
    """`target`, made by `make(path)` for the first test of this run that asks, on any worker.

    The others wait on its lock and then read what it made. `make` works on a
    sibling that is renamed to `target` when it is done, so a make that fails
    leaves nothing, and the next test to ask tries again.
    """
    with target.with_name(f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not target.exists():
            partial = target.with_name(f"{target.name}.partial")
            if partial.is_dir():
                shutil.rmtree(partial)
            make(partial)
            partial.rename(target)
    return target


@pytest.fixture(scope="session")
def template_repo(run_folder: Path) -> Path:
    """A git repository holding the working tree as it is now, edits included (session).

    One for the run, shared by the xdist workers: a render names its template's path
    (the harness's git source), so renders made on any worker are the same files.
    """
    return made_once(run_folder / "template", lambda path: snapshot_template(ROOT, path))


@pytest.fixture(scope="session", autouse=True)
def _project_environments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder of the uv environment that this worker's projects run in (session).

    See tests/checks.py's project_environment: one environment for every project.
    """
    folder = tmp_path_factory.getbasetemp() / "project-environments"
    os.environ[PROJECT_ENVIRONMENTS] = str(folder)
    yield folder
    del os.environ[PROJECT_ENVIRONMENTS]
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each project gets its own .venv, as on a team's machine (function)."""
    monkeypatch.delenv(PROJECT_ENVIRONMENTS, raising=False)


@pytest.fixture
def render(template_repo: Path, tmp_path: Path):
    """render(variant, **overrides) renders the template into a fresh folder (function)."""

    def _render(variant: Variant, **overrides: object) -> Path:
        destination = tmp_path / "project"
        if destination.exists():
            shutil.rmtree(destination)
        return render_variant(template_repo, destination, {**variant.data, **overrides})

    return _render


@pytest.fixture
def isolated_tmp() -> Iterator[Path]:
    """A TMPDIR of the suite's own, so that what it leaves there can be seen (function).

    Made in /tmp and readable by all: as root, the embedded PostgreSQL runs as
    `nobody`, which cannot traverse pytest's private temporary folders.
    """
    folder = Path(tempfile.mkdtemp(prefix="provider-test-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="session")
def service_urls() -> dict[str, str]:
    """TEST_DATABASE_URL and TEST_REDIS_URL for the generated suites (session)."""
    urls = {name: os.environ.get(name, "") for name in ("TEST_DATABASE_URL", "TEST_REDIS_URL")}
    missing = [name for name, url in urls.items() if not url]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: the generated suites need running servers, e.g. "
            "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres "
            "TEST_REDIS_URL=redis://127.0.0.1:6379/0 (bash .ci/run sets both)."
        )
    return urls


# The article's tests are data for test_article_tests.py, not tests of this repository.
collect_ignore = ["data"]
