"""Each way of obtaining servers works for real on the fullest variant, and leaves nothing behind.

url: the machine's own servers (as in test_suites.py); embedded: no URL and no
Docker; docker: testcontainers against a Docker engine.
"""

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.checks import (
    SuiteRun,
    assert_suite_passed,
    leftovers,
    project_environment,
    run,
    run_suite,
)
from tests.docker_engine import (
    DefaultEngine,
    EngineFailed,
    LocalDockerEngine,
    build_local_images,
    cache_dir,
    missing_tools,
)
from tests.variants import default_variant, questions

IMAGE_SETTINGS = (("TEST_POSTGRES_IMAGE", "postgres_image"), ("TEST_REDIS_IMAGE", "redis_image"))
NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
WITHOUT_URLS = {"TEST_DATABASE_URL": "", "TEST_REDIS_URL": ""}


@pytest.mark.slow
def test_embedded_servers_without_urls_or_docker(render, isolated_tmp, tmp_path) -> None:
    # The async project's run without URLs: test_first_commands.py, from copier's command line.
    project = render(default_variant())
    env = {**WITHOUT_URLS, **NO_DOCKER, "TMPDIR": str(isolated_tmp)}
    result = run_suite(project, env=env, junit=tmp_path / "junit.xml")
    assert_suite_passed(result, tiers=default_variant()["tiers"])
    assert "PostgreSQL: postgresql://postgres@127.0.0.1:" in result.output
    assert "(embedded: PostgreSQL" in result.output
    assert "(embedded: valkey-server" in result.output
    assert leftovers(project, isolated_tmp) == []


def _engine_that_pulls() -> bool:
    """Whether the default engine answers and can pull the official images (GitHub's runners)."""
    images = [questions()[question]["default"] for _, question in IMAGE_SETTINGS]
    commands = [["docker", "info"]] + [["docker", "pull", "--quiet", image] for image in images]
    return all(
        subprocess.run(command, capture_output=True, timeout=300).returncode == 0
        for command in commands
    )


@pytest.fixture(scope="module")
def docker_env(tmp_path_factory: pytest.TempPathFactory):
    """Environment for testcontainers: an engine and the images to run (module)."""
    if shutil.which("docker") and _engine_that_pulls():
        yield DefaultEngine(), {}
        return
    missing = missing_tools()
    if missing:
        pytest.fail(
            f"the docker test needs {', '.join(missing)}: "
            "apt-get install docker.io debootstrap (bash .ci/run does)"
        )
    engine = LocalDockerEngine(root=Path(tmp_path_factory.mktemp("docker", numbered=True)))
    try:
        host = engine.start()
        images = build_local_images(engine, cache_dir())
    except (EngineFailed, subprocess.CalledProcessError) as exc:
        engine.stop()
        pytest.fail(f"could not prepare Docker: {exc}")
    yield (
        engine,
        {
            "DOCKER_HOST": host,
            **images,
            # Ryuk's image cannot be pulled here; the suite stops its containers itself.
            "TESTCONTAINERS_RYUK_DISABLED": "true",
            "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
            "TC_HOST": "127.0.0.1",
        },
    )
    engine.stop()


@pytest.mark.slow
def test_docker_servers_through_testcontainers(render, docker_env, isolated_tmp, tmp_path) -> None:
    # The servers come from the harness, whatever the project's style: the async project
    # is run without URLs in test_first_commands.py, and with them in test_suites.py.
    engine, env = docker_env
    project = render(default_variant())
    env = {**env, **WITHOUT_URLS, "TEST_INFRA": "docker", "TMPDIR": str(isolated_tmp)}
    result = run_suite(project, env=env, junit=tmp_path / "junit.xml")
    assert_suite_passed(result, tiers=default_variant()["tiers"])
    assert "PostgreSQL: postgresql://postgres:***@" in result.output
    for variable, question in IMAGE_SETTINGS:
        image = env.get(variable) or questions()[question]["default"]
        assert f"from {image})" in result.output
        left = engine.docker("ps", "--all", "--quiet", "--filter", f"ancestor={image}")
        assert left.stdout.strip() == "", f"containers of {image} left behind"
    assert leftovers(project, isolated_tmp) == []


@pytest.mark.slow
def test_docker_without_an_engine_fails_fast_and_says_what_to_do(render, tmp_path) -> None:
    project = render(default_variant())
    # The install is not the provider's time: a missing engine must not cost a timeout.
    installed = run(["uv", "sync", "--quiet"], project, env=project_environment())
    assert installed.returncode == 0, installed.stderr
    started = time.monotonic()
    result = run_suite(project, env={**NO_DOCKER, "TEST_INFRA": "docker"}, junit=tmp_path / "j.xml")
    elapsed = time.monotonic() - started
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.output
    assert "no Docker engine answers" in result.output
    assert "start a Docker engine" in result.output
    assert elapsed < 30, f"took {elapsed:.1f} s"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variable", "dead_url", "service"),
    [
        ("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/postgres", "PostgreSQL"),
        ("TEST_REDIS_URL", "redis://127.0.0.1:9/0", "Redis"),
    ],
)
def test_dead_url_names_the_service(render, service_urls, tmp_path, variable, dead_url, service):
    project = render(default_variant())
    env = {**service_urls, variable: dead_url}
    result = run_suite(project, env=env, junit=tmp_path / "j.xml")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.output
    assert f"{service} at {dead_url} (from {variable}) does not answer" in result.output


@pytest.mark.slow
@pytest.mark.usefixtures("own_environment")  # nobody cannot write root's environments
def test_embedded_servers_as_an_unprivileged_user(render, isolated_tmp, tmp_path) -> None:
    """The non-root path: PostgreSQL runs as the invoking user, from the wheel's own folder.

    As root, the suite is handed to `nobody` with a Python, uv and cache it can reach.
    """
    project = render(default_variant())
    env = {**WITHOUT_URLS, **NO_DOCKER, "TMPDIR": str(isolated_tmp), "TEST_INFRA": "embedded"}
    if os.geteuid() != 0:
        result = run_suite(project, env=env, junit=tmp_path / "junit.xml")
    else:
        project, result = _run_as_nobody(project, env, home=isolated_tmp / "home")
    assert_suite_passed(result, tiers=default_variant()["tiers"])
    assert "(embedded: PostgreSQL" in result.output
    ours = [] if os.geteuid() != 0 else ["home"]  # the folder this test made for nobody
    assert leftovers(project, isolated_tmp) == ours


def _run_as_nobody(project: Path, env: dict[str, str], *, home: Path) -> tuple[Path, SuiteRun]:
    home.mkdir()
    shutil.copy2(shutil.which("uv"), home / "uv")
    junit = home / "junit.xml"
    shutil.move(project, home / "project")
    project = home / "project"
    # The harness comes from the template's clone, which lies in root's private
    # temporary folder: nobody gets a clone of its own, at the same commit.
    pyproject = project / "pyproject.toml"
    template = re.search(r'git = "file://([^"]+)"', pyproject.read_text())[1]
    clone = home / "template.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", template, clone], check=True)
    pyproject.write_text(pyproject.read_text().replace(template, str(clone)))
    subprocess.run(["chown", "-R", "nobody:", str(home)], check=True)
    command = [
        "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
        str(home / "uv"), "run", "--quiet", "pytest", "-p", "no:cacheprovider",
        f"--junitxml={junit}",
    ]  # fmt: skip
    run_env = {
        **os.environ,  # proxies and certificate settings included
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "UV_CACHE_DIR": str(home / "uv-cache"),
        # The interpreter under /root is out of nobody's reach; Debian's is not.
        "UV_PYTHON": "/usr/bin/python3.11",
        "UV_PYTHON_DOWNLOADS": "never",
        **env,
    }
    result = subprocess.run(
        command, cwd=project, env=run_env, capture_output=True, text=True, timeout=900
    )
    return project, SuiteRun(result.returncode, result.stdout + result.stderr, junit)


@pytest.mark.slow
def test_a_role_that_may_not_create_databases_is_one_clear_message(
    render, service_urls, tmp_path
) -> None:
    """Every run creates a database: a role without CREATEDB stops the run before any test."""
    role = f"tmeta_nocreatedb_{uuid.uuid4().hex[:8]}"
    server = service_urls["TEST_DATABASE_URL"]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        project = render(default_variant())
        url = urlsplit(server)._replace(netloc=f"{role}@{urlsplit(server).hostname}:5432").geturl()
        env = {**service_urls, "TEST_DATABASE_URL": url}
        for args in [(), ("-n", "2")]:
            result = run_suite(project, env=env, junit=tmp_path / "j.xml", args=args)
            assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.output[-3000:]
            assert f"the role {role} may not create databases" in result.output
            assert f'ALTER ROLE "{role}" CREATEDB' in result.output
            assert "ERROR at setup" not in result.output, "one message per test, not one per run"
            assert "Traceback" not in result.output
            assert "INTERNALERROR" not in result.output
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"')
