"""At the end of `copier update`: name the files where the update and the team's edits collide.

Copier leaves conflict markers in such files and marks them unmerged in git;
this says which files they are and what to do. Standard library only.
"""

import subprocess
import sys
from pathlib import Path

MARKERS = (b"<<<<<<< ", b">>>>>>> ")


def git_lines(*args: str) -> list[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True).stdout.splitlines()


def has_markers(name: str) -> bool:
    path = Path(name)
    return path.is_file() and any(line.startswith(MARKERS) for line in path.open("rb"))


def main() -> int:
    changed = git_lines("ls-files", "--modified", "--others", "--exclude-standard")
    unmerged = sorted(
        set(git_lines("diff", "--name-only", "--diff-filter=U"))
        | {name for name in changed if not name.endswith(".rej") and has_markers(name)}
    )
    rejected = [name for name in changed if name.endswith(".rej")]
    if not unmerged and not rejected:
        return 0
    print("\nThe update collided with your edits in:")
    for name in unmerged:
        print(f"  {name}  (resolve the <<<<<<< / >>>>>>> markers, then `git add {name}`)")
    for name in rejected:
        print(f"  {name}  (hunks that did not apply; apply them by hand, then delete the file)")
    print("Review the whole update with `git diff` before committing it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
