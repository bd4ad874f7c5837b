"""The plugin in plugin/ passes its own checks: mypy --strict, ruff, and its suite on the
oldest and the newest pytest it supports: the last release of the minimum that
plugin/pyproject.toml declares, and pytest 9 or later as plugin/uv.lock holds it.
"""

import os
import re
import subprocess
import tomllib

import pytest

from tests.checks import run
from tests.variants import ROOT

# plugin/.venv, the plugin's own environment, not the projects' (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("own_environment")

PLUGIN = ROOT / "plugin"


def minimum_pytest() -> str:
    """The X.Y of `pytest>=X.Y` among the plugin's dependencies."""
    dependencies = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]["dependencies"]
    [minimum] = [m[1] for d in dependencies if (m := re.fullmatch(r"pytest>=(\d+\.\d+)", d))]
    return minimum


def uv_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run(
        ["uv", "run", "--quiet", *args],
        cwd=PLUGIN,
        env={**os.environ, **(env or {}), "UV_PYTHON_DOWNLOADS": "never"},
        timeout=600,
    )


@pytest.mark.parametrize(
    "command", [["mypy"], ["ruff", "check"], ["ruff", "format", "--check"]], ids=" ".join
)
def test_plugin_is_typed_and_linted(command: list[str]) -> None:
    result = uv_run(*command)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("pytest_version", ["oldest", "newest"])
def test_plugin_suite_passes(pytest_version: str, service_urls: dict[str, str]) -> None:
    minimum = minimum_pytest()
    requirement = f"pytest~={minimum}.0" if pytest_version == "oldest" else "pytest>=9"
    # With the servers' URLs its PostgreSQL and Redis tests run instead of skipping.
    result = uv_run("--with", requirement, "pytest", "-p", "no:cacheprovider", env=service_urls)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{requirement}: exit {result.returncode}\n{output[-8000:]}"
    assert " skipped" not in output.splitlines()[-1], output[-3000:]
    if pytest_version == "oldest":
        assert f", pytest-{minimum}." in output, "the run did not use the oldest pytest"
