"""`copier copy` answered at a terminal as a user types it: tasks on, a relative destination.

Copier asks its questions through questionary in a pseudo-terminal of 80 x 24.
Each question is answered once the first line of its help text has shown whole,
which also proves that line fits an 80-column terminal. Every wait is on what
the terminal prints, never on a pause.
"""

from pathlib import Path

import pytest
import yaml

from tests.checks import assert_suite_passed, run_suite
from tests.render import COPIER, git
from tests.terminal import DOWN, ENTER, ERASE_INPUT, SPACE, Terminal
from tests.variants import questions

# The team's own .venv in each project, as the commands it types make it.
pytestmark = pytest.mark.usefixtures("own_environment")

COPY_TIMEOUT = 180  # seconds to render the files and run the copy tasks

ANSWERS = {
    "project_name": "Order Desk",
    "package_name": "order_desk",
    "description": questions()["description"]["default"],
    "database": "sqlite",
    "event_bus": "redis",
    "http_recording": False,
    "tiers": ["unit", "integration"],
    "style": "async",
    "ci": "none",
}


@pytest.mark.slow
def test_copy_answered_at_a_terminal(
    template_repo: Path, service_urls: dict[str, str], tmp_path: Path
) -> None:
    terminal = Terminal(
        [str(COPIER), "copy", "--trust", "--vcs-ref", "HEAD", str(template_repo), "my-service"],
        cwd=tmp_path,
    )

    def question(name: str) -> None:
        """Wait until the question shows the first line of its help text, whole."""
        terminal.wait_for(questions()[name]["help"].splitlines()[0])

    try:
        question("project_name")
        terminal.press(ERASE_INPUT, ANSWERS["project_name"], ENTER)

        question("package_name")
        terminal.wait_for("order_desk")  # the default follows the name just given
        terminal.press(ERASE_INPUT, "class", ENTER)
        # prompt_toolkit redraws only what changed: after the message for the empty
        # input ("is not a lower-case ..."), "is " stays and the rest is written anew.
        terminal.wait_for("a Python keyword; try")
        terminal.press(ERASE_INPUT, ANSWERS["package_name"], ENTER)  # the question stayed

        question("description")
        terminal.press(ENTER)

        question("database")
        terminal.press(DOWN, ENTER)  # PostgreSQL, SQLite: off the default

        question("event_bus")
        terminal.press(ENTER)

        question("http_recording")
        terminal.press("n")

        question("tiers")
        terminal.press(DOWN, DOWN, SPACE)  # unit, integration, e2e: all ticked at first
        terminal.wait_for("○ e2e")
        terminal.press(ENTER)
        terminal.wait_for("done (2 selections)")

        question("style")
        terminal.press(DOWN, ENTER)  # sync, async: off the default

        question("ci")
        terminal.press(DOWN, ENTER)  # GitHub Actions, None

        terminal.wait_for("Next steps:", timeout=COPY_TIMEOUT)
        status = terminal.wait_for_exit()
    finally:
        terminal.close()
    output = terminal.output()
    assert status == 0, f"copier exited {status}:\n{output[-5000:]}"

    project = tmp_path / "my-service"
    assert questions()["ci_shards"]["help"].splitlines()[0] not in output, (
        "CI jobs asked for a project with no CI"
    )
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
