"""Scaling out: xdist workers, concurrent runs, and CI shards."""

import json
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from tests.checks import assert_suite_passed, leftovers, project_environment, run_suite
from tests.conftest import run_databases
from tests.variants import default_variant, smallest_variant


def node_ids(junit) -> list[str]:
    return [
        f"{case.get('classname')}::{case.get('name')}"
        for case in ET.parse(junit).getroot().iter("testcase")
    ]


@pytest.mark.slow
def test_xdist_workers_pass(render, service_urls, tmp_path) -> None:
    project = render(default_variant())
    result = run_suite(project, env=service_urls, junit=tmp_path / "j.xml", args=("-n", "2"))
    assert_suite_passed(result, tiers=default_variant()["tiers"])
    assert "2 workers" in result.output
    assert leftovers(project) == []


@pytest.mark.slow
def test_two_runs_at_once_do_not_collide(render, service_urls, tmp_path) -> None:
    project = render(default_variant())
    env = project_environment(service_urls)
    subprocess.run(["uv", "sync", "--quiet"], cwd=project, env=env, check=True)
    command = ["uv", "run", "--quiet", "pytest", "-p", "no:cacheprovider", "-q"]
    runs = [
        subprocess.Popen(
            [*command, f"--junitxml={tmp_path / f'run{n}.xml'}"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-5000:]
    assert leftovers(project) == []


@pytest.mark.slow
def test_every_test_runs_in_exactly_one_shard(render, service_urls, tmp_path) -> None:
    shards = 3
    project = render(smallest_variant(), ci="github", ci_shards=shards)
    full = run_suite(
        project, env=service_urls, junit=tmp_path / "all.xml", args=("tests/integration",)
    )
    everything = node_ids(full.junit)
    seen: list[str] = []
    for group in range(1, shards + 1):
        args = (
            "tests/integration", "--splits", str(shards), "--group", str(group),
            "--splitting-algorithm", "least_duration",
        )  # fmt: skip
        shard = run_suite(project, env=service_urls, junit=tmp_path / f"{group}.xml", args=args)
        assert_suite_passed(shard, tiers=["integration"])
        seen += node_ids(shard.junit)
    assert sorted(seen) == sorted(everything)
    assert len(set(seen)) == len(seen)


@pytest.mark.slow
def test_xdist_run_without_a_server_stops_cleanly(render, service_urls, tmp_path) -> None:
    """A server that cannot be had under -n is one clear error, and nothing is left behind."""
    project = render(default_variant())
    prefix = f"txd_{uuid.uuid4().hex[:8]}"
    env = {
        **service_urls,
        "TEST_REDIS_URL": "redis://127.0.0.1:9/0",
        "TEST_DATABASE_PREFIX": prefix,
    }
    result = run_suite(project, env=env, junit=tmp_path / "j.xml", args=("-n", "2"))
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.output[-3000:]
    assert "Redis at redis://127.0.0.1:9/0 (from TEST_REDIS_URL) does not answer" in result.output
    assert "INTERNALERROR" not in result.output
    assert run_databases(prefix) == set()
    assert leftovers(project) == []


@pytest.mark.slow
def test_a_shard_without_tests_passes(render, service_urls, tmp_path) -> None:
    """More shards than tests: the empty shards pass, whatever `ci_shards` was answered."""
    shards = 32
    project = render(smallest_variant(), ci="github", ci_shards=shards)
    # Fewer tests than shards: a team that deleted tests, or runs a part of the tier.
    part = "tests/integration/test_db.py"
    assert (
        len(
            [
                test
                for test in json.loads((project / ".test_durations").read_text())
                if test.startswith(part)
            ]
        )
        < shards
    )
    args = (part, "--splits", str(shards), "--group", str(shards))
    result = run_suite(project, env=service_urls, junit=tmp_path / "j.xml", args=args)
    assert result.returncode == pytest.ExitCode.OK, result.output[-3000:]
    assert f"shard {shards} of {shards} has no tests" in result.output


@pytest.mark.slow
def test_two_app_processes_handle_fifty_concurrent_orders_once(
    render, service_urls, tmp_path
) -> None:
    """Two uvicorn processes, one database, one Redis: 50 orders at once, each handled once."""
    project = render(default_variant())
    replicas = project / "tests" / "e2e" / "test_replicas.py"
    assert "ORDERS = 50\n" in replicas.read_text()
    args = (str(replicas.relative_to(project)), "-v", "--retries=0")
    result = run_suite(project, env=service_urls, junit=tmp_path / "j.xml", args=args)
    assert_suite_passed(result, tiers=["e2e"])
    assert "test_orders_on_two_replicas_are_each_handled_once PASSED" in result.output
    assert leftovers(project) == []
