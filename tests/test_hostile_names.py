"""Names with quotes, backslashes, Jinja, YAML syntax, other scripts or 200 characters
render into valid TOML, YAML, Python and Markdown, and the project's suite passes."""

import ast
import tomllib

import pytest
import yaml

from tests.checks import accepting_the_api_changes, assert_suite_passed, ruff, run_suite
from tests.variants import default_variant

HOSTILE_NAMES = [
    'Bob\'s "Best" \\ API',
    "{{ 7 * 7 }} {% raw %} {# not a comment #}",
    "key: value # [list] & *alias ! | > % @ `tick` ---",
    "日本語のサービス",
    "Сервис заказов",
    "خدمة الطلبات",
    "Very long service name " * 8 + "end",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_name_renders_valid_files_and_passes(render, service_urls, tmp_path, name):
    project = render(default_variant(), project_name=name, description=name)

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

    result = run_suite(project, env=service_urls, junit=tmp_path / "junit.xml")
    assert_suite_passed(result, tiers=default_variant()["tiers"])
    # The title, quoted as YAML needs it, is written back as it was shipped.
    assert accepting_the_api_changes(project, env=service_urls, junit=tmp_path / "accept.xml") == ""
