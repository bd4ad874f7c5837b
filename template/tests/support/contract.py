"""The API contract: the OpenAPI document the team accepted, and property-based tests of it.

`--accept-api` writes the app's current document over the accepted one: a
change to the API is accepted on purpose, in a commit, never by accident.
Property-based tests draw requests from that document with schemathesis; the
"ci" Hypothesis profile (the default) makes them few and repeatable, and
`--hypothesis-profile=deep` draws many more, at random.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

ACCEPTED_OPENAPI = Path(__file__).resolve().parents[1] / "integration" / "api" / "openapi.yaml"

# A test's client and database are set up once for all of its examples, on purpose.
_SHARED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile(
    "ci",
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_SHARED,
)
settings.register_profile("deep", max_examples=500, deadline=None, suppress_health_check=_SHARED)
settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("contract", "API contract").addoption(
        "--accept-api",
        action="store_true",
        help=f"Accept the app's OpenAPI document as it is now (writes {ACCEPTED_OPENAPI.name}).",
    )


def accepted_openapi() -> dict[str, Any]:
    """The OpenAPI document the team accepted."""
    document: dict[str, Any] = yaml.safe_load(ACCEPTED_OPENAPI.read_text())
    return document


class _Indented(yaml.SafeDumper):
    """The shipped document's style: lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, indentless=False)


def accept_openapi(document: dict[str, Any]) -> None:
    text = yaml.dump(document, Dumper=_Indented, sort_keys=True, allow_unicode=True, width=10**9)
    ACCEPTED_OPENAPI.write_text(text)
