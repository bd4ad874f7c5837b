"""Each distinct generated suite passes against real PostgreSQL and Redis."""

import json
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from coverage import CoverageData

from tests.checks import (
    GITHUB_EXPRESSION,
    SuiteRun,
    accepting_the_api_changes,
    assert_suite_passed,
    leftovers,
    make_repository,
    project_environment,
    recording_again_changes,
    run,
    run_gate,
    run_suite,
)
from tests.test_hostile_names import (
    HOSTILE_NAMES,
    assert_the_name_renders_as_written,
    hostile_name_of,
)
from tests.test_providers import NO_DOCKER, WITHOUT_URLS
from tests.variants import Variant, default_variant, suite_variants


def _suite_id(variant: Variant) -> str:
    """The variant, and the hostile name it carries (tests/test_hostile_names.py)."""
    name = hostile_name_of(variant)
    return variant.id if name is None else f"{variant.id}-hostile{HOSTILE_NAMES.index(name)}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", suite_variants(), ids=_suite_id)
def test_generated_suite_passes(variant: Variant, render, service_urls, tmp_path) -> None:
    # With CI shards the project ships .test_durations: it must list exactly its
    # integration tests, which this run records.
    sharded = variant["ci"] == "github"
    overrides: dict[str, object] = {"ci_shards": 2} if sharded else {}
    if name := hostile_name_of(variant):
        overrides |= {"project_name": name, "description": name}
    project = render(variant, **overrides)
    if name:
        assert_the_name_renders_as_written(project, name)
    recorded = tmp_path / "durations.json"
    args = ("--store-durations", f"--durations-path={recorded}") if sharded else ()
    result = run_suite(project, env=service_urls, junit=tmp_path / "junit.xml", args=args)
    assert_suite_passed(result, tiers=variant["tiers"])
    assert leftovers(project) == []
    assert accepting_the_api_changes(project, env=service_urls, junit=tmp_path / "accept.xml") == ""
    if variant["http_recording"]:
        assert recording_again_changes(project, env=service_urls, junit=tmp_path / "rec.xml") == []
    # The quality gate: the same source and support files in every variant of this suite.
    gate = run_gate(project, env=service_urls)
    assert gate.returncode == 0, gate.stdout[-8000:] + gate.stderr[-2000:]
    if sharded:
        shipped = json.loads((project / ".test_durations").read_text())
        ran = {test for test in json.loads(recorded.read_text()) if test.startswith(INTEGRATION)}
        assert sorted(shipped) == sorted(ran), "refresh .test_durations in the template"


INTEGRATION = "tests/integration/"


JUNIT_CASE = '<testcase classname="tests.{tier}.test_x" name="t{n}"{body}'


def _report(tmp_path, tiers, *, failures=0, skipped=0) -> SuiteRun:
    cases = []
    for n, tier in enumerate(tiers):
        body = "/>"
        if n < failures:
            body = '><failure message="boom"/></testcase>'
        elif n < failures + skipped:
            body = '><skipped message="no server"/></testcase>'
        cases.append(JUNIT_CASE.format(tier=tier, n=n, body=body))
    junit = tmp_path / "junit.xml"
    junit.write_text(
        f'<testsuites><testsuite tests="{len(tiers)}" failures="{failures}" errors="0" '
        f'skipped="{skipped}">{"".join(cases)}</testsuite></testsuites>'
    )
    return SuiteRun(returncode=1 if failures else 0, output="", junit=junit)


def test_suite_check_accepts_a_clean_run(tmp_path) -> None:
    assert_suite_passed(_report(tmp_path, ["unit", "integration"]), tiers=["unit", "integration"])


@pytest.mark.parametrize(
    ("kwargs", "collected", "message"),
    [
        ({"failures": 1}, ["integration", "e2e"], "exited 1"),
        ({"skipped": 1}, ["integration", "e2e"], "unexpected skips"),
        ({}, ["integration"], "tiers collected"),
    ],
)
def test_suite_check_fails_on_failure_skip_or_missing_tier(
    tmp_path, kwargs, collected, message
) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_suite_passed(_report(tmp_path, collected, **kwargs), tiers=["integration", "e2e"])


@pytest.mark.slow
def test_workflow_commands_pass_here(render, template_repo, service_urls, tmp_path) -> None:
    """Each job's commands, as the generated workflow runs them, pass on this machine.

    The jobs run one after another in the project's folder, so the coverage and
    health jobs find the data files and records the tier jobs wrote, as they do
    after downloading them.
    """
    variant = default_variant()
    project = render(variant)
    # What `copier copy` does after rendering: lock, and make the repository.
    lock = run(
        [sys.executable, str(template_repo / "hooks" / "lock_dependencies.py"), "copy"], project
    )
    assert (project / "uv.lock").exists(), lock.stdout + lock.stderr
    make_repository(project)  # what copier's task does; the gate runs as the lint job
    workflow = yaml.safe_load((project / ".github" / "workflows" / "tests.yml").read_text())
    assert {"lint", "coverage", "health"} <= set(workflow["jobs"])
    tier_env = {}  # each tier job's env for its pytest step
    for name, job in workflow["jobs"].items():
        steps = [step for step in job["steps"] if "run" in step]
        assert steps[0]["run"] == "uv sync --locked", name
        for step in steps:
            args = shlex.split(step["run"])
            env = {key: _here(value) for key, value in step.get("env", {}).items()}
            if args[:3] != ["uv", "run", "pytest"]:
                done = run(args, project, env=project_environment(env))
                assert done.returncode == 0, (
                    f"{name}: {step['run']}\n{done.stdout[-8000:]}{done.stderr}"
                )
                continue
            tier = args[3].split("/")[1]  # tests/<tier>
            if name == tier:
                tier_env[tier] = env.copy()
            if "services" in job or tier == "unit":
                env |= service_urls  # the job's service containers: this machine's servers
            else:  # no containers, no URL: the embedded servers, as the job's env asks
                env |= {**WITHOUT_URLS, **NO_DOCKER, **job.get("env", {})}
            result = run_suite(project, env=env, junit=tmp_path / f"{name}.xml", args=args[3:])
            assert_suite_passed(result, tiers=[tier])
    changed = run(["git", "status", "--porcelain"], project).stdout.splitlines()
    assert [line for line in changed if not line.startswith("A ")] == [], "a job changed files"
    assert set(tier_env) == set(variant["tiers"])
    for tier, env in tier_env.items():
        assert (project / env["COVERAGE_FILE"]).exists(), f"{tier} kept no coverage data"
        assert (project / env["TEST_HEALTH_RECORD"]).exists(), f"{tier} wrote no health record"
    # Only the e2e tier's server process places orders: its lines are in the e2e data.
    assert _placing_an_order_is_covered(project / tier_env["e2e"]["COVERAGE_FILE"])


def _placing_an_order_is_covered(data_file: Path) -> bool:
    orders = data_file.parent / "src" / "my_service" / "api" / "orders.py"
    (line,) = [
        n
        for n, text in enumerate(orders.read_text().splitlines(), 1)
        if "place_order(" in text and "def " not in text
    ]
    data = CoverageData(str(data_file))
    data.read()
    return line in (data.lines(str(orders)) or ())


def _here(value: str) -> str:
    """A step's env value with the job's matrix expressions as on one local job."""
    return GITHUB_EXPRESSION.sub("local", str(value))


@pytest.mark.slow
def test_a_planted_secret_in_a_cassette_fails_the_run(render, service_urls, tmp_path) -> None:
    project = render(default_variant())
    cassette = next((project / "tests" / "integration" / "cassettes").glob("**/*.yaml"))
    cassette.write_text(cassette.read_text().replace("REDACTED", "Bearer sk_live_51HxYzAbCdEfGhIj"))
    # The files that read cassettes: only the secret check fails, the replays pass.
    readers = [
        str(path.relative_to(project))
        for path in sorted((project / "tests" / "integration").rglob("test_*.py"))
        if any(word in path.read_text() for word in ("cassette", "vcr"))
    ]
    assert len(readers) >= 3, readers
    result = run_suite(project, env=service_urls, junit=tmp_path / "j.xml", args=tuple(readers))
    assert result.returncode == 1
    assert result.counts()["failures"] == 1
    assert "FAILED tests/integration/test_cassettes.py::test_no_cassette_holds_a_secret" in (
        result.output
    )


# Appends the fixtures' values of the tier it runs in to PROBE_FILE.
PROBE = """import json
import os


def test_probe(db_url: str, redis_url: str) -> None:
    with open(os.environ["PROBE_FILE"], "a") as out:
        out.write(json.dumps([__name__, db_url, redis_url]) + "\\n")
"""


@pytest.mark.slow
@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_the_e2e_tier_has_a_database_and_namespace_of_its_own(
    render, service_urls, tmp_path, database
) -> None:
    """The live servers run between other tiers' tests: they must share no state with them."""
    project = render(default_variant(), database=database)
    probes = [Path("tests") / tier / "test_probe.py" for tier in ("integration", "e2e")]
    for probe in probes:
        (project / probe).write_text(PROBE)
    seen = tmp_path / "seen.jsonl"
    result = run_suite(
        project,
        env={**service_urls, "PROBE_FILE": str(seen)},
        junit=tmp_path / "j.xml",
        args=("-p", "no:randomly", *map(str, probes)),
    )
    assert_suite_passed(result, tiers=["integration", "e2e"])
    (integration, integration_db, integration_redis), (e2e, e2e_db, e2e_redis) = map(
        json.loads, seen.read_text().splitlines()
    )
    assert (integration, e2e) == ("tests.integration.test_probe", "tests.e2e.test_probe")
    assert e2e_db != integration_db, "the live servers share the other tiers' database"
    assert e2e_redis != integration_redis, "the live servers share the other tiers' namespace"
