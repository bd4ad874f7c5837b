"""Tiers are folders: a test under a folder named after a tier gets that tier's marker.

Tests whose work crosses connections (an event consumer, a live server) cannot
see an uncommitted transaction, so they also get the `committed` marker: the
tests of the tiers in `committed_tiers`, and those that use a fixture named in
`committed_fixtures`. Unit tests may not open network sockets.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import pytest
from pytest_socket import disable_socket, enable_socket

TIERS = ("unit", "integration", "e2e")
SERVERLESS_TIER = "unit"


def tier_of_parts(parts: Iterable[str]) -> str | None:
    """The first tier folder among the path `parts`, or None."""
    return next((part for part in parts if part in TIERS), None)


def tier_of_nodeid(nodeid: str) -> str | None:
    """The tier of a test named by its node id (tests/<tier>/...::name)."""
    return tier_of_parts(PurePosixPath(nodeid.split("::")[0]).parts[:-1])


def tier_of(item: pytest.Item) -> str | None:
    return tier_of_nodeid(item.nodeid)


def is_committed(item: pytest.Item) -> bool:
    """Whether `item` runs with real commits instead of a rolled-back transaction."""
    return item.get_closest_marker("committed") is not None


def add_ini(parser: pytest.Parser) -> None:
    parser.addini("committed_tiers", "Tiers whose tests all run committed.", type="args")
    parser.addini(
        "committed_fixtures", "Fixtures whose tests run committed (e.g. event_bus).", type="args"
    )


def declare_markers(config: pytest.Config) -> None:
    for tier in TIERS:
        config.addinivalue_line("markers", f"{tier}: a test in a {tier}/ folder (set by folder)")
    config.addinivalue_line(
        "markers", "committed: the test commits for real and its data is removed afterwards"
    )


def mark(items: list[pytest.Item], config: pytest.Config) -> None:
    committed_tiers = set(config.getini("committed_tiers"))
    committed_fixtures = set(config.getini("committed_fixtures"))
    for item in items:
        tier = tier_of(item)
        if tier is not None:
            item.add_marker(tier)
        fixtures = set(getattr(item, "fixturenames", ()))
        if (tier in committed_tiers or fixtures & committed_fixtures) and not is_committed(item):
            item.add_marker("committed")


def only_serverless_tests(config: pytest.Config) -> bool:
    """Whether the run was asked for unit tests alone, which need no server."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return bool(paths) and all(
        path.is_relative_to(config.rootpath)
        and tier_of_parts(path.relative_to(config.rootpath).parts) == SERVERLESS_TIER
        for path in paths
    )


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    if tier_of(request.node) != SERVERLESS_TIER:
        yield
        return
    # Unix sockets stay allowed: event loops need a socketpair to start.
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
