"""The app as a real server process: uvicorn on a loopback socket of its own."""

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from service_harness.processes import ManagedProcess


class LiveServer:
    """Runs `uvicorn --factory <app_factory>` on a free loopback port until stopped.

    The listening socket is bound here and handed to uvicorn (`--fd`), so no
    other process can take the port between choosing and binding it. The server
    counts as started once uvicorn reports that the app's lifespan has started.
    """

    def __init__(self, *, app_factory: str, env: dict[str, str]) -> None:
        self.app_factory = app_factory
        self.env = env
        self._process: ManagedProcess | None = None

    def spawn(self) -> str:
        """Start the server without waiting for it; return its base URL."""
        with socket.create_server(("127.0.0.1", 0)) as listener:
            host, port = listener.getsockname()[:2]
            fd = listener.fileno()
            self._process = ManagedProcess(
                name=f"uvicorn {self.app_factory}",
                command=[sys.executable, "-m", "uvicorn", "--factory", self.app_factory]
                + ["--fd", str(fd)],
                ready_line="Application startup complete.",
                env=self.env,
                pass_fds=(fd,),
            )
            self._process.spawn()  # uvicorn has the socket now; ours may close
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Start the server; return its base URL once it accepts requests."""
        url = self.spawn()
        self.wait_until_ready()
        return url

    def wait_until_ready(self) -> None:
        if self._process is not None:
            self._process.wait_until_ready()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()


@contextmanager
def running(servers: list[LiveServer]) -> Iterator[list[str]]:
    """Start `servers` side by side and give their base URLs; stop them all at the end.

    They start at once and are waited for in turn, so starting two costs about
    as long as one. Whatever fails or is interrupted, none is left running.
    """
    try:
        urls = [server.spawn() for server in servers]
        for server in servers:
            server.wait_until_ready()
        yield urls
    finally:
        for server in servers:
            server.stop()
