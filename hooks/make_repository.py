"""After `copier copy`: make the project a git repository with a first commit.

`copier update` needs the project in git, with a clean tree. A project copied
into a folder that already belongs to a repository is left to that repository.
Standard library only.
"""

import shutil
import subprocess
import sys
from pathlib import Path

# Used only when git has no identity configured, so that the first commit can
# be made at all; `git commit --amend --reset-author` puts the team's name on it.
FALLBACK_IDENTITY = ["-c", "user.name=Copier", "-c", "user.email=copier@localhost"]


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def main() -> int:
    project = Path.cwd()  # Copier runs its tasks in the new project's folder
    if shutil.which("git") is None:
        print("git is not installed: run `git init` and commit before `copier update`.")
        return 0
    if git("rev-parse", "--is-inside-work-tree", cwd=project).returncode == 0:
        return 0  # already in a repository: its owner decides what to commit
    identity = [] if git("config", "user.email", cwd=project).stdout.strip() else FALLBACK_IDENTITY
    steps = (
        ["init", "-q"],
        ["add", "-A"],
        [*identity, "commit", "-q", "-m", "Generate the project with copier copy"],
    )
    for step in steps:
        result = git(*step, cwd=project)
        if result.returncode != 0:
            print(f"`git {' '.join(step)}` failed in {project}:\n{result.stderr.strip()}")
            print("Commit the project yourself before `copier update`.")
            return 0
    print(f"Made {project} a git repository with a first commit, ready for `copier update`.")
    if identity:
        print(
            "git has no user.email set: the commit is by 'Copier <copier@localhost>'; "
            "set your identity and run `git commit --amend --reset-author` to sign it."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
