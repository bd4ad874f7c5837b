"""A third, toy service in one module: a TCP echo server, as a project would add one.

The harness's tests copy this module into their pytester folders and load it
with `pytest_plugins = ["echo_service"]`. It declares the service (its URL
setting, no container, an embedded server that is a small Python process),
registers it, and gives the `echo` fixture. Nothing in service_harness names it.

The embedded server appends its process id and data folder to `echo-servers.txt`
in the folder the run started in, so that a test can count the servers and see
them gone.
"""

import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from service_harness import Server, Service, Setting, register_service, server_for
from service_harness.embedded import embedded_server, start_on_free_port
from service_harness.processes import ManagedProcess
from service_harness.services import Container, ProviderUnavailable
from service_harness.settings import add_setting

RECORD = "echo-servers.txt"
READY = "echo server ready"
SERVE = f"""
import os, socketserver, sys

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)

with open(sys.argv[2], "a") as record:
    record.write(f"{{os.getpid()}} {{sys.argv[3]}}\\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo) as server:
    print({READY!r}, flush=True)
    server.serve_forever()
"""


class Echo(Service):
    key = "echo"
    name = "Echo"
    port = 7
    example_url = "tcp://127.0.0.1:7"
    url = Setting(
        ini="echo_url",
        option="--echo-url",
        env="TEST_ECHO_URL",
        help="URL of a running echo server for the tests.",
    )
    image = Setting(
        ini="echo_image",
        env="TEST_ECHO_IMAGE",
        default="echo:1",
        help="Docker image of the echo server.",
    )

    def container(self, image: str) -> Container:
        raise ProviderUnavailable(f"the echo service has no container image (asked for {image})")

    def container_url(self, container: Container) -> str:
        raise NotImplementedError("the echo service has no container")

    def embedded(self) -> "EmbeddedEcho":
        return EmbeddedEcho()


class EmbeddedEcho:
    """The echo server as a child process of the run, on a free loopback port."""

    def start(self, service: Service) -> Server:
        record = Path.cwd() / RECORD

        def server_in(run_dir: Path) -> tuple[int, ManagedProcess]:
            def server_on(port: int) -> ManagedProcess:
                return ManagedProcess(
                    name="embedded echo server",
                    command=[sys.executable, "-c", SERVE, str(port), str(record), str(run_dir)],
                    ready_line=READY,
                )

            return start_on_free_port(server_on)

        return embedded_server(
            service=service,
            start=server_in,
            url="tcp://127.0.0.1:{port}",
            detail="a Python echo server",
        )


SERVICE = Echo()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_setting(parser, Echo.url)
    add_setting(parser, Echo.image)


def pytest_configure(config: pytest.Config) -> None:
    register_service(config, SERVICE)


@pytest.fixture(scope="session")
def echo(pytestconfig: pytest.Config) -> Server:
    """The echo server this run uses, however it was obtained (session)."""
    return server_for(pytestconfig, SERVICE)


def talk(url: str, message: str) -> str:
    """Send one line to the echo server at `url`; the line it sends back."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 7), timeout=5) as sock:
        sock.sendall(f"{message}\n".encode())
        return sock.makefile().readline().rstrip("\n")
