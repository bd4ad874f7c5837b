"""`copier update` from every earlier release to the working tree, with a team's edits in place.

Each release named in CHANGELOG.md is tagged in a clone of this repository
(tests/releases.py). A project is rendered at that release and committed, a
team edits it, and `copier update` brings it to the working tree. The result
must equal a fresh render of the working tree with the same edits applied,
except that a module the release moved into pytest-service-harness is gone and
the team's edits of it are saved in harness-edits/ (hooks/move_into_harness.py).
"""

import difflib
import fnmatch
import hashlib
import importlib.util
import json
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.checks import SuiteRun, assert_suite_passed, project_files, run_suite
from tests.conftest import made_once
from tests.releases import Release, releases, tagged_template
from tests.render import copier, git
from tests.variants import ROOT, default_variant, smallest_variant

*EARLIER, NEWEST = releases()
SKIP_IF_EXISTS = yaml.safe_load((ROOT / "copier.yml").read_text())["_skip_if_exists"]


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HARNESS_MIGRATION = load_hook("move_into_harness")
MOVED = HARNESS_MIGRATION.MOVED  # the modules 0.8.0 moved into pytest-service-harness
SAVED = "harness-edits"


VARIANTS = {"full": default_variant(), "lean": smallest_variant()}

# --- what a team does to its project ------------------------------------------------

TEAM_FIXTURE = '''"""Fixtures of the team's own integration tests."""

import pytest


@pytest.fixture
def team_greeting() -> str:
    """The greeting the team's feature answers with (function)."""
    return "hello from the team"
'''

TEAM_TEST = '''"""The team's own feature, tested with the template's fixtures."""

from sqlalchemy import text


def test_team_greeting(team_greeting, db_session):
    assert team_greeting == "hello from the team"
    assert db_session.execute(text("select 1")).scalar_one() == 1


def test_team_endpoint_counts_users(client):
    assert client.get("/api/users/stats/count").json() == {"count": 0}
'''

TEAM_ENDPOINT = '''

@router.get("/stats/count")
def count_users(session: SessionDep) -> dict[str, int]:
    """How many users there are: the team's addition."""
    return {"count": session.scalar(select(func.count()).select_from(User))}
'''
TEAM_NOTE = "Team note: the payments squad owns this service."


def package_of(project: Path) -> Path:
    return next(path for path in (project / "src").iterdir() if path.is_dir())


def add_team_files(project: Path) -> None:
    """A new test and a fixture in a conftest the template does not generate."""
    (project / "tests" / "integration" / "conftest.py").write_text(TEAM_FIXTURE)
    (project / "tests" / "integration" / "test_team.py").write_text(TEAM_TEST)


def edit_app_module(project: Path) -> None:
    users = package_of(project) / "api" / "users.py"
    users.write_text(users.read_text() + TEAM_ENDPOINT)


def edit_readme(project: Path) -> None:
    readme = project / "README.md"
    title, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"{title}\n\n{TEAM_NOTE}\n{rest}")


def edit_time_budgets(project: Path) -> None:
    """Edit the slowest-tests count in the time-budget module, whatever its name.

    The module moved into pytest-service-harness in 0.8.0: the edit of a moved module.
    """
    for name in ("health.py", "time_budgets.py"):
        module = project / "tests" / "support" / name
        if module.exists():
            module.write_text(module.read_text().replace("SLOWEST = 10\n", "SLOWEST = 25\n"))


def delete_a_generated_test(project: Path) -> None:
    """A generated test the team does not want: an update must not bring it back."""
    (project / "tests" / "integration" / "test_db.py").unlink()


TEAM_EDITS: list[Callable[[Path], None]] = [
    add_team_files,
    edit_app_module,
    edit_readme,
    edit_time_budgets,
    delete_a_generated_test,
]


def apply_team_edits(project: Path, *, budgets: bool = True) -> None:
    """Every edit; `budgets=False` leaves out the time-budget module (older than 0.4.0)."""
    for edit in TEAM_EDITS:
        if budgets or edit is not edit_time_budgets:
            edit(project)


def declare_the_team_endpoint(project: Path, env: dict[str, str], tmp_path: Path) -> None:
    """What the suite asks of a team with a new endpoint: declare it, and accept the new API."""
    access = project / "tests" / "integration" / "api" / "test_access.py"
    declared = access.read_text().replace(
        "PUBLIC = {\n", 'PUBLIC = {\n    ("GET", "/api/users/stats/count"),  # the team\'s\n', 1
    )
    access.write_text(declared)
    accepted = run_suite(
        project,
        env=env,
        junit=tmp_path / "accept.xml",
        args=("tests/integration/api/test_contract.py", "-k", "accepted", "--accept-api"),
    )
    assert accepted.returncode == 0, accepted.output[-3000:]


# What the suite does depends on the project's files alone, uv.lock included. An update
# from every earlier release must give the files of a fresh copy with the team's edits,
# so the updates of one variant mostly end in the same project, whose suite runs once
# in this run: the first test to need it runs it, holding a lock that makes the others
# (on any xdist worker) wait for its result. Two files differ by release and the suite
# reads neither: the answers file, and the saved edits of moved modules (harness-edits/).
_NOT_READ_BY_THE_SUITE = (".copier-answers.yml", f"{SAVED}/")


@pytest.fixture(scope="session")
def shared_suites(run_folder: Path) -> Path:
    """A folder all xdist workers of this run see: suite results, fresh copies (session)."""
    folder = run_folder / "update-suites"
    folder.mkdir(exist_ok=True)
    return folder


def suite_of(project: Path, env: dict[str, str], tmp_path: Path, shared: Path) -> SuiteRun:
    """The suite run, with the team's endpoint declared, of a project with these files."""
    digest = hashlib.sha256()
    for path, content in sorted(files(project).items()):
        if not path.startswith(_NOT_READ_BY_THE_SUITE):
            digest.update(f"{path}\0{len(content)}\0".encode() + content)

    def run_it(result: Path) -> None:
        declare_the_team_endpoint(project, env, tmp_path)
        run = run_suite(project, env=env, junit=tmp_path / "suite.xml")
        result.write_text(json.dumps([run.returncode, run.output, str(run.junit)]))

    result = made_once(shared / f"{digest.hexdigest()}.json", run_it)
    returncode, output, junit = json.loads(result.read_text())
    return SuiteRun(returncode, output, Path(junit))


def fresh_copy_with_team_edits(
    template: Path, answers: dict, *, budgets: bool, shared: Path
) -> dict[str, bytes]:
    """The files of a fresh copy of the newest release with the team's edits.

    Made once in the run for each set of answers, like the suite runs above: the
    updates of one variant from every release are compared with the same copy.
    """
    key = hashlib.sha256(json.dumps([answers, budgets], sort_keys=True).encode()).hexdigest()

    def make(path: Path) -> None:
        copy_at(template, NEWEST, answers, path)
        apply_team_edits(path, budgets=budgets)

    return files(made_once(shared / f"fresh-{key}", make))


def recorded_answers(project: Path) -> dict:
    """The answers in the project's answers file, without Copier's own entries."""
    return {key: value for key, value in answers(project).items() if not key.startswith("_")}


# --- helpers ----------------------------------------------------------------------


def copy_at(template: Path, release: Release, answers: dict, destination: Path) -> Path:
    """Render `answers` at `release`, as `copier copy` would, and commit it."""
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    done = copier(
        "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", release.tag, *data,
        str(template), str(destination), cwd=template.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    if not (destination / ".git").exists():  # releases before 0.5.0 made no repository
        git("init", "--quiet", cwd=destination)
        commit_all(destination, f"copy at {release.tag}")
    return destination


def commit_all(project: Path, message: str) -> None:
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "-m", message, cwd=project)


def update(project: Path) -> subprocess.CompletedProcess:
    """`copier update` to the newest release, as a team runs it; it must succeed."""
    done = copier("update", "--trust", "--defaults", cwd=project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def files(project: Path) -> dict[str, bytes]:
    return {str(path.relative_to(project)): path.read_bytes() for path in project_files(project)}


def team_owned(path: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in SKIP_IF_EXISTS)


def team_files(generated: dict[str, bytes]) -> dict[str, bytes]:
    """The files of `generated` that are the team's once generated (cassettes, uv.lock)."""
    return {path: content for path, content in generated.items() if team_owned(path)}


def differences(got: dict[str, bytes], wanted: dict[str, bytes]) -> list[str]:
    problems = []
    for path in sorted(set(got) | set(wanted)):
        if path not in got:
            problems.append(f"missing: {path}")
        elif path not in wanted:
            problems.append(f"unexpected: {path}")
        elif got[path] != wanted[path]:
            diff = difflib.unified_diff(
                wanted[path].decode(errors="replace").splitlines(),
                got[path].decode(errors="replace").splitlines(),
                "expected",
                "updated",
                lineterm="",
            )
            problems.append(f"differs: {path}\n" + "\n".join(list(diff)[:40]))
    return problems


def assert_edits_saved(done: subprocess.CompletedProcess, project: Path, path: str) -> str:
    """The update saved the team's edits of the moved module `path` and named it; the diff."""
    saved = project / SAVED / path
    assert not (project / path).exists(), f"{path} moved into the harness but is still there"
    assert saved.is_file(), f"the team's edits of {path} are not saved in {SAVED}/"
    diff = saved.with_name(f"{saved.name}.diff")
    assert diff.is_file(), f"no diff of the team's edits of {path}"
    named = [line for line in done.stdout.splitlines() if line.startswith(f"{path} ")]
    assert len(named) == 1, f"the update does not name {path}:\n{done.stdout}"
    assert "pytest-service-harness" in named[0], named[0]
    assert f"{SAVED}/{path}" in named[0], named[0]
    return diff.read_text()


def unmerged(project: Path) -> list[str]:
    return git("diff", "--name-only", "--diff-filter=U", cwd=project).split()


def conflict_markers(project: Path) -> list[str]:
    return [
        path
        for path, content in files(project).items()
        if any(line.startswith((b"<<<<<<< ", b">>>>>>> ")) for line in content.splitlines())
    ]


def answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


@pytest.fixture(scope="session")
def release_template(run_folder: Path) -> Path:
    """A clone of this repository with each changelog release tagged, one per run (session).

    Shared by the xdist workers: a copy names its template's path, so copies made on
    any worker are the same files.
    """
    return made_once(run_folder / "release-template", tagged_template)


# --- the tests --------------------------------------------------------------------


def test_every_module_that_left_the_generated_tests_is_a_moved_module() -> None:
    """MOVED lists each Python file under tests/ of an earlier release that the newest lacks."""
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "template", cwd=ROOT)
    now = {
        HARNESS_MIGRATION.generated_name(source)[0]
        for source in listed.splitlines()
        if (ROOT / source).is_file()  # what tests/releases.py commits as the newest release
    }
    gone = set()
    for release in EARLIER:
        listed = git(
            "ls-tree", "-r", "--name-only", release.commit, "--", "template/tests", cwd=ROOT
        )
        names = {HARNESS_MIGRATION.generated_name(source)[0] for source in listed.splitlines()}
        gone |= {name for name in names - now if name.endswith(".py")}
    assert sorted(gone) == sorted(MOVED)


def test_every_earlier_release_is_a_commit_of_this_repository() -> None:
    versions = [tuple(map(int, release.version.split("."))) for release in releases()]
    assert versions == sorted(versions), "CHANGELOG.md lists versions newest first"
    assert NEWEST.commit is None
    assert len(EARLIER) >= 4
    for release in EARLIER:  # on this branch's history, so a clone of main has them all
        git("merge-base", "--is-ancestor", release.commit, "HEAD", cwd=ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("variant_name", VARIANTS)
@pytest.mark.parametrize("release", EARLIER, ids=[release.tag for release in EARLIER])
def test_update_from_an_earlier_release_keeps_every_team_edit(
    release: Release,
    variant_name: str,
    release_template: Path,
    service_urls,
    shared_suites: Path,
    tmp_path: Path,
) -> None:
    variant = VARIANTS[variant_name]
    project = copy_at(release_template, release, variant.data, tmp_path / "project")
    generated = files(project)
    apply_team_edits(project)
    commit_all(project, "the team's edits")

    done = update(project)
    assert answers(project)["_commit"] == NEWEST.tag
    assert not list(project.rglob("*.rej")), "rejected hunks left behind"
    assert conflict_markers(project) == []
    assert unmerged(project) == []
    assert "collided" not in done.stdout

    # What the update made must be what a fresh copy of the new release plus the
    # same team edits is: every template change arrived, every team edit kept.
    # An update keeps the recorded answers, even where a question's default changed since.
    budgets = {"tests/support/health.py", "tests/support/time_budgets.py"} & set(generated)
    wanted = fresh_copy_with_team_edits(
        release_template, recorded_answers(project), budgets=bool(budgets), shared=shared_suites
    )
    wanted |= team_files(generated)  # the update leaves them as they were
    got = files(project)
    # The time-budget module moved into the harness: the team's whole file is saved,
    # with a diff, and the update names it. Unedited moved modules go silently.
    assert budgets <= set(MOVED)
    for path in budgets:
        diff = assert_edits_saved(done, project, path)
        assert "\n-SLOWEST = 10\n+SLOWEST = 25\n" in diff, diff
        got.pop(f"{SAVED}/{path}.diff")
        wanted[f"{SAVED}/{path}"] = generated[path].replace(b"SLOWEST = 10\n", b"SLOWEST = 25\n")
    assert [line for line in done.stdout.splitlines() if "pytest-service-harness" in line] == [
        line for line in done.stdout.splitlines() if line.startswith(tuple(budgets))
    ], "an unedited moved module was named"
    got.pop(".copier-answers.yml"), wanted.pop(".copier-answers.yml")
    assert differences(got, wanted) == []

    run = suite_of(project, service_urls, tmp_path, shared_suites)
    assert_suite_passed(run, tiers=list(variant["tiers"]))


@pytest.mark.slow
def test_a_renamed_file_carries_the_team_edits(release_template: Path, tmp_path: Path) -> None:
    """health.py became time_budgets.py in 0.5.0, which moved into the harness in 0.8.0.

    Straight to the newest release, the team's health.py is saved under its own
    name. Through 0.5.0 first, the edits follow the rename into time_budgets.py,
    and the next update saves that: edits carried through an earlier update
    still count as the team's.
    """
    renamed_in = next(r for r in EARLIER if r.version == "0.4.0")  # health.py → time_budgets.py
    straight = copy_at(release_template, renamed_in, default_variant().data, tmp_path / "straight")
    old, new = "tests/support/health.py", "tests/support/time_budgets.py"
    assert (straight / old).exists()
    assert not (straight / new).exists()
    edit_time_budgets(straight)
    commit_all(straight, "the team wants more slow tests listed")
    stepwise = tmp_path / "stepwise"
    git("clone", "--quiet", str(straight), str(stepwise), cwd=tmp_path)

    done = update(straight)
    diff = assert_edits_saved(done, straight, old)
    assert "\n-SLOWEST = 10\n+SLOWEST = 25\n" in diff, diff
    assert "(time_budgets.py since 0.5.0)" in done.stdout
    assert not (straight / new).exists()
    assert not (straight / ".git" / "template-moves").exists()

    step = copier("update", "--trust", "--defaults", "--vcs-ref", "v0.5.0", cwd=stepwise)
    assert step.returncode == 0, step.stdout[-3000:] + step.stderr[-3000:]
    assert f"Your edits of {old} now live in {new}" in step.stdout
    assert not (stepwise / old).exists()
    assert "SLOWEST = 25\n" in (stepwise / new).read_text()  # the team's edit
    assert (stepwise / new).read_text().startswith('"""A time budget per tier')  # the release's
    commit_all(stepwise, "update to 0.5.0")  # the edit is now in the update's commit

    done = update(stepwise)
    diff = assert_edits_saved(done, stepwise, new)
    assert "\n-SLOWEST = 10\n+SLOWEST = 25\n" in diff, diff
    assert not (stepwise / ".git" / "template-moves").exists()


@pytest.mark.slow
def test_edits_of_modules_moved_into_the_harness_are_saved_and_named(
    release_template: Path, service_urls, tmp_path: Path
) -> None:
    release = next(r for r in EARLIER if r.version == "0.7.0")
    variant = default_variant()
    project = copy_at(release_template, release, variant.data, tmp_path / "project")
    edited = {  # the generated line, and the team's
        "tests/support/flaky.py": ('    "flaky_retries": "2",\n', '    "flaky_retries": "4",\n'),
        "tests/support/infra/docker.py": ("\n", "\n# The team: our CI runs Docker in Docker.\n"),
    }
    for path, (generated, team) in edited.items():
        module = project / path
        assert generated in module.read_text(), f"{path} has no {generated!r} to edit"
        module.write_text(module.read_text().replace(generated, team, 1))
    commit_all(project, "the team's edits of the harness")
    ours = {path: (project / path).read_bytes() for path in edited}

    done = update(project)
    for path, (_, team) in edited.items():
        diff = assert_edits_saved(done, project, path)
        assert (project / SAVED / path).read_bytes() == ours[path], f"{path} not saved whole"
        added = team.strip("\n")
        assert f"\n+{added}\n" in diff, diff
    named = [line for line in done.stdout.splitlines() if "pytest-service-harness" in line]
    assert len(named) == len(edited), done.stdout  # unedited moved modules go silently
    left = [path for path in MOVED if (project / path).exists()]
    assert left == [], f"moved modules left in the project: {left}"
    assert not (project / "tests" / "support" / "infra").exists()
    assert conflict_markers(project) == []
    assert not list(project.rglob("*.rej")), "rejected hunks left behind"
    assert unmerged(project) == []
    assert git("ls-files", "--unmerged", cwd=project) == ""
    assert "collided" not in done.stdout
    assert not (project / ".git" / "template-moves").exists()

    run = run_suite(project, env=service_urls, junit=tmp_path / "suite.xml")
    assert_suite_passed(run, tiers=list(variant["tiers"]))


@pytest.mark.slow
def test_both_changing_the_same_lines_is_a_reported_conflict_and_nothing_is_lost(
    release_template: Path, tmp_path: Path
) -> None:
    release = next(r for r in EARLIER if r.version == "0.4.0")
    project = copy_at(release_template, release, default_variant().data, tmp_path / "project")
    conftest = project / "tests" / "conftest.py"
    team_line = '    "tests.support.health",  # the team keeps budgets first\n'
    conftest.write_text(conftest.read_text().replace('    "tests.support.health",\n', team_line))
    edit_readme(project)
    commit_all(project, "the team's edits")

    done = update(project)
    assert "The update collided with your edits in:\n  tests/conftest.py" in done.stdout
    assert git("diff", "--name-only", "--diff-filter=U", cwd=project).split() == [
        "tests/conftest.py"
    ]
    text = conftest.read_text()
    assert "<<<<<<< before updating" in text
    assert ">>>>>>> after updating" in text
    assert team_line in text, "the team's line is gone"
    assert '    "service_harness.postgres",\n' in text, "the template's line is missing"
    assert TEAM_NOTE in (project / "README.md").read_text()
    assert not list(project.rglob("*.rej"))


@pytest.mark.slow
def test_a_copy_outside_git_can_be_updated_without_a_manual_step(
    release_template: Path, tmp_path: Path
) -> None:
    # A template of this test's own, so that it can publish a newer release.
    template = tmp_path / "template"
    git("clone", "--quiet", str(release_template), str(template), cwd=tmp_path)
    project = tmp_path / "outside-git" / "project"
    project.parent.mkdir()
    done = copier(
        "copy", "--trust", "--defaults", str(template), str(project), cwd=tmp_path
    )  # tasks on, as a team runs it
    assert done.returncode == 0, done.stderr[-3000:]
    assert "a git repository with a first commit" in done.stdout
    assert git("status", "--porcelain", cwd=project) == ""
    assert len(git("log", "--format=%H", cwd=project).split()) == 1

    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA line from the next release.\n")
    git("commit", "--quiet", "--all", "-m", "next release", cwd=template)
    git("tag", "v99.0.0", cwd=template)

    check = copier("check-update", "--output-format", "json", cwd=project)
    assert check.returncode == 0, check.stderr
    assert yaml.safe_load(check.stdout)["update_available"] is True
    assert yaml.safe_load(check.stdout)["latest_version"] == "99.0.0"

    done = update(project)
    assert answers(project)["_commit"] == "v99.0.0"
    assert "A line from the next release." in (project / "README.md").read_text()
    assert "a git repository" not in done.stdout, "a copy-only task ran on update"


@pytest.mark.slow
def test_recopy_renders_afresh_and_keeps_the_team_files(
    release_template: Path, tmp_path: Path
) -> None:
    # The newest release whose projects still had the modules 0.8.0 moved into the harness.
    release = next(r for r in reversed(EARLIER) if r.version == "0.7.0")
    project = copy_at(release_template, release, default_variant().data, tmp_path / "project")
    generated = files(project)
    apply_team_edits(project)
    commit_all(project, "the team's edits")

    done = copier("recopy", "--trust", "--defaults", "--overwrite", cwd=project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert answers(project)["_commit"] == NEWEST.tag
    fresh = files(copy_at(release_template, NEWEST, recorded_answers(project), tmp_path / "fresh"))
    fresh |= team_files(generated)  # recopy keeps them as they were
    got = files(project)
    for path in ("tests/integration/conftest.py", "tests/integration/test_team.py"):
        assert got.pop(path), f"recopy lost the team's {path}"
    # Recopy runs no migration: the modules the release moved into the harness stay, as
    # the team had them, for the team to delete; every other file is the new release's.
    left = sorted(path for path in MOVED if path in got)
    assert left == sorted(path for path in MOVED if path in generated)
    assert "tests/support/time_budgets.py" in left
    assert b"SLOWEST = 25\n" in got["tests/support/time_budgets.py"], "the team's edit is gone"
    for path in left:
        got.pop(path)
    assert not any(path.startswith(f"{SAVED}/") for path in got)
    got.pop(".copier-answers.yml"), fresh.pop(".copier-answers.yml")
    assert differences(got, fresh) == []


@pytest.mark.slow
def test_an_update_keeps_the_teams_locked_versions(release_template: Path, tmp_path: Path) -> None:
    """uv.lock is the team's: an update locks only what its new pyproject.toml asks for."""
    project = copy_at(release_template, EARLIER[-1], smallest_variant().data, tmp_path / "project")
    pinned = subprocess.run(
        ["uv", "lock", "--quiet", "--upgrade-package", "ruff==0.8.0"],
        cwd=project, capture_output=True, text=True,
    )  # fmt: skip
    assert pinned.returncode == 0, pinned.stderr
    commit_all(project, "the team locks ruff at 0.8.0")

    done = update(project)

    assert "your other locked versions are kept" in done.stdout
    assert locked_version(project, "ruff") == "0.8.0"
    harness = pyproject_harness_rev(project)
    assert harness in (project / "uv.lock").read_text(), "the lock still names the old harness"
    check = subprocess.run(["uv", "lock", "--check"], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def locked_version(project: Path, name: str) -> str:
    lock = tomllib.loads((project / "uv.lock").read_text())
    (version,) = [package["version"] for package in lock["package"] if package["name"] == name]
    return version


def pyproject_harness_rev(project: Path) -> str:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    return pyproject["tool"]["uv"]["sources"]["pytest-service-harness"]["rev"]
