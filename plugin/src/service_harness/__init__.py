"""pytest-service-harness: real servers for every test run, test tiers, retries, time budgets.

The plugin registers itself (entry point `pytest11`); a project switches on
the services its tests use with `pytest_plugins = ["service_harness.postgres",
"service_harness.redis"]`. What tests and a project's own fixtures import
comes from here.
"""

from service_harness.cassettes import (
    cassettes,
    scrubbing_vcr_config,
    secrets_in,
    unused_cassettes,
)
from service_harness.dev import dev_server
from service_harness.live_server import LiveServer, running
from service_harness.servers import register_service, server_for
from service_harness.services import InfrastructureError, Server, Service
from service_harness.settings import Setting
from service_harness.tiers import is_committed, tier_of
from service_harness.waiting import AsyncInbox, Inbox, run_together, run_together_async

__all__ = [
    "AsyncInbox",
    "InfrastructureError",
    "Inbox",
    "LiveServer",
    "Server",
    "cassettes",
    "dev_server",
    "Service",
    "Setting",
    "is_committed",
    "register_service",
    "run_together",
    "run_together_async",
    "running",
    "scrubbing_vcr_config",
    "secrets_in",
    "server_for",
    "tier_of",
    "unused_cassettes",
]
