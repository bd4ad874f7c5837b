"""Each run writes a test-health record; `test-health` draws it as Mermaid charts and as HTML."""

import json
from pathlib import Path

import pytest

from service_harness.health import read_record, wall_seconds
from service_harness.health_report import main

TESTS = {
    "tests/unit/test_parse": "def test_parse(): pass",
    "tests/integration/test_store": "def test_store(): pass\ndef test_load(): pass",
}


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntime_budget_integration = "5"\n')
    pytester.makepyfile(**TESTS)
    return pytester


def test_overlapping_tests_count_once_in_the_wall_time() -> None:
    # Two workers side by side for 0-4 and 2-5, then a gap, then 7-8.
    assert wall_seconds([(2.0, 5.0), (0.0, 4.0), (7.0, 8.0)]) == 6.0
    assert wall_seconds([(0.0, 4.0), (1.0, 2.0)]) == 4.0
    assert wall_seconds([]) == 0.0


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_every_run_writes_a_record(project: pytest.Pytester, workers: list[str]) -> None:
    project.runpytest(*workers).assert_outcomes(passed=3)
    project.runpytest(*workers).assert_outcomes(passed=3)

    record = read_record(project.path / ".test-health.json")
    assert set(record["tiers"]) == {"unit", "integration"}
    assert all(seconds > 0 for seconds in record["tiers"].values()), record["tiers"]
    assert {slow["test"] for slow in record["slowest"]} == {
        "tests/unit/test_parse.py::test_parse",
        "tests/integration/test_store.py::test_store",
        "tests/integration/test_store.py::test_load",
    }
    budgets = {slow["test"].split("/")[1]: slow["budget"] for slow in record["slowest"]}
    assert budgets == {"unit": 1.0, "integration": 5.0}
    # The flaky history, as far as the flaky share is judged over it: two runs of two results.
    assert [(run["tests"], run["flaky"]) for run in record["flaky_history"]] == [(2, []), (2, [])]
    assert not list(project.path.glob("*.partial")), "the record was not renamed into place"


def test_the_record_file_is_a_setting(project: pytest.Pytester) -> None:
    # In a folder that does not exist yet.
    project.runpytest("--health-record", "reports/health.json").assert_outcomes(passed=3)
    assert not (project.path / ".test-health.json").exists()
    assert read_record(project.path / "reports" / "health.json")["tiers"]


def test_report_draws_every_chart_as_mermaid_and_svg(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    project.runpytest()
    html = project.path / "health.html"
    record = project.path / ".test-health.json"

    assert main([str(record), "--html", str(html)]) == 0

    markdown = capsys.readouterr().out
    assert markdown.count("```mermaid\nxychart-beta") == 3, markdown
    for title in ("Wall time per tier", "Slowest tests", "Flaky share run by run"):
        assert f'title "{title}' in markdown
    assert (
        'x-axis ["unit", "integration"]' in markdown or 'x-axis ["integration", "unit"]' in markdown
    )
    page = html.read_text()
    assert page.count("<svg") == 3
    assert "<script" not in page, "the page runs no code"
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", ""), (
        "the page fetches nothing"
    )


def test_report_of_a_file_that_is_no_record_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / ".test-health.json"
    broken.write_text(json.dumps({"tiers": {}}))
    assert main([str(broken)]) == 1
    assert "is not a test-health record: no finished, flaky_history" in capsys.readouterr().err


def test_report_without_records_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 1
    assert "run the tests first" in capsys.readouterr().out
