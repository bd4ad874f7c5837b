"""Retries for integration and e2e tests, and the flaky share over a history.

A failing integration or e2e test runs again, up to `flaky_retries` times. Only
the test's own (function-scoped) fixtures are torn down between attempts: the
database, Redis and the live server stay up. A test that passes on a retry is
flaky: the terminal summary names it, and every run appends one line to the
history file. The run fails when flaky results make up more than
`flaky_threshold` percent of the test results in the last `flaky_history_runs`
runs, once that history holds `flaky_min_history` results.

The number of retries comes from `--retries`, else TEST_RETRIES, else
`flaky_retries` in [tool.pytest.ini_options], else 2; 0 turns retries off.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

# pytest exports no public way to run one phase of a test; pytest-rerunfailures
# uses this same function.
from _pytest.runner import call_and_report

from tests.support.tiers import tier_of_nodeid

RETRIED_TIERS = ("integration", "e2e")
DEFAULTS = {
    "flaky_retries": "2",
    "flaky_threshold": "1",
    "flaky_history": ".flaky-history.jsonl",
    "flaky_history_runs": "50",
    "flaky_min_history": "200",
}
RETRIES = pytest.StashKey[tuple[int, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--retries",
        type=int,
        default=None,
        help="Attempts after a failure for integration and e2e tests (0: none).",
    )
    helps = {
        "flaky_retries": "Attempts after a failure for integration and e2e tests.",
        "flaky_threshold": "Percent of flaky results in the history that fails the run.",
        "flaky_history": "File (from the project root) that every run appends a line to.",
        "flaky_history_runs": "How many recent runs the flaky share is taken over.",
        "flaky_min_history": "Test results the history needs before the share is judged.",
    }
    for name, text in helps.items():
        # No default here: an unset ini value reads "", so the run can say where a value came from.
        parser.addini(name, f"{text} (default {DEFAULTS[name]})")


def retries(config: pytest.Config) -> tuple[int, str]:
    """(retries, where it was set): option, then environment, then ini, then the default."""
    candidates = (
        (config.getoption("retries"), "--retries"),
        (os.environ.get("TEST_RETRIES"), "TEST_RETRIES"),
        (config.getini("flaky_retries"), "flaky_retries in [tool.pytest.ini_options]"),
    )
    default = (DEFAULTS["flaky_retries"], "default")
    value, source = next(((v, s) for v, s in candidates if v not in (None, "")), default)
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise pytest.UsageError(f"{source}={value!r}: retries must be a whole number, 0 or more")
    return count, source


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RETRIES] = retries(config)
    if not hasattr(config, "workerinput"):  # xdist workers send their reports to the controller
        config.pluginmanager.register(FlakyReport(config), "test-flakiness")


def pytest_report_header(config: pytest.Config) -> str:
    count, source = config.stash[RETRIES]
    return f"retries: {count} for {' and '.join(RETRIED_TIERS)} tests (from {source})"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    allowed, _ = item.config.stash[RETRIES]
    retried = tier_of_nodeid(item.nodeid) in RETRIED_TIERS and isinstance(item, pytest.Function)
    if allowed == 0 or not retried or item.config.getoption("setuponly"):
        return None  # pytest's own protocol
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    first_failure = ""
    for attempt in range(1, allowed + 2):
        reports = run_once(item, nextitem, retry_on_failure=attempt <= allowed)
        failed = [report for report in reports if report.failed]
        if failed and attempt <= allowed:
            first_failure = first_failure or f"{failed[0].when}: {crash_message(failed[0])}"
            continue
        # A test that fails every attempt reads like any failure: its last attempt.
        for report in reports:
            report.user_properties.append(("attempts", attempt))
            if attempt > 1:
                report.user_properties.append(("first_failure", first_failure))
            item.ihook.pytest_runtest_logreport(report=report)
        break
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def run_once(
    item: pytest.Function, nextitem: pytest.Item | None, *, retry_on_failure: bool
) -> list[pytest.TestReport]:
    """Set up, call and tear down `item` once, as pytest's runtestprotocol does, logging nothing.

    After a failure that will be retried, only the test's own fixtures are torn
    down (teardown goes as far as its parent), so the module- and session-scoped
    ones, the servers among them, stay up for the next attempt.
    """
    if not item._request:  # the request of the previous attempt is spent
        item._initrequest()
    reports = [call_and_report(item, "setup", log=False)]
    if reports[0].passed:
        reports.append(call_and_report(item, "call", log=False))
    if item.session.shouldfail or item.session.shouldstop:
        teardown_to = None
    elif retry_on_failure and any(report.failed for report in reports):
        teardown_to = item.parent
    else:
        teardown_to = nextitem
    reports.append(call_and_report(item, "teardown", log=False, nextitem=teardown_to))
    item._request = False
    item.funcargs = None
    return reports


def crash_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash else str(report.longrepr)
    return text.strip().splitlines()[0] if text.strip() else "failed"


@dataclass(frozen=True)
class Flaky:
    nodeid: str
    attempts: int
    first_failure: str


class FlakyReport:
    """Collects retried tests (in the xdist controller too), records the run, judges the share."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = 0
        self.flaky: list[Flaky] = []
        self.verdict = ""
        self.over_threshold = False

    def setting(self, name: str) -> str:
        return self.config.getini(name) or DEFAULTS[name]

    @property
    def history(self) -> Path:
        return self.config.rootpath / self.setting("flaky_history")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or tier_of_nodeid(report.nodeid) not in RETRIED_TIERS:
            return
        self.results += 1
        properties = dict(report.user_properties)
        if report.passed and properties.get("attempts", 1) > 1:
            self.flaky.append(
                Flaky(report.nodeid, properties["attempts"], properties["first_failure"])
            )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.results == 0:
            return
        runs = self.record()
        results = sum(run["tests"] for run in runs)
        flaky = sum(len(run["flaky"]) for run in runs)
        share = 100 * flaky / results
        threshold = float(self.setting("flaky_threshold"))
        judged_from = int(self.setting("flaky_min_history"))
        self.verdict = f"flaky share {share:.2f}%: {flaky} of {results} test results "
        window = "the last run" if len(runs) == 1 else f"the last {len(runs)} runs"
        self.verdict += f"in {window} passed only on a retry"
        if results < judged_from:
            self.verdict += f"; judged once the history holds {judged_from} results"
        elif share > threshold:
            self.over_threshold = True
            self.verdict += f", over the {threshold:g}% threshold. Make those tests "
            self.verdict += f"deterministic; the history is {self.history}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            self.verdict += f", within the {threshold:g}% threshold"

    def record(self) -> list[dict]:
        """Append this run to the history; return the runs the share is taken over."""
        line = {
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "tests": self.results,
            "flaky": [flaky.nodeid for flaky in self.flaky],
        }
        with self.history.open("a", encoding="utf-8") as history:
            history.write(json.dumps(line) + "\n")
        runs = []
        for text in self.history.read_text(encoding="utf-8").splitlines():
            try:
                runs.append(json.loads(text))
            except json.JSONDecodeError:
                continue  # a line cut short by a run that was killed mid-write
        return runs[-int(self.setting("flaky_history_runs")) :]

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.flaky:
            terminalreporter.section("flaky tests (passed on a retry)", yellow=True)
            for flaky in self.flaky:
                terminalreporter.write_line(
                    f"{flaky.nodeid} passed on attempt {flaky.attempts}; "
                    f"first failure: {flaky.first_failure}"
                )
        if self.verdict:
            terminalreporter.write_sep(
                "-", self.verdict, red=self.over_threshold, yellow=not self.over_threshold
            )
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary and self.flaky:
            with open(summary, "a", encoding="utf-8") as out:
                out.write(markdown(self.flaky, self.verdict))


def markdown(flaky: list[Flaky], verdict: str) -> str:
    """The job-summary table of tests that passed on a retry."""
    lines = ["### Flaky tests", "", "| attempts | test | first failure |", "| ---: | --- | --- |"]
    lines += [
        f"| {f.attempts} | `{f.nodeid}` | {f.first_failure.replace('|', '&#124;')} |" for f in flaky
    ]
    return "\n".join([*lines, "", verdict]) + "\n\n"
