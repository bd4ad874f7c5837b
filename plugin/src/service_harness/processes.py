"""Child processes that the tests start, wait for and always stop."""

import ctypes
import os
import pwd
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence


class ProcessFailed(RuntimeError):
    """A managed process exited or did not become ready; the message carries its output."""


def _die_with_parent_setter() -> Callable[[], None] | None:
    """On Linux, a function that makes the calling (child) process die with its parent."""
    if sys.platform != "linux":
        return None
    # Looked up here, in the parent: the child may run as a user that cannot import.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


_die_with_parent = _die_with_parent_setter()


class ManagedProcess:
    """Runs `command` and counts it as started once it prints a line containing `ready_line`.

    The child gets a session of its own, so a Ctrl-C in the terminal reaches
    only the test run, which then stops the child in order; on Linux the
    child also dies with the test run if that is killed.
    """

    def __init__(
        self,
        *,
        name: str,
        command: Sequence[str],
        ready_line: str,
        env: dict[str, str] | None = None,
        user: str | None = None,
        pass_fds: Sequence[int] = (),
        stop_signal: int = signal.SIGTERM,
        startup_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.ready_line = ready_line
        self.env = env
        self.user = user
        self.pass_fds = tuple(pass_fds)
        self.stop_signal = stop_signal
        self.startup_timeout = startup_timeout
        self.output: deque[str] = deque(maxlen=200)
        self._ready = threading.Event()
        self._started = False
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        """Start the process and wait until it is ready; raise ProcessFailed otherwise."""
        self.spawn()
        self.wait_until_ready()

    def spawn(self) -> None:
        """Start the process without waiting for it: on the thread that will outlive it.

        On Linux the child dies with the thread that spawned it, not only the process.
        """
        self._process = subprocess.Popen(
            self.command,
            env={**os.environ, **(self.env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=self.pass_fds,
            start_new_session=True,
            user=self.user,
            group=pwd.getpwnam(self.user).pw_gid if self.user else None,
            extra_groups=[] if self.user else None,
            # If the test run is killed outright, the kernel stops the child too.
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read_output, name=self.name, daemon=True)
        self._reader.start()

    def wait_until_ready(self) -> None:
        """Wait until the spawned process is ready; stop it and raise ProcessFailed if it fails."""
        assert self._process is not None, "spawn() first"
        try:
            self._ready.wait(self.startup_timeout)
        except BaseException:  # Ctrl-C while waiting: nobody else will stop it
            self.stop()
            raise
        if not self._started:
            self.stop()
            raise ProcessFailed(
                f"{self.name} did not become ready within {self.startup_timeout} s "
                f"(exit code {self._process.returncode}). Its output:\n{self.tail()}"
            )

    def problem(self) -> str | None:
        """Why the process is no longer usable, or None while it runs."""
        if self._process is None or self._process.poll() is None:
            return None
        code = self._process.returncode
        return f"{self.name} exited with code {code}. Its output:\n{self.tail()}"

    def tail(self, lines: int = 30) -> str:
        return "\n".join(list(self.output)[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process (its stop signal, then SIGKILL after `timeout`) and reap it."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(self.stop_signal)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout)
        if process.stdout is not None:
            process.stdout.close()

    def _read_output(self) -> None:
        stdout = self._process.stdout if self._process else None
        if stdout is None:
            return
        for line in stdout:
            self.output.append(line.rstrip())
            if not self._started and self.ready_line in line:
                self._started = True
                self._ready.set()
        # End of output: the process is gone; wake a start() that is still waiting.
        self._ready.set()
