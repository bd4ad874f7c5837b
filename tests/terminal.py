"""A pseudo-terminal of 80 x 24 that a test reads and types into, as a user would."""

import io
import os
import re
from pathlib import Path

import pexpect
import pytest

ROWS, COLUMNS = 24, 80
STEP_TIMEOUT = 60  # seconds for one screen; a step can take several on a loaded 2-core machine

# Keys as a terminal sends them. Ctrl-U erases the input, here the default shown.
DOWN, SPACE, ENTER, ERASE_INPUT = "\x1b[B", " ", "\r", "\x15"

# prompt_toolkit asks the terminal where its cursor is; a terminal answers at once.
CURSOR_POSITION_REQUEST = re.compile(re.escape("\x1b[6n"))
CURSOR_POSITION_REPLY = "\x1b[1;1R"
# Copier marks each question with a microphone.
QUESTION = re.compile("🎤")

# Colours and weights may come between any two characters of a text on screen.
STYLE = r"(?:\x1b\[[0-9;]*m)*"
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def on_screen(text: str) -> re.Pattern:
    """`text` as the terminal prints it, styled or not."""
    return re.compile(STYLE.join(re.escape(character) for character in text))


def readable(output: str, limit: int = 3000) -> str:
    """Terminal output without escape sequences or runs of empty lines: its last `limit` chars."""
    text = ESCAPE_SEQUENCE.sub("", output).replace("\r", "")
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text)[-limit:]


class Terminal:
    """The user's side of a pseudo-terminal running `command`: reads the screen, types."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        env = {k: v for k, v in (env or os.environ).items() if k not in ("COLUMNS", "LINES")}
        self.transcript = io.StringIO()
        self.child = pexpect.spawn(
            command[0],
            command[1:],
            cwd=cwd,
            env={**env, "TERM": "xterm-256color"},
            dimensions=(ROWS, COLUMNS),
            encoding="utf-8",
            codec_errors="replace",
            timeout=STEP_TIMEOUT,
        )
        self.child.delaybeforesend = None  # keys go when the screen is ready, not after a pause
        self.child.logfile_read = self.transcript

    def wait_for(self, text: str, *, timeout: float = STEP_TIMEOUT) -> None:
        self._wait(on_screen(text), f"{text!r}", timeout)

    def wait_for_exit(self, *, timeout: float = STEP_TIMEOUT) -> int:
        """Wait until the command ends; its exit status."""
        self._wait(pexpect.EOF, "the command to exit", timeout)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -1

    def run_taking_defaults(self, *, timeout: float) -> int:
        """Press Enter at every question (its default) until the command ends; its exit status."""
        while self._wait(pexpect.EOF, "the command to exit", timeout, also=QUESTION) is QUESTION:
            self.press(ENTER)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -1

    def press(self, *keys: str) -> None:
        for key in keys:
            self.child.send(key)

    def output(self, limit: int = 100_000) -> str:
        return readable(self.transcript.getvalue(), limit=limit)

    def close(self) -> None:
        self.child.close(force=True)

    def _wait(self, pattern, what: str, timeout: float, also: re.Pattern | None = None):
        outcomes = [CURSOR_POSITION_REQUEST, pattern, pexpect.TIMEOUT]
        if also is not None:
            outcomes.append(also)
        if pattern is not pexpect.EOF:
            outcomes.append(pexpect.EOF)
        while True:
            found = outcomes[self.child.expect(outcomes, timeout=timeout)]
            if found is CURSOR_POSITION_REQUEST:
                self.child.send(CURSOR_POSITION_REPLY)
            elif found is pattern or found is also:
                return found
            else:
                why = "the command exited" if found is pexpect.EOF else f"nothing for {timeout} s"
                pytest.fail(
                    f"waiting for {what}: {why}; the terminal printed last:\n"
                    f"{readable(self.child.before)}",
                    pytrace=False,
                )
