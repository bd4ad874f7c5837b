"""`uv run dev` in the fullest project, as a developer runs it: no URLs, no Docker.

It must start its servers, migrate, load the sample data and serve the app; an
order placed through the API moves the stock; Ctrl-C (SIGINT to the command's
process group, as a terminal sends it) stops everything and removes its data.
"""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.checks import leftovers
from tests.test_providers import NO_DOCKER
from tests.variants import STYLES, fullest_variant

TOKEN = re.compile(r"Authorization: Bearer (\S+?)'")
DEADLINE = 120  # seconds for the first `uv run`: it installs the project


class Dev:
    """`uv run dev` on `port` in its own process group, its output read as it comes."""

    def __init__(self, project: Path, *, port: int, env: dict[str, str]) -> None:
        self.project = project
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            ["uv", "run", "--quiet", "dev", "--port", str(port)],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def output(self) -> str:
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return "".join(self.seen)

    def wait_for_line(self, pattern: re.Pattern[str], *, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=min(remaining, 1))
            except queue.Empty:
                assert self.process.poll() is None, f"dev exited:\n{self.output()}"
                continue
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(
            f"no line matching {pattern.pattern} within {timeout} s:\n{self.output()}"
        )

    def request(
        self, method: str, path: str, body: object = None, token: str = ""
    ) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def wait_until(self, check: Callable[[], bool], *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert self.process.poll() is None, f"dev exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"{what} not within {timeout} s:\n{self.output()}"
            time.sleep(0.1)  # a poll interval under a deadline, not a wait for something

    def interrupt(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dev_env(isolated_tmp: Path) -> dict[str, str]:
    """A developer's shell: no URL of any server, no Docker engine, TMPDIR to look into."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "VIRTUAL_ENV"))}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    return env | NO_DOCKER | {"TMPDIR": str(isolated_tmp)}


@pytest.fixture
def dev(request, render, free_port, dev_env) -> Iterator[Dev]:
    """`uv run dev` in the fullest render of the test's style; killed if the test left it up."""
    project = render(fullest_variant(request.node.callspec.params["style"]))
    running = Dev(project, port=free_port, env=dev_env)
    yield running
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait()


def healthy(dev: Dev) -> bool:
    try:
        return dev.request("GET", "/health")[0] == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_dev_serves_sample_data_and_leaves_nothing_on_ctrl_c(style, dev, isolated_tmp) -> None:
    token = dev.wait_for_line(TOKEN, timeout=DEADLINE).group(1)
    dev.wait_until(lambda: healthy(dev), timeout=60, what="/health 200")
    output = dev.output()
    assert "DATABASE_URL=postgresql://postgres@127.0.0.1:" in output
    assert "REDIS_URL=redis://127.0.0.1:" in output

    status, before = dev.request("GET", "/api/inventory/MUG-1")
    assert (status, before["stock"]) == (200, 40)
    order = {"items": [{"sku": "MUG-1", "quantity": 2}]}
    status, placed = dev.request("POST", "/api/orders", order, token=token)
    assert status == 201, placed
    dev.wait_until(
        lambda: dev.request("GET", "/api/inventory/MUG-1")[1]["stock"] == 38,
        timeout=30,
        what="stock 38 after the order",
    )

    assert dev.interrupt() == 0, dev.output()
    assert leftovers(dev.project, isolated_tmp) == [], dev.output()
