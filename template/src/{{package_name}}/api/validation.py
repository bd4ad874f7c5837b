"""Constraints on text that reaches the database, shared by the request models."""

from typing import Annotated

from pydantic import AfterValidator


def storable(value: str) -> str:
    """Refuse text that the database cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


StorableText = Annotated[str, AfterValidator(storable)]
