"""Migration for a generated file that a release renames: the team's edits follow it.

`copier update` deletes files the new release no longer generates, and renders
the renamed file afresh. So, run once per rename:

  before the update:  move_generated_file.py save OLD NEW
      keeps the team's copy of OLD where git keeps its own data;
  after the update:   move_generated_file.py restore OLD NEW TEMPLATE REF PATH
      merges that copy into NEW: base = PATH (the template's source of OLD,
      copied verbatim, not a .jinja file) at the release REF the project came
      from, theirs = NEW as the new release rendered it.

A file the team had deleted stays deleted. A merge that conflicts leaves the
usual <<<<<<< markers in NEW and says so. Standard library only.
"""

import subprocess
import sys
import tempfile
from pathlib import Path


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True)


def saved_copy(project: Path, new: str) -> Path:
    """Where the team's copy waits between the two stages: inside .git, out of every diff."""
    where = git("rev-parse", "--git-path", f"template-moves/{new}", cwd=project)
    if where.returncode != 0:
        raise SystemExit(f"{project} is not a git repository: `copier update` needs one")
    return project / where.stdout.decode().strip()


def discard(copy: Path) -> None:
    """Remove the saved copy, and the folders that held only it."""
    copy.unlink(missing_ok=True)
    folder = copy.parent
    while folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        if folder.name == "template-moves":
            break
        folder = folder.parent


def save(project: Path, old: str, new: str) -> None:
    source, copy = project / old, saved_copy(project, new)
    copy.unlink(missing_ok=True)  # left by an update that was interrupted
    if source.is_file():
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(source.read_bytes())


def restore(project: Path, old: str, new: str, template: str, ref: str, path: str) -> None:
    copy, target = saved_copy(project, new), project / new
    base = git("show", f"{ref}:{path}", cwd=Path(template))
    if base.returncode != 0 or not target.exists():
        discard(copy)
        return  # the release the project came from, or the new one, has no such file
    if not copy.exists():
        target.unlink()
        print(f"{old} was deleted in this project, so its new name {new} is not kept either.")
        return
    (project / old).unlink(missing_ok=True)
    ours = copy.read_bytes()
    if ours == base.stdout:
        discard(copy)
        return  # never edited: the new release's file is right as it is
    with tempfile.TemporaryDirectory() as scratch:
        base_file, theirs_file = Path(scratch, "base"), Path(scratch, "theirs")
        base_file.write_bytes(base.stdout)
        theirs_file.write_bytes(target.read_bytes())
        merged = git(
            "merge-file",
            "--stdout",
            "-L",
            f"your {old}",
            "-L",
            f"{old} at {ref}",
            "-L",
            f"{new} after updating",
            str(copy),
            str(base_file),
            str(theirs_file),
        )
    if merged.returncode < 0 or merged.returncode > 127:
        raise SystemExit(f"git merge-file failed on {new}: {merged.stderr.decode()}")
    target.write_bytes(merged.stdout)
    discard(copy)
    if merged.returncode == 0:
        print(f"Your edits of {old} now live in {new}.")
    else:
        print(
            f"CONFLICT: your edits of {old} moved to {new} with {merged.returncode} "
            "conflict(s); resolve the <<<<<<< markers there."
        )


def main(args: list[str]) -> int:
    project = Path.cwd()
    if args[:1] == ["save"] and len(args) == 3:
        save(project, *args[1:])
    elif args[:1] == ["restore"] and len(args) == 6:
        restore(project, *args[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
