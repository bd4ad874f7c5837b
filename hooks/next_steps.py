"""Print what to do after `copier copy`. Standard library only.

Copier runs it in the new project's folder with four arguments: the
destination as the user typed it (relative to where they typed it), the tiers,
and the servers the project's tests use (each a comma-separated list, maybe empty).
"""

import shlex
import sys
from pathlib import Path


def next_steps(destination: str, tiers: list[str], servers: list[str]) -> str:
    steps: list[tuple[str, str]] = []
    if Path(destination) != Path("."):
        steps.append((f"cd {shlex.quote(destination)}", ""))
    if servers:
        steps.append(("uv run pytest", f"every tier; it finds or starts {' and '.join(servers)}"))
        steps.append(("", "itself: README.md says how"))
    else:
        steps.append(("uv run pytest", "every tier; the database is a SQLite file per run"))
    if len(tiers) > 1:
        steps += [(f"uv run pytest tests/{tier}", "one tier") for tier in tiers]
    width = max(len(command) for command, _ in steps)
    lines = ["", f"Your service is ready in {Path.cwd()}", "", "Next steps:"]
    lines += [f"  {command:{width}}  # {why}".rstrip(" #") for command, why in steps]
    return "\n".join(lines)


def main(destination: str, tiers: str, *servers: str) -> None:
    print(next_steps(destination, tiers.split(","), [name for name in servers if name]))


if __name__ == "__main__":
    main(*sys.argv[1:])
