"""A service the harness has never heard of (echo_service.py) gets all it gives PostgreSQL and Redis.

Its URL setting, its embedded server, the xdist hand-off, a dead URL and a server
that dies mid-run: the generic layer does each without naming the service.
"""

import gc
import re
import socketserver
import threading
import warnings
from collections.abc import Iterator

import echo_service
import pytest
from conftest import echo_servers, is_gone

from service_harness.providers import start_container
from service_harness.services import ProviderUnavailable, free_port

ANNOUNCED = re.compile(r"^Echo: (tcp://127\.0\.0\.1:\d+) \((\w+): (.*)\)$")

TALKS_TO_ECHO = """
from echo_service import talk

def test_echo(echo):
    assert talk(echo.url, "hello") == "hello"
"""


def announced(result: pytest.RunResult) -> list[tuple[str, ...]]:
    """(url, provider, detail) of every announced echo server."""
    return [match.groups() for line in result.outlines if (match := ANNOUNCED.match(line))]


def test_embedded_server_starts_answers_and_is_gone_after_the_run(
    echo_project: pytest.Pytester,
) -> None:
    echo_project.makepyfile(test_echo=TALKS_TO_ECHO)
    result = echo_project.runpytest("--infra=embedded")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["infrastructure: embedded (--infra)"])
    [(url, provider, detail)] = announced(result)
    assert (provider, detail) == ("embedded", "a Python echo server")
    [(pid, run_dir)] = echo_servers(echo_project.path)
    assert is_gone(pid), f"the echo server {pid} at {url} outlived the run"
    assert not run_dir.exists(), f"the echo server's folder {run_dir} outlived the run"


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)


@pytest.fixture
def running_echo() -> Iterator[str]:
    """The URL of an echo server that this test process runs (function)."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
        thread.start()
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        thread.join()


@pytest.mark.parametrize("source", ["--echo-url", "TEST_ECHO_URL", "echo_url"])
def test_configured_url_is_used_and_named_in_the_header(
    echo_project: pytest.Pytester,
    running_echo: str,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    dead = f"tcp://127.0.0.1:{free_port()}"
    args = []
    # Each source is given the live server; the sources it beats are given a dead one.
    if source == "--echo-url":
        args.append(f"--echo-url={running_echo}")
        monkeypatch.setenv("TEST_ECHO_URL", dead)
    elif source == "TEST_ECHO_URL":
        monkeypatch.setenv("TEST_ECHO_URL", running_echo)
    if source != "echo_url":
        echo_project.makepyprojecttoml(f'[tool.pytest.ini_options]\necho_url = "{dead}"\n')
    else:
        echo_project.makepyprojecttoml(f'[tool.pytest.ini_options]\necho_url = "{running_echo}"\n')
    echo_project.makepyfile(test_echo=TALKS_TO_ECHO)

    result = echo_project.runpytest(*args)

    result.assert_outcomes(passed=1)
    named = "echo_url in [tool.pytest.ini_options]" if source == "echo_url" else source
    result.stdout.fnmatch_lines(["infrastructure: auto (default)", f"  Echo URL from {named}"])
    assert announced(result) == [(running_echo, "url", f"from {named}")]
    assert echo_servers(echo_project.path) == [], "an embedded server started besides the URL"


XDIST_WORKERS_RECORD_THEIR_URL = """
import pytest
from echo_service import talk

@pytest.fixture(scope="session", autouse=True)
def record(echo, pytestconfig, worker_id):
    (pytestconfig.rootpath / f"url-{worker_id}.txt").write_text(f"{echo.url} {echo.provider}")

@pytest.mark.parametrize("number", range(4))
def test_echo(echo, number):
    assert talk(echo.url, str(number)) == str(number)
"""


def test_xdist_controller_starts_one_server_that_every_worker_gets(
    echo_project: pytest.Pytester,
) -> None:
    echo_project.makepyfile(test_echo=XDIST_WORKERS_RECORD_THEIR_URL)
    result = echo_project.runpytest("-n", "2", "--infra=embedded")
    result.assert_outcomes(passed=4)
    got = {path.stem: path.read_text() for path in echo_project.path.glob("url-*.txt")}
    assert sorted(got) == ["url-gw0", "url-gw1"], got
    [(url, provider, _)] = announced(result)  # by the controller, once
    assert provider == "embedded"
    assert set(got.values()) == {f"{url} shared"}, got
    [(pid, run_dir)] = echo_servers(echo_project.path)
    assert is_gone(pid), f"the echo server {pid} outlived the run"
    assert not run_dir.exists(), f"the echo server's folder {run_dir} outlived the run"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_dead_url_is_one_clear_usage_error(
    echo_project: pytest.Pytester, workers: list[str]
) -> None:
    echo_project.makepyfile(test_echo=TALKS_TO_ECHO)
    dead = f"tcp://127.0.0.1:{free_port()}"
    result = echo_project.runpytest(f"--echo-url={dead}", *workers)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.outlines
    output = "\n".join(result.outlines + result.errlines)
    message = f"Echo at {dead} (from --echo-url) does not answer"
    # Once in the terminal's output (xdist's controller also writes pytest's "Exit:" to stderr).
    assert result.stdout.str().count(message) == 1, output
    assert "Start that server, or point --echo-url at one that runs." in output
    assert "Traceback" not in output, output
    assert "INTERNALERROR" not in output, output
    assert echo_servers(echo_project.path) == [], "an embedded server started instead"


KILLS_ITS_SERVER = """
import os, signal, time
from pathlib import Path

def zombie(pid):
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"

def test_server_dies(echo):
    [pid, _] = Path("echo-servers.txt").read_text().split()
    os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert False, "fails with its server gone"

def test_never_runs(echo):
    pass
"""


def test_server_that_dies_mid_run_stops_the_run(echo_project: pytest.Pytester) -> None:
    echo_project.makepyfile(test_echo=KILLS_ITS_SERVER)
    result = echo_project.runpytest("--infra=embedded")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Echo died -*",
            "embedded echo server exited with code -9. Its output:",
            "*Echo is gone: embedded echo server exited with code -9. Its output:*",
        ]
    )
    assert "test_never_runs" not in result.stdout.str()


def test_xdist_run_of_unit_tests_alone_obtains_no_server(echo_project: pytest.Pytester) -> None:
    echo_project.makepyfile(**{"tests/unit/test_pure": "def test_pure(): pass"})
    dead = f"tcp://127.0.0.1:{free_port()}"  # obtaining the server would stop the run
    result = echo_project.runpytest("-n", "2", f"--echo-url={dead}", "tests/unit")
    result.assert_outcomes(passed=1)
    assert announced(result) == []


@pytest.mark.parametrize("where", ["unix:///nonexistent/docker.sock", "tcp://127.0.0.1:{port}"])
def test_no_docker_engine_is_reported_and_leaves_no_socket_open(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A socket left to the garbage collector warns at some later test, which a project
    # that turns warnings into errors reports as that test's error.
    where = where.format(port=free_port())
    monkeypatch.setenv("DOCKER_HOST", where)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ProviderUnavailable, match=f"no Docker engine answers at {where}"):
            start_container(echo_service.Echo(), "echo:1")
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
