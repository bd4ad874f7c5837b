"""The template's releases, read from CHANGELOG.md, and a clone that carries them as tags.

A released version's heading names its commit: `## 0.4.0 (c3ada90)`. The top
heading, without a commit, is the working tree. Tags are never taken from the
clone the tests run in: they are made here, in a repository of the tests' own.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from tests.render import copy_working_tree, git
from tests.variants import ROOT

HEADING = re.compile(r"^## (?P<version>\d+\.\d+\.\d+)(?: \((?P<commit>[0-9a-f]{7,40})\))?$", re.M)


@dataclass(frozen=True)
class Release:
    version: str
    commit: str | None  # None: the working tree

    @property
    def tag(self) -> str:
        return f"v{self.version}"


def releases(changelog: Path = ROOT / "CHANGELOG.md") -> list[Release]:
    """Every version in the changelog, oldest first; only the newest may lack a commit."""
    found = [Release(m["version"], m["commit"]) for m in HEADING.finditer(changelog.read_text())]
    if not found or any(release.commit is None for release in found[1:]):
        raise ValueError(f"{changelog}: only the top version may be without a commit")
    return found[::-1]


def tagged_template(destination: Path) -> Path:
    """A clone of this repository with every release tagged, the working tree as the newest."""
    if git("rev-parse", "--is-shallow-repository", cwd=ROOT).strip() == "true":
        raise RuntimeError("the update tests need the full history: git fetch --unshallow")
    git("clone", "--quiet", "--no-local", "--no-checkout", str(ROOT), str(destination), cwd=ROOT)
    *earlier, newest = releases()
    for release in earlier:
        git("tag", release.tag, f"{release.commit}^{{commit}}", cwd=destination)
    # The newest release is the working tree as it is, edits included. The clone
    # has no checkout, so its index is empty and the commit holds exactly these files.
    copy_working_tree(ROOT, destination)
    git("add", "-A", cwd=destination)
    git("commit", "--quiet", "--allow-empty", "-m", "the working tree", cwd=destination)
    git("tag", newest.tag, cwd=destination)
    return destination
