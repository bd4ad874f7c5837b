"""The API contract: the app's OpenAPI document is the accepted one, and every request the
document allows gets an answer the document describes (schemathesis), never a 5xx."""

import difflib
import json

import pytest
import schemathesis
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
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
