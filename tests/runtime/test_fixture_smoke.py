from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase


@pytest.mark.asyncio
async def test_database_fixture_gives_a_fresh_empty_database(database: TestDatabase) -> None:
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert tables == []
            one = (await conn.execute(text("SELECT 1"))).scalar_one()
            assert one == 1
    finally:
        await engine.dispose()
