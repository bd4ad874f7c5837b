"""The first commands a newcomer types: copier's command line with tasks on, a relative
destination, and the exact minimum Copier version the template declares."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.checks import assert_suite_passed, leftovers, run_suite
from tests.render import COPIER, git
from tests.test_providers import NO_DOCKER, WITHOUT_URLS
from tests.variants import ROOT, default_variant, smallest_variant

# The team's own .venv in each project, as the commands it types make it.
pytestmark = pytest.mark.usefixtures("own_environment")

MIN_COPIER = yaml.safe_load((ROOT / "copier.yml").read_text())["_min_copier_version"]


def cli(copier: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a copier command line as a user types it; the caller checks the outcome."""
    return subprocess.run(
        [*copier, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=600,
    )


def data_args(answers: dict) -> list[str]:
    return [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]


def test_copy_to_a_relative_destination_runs_its_tasks(template_repo: Path, tmp_path: Path) -> None:
    done = cli(
        [str(COPIER)], "copy", "--trust", "--defaults", "--vcs-ref=HEAD", str(template_repo),
        "my-service", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    project = tmp_path / "my-service"
    assert (project / "pyproject.toml").is_file(), "the render was removed"
    assert not (project / "my-service").exists()
    assert git("status", "--porcelain", cwd=project) == ""
    assert len(git("log", "--format=%H", cwd=project).split()) == 1
    assert f"Your service is ready in {project}" in done.stdout
    assert "  cd my-service\n" in done.stdout
    # The copy locked its dependencies, in the first commit: CI's `uv sync --locked` works.
    assert git("ls-files", "uv.lock", cwd=project).strip() == "uv.lock"
    synced = subprocess.run(
        ["uv", "sync", "--locked"], cwd=project, capture_output=True, text=True, timeout=600
    )
    assert synced.returncode == 0, synced.stderr[-3000:]


@pytest.mark.parametrize(
    ("variant", "present", "absent"),
    [
        (
            default_variant(),
            ["uv run pytest tests/unit", "uv run pytest tests/e2e", "PostgreSQL", "Redis"],
            ["SQLite"],
        ),
        (
            smallest_variant(),
            ["uv run pytest ", "SQLite"],
            ["tests/unit", "tests/e2e", "PostgreSQL", "Redis", "server"],
        ),
    ],
    ids=["fullest", "smallest"],
)
def test_next_steps_name_only_what_the_project_has(
    template_repo: Path, tmp_path: Path, variant, present: list[str], absent: list[str]
) -> None:
    done = cli(
        [str(COPIER)], "copy", "--trust", "--defaults", "--vcs-ref=HEAD",
        *data_args(variant.data), str(template_repo), "project", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    steps = done.stdout[done.stdout.index("Next steps:") :]
    for text in present:
        assert text in steps, f"{text!r} missing from:\n{steps}"
    for text in absent:
        assert text not in steps, f"{text!r} in:\n{steps}"


@pytest.mark.slow
def test_an_async_project_copied_from_the_command_line_passes_without_urls(
    template_repo: Path, tmp_path: Path, isolated_tmp: Path
) -> None:
    """`copier copy --trust -d style=async <template> x && cd x && uv run pytest`, no URLs."""
    done = cli(
        [str(COPIER)], "copy", "--trust", "--defaults", "-d", "style=async", "--vcs-ref=HEAD",
        str(template_repo), "x", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    project = tmp_path / "x"
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["style"] == "async"
    env = {**WITHOUT_URLS, **NO_DOCKER, "TMPDIR": str(isolated_tmp)}
    suite = run_suite(project, env=env, junit=tmp_path / "junit.xml")
    assert_suite_passed(suite, tiers=default_variant()["tiers"])
    assert "(embedded: PostgreSQL" in suite.output
    assert leftovers(project, isolated_tmp) == []


@pytest.mark.slow
@pytest.mark.parametrize("version", [MIN_COPIER, "newest"])
def test_copy_and_update_with_the_minimum_and_the_newest_copier(
    version: str, template_repo: Path, tmp_path: Path
) -> None:
    """Exactly `_min_copier_version` copies with its tasks and updates, as the newest does."""
    copier = [str(COPIER)] if version == "newest" else ["uvx", "--from", f"copier=={version}"]
    if version != "newest":
        copier.append("copier")
        installed = cli(copier, "--version", cwd=tmp_path)
        assert installed.stdout.split()[-1] == version, installed.stdout + installed.stderr
    # A template of this test's own, with a release tag, so that it can publish a newer one.
    template = tmp_path / "template"
    git("clone", "--quiet", str(template_repo), str(template), cwd=tmp_path)
    git("tag", "v1.0.0", cwd=template)

    done = cli(copier, "copy", "--trust", "--defaults", str(template), "my-service", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    project = tmp_path / "my-service"
    assert git("status", "--porcelain", cwd=project) == "", "the copy tasks did not commit"
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.0.0"
    if version != "newest":  # the README's commands run the newest Copier's copy
        # No server URL: the suite obtains its own servers.
        urls = {"TEST_DATABASE_URL": "", "TEST_REDIS_URL": ""}
        suite = run_suite(project, env=urls, junit=tmp_path / "junit.xml")
        assert_suite_passed(suite, tiers=default_variant()["tiers"])
        git("clean", "-fdxq", "--exclude=.venv", cwd=project)  # uv.lock, the flaky history

    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA line from the next release.\n")
    git("commit", "--quiet", "--all", "-m", "next release", cwd=template)
    git("tag", "v1.1.0", cwd=template)

    done = cli(copier, "update", "--trust", "--defaults", cwd=project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.1.0"
    assert "A line from the next release." in (project / "README.md").read_text()
