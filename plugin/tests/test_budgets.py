"""Each tier's tests have a time budget; a test over it fails the run, or only warns."""

import pytest

TESTS = {
    "tests/integration/test_store": "def test_store(): pass",
    "tests/unit/test_parse": "def test_parse(): pass",
}
OVER = (
    "tests/integration/test_store.py::test_store took * s, over the integration budget of 1e-06 s"
)


@pytest.fixture
def budgeted(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # No test is that fast: every integration test is over this budget, with no sleep.
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntime_budget_integration = "0.000001"\n')
    pytester.makepyfile(**TESTS)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "summary.md"))
    return pytester


def test_test_over_its_budget_fails_the_run(budgeted: pytest.Pytester) -> None:
    result = budgeted.runpytest()
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= over time budget =*", OVER])
    result.stdout.no_fnmatch_line("*test_parse* over the unit budget*")


def test_warn_reports_without_failing(budgeted: pytest.Pytester) -> None:
    result = budgeted.runpytest("-o", "time_budget_action=warn")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= over time budget =*", OVER])


def test_within_budget_passes(budgeted: pytest.Pytester) -> None:
    result = budgeted.runpytest("-o", "time_budget_integration=60")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*over time budget*")


def test_job_summary_has_the_slowest_and_the_late(budgeted: pytest.Pytester) -> None:
    budgeted.runpytest()
    summary = (budgeted.path / "summary.md").read_text()
    slowest, late = summary.split("### Over time budget")
    assert slowest.startswith("### Slowest tests\n\n| seconds | test |\n| ---: | --- |\n")
    assert "`tests/unit/test_parse.py::test_parse`" in slowest
    assert "`tests/integration/test_store.py::test_store`" in slowest
    assert "| seconds | budget | test |" in late
    assert "| 1e-06 | `tests/integration/test_store.py::test_store` |" in late
    assert "test_parse" not in late


MARKED = """
import pytest

@pytest.mark.time_budget(60)
def test_many_examples(): pass

def test_store(): pass
"""


def test_a_marked_budget_replaces_the_tiers_budget(budgeted: pytest.Pytester) -> None:
    budgeted.makepyfile(**{"tests/integration/test_store": MARKED})
    for workers in ([], ["-n", "2"]):  # the marker's budget crosses over from xdist's workers
        result = budgeted.runpytest(*workers)
        result.assert_outcomes(passed=3)
        result.stdout.fnmatch_lines([OVER])
        result.stdout.no_fnmatch_line("*test_many_examples took*")
        summary = budgeted.path / "summary.md"
        assert "test_many_examples" not in summary.read_text().split("### Over time budget")[1]
        summary.unlink()


def test_a_marked_budget_must_be_a_number(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{"tests/unit/test_x": "import pytest\n@pytest.mark.time_budget('1m')\ndef test_x(): pass"}
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*tests/unit/test_x.py::test_x: write @pytest.mark.time_budget(seconds) with a number*"]
    )
