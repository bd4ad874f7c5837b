"""The error answers routes declare in the OpenAPI document: `{"detail": "..."}`."""

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel

# An id in a path: a row's primary key, so within the database's INTEGER.
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

MEANINGS = {
    401: "No valid API token",
    402: "The payment was declined",
    404: "Not found, or not yours",
    409: "It exists already",
    502: "The payment provider failed; nothing is known of the charge",
    503: "A dependency is not configured",
    504: "The payment provider did not answer in time",
}


class ErrorOut(BaseModel):
    detail: str


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can answer with these error codes."""
    return {code: {"model": ErrorOut, "description": MEANINGS[code]} for code in codes}
