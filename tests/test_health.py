"""Suite health features of the generated project, exercised for real."""

import json

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

    # With "warn", a test over budget is reported and the run still passes. A budget
    # of a millisecond makes the quick tests late, without another eleven seconds.
    warned = run_suite(
        project,
        env=service_urls,
        junit=tmp_path / "warn.xml",
        args=(
            "tests/integration/test_db.py",
            "-o",
            "time_budget_action=warn",
            "-o",
            "time_budget_integration=0.001",
        ),
    )
    assert warned.returncode == pytest.ExitCode.OK, warned.output[-3000:]
    assert "over the integration budget of 0.001 s" in warned.output


# Fails on its first attempt, passes on the second, and checks on the way that the
# retry rebuilt the test's own fixtures but not the session's engine.
FAILS_ONCE = """
from sqlalchemy import text

attempts = []


def test_fails_once(engine, db_session):
    attempts.append((engine, db_session))
    assert len(attempts) > 1, "the first attempt fails on purpose"
    (first_engine, first_session), (engine_now, session_now) = attempts[:2]
    assert engine_now is first_engine, "the retry rebuilt the session-scoped engine"
    assert session_now is not first_session, "the retry reused the test's own session"
    assert db_session.execute(text("select 1")).scalar_one() == 1
"""
FLAKY = "tests/integration/test_fails_once.py::test_fails_once"


@pytest.mark.slow
@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_test_that_fails_once_is_reported_flaky_and_recorded(
    render, service_urls, tmp_path, workers
) -> None:
    project = render(default_variant())
    (project / "tests" / "integration" / "test_fails_once.py").write_text(FAILS_ONCE)
    summary = tmp_path / "summary.md"
    env = {**service_urls, "GITHUB_STEP_SUMMARY": str(summary)}
    args = ("tests/integration/test_fails_once.py", "tests/integration/test_db.py", *workers)

    first = run_suite(project, env=env, junit=tmp_path / "first.xml", args=args)
    # Below the 200 results the share is judged from, a flaky test does not fail the run.
    assert first.returncode == pytest.ExitCode.OK, first.output[-3000:]
    assert "flaky tests (passed on a retry)" in first.output
    assert f"{FLAKY} passed on attempt 2; first failure: call: AssertionError" in first.output
    assert "judged once the history holds 200 results" in first.output
    runs = [
        json.loads(line) for line in (project / ".flaky-history.jsonl").read_text().splitlines()
    ]
    assert runs == [{"finished": runs[0]["finished"], "tests": 4, "flaky": [FLAKY]}]
    assert f"| 2 | `{FLAKY}` | call: AssertionError" in summary.read_text()
    if workers:
        return  # the xdist controller reports and records: the rest does not depend on it

    judged = run_suite(
        project, env=env, junit=tmp_path / "judged.xml", args=(*args, "-o", "flaky_min_history=1")
    )
    assert judged.returncode == pytest.ExitCode.TESTS_FAILED, judged.output[-3000:]
    assert "2 of 8 test results in the last 2 runs passed only on a retry" in judged.output
    assert "over the 1% threshold" in judged.output

    unretried = run_suite(
        project, env=env, junit=tmp_path / "none.xml", args=(*args, "--retries", "0")
    )
    assert unretried.returncode == pytest.ExitCode.TESTS_FAILED, unretried.output[-3000:]
    assert "retries: 0 for integration and e2e tests (from --retries)" in unretried.output
    assert unretried.counts()["failures"] == 1
