"""Page-number pagination shared by list endpoints."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

MAX_PER_PAGE = 100
# Far past any real data, and small enough that the offset fits the database's integers.
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="items per page")] = 20,
) -> PageRequest:
    """FastAPI dependency: the validated `?page=&per_page=` of a list request."""
    return PageRequest(page=page, per_page=per_page)
