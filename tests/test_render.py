"""Every variant renders into a clean, consistent project."""

import hashlib
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.checks import empty_directories, jinja_leftovers, lint_workflows, project_files, ruff
from tests.conftest import made_once
from tests.render import render_variant
from tests.variants import (
    ROOT,
    STYLES,
    SUITE_NEUTRAL,
    Variant,
    all_variants,
    answer_space,
    distinct_suites,
    fullest_variant,
    questions,
    with_every_tier,
)

VARIANTS = all_variants()
IDS = [variant.id for variant in VARIANTS]

# Paths the answers call for (pkg stands for the package folder), and when.
EXPECTED_PATHS: dict[str, Callable[[dict], bool]] = {
    ".copier-answers.yml": lambda a: True,
    "pyproject.toml": lambda a: True,
    "README.md": lambda a: True,
    "src/pkg/app.py": lambda a: True,
    "src/pkg/api/users.py": lambda a: True,
    "src/pkg/migrations/env.py": lambda a: True,
    "src/pkg/migrations/versions/0001_initial.py": lambda a: True,
    ".test_durations": lambda a: False,  # only with ci_shards > 1
    "src/pkg/events.py": lambda a: a["event_bus"] == "redis",
    "src/pkg/inventory.py": lambda a: a["event_bus"] == "redis",
    "src/pkg/api/orders.py": lambda a: a["event_bus"] == "redis",
    "src/pkg/api/inventory.py": lambda a: a["event_bus"] == "redis",
    "src/pkg/payments.py": lambda a: a["http_recording"],
    "tests/support/sqlite_file.py": lambda a: a["database"] == "sqlite",
    "tests/support/messaging.py": lambda a: a["event_bus"] == "redis",
    "tests/support/database.py": lambda a: True,
    "tests/support/recording.py": lambda a: a["http_recording"],
    "tests/support/payment_provider.py": lambda a: a["http_recording"],
    "tests/integration/test_health.py": lambda a: True,
    "tests/integration/cassettes/test_payments": lambda a: a["http_recording"],
    "tests/integration/test_payments.py": lambda a: a["http_recording"],
    "tests/integration/test_cassettes.py": lambda a: a["http_recording"],
    # Moved into pytest-service-harness (plugin/) in 0.8.0:
    "tests/support/postgres_server.py": lambda a: False,
    "tests/support/redis_server.py": lambda a: False,
    "tests/support/live_server.py": lambda a: False,
    "tests/support/time_budgets.py": lambda a: False,
    "tests/support/health.py": lambda a: False,
    "tests/support/flaky.py": lambda a: False,
    "tests/support/servers.py": lambda a: False,
    "tests/support/infra": lambda a: False,
    "tests/support/processes.py": lambda a: False,
    "tests/support/secrets.py": lambda a: False,
    "tests/support/tiers.py": lambda a: False,
    "tests/support/waiting.py": lambda a: False,
    "tests/support/concurrency.py": lambda a: False,
    "tests/support/schema.py": lambda a: False,
    "tests/unit/conftest.py": lambda a: False,
    "tests/unit": lambda a: "unit" in a["tiers"],
    "tests/integration": lambda a: True,
    "tests/e2e": lambda a: "e2e" in a["tiers"],
    ".github/workflows/tests.yml": lambda a: a["ci"] == "github",
    ".github/workflows/template-updates.yml": lambda a: a["ci"] == "github",
    ".github/dependabot.yml": lambda a: a["ci"] == "github",
    ".pre-commit-config.yaml": lambda a: True,
    "src/pkg/dev.py": lambda a: True,
}


def test_the_matrix_covers_every_finite_question() -> None:
    finite = {name for name, q in questions().items() if "choices" in q or q.get("type") == "bool"}
    finite -= {name for name, q in questions().items() if q.get("when") is False}
    assert {key for key, _ in VARIANTS[0].answers} == finite
    # tiers without integration are refused, so 4 of its 7 subsets remain.
    assert len(VARIANTS) == 2 * 2 * 2 * 4 * 2 * 2


@pytest.fixture(scope="session")
def rendered(template_repo: Path, run_folder: Path):
    """rendered(variant, **overrides): each render made once in this run, to read only (session).

    The checks of a variant and of its siblings (another `ci`, every tier) need
    the same renders; xdist workers share them, so no render is made twice.
    """
    folder = run_folder / "renders"
    folder.mkdir(exist_ok=True)

    def render(variant: Variant, **overrides: object) -> Path:
        data = {**variant.data, **overrides}
        key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]
        return made_once(folder / key, lambda path: render_variant(template_repo, path, data))

    return render


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_variant_renders_clean(variant: Variant, rendered) -> None:
    project = rendered(variant)
    package = project / "src" / "my_service"

    for path, wanted in EXPECTED_PATHS.items():
        target = project / path.replace("src/pkg", str(package.relative_to(project)))
        assert target.exists() == wanted(variant.data), f"{path} present={target.exists()}"
    assert jinja_leftovers(project) == []
    assert empty_directories(project) == []

    tomllib.loads((project / "pyproject.toml").read_text())
    for path in project_files(project):
        if path.suffix in (".yml", ".yaml"):
            yaml.safe_load(path.read_text())
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {key: answers[key] for key in variant.data} == variant.data

    assert ruff(project) == []
    assert describes_only_this_project(project, variant.data) == []
    if variant["ci"] == "github":
        github = project / ".github"
        files = [*sorted((github / "workflows").glob("*.yml")), github / "dependabot.yml"]
        assert lint_workflows(files) == []


@pytest.mark.parametrize("style", STYLES)
def test_the_fullest_project_owns_little_harness_code(style: str, render) -> None:
    """The generic harness lives in the plugin: tests/support/ keeps the project's own fixtures."""
    project = render(fullest_variant(style))
    support = sorted((project / "tests" / "support").glob("**/*.py"))
    lines = sum(len(path.read_text().splitlines()) for path in support)
    assert lines <= 460, f"tests/support/ has {lines} lines: {[p.name for p in support]}"


def test_the_plugin_uses_only_public_pytest_api() -> None:
    sources = sorted((ROOT / "plugin" / "src").glob("**/*.py"))
    assert sources
    private = [
        str(p) for p in sources if re.search(r"^\s*(from|import) _pytest", p.read_text(), re.M)
    ]
    assert private == []


def describes_only_this_project(project, answers: dict) -> list[str]:
    """What the README and pyproject.toml say about parts this project does not have."""
    foreign = []
    if answers["database"] != "postgresql":
        foreign += ["PostgreSQL", "TEMPLATE", "CREATEDB", "createdb"]
    if answers["event_bus"] != "redis":
        foreign += ["Redis", "namespace", "REDIS_URL"]
    if answers["database"] != "postgresql" and answers["event_bus"] != "redis":
        foreign += ["Docker", "TEST_INFRA", "embedded"]
    if answers["style"] != "async":
        foreign += ["AsyncSession", "asyncio", "ASGITransport", "await"]
    for tier in {"unit", "integration", "e2e"} - set(answers["tiers"]):
        foreign += [f"time_budget_{tier}", f"tests/{tier}", f"{tier} test"]
    texts = {name: (project / name).read_text() for name in ("README.md", "pyproject.toml")}
    return [f"{name}: {word}" for name, text in texts.items() for word in foreign if word in text]


@pytest.mark.parametrize("variant", distinct_suites(), ids=lambda v: v.id)
def test_suite_neutral_answers_change_nothing_the_suite_runs(variant: Variant, rendered) -> None:
    """Backs SUITE_NEUTRAL: changing such an answer leaves every file the suite runs alone."""
    ours = _suite_files(rendered(variant))
    for question in SUITE_NEUTRAL:
        for value in answer_space(questions()[question]):
            if value != variant[question]:
                assert _suite_files(rendered(variant, **{question: value})) == ours, question


@pytest.mark.parametrize("variant", distinct_suites(), ids=lambda v: v.id)
def test_fewer_tiers_only_leave_the_missing_tiers_out(variant: Variant, rendered) -> None:
    """Backs suite_variants(): a variant's suite is a subset of its every-tier sibling's.

    Every file the suite runs is the sibling's, byte for byte, but the missing
    tiers' folders; pyproject.toml differs only in those tiers' markers and time
    budgets: the dependencies and every other setting are the same.
    """
    ours = _suite_files(rendered(variant))
    theirs = _suite_files(rendered(with_every_tier(variant)))
    missing = set(with_every_tier(variant)["tiers"]) - set(variant["tiers"])
    in_missing_tiers = {
        path for path in theirs if path.split("/")[:2] in (["tests", t] for t in missing)
    }
    assert {path for path in theirs if path.startswith("tests/")} - set(ours) == in_missing_tiers
    for path, content in ours.items():
        if path == "pyproject.toml":
            assert _without_tiers(tomllib.loads(theirs[path].decode()), missing) == tomllib.loads(
                content.decode()
            )
        else:
            assert content == theirs[path], path
    assert set(ours) <= set(theirs)


def _without_tiers(pyproject: dict, tiers: set[str]) -> dict:
    """`pyproject` without the markers and time budgets of `tiers`."""
    pytest_options = pyproject["tool"]["pytest"]["ini_options"]
    pytest_options["markers"] = [
        marker for marker in pytest_options["markers"] if marker.split(":")[0] not in tiers
    ]
    for tier in tiers:
        del pytest_options[f"time_budget_{tier}"]
    return pyproject


def _suite_files(project) -> dict[str, bytes]:
    ignored = (".github", "README.md", ".copier-answers.yml")
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in project_files(project)
        if not str(path.relative_to(project)).startswith(ignored)
    }


def test_lint_catches_a_bad_workflow(tmp_path) -> None:
    """The workflow check can fail: an unpinned action and an undefined context."""
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: echo ${{ nope.x }}\n"
    )
    failures = lint_workflows([workflow])
    assert [f.split(" ")[0] for f in failures] == ["actionlint", "zizmor"]


def test_own_workflows_lint_clean() -> None:
    assert lint_workflows(sorted((ROOT / ".github" / "workflows").glob("*.yml"))) == []


def test_repository_code_is_ruff_clean() -> None:
    assert ruff(ROOT) == []
