"""Bad answers are refused with a message that names the rule, and nothing is written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.render import copier
from tests.variants import questions


def copy(template: Path, destination: Path, *data: str) -> subprocess.CompletedProcess:
    args = [arg for item in data for arg in ("--data", item)]
    return copier(
        "copy", "--trust", "--defaults", "--vcs-ref=HEAD", *args, str(template), str(destination),
        cwd=template,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "rule"),
    [
        ("package_name=my-pkg", "is not a lower-case Python identifier"),
        ("package_name=1abc", "is not a lower-case Python identifier"),
        ("package_name=MyPkg", "is not a lower-case Python identifier"),
        ("package_name=class", "is a Python keyword"),
        ("package_name=redis", "shadows the module 'redis'"),
        ("package_name=json", "shadows the module 'json'"),
        ("package_name=anyio", "shadows the module 'anyio'"),
        ("tiers=[unit, e2e]", "tiers must include 'integration'"),
        ("tiers=[]", "tiers must include 'integration'"),
        ("project_name= ", "project_name must not be empty"),
    ],
)
def test_bad_answer_is_refused_and_nothing_is_written(
    template_repo: Path, tmp_path: Path, answer: str, rule: str
) -> None:
    destination = tmp_path / "project"
    result = copy(template_repo, destination, answer)
    assert result.returncode != 0
    assert rule in result.stderr.strip().splitlines()[-1]
    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize(
    ("project_name", "package_name"),
    [
        ("My Service", "my_service"),
        ("Café Orders 2", "cafe_orders_2"),
        ("Café Ünïcode", "cafe_unicode"),
        ("Crème Brûlée Straße", "creme_brulee_strasse"),
        ("Łódź Æther", "lodz_aether"),
        ("2 Fast Service", "service_2_fast_service"),
        ("Class", "class_service"),
        ("JSON", "json_service"),
        ("日本語サービス", "service"),
    ],
)
def test_default_package_name_is_always_valid(
    template_repo: Path, tmp_path: Path, project_name: str, package_name: str
) -> None:
    destination = tmp_path / "project"
    result = copy(template_repo, destination, f"project_name={project_name}", "ci=none")
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert answers["package_name"] == package_name
    assert (destination / "src" / package_name / "app.py").is_file()


# What copier prints before a help text ("🎤 ", two columns for the emoji) and after it.
PROMPT_MARGIN = 5


@pytest.mark.parametrize("name", [n for n, q in questions().items() if q.get("when") is not False])
def test_help_first_line_says_what_the_question_decides_in_80_columns(name: str) -> None:
    first_line = questions()[name]["help"].splitlines()[0]
    assert len(first_line) + PROMPT_MARGIN <= 80, f"{name}: {first_line!r}"
    # It is a sentence of its own, not the start of one cut off by the terminal.
    assert first_line.rstrip().endswith((".", "?", ")")), f"{name}: {first_line!r}"


def test_post_copy_task_prints_next_steps(template_repo: Path, tmp_path: Path) -> None:
    result = copy(template_repo, tmp_path / "project", "ci=none")
    assert result.returncode == 0, result.stderr
    assert "uv run pytest" in result.stdout


def test_reserved_names_cover_the_standard_library() -> None:
    reserved = set(questions()["reserved_module_names"]["default"])
    public = {name for name in sys.stdlib_module_names if re.fullmatch(r"[a-z][a-z0-9_]*", name)}
    assert public - reserved == set()
