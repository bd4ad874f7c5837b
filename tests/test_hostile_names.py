"""Names with quotes, backslashes, Jinja, YAML syntax, other scripts or 200 characters
render into valid TOML, YAML, Python and Markdown, and the project's suite passes.

Each name is the project name of one of the suites that tests/test_suites.py runs, so a
name's suite is one run more of a variant that runs anyway, with both sync and async,
PostgreSQL and SQLite among them. The checks of the files are here.
"""

import ast
import tomllib
from pathlib import Path

import yaml

from tests.checks import ruff
from tests.variants import Variant, suite_variants

HOSTILE_NAMES = [
    'Bob\'s "Best" \\ API',
    "{{ 7 * 7 }} {% raw %} {# not a comment #}",
    "key: value # [list] & *alias ! | > % @ `tick` ---",
    "日本語のサービス",
    "Сервис заказов",
    "خدمة الطلبات",
    "Very long service name " * 8 + "end",
]


def hostile_name_of(variant: Variant) -> str | None:
    """The hostile project name that `variant`'s suite run carries, if any."""
    return NAMED_SUITES.get(variant.id)


def _named_suites() -> dict[str, str]:
    """The names spread evenly over the suite variants, the default variant's among them."""
    variants = suite_variants()
    step = len(variants) / len(HOSTILE_NAMES)
    return {variants[int(n * step)].id: name for n, name in enumerate(HOSTILE_NAMES)}


NAMED_SUITES = _named_suites()


def assert_the_name_renders_as_written(project: Path, name: str) -> None:
    """The name reaches every file that shows it unchanged, and the files stay valid."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == name
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == name
    package = answers["package_name"]
    assert package.isidentifier()
    assert len(package) <= 40
    app = (project / "src" / package / "app.py").read_text()
    title = next(line for line in app.splitlines() if line.startswith("TITLE = "))
    assert ast.literal_eval(title.removeprefix("TITLE = ")) == name
    assert (project / "README.md").read_text().splitlines()[0] == f"# {name}"
    assert ruff(project) == []


def test_every_name_has_a_suite_of_its_own() -> None:
    assert sorted(NAMED_SUITES.values()) == sorted(HOSTILE_NAMES)
    named = [variant for variant in suite_variants() if variant.id in NAMED_SUITES]
    assert {variant["style"] for variant in named} == {"sync", "async"}
    assert {variant["database"] for variant in named} == {"postgresql", "sqlite"}
