"""A run that is interrupted (Ctrl-C, or SIGTERM from a cancelled CI job) still cleans up.

A test dropped into the e2e tier signals its own run once the live server,
the run's database and its servers are up; nothing may outlive the run.
"""

import socket
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.checks import leftovers, run_suite
from tests.conftest import run_databases
from tests.test_providers import NO_DOCKER, WITHOUT_URLS
from tests.variants import default_variant

SIGNAL_MYSELF = """
import os
import signal


def test_signal_the_run(http, db_session, event_bus):
    os.kill(os.getpid(), signal.{name})
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("infra", "name"), [("url", "SIGINT"), ("embedded", "SIGTERM"), ("embedded", "SIGINT")]
)
def test_interrupted_run_leaves_nothing(
    render, service_urls, isolated_tmp, tmp_path, infra, name
) -> None:
    project = render(default_variant())
    (project / "tests" / "e2e" / "test_zz_signal.py").write_text(SIGNAL_MYSELF.format(name=name))
    prefix = f"tint_{uuid.uuid4().hex[:8]}"
    env = {"TMPDIR": str(isolated_tmp), "TEST_INFRA": infra, "TEST_DATABASE_PREFIX": prefix}
    env |= service_urls if infra == "url" else {**WITHOUT_URLS, **NO_DOCKER}

    result = run_suite(project, env=env, junit=tmp_path / "j.xml")

    assert result.returncode == pytest.ExitCode.INTERRUPTED, result.output[-3000:]
    assert "KeyboardInterrupt" in result.output
    assert leftovers(project, isolated_tmp) == []
    assert run_databases(prefix) == set()


@pytest.mark.slow
def test_databases_of_killed_runs_are_dropped_by_the_next_run(render, service_urls, tmp_path):
    """SIGKILL leaves no chance to clean up: the next run on this machine does it."""
    project = render(default_variant())
    prefix = f"tkill_{uuid.uuid4().hex[:8]}"
    pid = _exited_pid()
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    owner = f"made by a test run: host={socket.gethostname()} boot={boot_id} pid={pid}"
    with psycopg.connect(service_urls["TEST_DATABASE_URL"], autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{prefix}_abandoned"')
        admin.execute(f"COMMENT ON DATABASE \"{prefix}_abandoned\" IS '{owner}'")
    env = {**service_urls, "TEST_DATABASE_PREFIX": prefix}

    result = run_suite(project, env=env, junit=tmp_path / "j.xml", args=("tests/integration",))

    assert result.returncode == 0, result.output[-3000:]
    # Any run on this machine may be the one that drops it (other suites run meanwhile);
    # nothing but that sweep drops a database of this name.
    assert run_databases(prefix) == set()


def _exited_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
