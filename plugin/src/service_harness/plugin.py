"""The harness's pytest hooks; registered through the `pytest11` entry point.

Services are switched on by their modules: a project lists the ones its tests
use in `pytest_plugins` (e.g. "service_harness.postgres"). This module only
knows services through that registry.
"""

import signal
import threading
from collections.abc import Generator
from typing import Protocol

import pytest

from service_harness import budgets, flaky, health, tiers
from service_harness.providers import INFRA, MODES, infra_mode
from service_harness.servers import run_servers
from service_harness.services import InfrastructureError
from service_harness.settings import add_setting, resolve
from service_harness.tiers import _no_network_in_unit_tests  # noqa: F401  (an autouse fixture)
from service_harness.xdist import KEY, is_worker

_BUDGETS = pytest.StashKey[budgets.TimeBudgetReport]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_setting(parser, INFRA, choices=MODES)
    flaky.add_settings(parser)
    budgets.add_settings(parser)
    health.add_settings(parser)
    tiers.add_ini(parser)


def pytest_configure(config: pytest.Config) -> None:
    tiers.declare_markers(config)
    budgets.declare_marker(config)
    report = budgets.TimeBudgetReport(config)  # refuses bad settings before any test runs
    config.stash[_BUDGETS] = report
    flaky.retries(config)
    infra_mode(config)
    if not is_worker(config):  # xdist workers send their reports to the controller
        config.pluginmanager.register(report, "service-harness-time-budgets")
        flakiness = flaky.FlakyReport(config)
        config.pluginmanager.register(flakiness, "service-harness-flakiness")
        recorder = health.HealthRecorder(config, report, flakiness)
        config.pluginmanager.register(recorder, "service-harness-health-record")
    if threading.current_thread() is threading.main_thread():
        # A cancelled CI job sends SIGTERM: clean up as for Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def pytest_report_header(config: pytest.Config) -> list[str]:
    mode = infra_mode(config)
    lines = [f"infrastructure: {mode.value} ({mode.source})"]
    for service in run_servers(config).services.values():
        url = resolve(config, service.url)
        if url.value is not None:
            lines.append(f"  {service.name} URL from {url.source}")
    lines.append(flaky.header(config))
    lines.append(config.stash[_BUDGETS].header(config))
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: markers must be in place before `-m` deselects by them.
    tiers.mark(items, config)
    flaky.mark_retried(items, config)
    budgets.check_markers(items)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: "WorkerNode") -> None:
    """xdist controller: obtain the servers once; hand them, and what each worker needs, over."""
    config = node.config
    if tiers.only_serverless_tests(config):
        return
    try:
        node.workerinput[KEY] = run_servers(config).payload_for_worker(node.gateway.id)
    except BaseException as exc:
        # pytest_sessionfinish will not run: let go of what was started.
        run_servers(config).stop()
        if isinstance(exc, InfrastructureError):
            pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
        raise


def pytest_collection_finish(session: pytest.Session) -> None:
    """Obtain the servers the collected tests need now, so that a failure stops the run early."""
    if session.config.option.collectonly:
        return
    needed = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    servers = run_servers(session.config)
    for service in servers.services.values():
        if service.key in needed:
            try:
                servers.server_for(service)
            except InfrastructureError as exc:
                pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    budgets.note_marked_budget(item, report)
    if report.failed:
        for server, problem in run_servers(item.config).dead():
            report.sections.append((f"{server.service.name} died", problem))
            item.session.shouldstop = f"{server.service.name} is gone: {problem.splitlines()[0]}"
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # trylast: after the session fixtures (which drop the run's database) are torn down.
    run_servers(session.config).stop()
    shard_without_tests_passes(session)


def shard_without_tests_passes(session: pytest.Session) -> None:
    """A CI shard that pytest-split leaves without tests passes: there are more shards than tests."""
    splits = session.config.getoption("splits", default=None)
    if splits and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
        group = session.config.getoption("group", default=None)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"shard {group} of {splits} has no tests: more shards than tests")


class WorkerNode(Protocol):
    """The part of xdist's WorkerController that pytest_configure_node uses (for typing)."""

    config: pytest.Config
    workerinput: dict[str, object]
    gateway: "Gateway"


class Gateway(Protocol):
    id: str
