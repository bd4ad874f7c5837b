"""The API contract: the app's OpenAPI document is the accepted one, and every request the
document allows gets an answer the document describes (schemathesis), never a 5xx."""

import difflib
import json
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from tests.support.contract import ACCEPTED_OPENAPI, accept_openapi, accepted_openapi

SCHEMA = schemathesis.openapi.from_dict(accepted_openapi())
OPERATIONS = [
    (method.upper(), path)
    for path, operations in accepted_openapi()["paths"].items()
    for method in operations
]


def test_the_openapi_document_is_the_accepted_one(
    app: FastAPI, pytestconfig: pytest.Config
) -> None:
    current = json.loads(json.dumps(app.openapi()))  # as a client reads it
    if pytestconfig.getoption("accept_api"):
        accept_openapi(current)
    accepted = accepted_openapi()
    if current != accepted:
        diff = difflib.unified_diff(
            yaml.safe_dump(accepted, sort_keys=True).splitlines(),
            yaml.safe_dump(current, sort_keys=True).splitlines(),
            "accepted",
            "the app now",
            lineterm="",
        )
        pytest.fail(
            "The API differs from the accepted OpenAPI document:\n"
            + "\n".join(diff)
            + f"\nIf the change is intended, accept it and commit {ACCEPTED_OPENAPI.name}:\n"
            f"  uv run pytest {__file__.split('tests/', 1)[-1].join(['tests/', ''])} --accept-api",
            pytrace=False,
        )


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@given(data=st.data())
def test_every_request_the_document_allows_gets_a_documented_answer(
    method: str, path: str, data: st.DataObject, client: TestClient
) -> None:
    case = data.draw(SCHEMA[path][method].as_strategy())
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    del request["cookies"]  # the API reads none, and the client keeps its own
    response = client.request(**request)
    # The document cannot say all the API checks (a deliverable e-mail domain, text
    # without NUL), so a 422 for a request it allows is fine; a 5xx or an answer it
    # does not describe is not.
    case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])


# Text that databases and drivers choke on: NUL, a lone surrogate, an SQL fragment,
# right-to-left and wide characters, and far more than a column holds.
TROUBLESOME = ["\x00", "a\x00b", "\ud800", "' OR '1'='1", "\u202e\u0645\u0631\u062d", "𝕏" * 300]


def string_leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Where the strings are in a JSON document."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in string_leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in string_leaves(item, (*path, i))]
    return []


def utf8_quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def replaced(value: Any, path: tuple[str | int, ...], text: str) -> Any:
    """`value` with the string at `path` replaced by `text`."""
    if not path:
        return text
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], text)
    return copy


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@settings(max_examples=1, phases=[Phase.generate])  # one request each, not shrunk
@given(data=st.data())
def test_troublesome_text_in_any_text_field_is_never_a_5xx(
    method: str, path: str, data: st.DataObject, client: TestClient
) -> None:
    """Each string of a request the document allows, replaced in turn by text that
    databases choke on: the answer may refuse it (422), never fail on it (5xx)."""
    case = data.draw(SCHEMA[path][method].as_strategy())
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    del request["cookies"]
    # JSON with \u escapes, as a client that sends them raw would; quoted UTF-8 in a path.
    variants = [
        {**request, "json": None, "content": json.dumps(replaced(request["json"], leaf, text))}
        for leaf in string_leaves(request.get("json"))
        for text in TROUBLESOME
    ]
    for value in (case.path_parameters or {}).values():
        if isinstance(value, str):
            quoted = quote(value, safe="")
            variants += [
                {**request, "url": request["url"].replace(quoted, utf8_quoted(text))}
                for text in TROUBLESOME
            ]
    for variant in variants:
        answer = client.request(**variant)
        assert answer.status_code < 500, f"{variant}: {answer.status_code} {answer.text}"
