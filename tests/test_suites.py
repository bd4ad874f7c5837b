"""Each distinct generated suite passes against real PostgreSQL and Redis."""

import pytest

from tests.checks import SuiteRun, assert_suite_passed, leftovers, run_suite
from tests.variants import Variant, suite_variants


@pytest.mark.slow
@pytest.mark.parametrize("variant", suite_variants(), ids=lambda v: v.id)
def test_generated_suite_passes(variant: Variant, render, service_urls, tmp_path) -> None:
    project = render(variant)
    result = run_suite(project, env=service_urls, junit=tmp_path / "junit.xml")
    assert_suite_passed(result, tiers=variant["tiers"])
    assert leftovers(project) == []


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
