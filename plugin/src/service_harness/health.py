"""The test-health record of a run: wall time per tier, the slowest tests against their
time budget, and the flaky share of the recorded history, run by run.

Every run writes one record, a JSON file named by the `health_record` setting
(--health-record, TEST_HEALTH_RECORD, `health_record`, else .test-health.json).
`test-health` (health_report.py) draws charts from records.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import pytest

from service_harness.budgets import SLOWEST, TimeBudgetReport
from service_harness.flaky import FlakyReport, Run
from service_harness.settings import Setting, add_setting, resolve
from service_harness.tiers import tier_of_nodeid

RECORD = Setting(
    ini="health_record",
    option="--health-record",
    env="TEST_HEALTH_RECORD",
    default=".test-health.json",
    help="File (from the project root) that each run writes its test-health record to.",
)


class SlowTest(TypedDict):
    test: str
    seconds: float
    budget: float


class Record(TypedDict):
    finished: str
    tiers: dict[str, float]
    slowest: list[SlowTest]
    flaky_history: list[Run]  # the lines of the flaky history the share was taken over
    flaky_threshold: float


def add_settings(parser: pytest.Parser) -> None:
    add_setting(parser, RECORD)


def wall_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds during which at least one of the (start, stop) intervals ran: xdist's
    workers run a tier's tests side by side, so their durations do not add up."""
    total, reach = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > reach:
            total += stop - max(start, reach)
            reach = stop
    return total


class HealthRecorder:
    """Collects each tier's test intervals (in the xdist controller too); writes the record."""

    def __init__(
        self, config: pytest.Config, budgets: TimeBudgetReport, flaky: FlakyReport
    ) -> None:
        self.path = config.rootpath / (resolve(config, RECORD).value or "")
        self.budgets = budgets
        self.flaky = flaky
        self.intervals: dict[str, list[tuple[float, float]]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tier = tier_of_nodeid(report.nodeid)
        if tier is not None and report.stop > report.start:
            self.intervals.setdefault(tier, []).append((report.start, report.stop))

    @pytest.hookimpl(trylast=True)  # after FlakyReport has added this run to the history
    def pytest_sessionfinish(self) -> None:
        if not self.intervals:
            return
        budgeted = [
            SlowTest(test=timing.nodeid, seconds=timing.seconds, budget=timing.budget)
            for timing in self.budgets.timings
            if timing.budget  # a budget of 0 s has no share to draw
        ]
        record = Record(
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            tiers={tier: wall_seconds(spans) for tier, spans in self.intervals.items()},
            slowest=sorted(budgeted, key=lambda slow: slow["seconds"], reverse=True)[:SLOWEST],
            flaky_history=self.flaky.runs,
            flaky_threshold=self.flaky.threshold,
        )
        # Written whole, then renamed: a run killed midway leaves the last good record.
        partial = self.path.with_name(self.path.name + ".partial")
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        partial.replace(self.path)


def read_record(path: Path) -> Record:
    """The record in `path`, or ValueError saying what is wrong with it."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a test-health record: {exc}") from exc
    missing = set(Record.__annotations__) - set(record if isinstance(record, dict) else ())
    if missing:
        raise ValueError(f"{path} is not a test-health record: no {', '.join(sorted(missing))}")
    return record  # type: ignore[no-any-return]
