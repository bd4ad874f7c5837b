"""The GitHub Actions job summary: a Markdown file that each report appends its section to."""

import os
from collections.abc import Sequence


def append_to_job_summary(markdown: str) -> None:
    """Append `markdown` to $GITHUB_STEP_SUMMARY when it is set (in GitHub Actions)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown)


def table(header: tuple[str, ...], align: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """A Markdown table; `align` holds "---:" or "---" per column; `|` in cells is escaped."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "&#124;") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
