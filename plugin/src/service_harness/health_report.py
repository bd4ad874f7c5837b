"""`test-health`: charts of the test-health records that runs write (see health.py).

Three kinds of chart: wall time per tier, the slowest tests as a share of their
time budget, and the flaky share of each recorded history, run by run.
Printed as Markdown with Mermaid charts, which GitHub renders (and appended to
the job summary in GitHub Actions); `--html FILE` writes the same charts as a
self-contained HTML file: inline SVG, nothing fetched, to open in any browser.
"""

import argparse
import html
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service_harness.budgets import SLOWEST
from service_harness.health import Record, SlowTest, read_record
from service_harness.summary import append_to_job_summary, table

PREFIX, SUFFIX = ".test-health", ".json"
BAR_COLOUR, LINE_COLOUR, PLOT_COLOUR = "#2f6db5", "#d6452c", "#eef3fa"


@dataclass(frozen=True, kw_only=True)
class Chart:
    """Bars with an optional line of limits (a budget, a threshold) drawn over them."""

    title: str
    y_label: str
    labels: list[str]
    bars: list[float]
    limits: list[float] | None = None

    @property
    def top(self) -> float:
        highest = max([*self.bars, *(self.limits or [])], default=0.0)
        return round(highest * 1.15, 2) or 1.0


def record_name(path: Path) -> str:
    """`integration.py3.11` for `.test-health.integration.py3.11.json`; "" for the default."""
    if path.name.startswith(PREFIX) and path.name.endswith(SUFFIX):
        return path.name.removeprefix(PREFIX).removesuffix(SUFFIX).strip(".")
    return path.stem


def tier_label(name: str, tier: str) -> str:
    if not name:
        return tier
    return name if name.split(".")[0] == tier else f"{tier} {name}"


def charts(records: dict[str, Record]) -> list[Chart]:
    """The report's charts for `records` by name."""
    walls = [
        (tier_label(name, tier), seconds)
        for name, record in records.items()
        for tier, seconds in record["tiers"].items()
    ]
    found = [
        Chart(
            title="Wall time per tier",
            y_label="seconds",
            labels=[label for label, _ in walls],
            bars=[round(seconds, 2) for _, seconds in walls],
        )
    ]
    slowest = slowest_tests(records)
    if slowest:
        found.append(
            Chart(
                title="Slowest tests against their budget (line: the budget)",
                y_label="% of budget",
                labels=[f"{n}. {short_name(slow['test'])}" for n, slow in enumerate(slowest, 1)],
                bars=[round(100 * slow["seconds"] / slow["budget"], 2) for slow in slowest],
                limits=[100.0] * len(slowest),
            )
        )
    for name, record in records.items():
        history = record["flaky_history"]
        if history:
            found.append(
                Chart(
                    title=f"Flaky share run by run{f', {name}' if name else ''} "
                    "(line: the threshold)",
                    y_label="% passed on a retry",
                    labels=[str(n) for n in range(1, len(history) + 1)],
                    bars=[
                        round(100 * len(run["flaky"]) / max(run["tests"], 1), 2) for run in history
                    ],
                    limits=[record["flaky_threshold"]] * len(history),
                )
            )
    return found


def short_name(nodeid: str) -> str:
    name = nodeid.rsplit("::", 1)[-1]
    return name if len(name) <= 20 else name[:19] + "…"


def slowest_tests(records: dict[str, Record]) -> list[SlowTest]:
    """The slowest tests over all `records`, as many as one record holds."""
    every = [slow for record in records.values() for slow in record["slowest"]]
    return sorted(every, key=lambda slow: slow["seconds"], reverse=True)[:SLOWEST]


def slowest_rows(records: dict[str, Record]) -> list[tuple[str, ...]]:
    slowest = slowest_tests(records)
    return [
        (str(n), f"{slow['seconds']:.2f}", f"{slow['budget']:g}", f"`{slow['test']}`")
        for n, slow in enumerate(slowest, 1)
    ]


def mermaid(chart: Chart) -> str:
    """`chart` as a Mermaid xychart (GitHub renders ```mermaid blocks)."""

    def text(value: str) -> str:
        return '"' + value.replace('"', "'") + '"'

    lines = [
        "```mermaid",
        "xychart-beta",
        f"    title {text(chart.title)}",
        f"    x-axis [{', '.join(text(label) for label in chart.labels)}]",
        f"    y-axis {text(chart.y_label)} 0 --> {chart.top:g}",
        f"    bar [{', '.join(f'{bar:g}' for bar in chart.bars)}]",
    ]
    if chart.limits:
        lines.append(f"    line [{', '.join(f'{limit:g}' for limit in chart.limits)}]")
    return "\n".join([*lines, "```"])


def markdown(records: dict[str, Record]) -> str:
    parts = ["### Test health", ""]
    for chart in charts(records):
        parts += [mermaid(chart), ""]
    rows = slowest_rows(records)
    if rows:
        header = ("#", "seconds", "budget", "test")
        parts += [table(header, ("---:", "---:", "---:", "---"), rows), ""]
    return "\n".join(parts) + "\n"


def svg(chart: Chart, *, width: int = 760, height: int = 340) -> str:
    """`chart` as an SVG drawing: bars, the line of limits, a y axis with five gridlines."""
    left, right, top, bottom = 64, 130, 36, 120
    plot_width, plot_height = width - left - right, height - top - bottom

    def y(value: float) -> float:
        return top + plot_height * (1 - value / chart.top)

    slot = plot_width / max(len(chart.bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(chart.title)}">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" class="title">'
        f"{html.escape(chart.title)}</text>",
        f'<text transform="translate(14 {top + plot_height / 2}) rotate(-90)" '
        f'text-anchor="middle">{html.escape(chart.y_label)}</text>',
    ]
    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_width}" height="{plot_height}" '
        f'fill="{PLOT_COLOUR}"/>'
    )
    for step in range(6):
        value = chart.top * step / 5
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{value:.3g}</text>"
        )
    for index, (label, bar) in enumerate(zip(chart.labels, chart.bars, strict=True)):
        x = left + slot * index
        # A value above zero stays visible next to one a thousand times larger.
        drawn = max(top + plot_height - y(bar), 3.0 if bar > 0 else 0.0)
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_height - drawn:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{drawn:.1f}" fill="{BAR_COLOUR}">'
            f"<title>{html.escape(label)}: {bar:g}</title></rect>"
        )
        middle = x + slot / 2
        parts.append(
            f'<text transform="translate({middle:.1f} {top + plot_height + 12}) rotate(35)">'
            f"{html.escape(label)}</text>"
        )
    if chart.limits:
        points = " ".join(
            f"{left + slot * (index + 0.5):.1f},{y(limit):.1f}"
            for index, limit in enumerate(chart.limits)
        )
        if len(chart.limits) == 1:  # one point draws no line: span the slot instead
            points = (
                f"{left:.1f},{y(chart.limits[0]):.1f} {left + slot:.1f},{y(chart.limits[0]):.1f}"
            )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{LINE_COLOUR}" stroke-width="3"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


STYLE = """
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
svg text { font-size: 12px; fill: #333; }
svg text.title { font-size: 15px; font-weight: 600; }
svg line.grid { stroke: #ddd; }
svg rect { shape-rendering: crispEdges; }
table { border-collapse: collapse; margin: 12px 0 28px; }
td, th { border: 1px solid #ccc; padding: 3px 8px; }
td:nth-child(-n+3) { text-align: right; }
"""


def html_page(records: dict[str, Record]) -> str:
    """The report as one HTML file that needs nothing else."""
    names = ", ".join(sorted(name or "this project" for name in records))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Test health</title>',
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Test health</h1><p>Records: {html.escape(names)}.</p>",
    ]
    parts += [f"<figure>{svg(chart)}</figure>" for chart in charts(records)]
    rows = slowest_rows(records)
    if rows:
        parts.append("<table><tr><th>#</th><th>seconds</th><th>budget</th><th>test</th></tr>")
        parts += [
            "<tr>" + "".join(f"<td>{html.escape(cell.strip('`'))}</td>" for cell in row) + "</tr>"
            for row in rows
        ]
        parts.append("</table>")
    return "\n".join([*parts, "</body></html>\n"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="test-health", description=__doc__.splitlines()[0])
    parser.add_argument(
        "records",
        nargs="*",
        type=Path,
        help=f"record files (default: every {PREFIX}*{SUFFIX} here)",
    )
    parser.add_argument("--html", type=Path, help="write the report to this HTML file as well")
    args = parser.parse_args(argv)
    paths = args.records or sorted(Path().glob(f"{PREFIX}*{SUFFIX}"))
    if not paths:
        print(f"no {PREFIX}*{SUFFIX} record here: run the tests first (pytest writes one)")
        return 1
    try:
        records = {record_name(path): read_record(path) for path in paths}
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    report = markdown(records)
    print(report)
    append_to_job_summary(report)
    if args.html:
        args.html.write_text(html_page(records), encoding="utf-8")
        print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
