"""Print what to do after `copier copy`. Standard library only."""

import sys
from pathlib import Path


def main(destination: str) -> None:
    folder = Path(destination).resolve()
    print(
        f"""
Your service is ready in {folder}

Next steps:
  cd {folder}
  uv run pytest              # every tier; see README.md for where the servers come from
  uv run pytest tests/unit   # one tier
""".rstrip()
    )


if __name__ == "__main__":
    main(sys.argv[1])
