"""Suite health features of the generated project, exercised for real."""

import pytest

from tests.checks import run_suite
from tests.variants import default_variant

# Eleven seconds of "work" in a test body: a wait with a deadline, nothing to wake it.
ELEVEN_SECONDS = """
import threading


def test_eleven_seconds():
    threading.Event().wait(11)
"""


@pytest.mark.slow
def test_an_eleven_second_integration_test_fails_the_run(render, service_urls, tmp_path) -> None:
    project = render(default_variant())
    (project / "tests" / "integration" / "test_slow.py").write_text(ELEVEN_SECONDS)
    summary = tmp_path / "summary.md"
    env = {**service_urls, "GITHUB_STEP_SUMMARY": str(summary)}
    args = ("tests/integration/test_slow.py", "tests/integration/test_db.py")

    failing = run_suite(project, env=env, junit=tmp_path / "fail.xml", args=args)
    assert failing.returncode == pytest.ExitCode.TESTS_FAILED, failing.output[-3000:]
    assert "tests/integration/test_slow.py::test_eleven_seconds took 11." in failing.output
    assert "over the integration budget of 10 s" in failing.output
    table = summary.read_text()
    assert "### Slowest tests" in table
    assert "### Over time budget" in table
    assert "| 10 | `tests/integration/test_slow.py::test_eleven_seconds` |" in table

    warned = run_suite(
        project,
        env=service_urls,
        junit=tmp_path / "warn.xml",
        args=(*args, "-o", "time_budget_action=warn"),
    )
    assert warned.returncode == pytest.ExitCode.OK, warned.output[-3000:]
    assert "over the integration budget of 10 s" in warned.output
