"""Runs after the article's tests: none of their data may be left."""

from sqlalchemy import func, select

from my_service.db import Base


async def test_nothing_survives_the_earlier_tests(db_session):
    counts = {
        table.name: await db_session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }
    assert counts == dict.fromkeys(counts, 0)
