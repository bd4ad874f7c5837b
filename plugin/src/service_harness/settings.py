"""One way to read every setting: command-line option, then environment, then ini, then default.

The run's header names the source that won, so a surprising value is never a mystery.
"""

import os
from dataclasses import dataclass

import pytest

GROUP = "service-harness"
GROUP_DESCRIPTION = "service harness: servers, tiers, retries and time budgets"


@dataclass(frozen=True, kw_only=True)
class Setting:
    """A setting that an option, an environment variable or an ini key may give."""

    ini: str
    help: str
    option: str | None = None
    env: str | None = None
    default: str | None = None

    @property
    def dest(self) -> str:
        return (self.option or f"--{self.ini}").lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Resolved:
    value: str | None
    source: str


def add_setting(parser: pytest.Parser, setting: Setting, **option: object) -> None:
    """Register `setting`'s option (in the harness's --help group) and its ini key."""
    where = f" (env: {setting.env})" if setting.env else ""
    default = f" (default: {setting.default})" if setting.default is not None else ""
    if setting.option:
        parser.getgroup(GROUP, GROUP_DESCRIPTION).addoption(
            setting.option, dest=setting.dest, default=None, help=f"{setting.help}{where}", **option
        )
    # No ini default: an unset key reads "", so the header can tell it from a set one.
    parser.addini(setting.ini, f"{setting.help}{default}")


def resolve(config: pytest.Config, setting: Setting) -> Resolved:
    """The value of `setting` and where it came from: option, environment, ini, default."""
    candidates: list[tuple[object, str]] = []
    if setting.option:
        candidates.append((config.getoption(setting.dest), setting.option))
    if setting.env:
        candidates.append((os.environ.get(setting.env), setting.env))
    candidates.append((config.getini(setting.ini), f"{setting.ini} in [tool.pytest.ini_options]"))
    for value, source in candidates:
        if value not in (None, ""):
            return Resolved(str(value), source)
    return Resolved(setting.default, "default")


def resolve_choice(config: pytest.Config, setting: Setting, choices: tuple[str, ...]) -> Resolved:
    """resolve(), refusing a value outside `choices` with a message that names its source."""
    resolved = resolve(config, setting)
    if resolved.value not in choices:
        raise pytest.UsageError(
            f"{resolved.source}={resolved.value!r} is not one of {', '.join(choices)}"
        )
    return resolved


def resolve_number(config: pytest.Config, setting: Setting, *, whole: bool = False) -> float:
    """resolve() as a number of 0 or more, or a UsageError that names the source."""
    resolved = resolve(config, setting)
    try:
        number = int(resolved.value or "") if whole else float(resolved.value or "")
    except ValueError:
        number = -1
    if number < 0:
        kind = "a whole number, 0 or more" if whole else "a number, 0 or more"
        raise pytest.UsageError(f"{resolved.source}={resolved.value!r}: must be {kind}")
    return number
