"""Unit tier: pure logic. Any attempt to open a network socket fails the test."""

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    # Unix sockets stay allowed: event loops need a socketpair to start.
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
