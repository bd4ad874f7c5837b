"""Rendering the template: with Copier's Python API, or its command line as a team runs it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from copier import run_copy

GIT_IDENTITY = ["-c", "user.name=template-tests", "-c", "user.email=template-tests@localhost"]
COPIER = Path(sys.executable).parent / "copier"


def git(*args: str, cwd: Path) -> str:
    """Run git with the tests' identity; its output, or CalledProcessError."""
    return subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def copier(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the copier command line; the caller checks the outcome."""
    return subprocess.run(
        [str(COPIER), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=600,
    )


def snapshot_template(source: Path, destination: Path) -> Path:
    """Copy the tracked and untracked-but-not-ignored files of `source` into a new git repo."""
    copy_working_tree(source, destination)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        git(*command, cwd=destination)
    return destination


def copy_working_tree(source: Path, destination: Path) -> None:
    """Copy the tracked and untracked-but-not-ignored files of `source` into `destination`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=source,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        origin = source / relative
        if origin.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)


def render_variant(template: Path, destination: Path, data: dict) -> Path:
    """Render `template` at its HEAD into `destination` with `data` as the answers."""
    run_copy(
        str(template),
        str(destination),
        data=data,
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
        skip_tasks=True,
    )
    return destination
