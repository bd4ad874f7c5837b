"""Every `console` block of the template's README and of generated READMEs, run as written.

A block's `$ ` lines run in one shell, block after block, the way a user types
them into a terminal: copier's command line with its tasks, a relative
destination, no server URL set. The only change is the template's address,
which becomes this working tree's snapshot. Before each block the project's
changes are committed, as a team would before `copier update`. A server the
README starts (`uv run dev`, `uvicorn`) runs until `/health` answers 200, then
gets Ctrl-C: SIGINT to its process group, as a terminal sends it.

What cannot run here is listed in NOT_RUN with the reason; a listed command
that no README has any more fails the test, so the list cannot rot.
"""

import os
import re
import shlex
import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.render import copier
from tests.terminal import Terminal
from tests.variants import ROOT, smallest_variant

# The team's own .venv in each project, as the commands it types make it.
pytestmark = pytest.mark.usefixtures("own_environment")

TEMPLATE_URL = "https://github.com/<owner>/service-template"
# A console block, also one indented inside a list item.
CONSOLE_BLOCK = re.compile(r"^[ \t]*```console\n(.*?)^[ \t]*```", re.M | re.S)
NOT_RUN = {
    "uv run pytest -n auto --dist worksteal": "the meta-tests themselves: .ci/run runs them",
    "uv run python benchmarks/run.py --tests 400": "tests/test_benchmark.py runs it, --tests 4",
    "uv run python benchmarks/async_drivers.py": "tests/test_benchmark.py runs it, --tests 5",
    "PAYMENT_API_URL=https://api.stripe.com": "needs the real provider's sandbox and a key",
    "uv run pytest tests/integration/api/test_contract.py --hypothesis-profile=deep": (
        "draws at random, for a person to run; every suite runs the repeatable profile"
    ),
    'uv add --dev "pytest-service-harness[': (
        "adds to a project of the reader's own: tests/test_harness_alone.py runs it in one"
    ),
}
SERVERS = ("uv run dev", "uv run uvicorn")
HEALTH_URL = "http://127.0.0.1:8000/health"
STEP_TIMEOUT = 900


def console_commands(markdown: str) -> list[list[str]]:
    """The commands of each console block: `$ ` lines, with their `\\` continuations."""
    blocks = []
    for block in CONSOLE_BLOCK.findall(markdown):
        commands: list[str] = []
        for line in textwrap.dedent(block).splitlines():
            if line.startswith("$ "):
                commands.append(line[2:])
            elif commands and commands[-1].rstrip().endswith("\\"):
                commands[-1] += "\n" + line
        blocks.append(commands)
    return blocks


def not_run_reason(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


# Waits for the README's server with a deadline; Python, since curl may be missing.
WAIT_FOR_HEALTH = f"""
wait_for_health() {{
  python3 - "$1" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen("{HEALTH_URL}", timeout=2) as answer:
            if answer.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("no 200 from {HEALTH_URL} within 60 s")
    try:
        import os; os.kill(int(sys.argv[1]), 0)
    except ProcessLookupError:
        sys.exit("the server exited")
    time.sleep(0.2)  # a poll interval under a deadline, not a wait for something
PY
}}
"""

# Before a block, the projects here (this folder or one below it) commit their changes.
COMMIT_CHANGES = """for folder in . */; do
  top=$(git -C "$folder" rev-parse --show-toplevel 2>/dev/null || true)
  if [ "$top" = "$(cd "$folder" && pwd -P)" ]; then
    git -C "$folder" status --porcelain > "$STATUS_DIR/before-block-{n}-$(basename "$top")"
    git -C "$folder" add -A
    git -C "$folder" -c user.name=readme -c user.email=readme@localhost \\
      commit -qm "block {n}" || true
  fi
done"""


def script(blocks: list[list[str]], template: Path) -> tuple[str, list[str]]:
    """A bash script that runs `blocks` in order in one shell, and the commands it leaves out."""
    lines = ["set -euo pipefail", WAIT_FOR_HEALTH]
    left_out = []
    for number, block in enumerate(blocks, 1):
        lines.append(COMMIT_CHANGES.format(n=number))
        for command in block:
            command = command.replace(TEMPLATE_URL, str(template))
            if not_run_reason(command):
                left_out.append(command)
                continue
            lines.append(f"echo {shlex.quote('$ ' + command)}")
            if command.startswith(SERVERS):
                # Job control gives the server a process group of its own, as the
                # terminal's foreground job has: Ctrl-C reaches that whole group.
                lines += [
                    "set -m",
                    # A line of its own ends the command's trailing `# comment`, if any.
                    f"{{ {command}\n}} &",
                    "server=$!",
                    "set +m",
                    'wait_for_health "$server"',
                    'kill -INT -- "-$server"',
                    'wait "$server"',
                ]
            else:
                lines.append(command)
    return "\n".join(lines) + "\n", left_out


def run_readme(
    readme: Path, cwd: Path, template: Path, *, one_terminal: bool, status_dir: Path
) -> list[str]:
    """Run every console block of `readme` from `cwd`; return the commands left out.

    one_terminal: the blocks run in one shell, one after another, as a reader who
    goes down the page in one terminal; otherwise each block starts afresh in `cwd`.
    """
    blocks = console_commands(readme.read_text())
    sessions = [blocks] if one_terminal else [[block] for block in blocks]
    status_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        # A user's terminal: no server URLs, no database prefix of the meta-tests.
        if not key.startswith(("TEST_", "VIRTUAL_ENV"))
    }
    # A pager would wait for a key: a reader of the README reads git's output and moves on.
    env |= {"STATUS_DIR": str(status_dir), "GIT_PAGER": "cat", "PAGER": "cat"}
    left_out = []
    for number, session in enumerate(sessions, 1):
        text, skipped = script(session, template)
        left_out += skipped
        (status_dir / f"session-{number}.sh").write_text(text)
        # A terminal, as copier asks its questions only at one: Enter takes each default.
        terminal = Terminal(["bash", str(status_dir / f"session-{number}.sh")], cwd=cwd, env=env)
        try:
            status = terminal.run_taking_defaults(timeout=STEP_TIMEOUT)
        finally:
            terminal.close()
        assert status == 0, (
            f"a command of {readme} failed (session {number}, exit {status}):\n"
            + textwrap.indent(terminal.output(limit=6000), "  ")
        )
    return left_out


@pytest.fixture
def readme_database(service_urls) -> str:
    """The database the generated README's "Run it" creates with createdb, dropped (function)."""
    name = "my_service"
    server = service_urls["TEST_DATABASE_URL"]

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()  # a run that was killed may have left it
    yield name
    drop()


@pytest.mark.slow
def test_every_readme_command_works_as_written(
    template_repo: Path, tmp_path: Path, readme_database: str
) -> None:
    # The template's README, each block from an empty folder: generate the default
    # project and run its suite, answer on the command line, update.
    left_out = run_readme(
        ROOT / "README.md", tmp_path, template_repo,
        one_terminal=False, status_dir=tmp_path / "status-template",
    )  # fmt: skip
    project = tmp_path / "my-service"
    assert (project / "src" / readme_database).is_dir()

    # That project's README, top to bottom in one terminal in the project.
    left_out += run_readme(
        project / "README.md", project, template_repo,
        one_terminal=True, status_dir=tmp_path / "status-fullest",
    )  # fmt: skip

    # The smallest project, with CI shards: SQLite, and the durations block.
    data = {**smallest_variant().data, "ci": "github", "ci_shards": 2}
    args = [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]
    done = copier("copy", "--trust", "--defaults", *args, str(template_repo), "lean", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lean = tmp_path / "lean"
    left_out += run_readme(
        lean / "README.md", lean, template_repo,
        one_terminal=True, status_dir=tmp_path / "status-lean",
    )  # fmt: skip
    # "Run it" (block 1) made the SQLite file in the project, and git ignores it.
    assert (lean / "my_service.db").exists()
    assert "my_service.db" not in (tmp_path / "status-lean" / "before-block-2-lean").read_text()

    reasons = {not_run_reason(command) for command in left_out}
    assert reasons == set(NOT_RUN.values()), "NOT_RUN lists a command no README has"


def test_console_blocks_are_read_with_their_continuations() -> None:
    markdown = "text\n```console\n$ a \\\n    --b\n$ c  # note\nout\n```\n```python\n$ no\n```\n"
    assert console_commands(markdown) == [["a \\\n    --b", "c  # note"]]
    in_a_list = "- item:\n\n  ```console\n  $ d\n  ```\n"
    assert console_commands(in_a_list) == [["d"]]
