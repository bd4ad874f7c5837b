"""Migration to 0.8.0: the generic harness modules leave tests/support/ for pytest-service-harness.

`copier update` deletes every file the new release no longer generates, the
ones a team edited included: it leaves no conflict markers and no message (a
`.rej` file with `--conflict rej`), so the edits would be gone unnoticed. Run
in both stages of an update from a release before 0.8.0:

  before the update:  move_into_harness.py save
      keeps a copy of each module of MOVED the project has, where git keeps
      its own data (`git rev-parse --git-path template-moves/into-harness`),
      out of every diff;
  after the update:   move_into_harness.py finish TEMPLATE REF
      TEMPLATE is the template's clone, REF the release the project came
      from (`_commit` of the answers). For each module the team had, decides
      whether the team edited it; an edited one is saved as the team's whole
      file in harness-edits/<path> and as a unified diff against the
      generated file in harness-edits/<path>.diff, and named in one line.
      Every module then goes, with any `.rej` file, unmerged index entry or
      compiled file of it; unedited ones go silently.

Edited or not: a module is compared with the file as the template generated
it at REF. For a module the template copies verbatim (not a .jinja file),
that is its source at REF in TEMPLATE: exact, whatever the project's history,
so edits made before an earlier update, and carried through it, still count.
For a module rendered from a .jinja file, the script cannot render Jinja (it
needs the standard library only), so the generated file is taken from the
project's last commit that changed `.copier-answers.yml`: the first commit
after `copier copy`, or the team's commit of its last update, which hold the
template's own render. Limits of that second rule: edits committed together
with the answers file (amended into the first commit, or carried through an
earlier update) are taken for the template's and are not saved; lines ending
in CRLF rather than LF are not an edit. When no generated file can be found,
the module counts as edited: saving too much is safe, dropping is not.

Not the template's: a module that the project's answers commit does not hold
and that the update left in place (Copier removes only what the release the
project came from generated) is the team's own file under that name, and is
left alone. A module the team deleted has nothing to save.

Nothing is lost on failure: a module goes only after its saved copy has been
written and read back; if saving fails, the team's file is put back where it
was, and the copy kept inside .git is left for the next try. An existing
harness-edits/ file with other content is never overwritten: the edits go to
harness-edits-2/ (then -3, ...). Standard library only.
"""

import difflib
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Every module a release before 0.8.0 generated that the harness took over
# (paths in the generated project; which of them a project has depends on its
# release and answers). tests/test_updates.py checks the list against every release.
MOVED = (
    "tests/support/concurrency.py",
    "tests/support/flaky.py",
    "tests/support/health.py",
    "tests/support/infra.py",
    "tests/support/infra/__init__.py",
    "tests/support/infra/docker.py",
    "tests/support/infra/embedded.py",
    "tests/support/infra/resolve.py",
    "tests/support/infra/services.py",
    "tests/support/infra/url.py",
    "tests/support/live_server.py",
    "tests/support/postgres_server.py",
    "tests/support/processes.py",
    "tests/support/redis_server.py",
    "tests/support/schema.py",
    "tests/support/secrets.py",
    "tests/support/servers.py",
    "tests/support/tiers.py",
    "tests/support/time_budgets.py",
    "tests/support/waiting.py",
    "tests/unit/conftest.py",
)
RENAMED = {"tests/support/health.py": "time_budgets.py since 0.5.0"}
SUBDIRECTORY = "template"  # `_subdirectory` of copier.yml, the same in every release
TEMPLATES_SUFFIX = ".jinja"
SAVED = "harness-edits"
CONDITION = re.compile(r"\{%-?\s*if\s.*?%\}(.*?)\{%-?\s*endif\s*-?%\}")


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True)


def snapshots(project: Path) -> Path:
    """Where the team's modules wait between the two stages: inside .git, out of every diff."""
    where = git("rev-parse", "--git-path", "template-moves/into-harness", cwd=project)
    if where.returncode != 0:
        raise SystemExit(f"{project} is not a git repository: `copier update` needs one")
    return project / where.stdout.decode().strip()


def discard(folder: Path) -> None:
    """Remove the saved copies, and template-moves/ when nothing else waits there."""
    shutil.rmtree(folder, ignore_errors=True)
    parent = folder.parent
    if parent.name == "template-moves" and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()


def generated_name(source: str) -> tuple[str, bool]:
    """The project path a template source path renders to, and whether it is a Jinja template."""
    name = CONDITION.sub(r"\1", source.removeprefix(f"{SUBDIRECTORY}/"))
    templated = name.endswith(TEMPLATES_SUFFIX)
    return (name.removesuffix(TEMPLATES_SUFFIX) if templated else name), templated


def show(ref: str, path: str, cwd: Path) -> bytes | None:
    """A file at a commit (path relative to `cwd`), or None when it has no such file."""
    found = git("show", f"{ref}:./{path}", cwd=cwd)
    return found.stdout if found.returncode == 0 else None


def verbatim_sources(template: Path, ref: str) -> dict[str, str]:
    """The project paths the template copies verbatim at `ref`, with their source paths."""
    listed = git("ls-tree", "-r", "--name-only", ref, "--", f"{SUBDIRECTORY}/", cwd=template)
    found = {}
    for source in listed.stdout.decode().splitlines() if listed.returncode == 0 else []:
        name, templated = generated_name(source)
        if not templated:
            found[name] = source
    return found


def same(ours: bytes, theirs: bytes) -> bool:
    return ours.replace(b"\r\n", b"\n") == theirs.replace(b"\r\n", b"\n")


def unified_diff(path: str, generated: bytes | None, ours: bytes, origin: str) -> bytes:
    def lines(content: bytes) -> list[str]:
        text = content.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
        if text and not text[-1].endswith("\n"):
            text[-1] += "\n\\ No newline at end of file\n"
        return text

    diff = difflib.unified_diff(
        lines(generated or b""),
        lines(ours),
        f"a/{path}\t{origin}",
        f"b/{path}\tyours",
    )
    return "".join(diff).encode("utf-8", errors="surrogateescape")


def save_edits(project: Path, path: str, ours: bytes, diff: bytes) -> str:
    """Write the team's file and its diff under a harness-edits folder; the file's new path."""
    number = 1
    while True:
        folder = SAVED if number == 1 else f"{SAVED}-{number}"
        copy, patch = project / folder / path, project / folder / f"{path}.diff"
        taken = [
            (target, content)
            for target, content in ((copy, ours), (patch, diff))
            if target.exists() and target.read_bytes() != content
        ]
        if not taken:
            break
        number += 1
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(ours)
    patch.write_bytes(diff)
    if copy.read_bytes() != ours or patch.read_bytes() != diff:
        raise OSError(f"{copy} could not be written back as it was read")
    return f"{folder}/{path}"


def remove(project: Path, path: str) -> None:
    """The module goes, with what an update may leave of it: .rej, unmerged entries, bytecode."""
    module = project / path
    module.unlink(missing_ok=True)
    Path(f"{module}.rej").unlink(missing_ok=True)
    if git("ls-files", "--unmerged", "--", path, cwd=project).stdout.strip():
        git("reset", "--quiet", "--", path, cwd=project)  # back to the committed entry
    cache = module.parent / "__pycache__"
    for compiled in cache.glob(f"{module.stem}.*.pyc") if cache.is_dir() else []:
        compiled.unlink()
    for folder in (cache, module.parent):  # folders that held only this module's files
        if folder.is_dir() and folder != project / "tests" and not any(folder.iterdir()):
            folder.rmdir()


def save(project: Path) -> None:
    folder = snapshots(project)
    shutil.rmtree(folder, ignore_errors=True)  # left by an update that was interrupted
    for path in MOVED:
        module = project / path
        if module.is_file() and not module.is_symlink():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(module.read_bytes())


def finish(project: Path, template: Path, ref: str) -> None:
    folder = snapshots(project)
    snapshot_taken = folder.is_dir()
    verbatim = verbatim_sources(template, ref)
    answers = git("log", "-1", "--format=%h", "--", ".copier-answers.yml", cwd=project)
    answers_commit = answers.stdout.decode().strip()
    failed = False
    for path in MOVED:
        if snapshot_taken:
            copy = folder / path
            ours = copy.read_bytes() if copy.is_file() else None
        else:  # the tree was clean when the update started: HEAD has the team's files
            ours = show("HEAD", path, project)
        if ours is None:
            continue  # not in this project, or the team deleted it
        recorded = show(answers_commit, path, project) if answers_commit else None
        if recorded is None and (project / path).exists():
            continue  # the team's own file under that name: the update kept it, so do we
        generated, origin = recorded, f"as committed in {answers_commit}"
        if path in verbatim:
            source = git("show", f"{ref}:{verbatim[path]}", cwd=template)
            if source.returncode == 0:
                generated, origin = source.stdout, f"as generated at {ref}"
        if generated is None:
            origin = "generated file not found"
        try:
            if generated is None or not same(ours, generated):
                diff = unified_diff(path, generated, ours, origin)
                saved = save_edits(project, path, ours, diff)
                renamed = f" ({RENAMED[path]})" if path in RENAMED else ""
                print(
                    f"{path}{renamed} moved into pytest-service-harness; your edits are saved "
                    f"in {saved} (and {saved}.diff): carry them into a conftest hook or "
                    f"fixture override, then delete {saved.split('/')[0]}/."
                )
            remove(project, path)
        except OSError as error:
            failed = True
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).write_bytes(ours)
            print(
                f"WARNING: could not save your edits of {path} ({error}); the file is kept "
                f"where it was, and a copy in {folder}. It moved into pytest-service-harness: "
                "carry your edits over by hand, then delete it."
            )
    if not failed:
        discard(folder)


def main(args: list[str]) -> int:
    project = Path.cwd()  # Copier runs migrations in the project's folder
    if args == ["save"]:
        save(project)
    elif args[:1] == ["finish"] and len(args) == 3:
        finish(project, Path(args[1]), args[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
