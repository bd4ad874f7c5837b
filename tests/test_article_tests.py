"""Tests written against the article's fixture names run unchanged in a generated project."""

import shutil
from pathlib import Path

import pytest

from tests.checks import assert_suite_passed, run_suite
from tests.variants import fullest_variant

DATA = Path(__file__).parent / "data"
# The article's tests as it wrote them (sync), and as an async project writes them.
ARTICLE_TESTS = {"sync": DATA / "article_tests", "async": DATA / "article_tests_async"}
ORDER = ["test_user_api.py", "test_order_events.py", "test_after_article_tests.py"]


@pytest.mark.slow
@pytest.mark.parametrize("style", ARTICLE_TESTS)
def test_article_tests_pass_and_leave_nothing_behind(
    style: str, render, service_urls, tmp_path
) -> None:
    project = render(fullest_variant(style))
    integration = project / "tests" / "integration"
    for name in ORDER:
        shutil.copy(ARTICLE_TESTS[style] / name, integration / name)

    paths = [f"tests/integration/{name}" for name in ORDER]
    result = run_suite(
        project,
        env=service_urls,
        junit=tmp_path / "junit.xml",
        args=(*paths, "-v", "-p", "no:randomly"),
    )

    assert_suite_passed(result, tiers=["integration"])
    assert result.counts()["tests"] == 7
    # In the given order: the emptiness check runs last.
    assert result.output.index("test_inventory_updates_on_order") < result.output.index(
        "test_nothing_survives_the_earlier_tests"
    )
