"""Lock the project's dependencies into uv.lock. Standard library only.

After `copier copy` (argument `copy`): make uv.lock, so that the first commit
holds it and CI can install with `uv sync --locked`.

After `copier update` (argument `update`, a migration of the `after` stage,
once the team's changes are merged): bring uv.lock in line with the updated
pyproject.toml, or make it where a project from an older release has none.
`uv lock` keeps every locked version that still satisfies the requirements, so
the team's pins stay as they are; only what the update asks for changes. The
template never renders uv.lock itself (it is in `_skip_if_exists`).
"""

import shutil
import subprocess
import sys
from pathlib import Path


def main(operation: str) -> int:
    project = Path.cwd()  # Copier runs tasks and migrations in the project's folder
    kept = operation == "update" and (project / "uv.lock").exists()
    uv = shutil.which("uv")
    if uv is None:
        print(
            "uv is not installed, so uv.lock was not written: install uv "
            "(https://docs.astral.sh/uv/) and run `uv lock`; CI installs with `uv sync --locked`."
        )
        return 0
    result = subprocess.run([uv, "lock", "--quiet"], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        print(
            f"`uv lock` failed, so uv.lock was not written:\n{result.stderr.strip()}\n"
            "Run `uv lock` once that is fixed; CI installs with `uv sync --locked`."
        )
        return 0
    if kept:
        print("uv.lock follows the updated pyproject.toml; your other locked versions are kept.")
    else:
        print("Locked the dependencies in uv.lock; `uv lock --upgrade` moves them on.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
