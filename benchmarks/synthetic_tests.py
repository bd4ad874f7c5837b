"""Synthetic integration tests: each writes ROWS users and commits, under one strategy."""

import pytest
from sqlalchemy import insert

from {package}.models import User

ROWS = 5
{marks}

def rows(tag: str, n: int) -> list[dict]:
    return [
        {{"name": f"{{tag}} {{n}}.{{i}}", "email": f"{{tag}}-{{n}}-{{i}}@example.com", "api_token": f"{{tag}}-{{n}}-{{i}}"}}
        for i in range(ROWS)
    ]


@pytest.mark.parametrize("n", range({count}))
def test_{strategy}(n, {fixture}):
    {fixture}.execute(insert(User), rows("{strategy}", n))
    {fixture}.commit()
