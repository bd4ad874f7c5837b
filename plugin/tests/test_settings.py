"""Each setting comes from the option, else the environment, else the ini file, else its default.

The header names the source that won, a bad value is one usage error that names
its source, and `--help` lists every option in one group.
"""

import re

import pytest

GROUP = "service harness: servers, tiers, retries and time budgets:"
SERVICE_MODULES = ("-p", "service_harness.postgres", "-p", "service_harness.redis")


INI = "in [[]tool.pytest.ini_options]"  # fnmatch: "[[]" is a literal "["


@pytest.mark.parametrize(
    ("given", "infra", "retries"),
    [
        ({"option", "env", "ini"}, "url (--infra)", "3 for integration and e2e tests (from --retries)"),
        ({"env", "ini"}, "docker (TEST_INFRA)", "0 for integration and e2e tests (from TEST_RETRIES)"),
        ({"ini"}, f"embedded (infra {INI})", f"5 for integration and e2e tests (from flaky_retries {INI})"),
        (set(), "auto (default)", "2 for integration and e2e tests (from default)"),
    ],
    ids=["option", "environment", "ini", "default"],
)  # fmt: skip
def test_option_beats_environment_beats_ini_beats_default(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    given: set[str],
    infra: str,
    retries: str,
) -> None:
    if "ini" in given:
        pytester.makepyprojecttoml(
            '[tool.pytest.ini_options]\ninfra = "embedded"\nflaky_retries = "5"\n'
        )
    if "env" in given:
        monkeypatch.setenv("TEST_INFRA", "docker")
        monkeypatch.setenv("TEST_RETRIES", "0")
    args = ["--infra=url", "--retries=3"] if "option" in given else []
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"infrastructure: {infra}", f"retries: {retries}"])


def test_time_budgets_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\ntime_budget_integration = "2.5"\ntime_budget_action = "warn"\n'
    )
    result = pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "time budgets: unit 1 s, integration 2.5 s, e2e 30 s; "
            f"over budget: warn (from time_budget_action {INI})"
        ]
    )


@pytest.mark.parametrize(
    ("args", "env", "ini", "message"),
    [
        (["--retries", "-1"], {}, "", "--retries='-1': must be a whole number, 0 or more"),
        ([], {"TEST_RETRIES": "two"}, "", "TEST_RETRIES='two': must be a whole number, 0 or more"),
        ([], {"TEST_INFRA": "cloud"}, "", "TEST_INFRA='cloud' is not one of auto, url, docker, embedded"),
        (
            [], {}, 'infra = "bogus"',
            "infra in [tool.pytest.ini_options]='bogus' is not one of auto, url, docker, embedded",
        ),
        (
            [], {}, 'time_budget_action = "maybe"',
            "time_budget_action in [tool.pytest.ini_options]='maybe' is not one of fail, warn",
        ),
        (
            [], {}, 'time_budget_unit = "fast"',
            "time_budget_unit in [tool.pytest.ini_options]='fast': must be a number, 0 or more",
        ),
    ],
    ids=["option", "env number", "env choice", "ini choice", "ini action", "ini budget"],
)  # fmt: skip
def test_bad_value_is_one_usage_error_naming_its_source(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    ini: str,
    message: str,
) -> None:
    pytester.makepyprojecttoml(f"[tool.pytest.ini_options]\n{ini}\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = "\n".join(result.outlines + result.errlines)
    assert output.count(message) == 1, output
    assert f"ERROR: {message}" in result.errlines, output
    assert "Traceback" not in output, output
    assert "INTERNALERROR" not in output, output


def help_sections(text: str) -> dict[str, str]:
    """`pytest --help` by section: each heading line (ending in ":") and the lines under it."""
    sections: dict[str, str] = {}
    heading = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            heading = line
        sections[heading] = sections.get(heading, "") + line + "\n"
    return sections


def test_all_options_in_one_help_group(echo_project: pytest.Pytester) -> None:
    result = echo_project.runpytest("--help", *SERVICE_MODULES)
    assert result.ret == pytest.ExitCode.OK
    sections = help_sections(result.stdout.str())
    options = ("--infra", "--retries", "--database-url", "--redis-url", "--echo-url")
    for option in options:
        found_in = [h for h, text in sections.items() if re.search(rf"^ +{option}\b", text, re.M)]
        assert found_in == [GROUP], f"{option} is listed under {found_in}"
    [ini_section] = [text for heading, text in sections.items() if heading.startswith("[pytest]")]
    ini_keys = re.findall(r"^  (\w+) \(", ini_section, re.M)
    expected_keys = {
        "infra", "flaky_retries", "flaky_threshold", "flaky_history", "flaky_history_runs",
        "flaky_min_history", "time_budget_unit", "time_budget_integration", "time_budget_e2e",
        "time_budget_action", "committed_tiers", "committed_fixtures", "database_url",
        "postgres_image", "redis_url", "redis_image", "echo_url", "echo_image",
    }  # fmt: skip
    assert expected_keys <= set(ini_keys), expected_keys - set(ini_keys)
