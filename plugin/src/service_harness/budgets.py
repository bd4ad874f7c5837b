"""A time budget per tier for each test's body.

A test's time is its call phase: the start of servers shared by the run is
nobody's fault. Budgets are `time_budget_<tier>` (seconds) in
[tool.pytest.ini_options]; a test marked `time_budget(seconds)` has that budget
instead of its tier's. `time_budget_action = "warn"` reports tests over budget
without failing the run. The slowest tests are pytest's own
`--durations`; in GitHub Actions the job summary gets both tables.
"""

from dataclasses import dataclass

import pytest

from service_harness.flaky import is_rerun
from service_harness.settings import Setting, add_setting, resolve, resolve_choice, resolve_number
from service_harness.summary import append_to_job_summary, table
from service_harness.tiers import TIERS, tier_of_nodeid

DEFAULT_BUDGETS = {"unit": "1.0", "integration": "10.0", "e2e": "30.0"}
BUDGETS = {
    tier: Setting(
        ini=f"time_budget_{tier}", default=seconds, help=f"Seconds a {tier} test body may take."
    )
    for tier, seconds in DEFAULT_BUDGETS.items()
}
ACTION = Setting(
    ini="time_budget_action",
    default="fail",
    help="fail or warn when a test is over its tier's time budget.",
)
SLOWEST = 10
MARKER = "time_budget"


@dataclass(frozen=True)
class Timing:
    nodeid: str
    tier: str | None
    seconds: float
    budget: float | None
    whose: str = ""  # "the integration" (the tier's budget) or "its marked"


def add_settings(parser: pytest.Parser) -> None:
    for setting in (*BUDGETS.values(), ACTION):
        add_setting(parser, setting)


def declare_marker(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(seconds): this test's time budget, instead of its tier's"
    )


def marked_budget(item: pytest.Item) -> float | None:
    """The seconds of `item`'s time_budget marker, or None; a UsageError if they are no number."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    seconds = marker.args[0] if len(marker.args) == 1 and not marker.kwargs else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise pytest.UsageError(
            f"{item.nodeid}: write @pytest.mark.{MARKER}(seconds) with a number of 0 or more, "
            f"not {MARKER}{marker.args or ''}{marker.kwargs or ''}"
        )
    return float(seconds)


def check_markers(items: list[pytest.Item]) -> None:
    for item in items:
        marked_budget(item)


def note_marked_budget(item: pytest.Item, report: pytest.TestReport) -> None:
    """Carry a marked budget in the report (user_properties cross over from xdist's workers)."""
    seconds = marked_budget(item)
    if seconds is not None and report.when == "call":
        report.user_properties.append((MARKER, seconds))


class TimeBudgetReport:
    """Collects every test's time (in the xdist controller too) and reports at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.failing = resolve_choice(config, ACTION, ("fail", "warn")).value == "fail"
        self.budgets = {tier: resolve_number(config, BUDGETS[tier]) for tier in TIERS}
        self.timings: list[Timing] = []

    def header(self, config: pytest.Config) -> str:
        budgets = ", ".join(f"{tier} {seconds:g} s" for tier, seconds in self.budgets.items())
        action = resolve(config, ACTION)
        return f"time budgets: {budgets}; over budget: {action.value} (from {action.source})"

    def over_budget(self) -> list[Timing]:
        return [t for t in self.timings if t.budget is not None and t.seconds > t.budget]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and not is_rerun(report):
            tier = tier_of_nodeid(report.nodeid)
            marked = [
                value
                for name, value in report.user_properties
                if name == MARKER and isinstance(value, int | float)
            ]
            budget: float | None
            if marked:
                budget, whose = float(marked[-1]), "its marked"
            else:
                budget, whose = (self.budgets[tier], f"the {tier}") if tier else (None, "")
            self.timings.append(Timing(report.nodeid, tier, report.duration, budget, whose))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.failing and self.over_budget() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: "pytest.TerminalReporter") -> None:
        if not self.timings:
            return
        late = self.over_budget()
        if late:
            terminalreporter.section("over time budget", red=self.failing, yellow=not self.failing)
            for timing in late:
                terminalreporter.write_line(
                    f"{timing.nodeid} took {timing.seconds:.2f} s, "
                    f"over {timing.whose} budget of {timing.budget:g} s"
                )
        slowest = sorted(self.timings, key=lambda t: t.seconds, reverse=True)[:SLOWEST]
        append_to_job_summary(markdown(slowest, late))


def markdown(slowest: list[Timing], late: list[Timing]) -> str:
    """The job-summary tables: the slowest tests, and those over budget."""
    rows = [(f"{t.seconds:.2f}", f"`{t.nodeid}`") for t in slowest]
    parts = ["### Slowest tests", "", table(("seconds", "test"), ("---:", "---"), rows)]
    if late:
        late_rows = [(f"{t.seconds:.2f}", f"{t.budget:g}", f"`{t.nodeid}`") for t in late]
        header = ("seconds", "budget", "test")
        parts += ["", "### Over time budget", "", table(header, ("---:", "---:", "---"), late_rows)]
    return "\n".join(parts) + "\n\n"
