"""Retries for integration and e2e tests, and the flaky share over a history of runs.

pytest-rerunfailures runs a failed test again: each integration or e2e test
gets its `flaky(reruns=N)` marker, N from the `retries` setting (--retries,
TEST_RETRIES, `flaky_retries`, else 2; 0 turns retries off). Only the test's
own fixtures are set up again; the servers and the session's engine stay.

This module reads pytest-rerunfailures' reports: a test that passed after a
rerun is flaky. The terminal summary and the job summary name it, every run
appends one line to the history file, and the run fails when flaky results
make up more than `flaky_threshold` percent of the test results in the last
`flaky_history_runs` runs, once the history holds `flaky_min_history` results.
"""

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

import pytest

from service_harness.settings import Setting, add_setting, resolve, resolve_number
from service_harness.summary import append_to_job_summary, table
from service_harness.tiers import tier_of, tier_of_nodeid

RETRIED_TIERS = ("integration", "e2e")
RETRIES = Setting(
    ini="flaky_retries",
    option="--retries",
    env="TEST_RETRIES",
    default="2",
    help="Reruns of a failed integration or e2e test (0: none).",
)
THRESHOLD = Setting(
    ini="flaky_threshold", default="1", help="Percent of flaky results that fails the run."
)
HISTORY = Setting(
    ini="flaky_history",
    default=".flaky-history.jsonl",
    help="File (from the project root) that every run appends a line to.",
)
HISTORY_RUNS = Setting(
    ini="flaky_history_runs", default="50", help="How many recent runs the share is taken over."
)
MIN_HISTORY = Setting(
    ini="flaky_min_history",
    default="200",
    help="Test results the history needs before the share is judged.",
)


class Run(TypedDict):
    finished: str
    tests: int
    flaky: list[str]


@dataclass(frozen=True)
class Flaky:
    nodeid: str
    attempts: int
    first_failure: str


def add_settings(parser: pytest.Parser) -> None:
    add_setting(parser, RETRIES, type=int)
    for setting in (THRESHOLD, HISTORY, HISTORY_RUNS, MIN_HISTORY):
        add_setting(parser, setting)


def retries(config: pytest.Config) -> int:
    return int(resolve_number(config, RETRIES, whole=True))


def header(config: pytest.Config) -> str:
    source = resolve(config, RETRIES).source
    return f"retries: {retries(config)} for {' and '.join(RETRIED_TIERS)} tests (from {source})"


def mark_retried(items: list[pytest.Item], config: pytest.Config) -> None:
    """Give each integration and e2e test pytest-rerunfailures' marker, unless it has its own."""
    reruns = retries(config)
    if reruns == 0:
        return
    for item in items:
        if tier_of(item) in RETRIED_TIERS and item.get_closest_marker("flaky") is None:
            item.add_marker(pytest.mark.flaky(reruns=reruns))


def is_rerun(report: pytest.TestReport) -> bool:
    """Whether `report` is of an attempt that pytest-rerunfailures runs again."""
    outcome: object = report.outcome  # "rerun" is pytest-rerunfailures' own outcome
    return outcome == "rerun"


def crash_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", None) or report.longrepr or "").strip()
    return text.splitlines()[0] if text else "failed"


class FlakyReport:
    """Reads the reports (in the xdist controller too), records the run, judges the share."""

    def __init__(self, config: pytest.Config) -> None:
        self.threshold = resolve_number(config, THRESHOLD)
        self.min_history = int(resolve_number(config, MIN_HISTORY, whole=True))
        self.history_runs = int(resolve_number(config, HISTORY_RUNS, whole=True))
        self.history = config.rootpath / (resolve(config, HISTORY).value or "")
        self.reruns: Counter[str] = Counter()
        self.first_failures: dict[str, str] = {}
        self.results = 0
        self.flaky: list[Flaky] = []
        self.verdict = ""
        self.over_threshold = False
        self.runs: list[Run] = []  # the history the share was taken over, this run last

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if tier_of_nodeid(report.nodeid) not in RETRIED_TIERS:
            return
        if is_rerun(report):
            self.reruns[report.nodeid] += 1
            self.first_failures.setdefault(report.nodeid, f"{report.when}: {crash_message(report)}")
        elif report.when == "call":
            self.results += 1
            if report.passed and self.reruns[report.nodeid]:
                attempts = self.reruns[report.nodeid] + 1
                self.flaky.append(
                    Flaky(report.nodeid, attempts, self.first_failures[report.nodeid])
                )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.results == 0:
            return
        runs = self.runs = self.record()
        results = sum(run["tests"] for run in runs)
        flaky = sum(len(run["flaky"]) for run in runs)
        share = 100 * flaky / results
        window = "the last run" if len(runs) == 1 else f"the last {len(runs)} runs"
        self.verdict = f"flaky share {share:.2f}%: {flaky} of {results} test results "
        self.verdict += f"in {window} passed only on a retry"
        if results < self.min_history:
            self.verdict += f"; judged once the history holds {self.min_history} results"
        elif share > self.threshold:
            self.over_threshold = True
            self.verdict += f", over the {self.threshold:g}% threshold. Make those tests "
            self.verdict += f"deterministic; the history is {self.history}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            self.verdict += f", within the {self.threshold:g}% threshold"

    def record(self) -> list[Run]:
        """Append this run to the history; return the runs the share is taken over."""
        line = Run(
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            tests=self.results,
            flaky=[flaky.nodeid for flaky in self.flaky],
        )
        with self.history.open("a", encoding="utf-8") as history:
            if history.tell() and not self.history.read_bytes().endswith(b"\n"):
                history.write("\n")  # end the line a killed run left cut short
            history.write(json.dumps(line) + "\n")
        runs: list[Run] = []
        for text in self.history.read_text(encoding="utf-8").splitlines():
            try:
                runs.append(json.loads(text))
            except json.JSONDecodeError:
                continue  # a line cut short by a run that was killed mid-write
        return runs[-self.history_runs :]

    def pytest_terminal_summary(self, terminalreporter: "pytest.TerminalReporter") -> None:
        if self.flaky:
            terminalreporter.section("flaky tests (passed on a retry)", yellow=True)
            for flaky in self.flaky:
                terminalreporter.write_line(
                    f"{flaky.nodeid} passed on attempt {flaky.attempts}; "
                    f"first failure: {flaky.first_failure}"
                )
            append_to_job_summary(markdown(self.flaky, self.verdict))
        if self.verdict:
            terminalreporter.write_sep(
                "-", self.verdict, red=self.over_threshold, yellow=not self.over_threshold
            )


def markdown(flaky: list[Flaky], verdict: str) -> str:
    """The job-summary table of tests that passed on a retry."""
    rows = [(str(f.attempts), f"`{f.nodeid}`", f.first_failure) for f in flaky]
    header = ("attempts", "test", "first failure")
    return (
        "\n".join(["### Flaky tests", "", table(header, ("---:", "---", "---"), rows), "", verdict])
        + "\n\n"
    )
