"""After `copier copy` from a relative path: record the template's absolute path instead.

The harness dependency in pyproject.toml is a git source, and uv needs an
absolute `file://` URL for a clone on disk; `copier update` also finds the
template again from any folder. Copier records the path as typed, relative
to where it was typed, so this task (run in the new project's folder) makes
it absolute in `.copier-answers.yml` and in pyproject.toml. URLs and
absolute paths are left alone. Standard library only.

Usage: absolute_template_path.py DESTINATION_AS_TYPED
"""

import os
import re
import sys
from pathlib import Path

ANSWERS = Path(".copier-answers.yml")
SOURCE_LINE = re.compile(r"^_src_path: (?P<path>.+)$", re.M)


def typed_from(project: Path, destination: str) -> Path | None:
    """The folder `copier copy` was run in, from the project folder and the destination typed."""
    if Path(destination).is_absolute():
        return None  # nothing relative to resolve against: any relative source is unknown
    parts = Path(os.path.normpath(destination)).parts
    if ".." in parts:
        return Path(os.environ["PWD"]) if "PWD" in os.environ else None
    return project.joinpath(*[".."] * len(parts)).resolve() if parts != (".",) else project


def main(destination: str) -> int:
    project = Path.cwd()  # Copier runs its tasks in the new project's folder
    match = SOURCE_LINE.search(ANSWERS.read_text()) if ANSWERS.exists() else None
    if match is None:
        return 0
    source = match["path"].strip().strip("'\"")
    if "://" in source or ":" in source.split("/")[0] or source.startswith(("/", "~")):
        return 0  # a URL (gh:, https://, git@host:), or already absolute
    origin = typed_from(project, destination)
    if origin is None or not (origin / source).is_dir():
        print(f"Could not find the template at {source!r}: set `git` of pytest-service-harness in")
        print("pyproject.toml to the template's URL or absolute file:// path.")
        return 0
    absolute = (origin / source).resolve()
    ANSWERS.write_text(SOURCE_LINE.sub(f"_src_path: {absolute}", ANSWERS.read_text(), count=1))
    pyproject = Path("pyproject.toml")
    pinned = f'git = "{source}"'
    if pinned in pyproject.read_text():
        pyproject.write_text(pyproject.read_text().replace(pinned, f'git = "file://{absolute}"'))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
