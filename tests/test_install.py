"""The fullest (sync and async) and the smallest variant install from their pyproject.toml.

Unlike test_suites.py (editable installs by `uv run`), the package is built as
a wheel and installed with the dependencies it declares into a new, empty
virtual environment, so a missing dependency or a module left out of the
wheel fails here.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.checks import SuiteRun, assert_suite_passed, run
from tests.variants import default_variant, fullest_variant, questions, smallest_variant

EXTREMES = {
    "fullest": default_variant,
    "fullest-async": lambda: fullest_variant("async"),
    "smallest": smallest_variant,
}


@pytest.mark.slow
@pytest.mark.parametrize("which", EXTREMES)
def test_variant_installs_into_a_clean_environment(
    which: str, render, service_urls, tmp_path: Path
) -> None:
    variant = EXTREMES[which]()
    project = render(variant)
    env_dir = tmp_path / "env"
    python = env_dir / "bin" / "python"
    steps = [
        ["uv", "venv", "--quiet", "--seed", str(env_dir)],
        ["uv", "pip", "install", "--quiet", "--python", str(python), ".", "--group", "dev"],
    ]
    for step in steps:
        result = run(step, cwd=project)
        assert result.returncode == 0, f"{step}:\n{result.stdout}{result.stderr}"
    if which.startswith("fullest"):
        _assert_reserved_names_cover(python, own=variant.data.get("package_name", "my_service"))
    # Import the installed wheel, never the source folder.
    shutil.rmtree(project / "src")

    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **service_urls, "VIRTUAL_ENV": str(env_dir)},
        timeout=900,
    )
    assert_suite_passed(
        SuiteRun(result.returncode, result.stdout + result.stderr, junit), tiers=variant["tiers"]
    )


def _assert_reserved_names_cover(python: Path, *, own: str) -> None:
    """Every import name installed with the fullest project is refused as a package_name."""
    listed = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(*m.packages_distributions())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    installed = {name for name in listed if re.fullmatch(r"[a-z][a-z0-9_]*", name)}
    reserved = set(questions()["reserved_module_names"]["default"])
    missing = installed - reserved - {own, "dummy"}
    assert missing == set(), f"add to reserved_module_names in copier.yml: {sorted(missing)}"
