"""The generated project's test-health report, drawn by a real browser.

A run of the project writes its record; `uv run test-health --html` (the
README's command) writes the HTML report, which headless Chromium opens and
screenshots: the test finds each chart's bars and limit lines in the pixels.
The Markdown the CI job summary gets is drawn by Mermaid, in Chromium too.
"""

import json
import re

import pytest
from PIL import Image

from tests.browser import dom_after_scripts, screenshot
from tests.checks import assert_suite_passed, project_environment, run, run_suite
from tests.variants import ROOT, default_variant

MERMAID = ROOT / "tests" / "workflow_lint" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
# The report's colours (health_report.py): bars, limit lines, the plot area behind them.
BAR, LIMIT, PLOT = (0x2F, 0x6D, 0xB5), (0xD6, 0x45, 0x2C), (0xEE, 0xF3, 0xFA)
# One test file per tier: enough for a record of every tier, in seconds.
TESTS = ("tests/unit/test_app.py", "tests/integration/test_db.py", "tests/e2e/test_users.py")
# A history as a team's runs leave it (one JSON line per run): flaky tests in two runs.
EARLIER_RUNS = [(30, 0), (30, 2), (30, 0), (30, 1), (30, 0)]  # under flaky_min_history


def rows_with(image: Image.Image, colour: tuple[int, int, int], *, tolerance: int = 0) -> list[int]:
    """The pixel rows that hold `colour` (within `tolerance`, for antialiasing) at least twice."""
    pixels = image.load()
    width, height = image.size
    found = []
    for y in range(height):
        hits = sum(
            1
            for x in range(width)
            if sum(abs(a - b) for a, b in zip(pixels[x, y], colour, strict=True)) <= tolerance
        )
        if hits >= 2:
            found.append(y)
    return found


def bands(rows: list[int], *, gap: int = 60) -> list[tuple[int, int]]:
    """`rows` grouped into (first, last) bands: a gap of more than `gap` rows starts a new one."""
    grouped: list[tuple[int, int]] = []
    for y in rows:
        if grouped and y - grouped[-1][1] <= gap:
            grouped[-1] = (grouped[-1][0], y)
        else:
            grouped.append((y, y))
    return grouped


def bars_in_row(image: Image.Image, y: int) -> int:
    """How many separate runs of the bar colour cross row `y`."""
    pixels = image.load()
    runs, inside = 0, False
    for x in range(image.size[0]):
        hit = pixels[x, y] == BAR
        runs += hit and not inside
        inside = hit
    return runs


@pytest.mark.slow
def test_the_health_report_draws_its_charts_in_a_browser(render, service_urls, tmp_path) -> None:
    project = render(default_variant())
    history = project / ".flaky-history.jsonl"
    history.write_text(
        "".join(
            json.dumps({"finished": f"2026-11-0{n}T10:00:00+00:00", "tests": tests,
                        "flaky": [f"tests/integration/test_db.py::test_{i}" for i in range(flaky)]})
            + "\n"
            for n, (tests, flaky) in enumerate(EARLIER_RUNS, 1)
        )
    )  # fmt: skip
    result = run_suite(project, env=service_urls, junit=tmp_path / "junit.xml", args=TESTS)
    assert_suite_passed(result, tiers=["unit", "integration", "e2e"])

    report = run(
        ["uv", "run", "test-health", "--html", "test-health.html"],
        project,
        env=project_environment(),
    )
    assert report.returncode == 0, report.stdout + report.stderr
    page = project / "test-health.html"

    png = tmp_path / "test-health.png"
    screenshot(page, png, width=900, height=1500)
    image = Image.open(png).convert("RGB")
    plots = bands(rows_with(image, PLOT), gap=5)
    # Wall time per tier; the slowest tests with their budget line; the flaky
    # share of the six runs with the threshold line.
    assert len(plots) == 3, f"plot areas at rows {plots}; see {png}"
    slowest = len(json.loads((project / ".test-health.json").read_text())["slowest"])
    bars = [bars_in_row(image, bottom - 1) for _, bottom in plots]
    assert bars == [3, slowest, 2], f"bars per chart; see {png}"
    limit_rows = rows_with(image, LIMIT, tolerance=60)
    limits = [any(top <= y <= bottom for y in limit_rows) for top, bottom in plots]
    assert limits == [False, True, True], f"limit lines; see {png}"


@pytest.mark.slow
def test_the_job_summary_charts_are_valid_mermaid(render, service_urls, tmp_path) -> None:
    # The charts the CI health job writes to its summary, from records as each tier's job
    # writes them (TEST_HEALTH_RECORD), drawn by Mermaid as GitHub draws them.
    project = render(default_variant())
    for tier, test in zip(("unit", "integration", "e2e"), TESTS, strict=True):
        env = {**service_urls, "TEST_HEALTH_RECORD": f".test-health.{tier}.py3.11.json"}
        result = run_suite(project, env=env, junit=tmp_path / f"{tier}.xml", args=(test,))
        assert_suite_passed(result, tiers=[tier])
    report = run(["uv", "run", "test-health"], project, env=project_environment())
    assert report.returncode == 0, report.stdout + report.stderr
    blocks = re.findall(r"```mermaid\n(.*?)```", report.stdout, re.S)
    assert len(blocks) == 4, report.stdout  # wall time, slowest, flaky share of two tiers

    page = tmp_path / "mermaid.html"
    page.write_text(
        f"<!doctype html><html><body>{''.join(f'<pre class=mermaid>{b}</pre>' for b in blocks)}"
        f'<script src="{MERMAID.as_uri()}"></script>'
        "<script>mermaid.initialize({startOnLoad: true});</script></body></html>"
    )
    dom = dom_after_scripts(page)
    assert dom.count('aria-roledescription="xychart"') == len(blocks), dom[-3000:]
    assert "Syntax error" not in dom, dom[-3000:]
