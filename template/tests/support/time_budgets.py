"""A time budget per tier, and the slowest tests of every run.

A test's time is its call phase, the test body: the start of servers shared by
the run is nobody's fault. Budgets live under [tool.pytest.ini_options]
(`time_budget_<tier>`, in seconds); `time_budget_action = "warn"` reports
tests over budget without failing the run. In GitHub Actions the same tables
go to the job summary.
"""

import os
from dataclasses import dataclass

import pytest

from tests.support.tiers import TIERS, tier_of_nodeid

DEFAULT_BUDGETS = {"unit": 1.0, "integration": 10.0, "e2e": 30.0}
SLOWEST = 10


@dataclass(frozen=True)
class Timing:
    nodeid: str
    tier: str | None
    seconds: float


def pytest_addoption(parser: pytest.Parser) -> None:
    for tier in TIERS:
        parser.addini(
            f"time_budget_{tier}",
            f"Seconds a {tier} test may take (default {DEFAULT_BUDGETS[tier]}).",
            default=str(DEFAULT_BUDGETS[tier]),
        )
    parser.addini("time_budget_action", "fail (default) or warn when a test is over budget.")


def pytest_configure(config: pytest.Config) -> None:
    action = config.getini("time_budget_action") or "fail"
    if action not in ("fail", "warn"):
        raise pytest.UsageError(f"time_budget_action must be 'fail' or 'warn', not {action!r}")
    if not hasattr(config, "workerinput"):  # xdist workers send their reports to the controller
        report = TimeBudgetReport(config, failing=action == "fail")
        config.pluginmanager.register(report, "time-budgets")


class TimeBudgetReport:
    """Collects every test's time (in the xdist controller too) and reports at the end."""

    def __init__(self, config: pytest.Config, *, failing: bool) -> None:
        self.config = config
        self.failing = failing
        self.timings: list[Timing] = []

    def budget(self, tier: str | None) -> float | None:
        return float(self.config.getini(f"time_budget_{tier}")) if tier in TIERS else None

    def over_budget(self) -> list[tuple[Timing, float]]:
        return [
            (timing, limit)
            for timing in self.timings
            if (limit := self.budget(timing.tier)) is not None and timing.seconds > limit
        ]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            tier = tier_of_nodeid(report.nodeid)
            self.timings.append(Timing(report.nodeid, tier, report.duration))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.failing and self.over_budget() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.timings:
            return
        slowest = sorted(self.timings, key=lambda t: t.seconds, reverse=True)[:SLOWEST]
        terminalreporter.section("slowest tests")
        for timing in slowest:
            terminalreporter.write_line(f"{timing.seconds:8.2f} s  {timing.nodeid}")
        late = self.over_budget()
        if late:
            terminalreporter.section("over time budget", red=self.failing, yellow=not self.failing)
            for timing, limit in late:
                terminalreporter.write_line(
                    f"{timing.nodeid} took {timing.seconds:.2f} s, "
                    f"over the {timing.tier} budget of {limit:g} s"
                )
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as out:
                out.write(markdown(slowest, late))


def markdown(slowest: list[Timing], late: list[tuple[Timing, float]]) -> str:
    """The job-summary tables: the slowest tests, and those over budget."""
    lines = ["### Slowest tests", "", "| seconds | test |", "| ---: | --- |"]
    lines += [f"| {t.seconds:.2f} | `{t.nodeid}` |" for t in slowest]
    if late:
        lines += ["", "### Over time budget", "", "| seconds | budget | test |"]
        lines += ["| ---: | ---: | --- |"]
        lines += [f"| {t.seconds:.2f} | {limit:g} | `{t.nodeid}` |" for t, limit in late]
    return "\n".join(lines) + "\n\n"
