"""`tier-coverage`: coverage per test tier and combined, from the data files of the runs.

Each run of a tier writes its data to `.coverage.<tier>` or `.coverage.<tier>.<anything>`
(COVERAGE_FILE): one file per CI job, say `.coverage.integration.py3.11`. This
combines them per tier and over all tiers into `.coverage`, prints a Markdown
report (to the job summary in GitHub Actions), and exits 2, as `coverage
report` does, when the combined figure is under `fail_under` of the project's
coverage settings.
"""

import argparse
import io
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from coverage import Coverage

from service_harness.summary import append_to_job_summary, table

PREFIX = ".coverage."


def tier_files(folder: Path) -> dict[str, list[Path]]:
    """The data files in `folder` by tier, the tier being the first part after `.coverage.`."""
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.glob(f"{PREFIX}*")):
        found[path.name.removeprefix(PREFIX).split(".")[0]].append(path)
    return dict(found)


def combined(data_file: Path, sources: list[Path]) -> tuple[Coverage, float]:
    """`sources` combined into `data_file` (the sources are kept); its total percentage."""
    coverage = Coverage(data_file=str(data_file))
    coverage.combine([str(path) for path in sources], keep=True)
    coverage.save()
    return coverage, coverage.report(file=io.StringIO())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tier-coverage", description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=".", type=Path)
    args = parser.parse_args(argv)
    files = tier_files(args.folder)
    if not files:
        print(f"no {PREFIX}<tier> data files in {args.folder}: run the tiers with --cov first")
        return 1
    scratch = args.folder / ".coverage-tier"
    rows = []
    for tier, paths in files.items():
        _, percent = combined(scratch, paths)
        rows.append((tier, f"{percent:.1f}%"))
    scratch.unlink(missing_ok=True)
    everything, total = combined(
        args.folder / ".coverage", [p for ps in files.values() for p in ps]
    )
    threshold = everything.get_option("report:fail_under")
    assert isinstance(threshold, int | float), threshold
    rows.append(("**combined**", f"**{total:.1f}%**"))
    details = io.StringIO()
    everything.report(file=details, output_format="markdown")
    verdict = "under" if total < threshold else "at or above"
    markdown = (
        "### Coverage\n\n"
        + table(("tier", "lines and branches"), ("---", "---:"), rows)
        + f"\n\nCombined {total:.1f}%, {verdict} the threshold of {threshold:g}% (fail_under).\n\n"
        + f"<details><summary>Per file</summary>\n\n{details.getvalue()}\n</details>\n"
    )
    print(markdown)
    append_to_job_summary(markdown)
    return 2 if total < threshold else 0


if __name__ == "__main__":
    sys.exit(main())
