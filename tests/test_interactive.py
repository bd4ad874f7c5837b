"""`copier copy` answered at a terminal as a user types it: tasks on, a relative destination.

Copier asks its questions through questionary in a pseudo-terminal of 80 x 24.
Each question is answered once the first line of its help text has shown whole,
which also proves that line fits an 80-column terminal. Every wait is on what
the terminal prints, never on a pause.
"""

import io
import os
import re
from pathlib import Path

import pexpect
import pytest
import yaml

from tests.checks import assert_suite_passed, run_suite
from tests.render import COPIER, git
from tests.variants import questions

ROWS, COLUMNS = 24, 80
STEP_TIMEOUT = 60  # seconds for one screen; a step can take several on a loaded 2-core machine
COPY_TIMEOUT = 180  # seconds to render the files and run the copy tasks

# Keys as a terminal sends them. Ctrl-U erases the input, here the default shown.
DOWN, SPACE, ENTER, ERASE_INPUT = "\x1b[B", " ", "\r", "\x15"

# prompt_toolkit asks the terminal where its cursor is; a terminal answers at once.
CURSOR_POSITION_REQUEST = re.compile(re.escape("\x1b[6n"))
CURSOR_POSITION_REPLY = "\x1b[1;1R"

# Colours and weights may come between any two characters of a text on screen.
STYLE = r"(?:\x1b\[[0-9;]*m)*"
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")

ANSWERS = {
    "project_name": "Order Desk",
    "package_name": "order_desk",
    "description": questions()["description"]["default"],
    "database": "sqlite",
    "event_bus": "redis",
    "http_recording": False,
    "tiers": ["unit", "integration"],
    "ci": "none",
}


def on_screen(text: str) -> re.Pattern:
    """`text` as the terminal prints it, styled or not."""
    return re.compile(STYLE.join(re.escape(character) for character in text))


def readable(output: str, limit: int = 3000) -> str:
    """Terminal output without escape sequences or runs of empty lines: its last `limit` chars."""
    text = ESCAPE_SEQUENCE.sub("", output).replace("\r", "")
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text)[-limit:]


def first_help_line(question: str) -> str:
    return questions()[question]["help"].splitlines()[0]


class Terminal:
    """The user's side of a pseudo-terminal: reads the screen, answers it, types."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child

    def wait_for(self, text: str, *, timeout: float = STEP_TIMEOUT) -> None:
        self._wait(on_screen(text), f"{text!r}", timeout)

    def question(self, name: str) -> None:
        """Wait until the question shows the first line of its help text, whole."""
        self._wait(on_screen(first_help_line(name)), f"the question {name!r}", STEP_TIMEOUT)

    def wait_for_exit(self) -> None:
        self._wait(pexpect.EOF, "copier to exit", STEP_TIMEOUT)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.child.send(key)

    def _wait(self, pattern: re.Pattern | type[pexpect.EOF], what: str, timeout: float) -> None:
        outcomes = [CURSOR_POSITION_REQUEST, pattern, pexpect.TIMEOUT]
        if pattern is not pexpect.EOF:
            outcomes.append(pexpect.EOF)
        while True:
            found = outcomes[self.child.expect(outcomes, timeout=timeout)]
            if found is CURSOR_POSITION_REQUEST:
                self.child.send(CURSOR_POSITION_REPLY)
            elif found is pattern:
                return
            else:
                why = "copier exited" if found is pexpect.EOF else f"nothing for {timeout} s"
                pytest.fail(
                    f"waiting for {what}: {why}; the terminal printed last:\n"
                    f"{readable(self.child.before)}",
                    pytrace=False,
                )


@pytest.mark.slow
def test_copy_answered_at_a_terminal(
    template_repo: Path, service_urls: dict[str, str], tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    transcript = io.StringIO()
    child = pexpect.spawn(
        str(COPIER),
        ["copy", "--trust", "--vcs-ref", "HEAD", str(template_repo), "my-service"],
        cwd=tmp_path,
        env=env,
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        codec_errors="replace",
        timeout=STEP_TIMEOUT,
    )
    child.delaybeforesend = None  # keys go when the screen is ready, not after a pause
    child.logfile_read = transcript
    terminal = Terminal(child)
    try:
        terminal.question("project_name")
        terminal.press(ERASE_INPUT, ANSWERS["project_name"], ENTER)

        terminal.question("package_name")
        terminal.wait_for("order_desk")  # the default follows the name just given
        terminal.press(ERASE_INPUT, "class", ENTER)
        terminal.wait_for("is a Python keyword")
        terminal.press(ERASE_INPUT, ANSWERS["package_name"], ENTER)  # the question stayed

        terminal.question("description")
        terminal.press(ENTER)

        terminal.question("database")
        terminal.press(DOWN, ENTER)  # PostgreSQL, SQLite: off the default

        terminal.question("event_bus")
        terminal.press(ENTER)

        terminal.question("http_recording")
        terminal.press("n")

        terminal.question("tiers")
        terminal.press(DOWN, DOWN, SPACE)  # unit, integration, e2e: all ticked at first
        terminal.wait_for("○ e2e")
        terminal.press(ENTER)
        terminal.wait_for("done (2 selections)")

        terminal.question("ci")
        terminal.press(DOWN, ENTER)  # GitHub Actions, None

        terminal.wait_for("Next steps:", timeout=COPY_TIMEOUT)
        terminal.wait_for_exit()
    finally:
        child.close(force=True)
    output = readable(transcript.getvalue(), limit=100_000)
    assert child.exitstatus == 0, f"copier exited {child.exitstatus}:\n{output[-5000:]}"

    project = tmp_path / "my-service"
    assert first_help_line("ci_shards") not in output, "CI jobs asked for a project with no CI"
    steps = output[output.index("Next steps:") :]
    assert f"Your service is ready in {project.resolve()}" in output, output[-3000:]
    assert "  cd my-service\n" in steps, steps

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers.pop("_src_path") == str(template_repo)
    commit = answers.pop("_commit")
    head = git("rev-parse", "HEAD", cwd=template_repo)
    assert git("rev-parse", f"{commit}^{{commit}}", cwd=template_repo) == head
    assert answers == ANSWERS

    assert git("rev-parse", "--show-toplevel", cwd=project).strip() == str(project.resolve())
    assert git("rev-list", "--count", "HEAD", cwd=project).strip() == "1"
    assert git("status", "--porcelain", cwd=project) == ""

    suite = run_suite(project, env=service_urls, junit=tmp_path / "junit.xml")
    assert_suite_passed(suite, tiers=["unit", "integration"])
