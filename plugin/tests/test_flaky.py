"""Integration tests are retried through pytest-rerunfailures; a pass on a retry is reported as flaky."""

import json
from pathlib import Path

import pytest

FLAKY = "tests/integration/test_sometimes.py::test_fails_once"
FAILS_ONCE = """
import pytest

ATTEMPTS = []

def log(config, line):
    with open(config.rootpath / "setups.log", "a") as setups:
        setups.write(line + "\\n")

@pytest.fixture(scope="session")
def engine(pytestconfig):
    log(pytestconfig, "session")

@pytest.fixture
def transaction(pytestconfig):
    log(pytestconfig, "function")

def test_fails_once(engine, transaction):
    ATTEMPTS.append(1)
    assert len(ATTEMPTS) > 1, "fails on the first attempt"
"""


@pytest.fixture
def flaky_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makepyfile(**{"tests/integration/test_sometimes": FAILS_ONCE})
    return pytester


def history(project: pytest.Pytester) -> list[dict[str, object]]:
    path = project.path / ".flaky-history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    """The counts in the run's last line, reruns included (assert_outcomes has no `rerun`)."""
    return result.parseoutcomes()


def test_pass_on_a_retry_is_reported_flaky_and_recorded(
    flaky_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = flaky_project.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    result = flaky_project.runpytest()

    assert result.ret == pytest.ExitCode.OK, result.outlines
    assert outcomes(result) == {"passed": 1, "rerun": 1}
    result.stdout.fnmatch_lines(
        [
            "*flaky tests (passed on a retry)*",
            f"{FLAKY} passed on attempt 2; first failure: call: AssertionError: fails on the first attempt",
            "*flaky share 100.00%: 1 of 1 test results in the last run passed only on a retry; "
            "judged once the history holds 200 results*",
        ]
    )
    setups = (flaky_project.path / "setups.log").read_text().split()
    assert setups.count("session") == 1, "the session's fixtures were set up again for the retry"
    assert setups.count("function") == 2, "the test's own fixtures were not set up again"
    [run] = history(flaky_project)
    assert (run["tests"], run["flaky"]) == (1, [FLAKY])
    markdown = summary.read_text()
    assert "### Flaky tests" in markdown
    assert f"| 2 | `{FLAKY}` | call: AssertionError: fails on the first attempt |" in markdown

    flaky_project.runpytest()
    assert len(history(flaky_project)) == 2, "each run appends one line"


def test_no_retries_fails_the_test(flaky_project: pytest.Pytester) -> None:
    result = flaky_project.runpytest("--retries", "0")
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*flaky tests (passed on a retry)*")
    [run] = history(flaky_project)
    assert (run["tests"], run["flaky"]) == (1, [])


def test_unit_tests_are_not_retried(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**{"tests/unit/test_sometimes": FAILS_ONCE})
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)


def test_flaky_share_over_the_threshold_fails_the_run(flaky_project: pytest.Pytester) -> None:
    result = flaky_project.runpytest("-o", "flaky_min_history=1")
    assert outcomes(result) == {"passed": 1, "rerun": 1}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*flaky share 100.00%: 1 of 1 test results in the last run passed only on a retry, "
            "over the 1% threshold. Make those tests deterministic; the history is *"
        ]
    )


def test_flaky_report_comes_from_the_xdist_controller(flaky_project: pytest.Pytester) -> None:
    (flaky_project.path / "tests/integration/test_more.py").write_text(
        "def test_one(): pass\ndef test_two(): pass\n"
    )
    result = flaky_project.runpytest("-n", "2")
    assert outcomes(result) == {"passed": 3, "rerun": 1}
    result.stdout.fnmatch_lines(
        [
            "*flaky tests (passed on a retry)*",
            f"{FLAKY} passed on attempt 2; first failure: call: AssertionError: fails on the first attempt",
        ]
    )
    [run] = history(flaky_project)  # the controller's line; no worker writes one
    assert (run["tests"], run["flaky"]) == (3, [FLAKY])


def test_history_line_cut_short_costs_no_other_run(flaky_project: pytest.Pytester) -> None:
    path: Path = flaky_project.path / ".flaky-history.jsonl"
    path.write_text('{"finished": "2025-01-01T00:00:00+00:00", "tests": 9, "flaky": []}\n{"fini')
    result = flaky_project.runpytest()
    result.stdout.fnmatch_lines(
        ["*1 of 10 test results in the last 2 runs passed only on a retry*"]
    )
