"""Tiers are folders: a test's folder under tests/ gives it its tier marker.

Tests whose work crosses connections (an event consumer, a live server) cannot
see an uncommitted transaction, so they also get the `committed` marker.
"""

from pathlib import Path

import pytest

TIERS = ("unit", "integration", "e2e")
TESTS_DIR = Path(__file__).resolve().parents[1]


def tier_of(path: Path) -> str | None:
    """The tier folder that `path` lies in, or None outside the tier folders."""
    try:
        first = path.resolve().relative_to(TESTS_DIR).parts[0]
    except (ValueError, IndexError):
        return None
    return first if first in TIERS else None


def tier_of_nodeid(nodeid: str) -> str | None:
    """The tier of a test named by its node id (tests/<tier>/...::name)."""
    parts = nodeid.split("::")[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" and parts[1] in TIERS else None


def needs_commits(item: pytest.Item) -> bool:
    return tier_of(item.path) == "e2e" or "event_bus" in getattr(item, "fixturenames", ())


def is_committed(item: pytest.Item) -> bool:
    """Whether `item` runs with real commits instead of a rolled-back transaction."""
    return item.get_closest_marker("committed") is not None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: markers must be in place before `-m` deselects by them.
    for item in items:
        tier = tier_of(item.path)
        if tier is not None:
            item.add_marker(tier)
        if needs_commits(item) and not is_committed(item):
            item.add_marker("committed")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """A CI shard that pytest-split leaves without tests passes: there are more shards than tests."""
    splits = session.config.getoption("splits", default=None)
    if splits and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
        group = session.config.getoption("group", default=None)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"shard {group} of {splits} has no tests: more shards than tests")
