"""The one hand-off from the xdist controller to its workers, declared here and nowhere else.

The controller starts the servers once, lets each service prepare what a worker
needs (a copy of the migrated database, say), and sends both in `workerinput`
under one key. A worker finds them with payload_of().
"""

from typing import TypedDict

import pytest

KEY = "service_harness"


class WorkerPayload(TypedDict):
    servers: dict[str, str]
    """Service key → URL of the server the controller obtained."""
    prepared: dict[str, str]
    """Service key → what the service prepared for this worker (see Service.prepare_worker)."""


def payload_of(config: pytest.Config) -> WorkerPayload | None:
    """What the controller handed this worker, or None outside an xdist worker."""
    workerinput: dict[str, object] = getattr(config, "workerinput", {})
    payload = workerinput.get(KEY)
    return payload if isinstance(payload, dict) else None  # type: ignore[return-value]


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")
