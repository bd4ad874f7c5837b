"""Fixtures for the harness's own tests: pytester projects, with and without the toy service."""

import os
import signal
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# Settings the tests set themselves; one from the shell running them must not leak in.
SETTINGS_FROM_ENV = (
    "TEST_INFRA",
    "TEST_RETRIES",
    "TEST_ECHO_URL",
    "GITHUB_STEP_SUMMARY",
    "TEST_HEALTH_RECORD",
    "PYTEST_XDIST_AUTO_NUM_WORKERS",
)


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS_FROM_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def echo_project(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    """A pytester project whose conftest switches on the toy echo service (function).

    Echo servers still running at the end (a test that failed half-way) are killed.
    """
    (pytester.path / "echo_service.py").write_text((HERE / "echo_service.py").read_text())
    pytester.makeconftest('pytest_plugins = ["echo_service"]')
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    yield pytester
    for pid, _ in echo_servers(pytester.path):
        with suppress(OSError):  # gone already
            if "echo server ready" in Path(f"/proc/{pid}/cmdline").read_text():
                os.kill(pid, signal.SIGKILL)


def echo_servers(folder: Path) -> list[tuple[int, Path]]:
    """Process id and data folder of each echo server that runs in `folder` started."""
    path = folder / "echo-servers.txt"  # echo_service.RECORD
    lines = path.read_text().splitlines() if path.exists() else []
    return [(int(pid), Path(run_dir)) for pid, run_dir in (line.split(" ", 1) for line in lines)]


def is_gone(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie nobody reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")
