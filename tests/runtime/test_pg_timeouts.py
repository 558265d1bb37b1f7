"""PostgreSQL: a migration blocked behind the application's lock fails fast with a
clear message, instead of queueing the application's traffic behind it."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import Rev, snapshot, table_rev, write_project
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import provision
from whimbrel import command
from whimbrel.errors import MigrationStepError


@pytest.mark.asyncio
async def test_lock_timeout_fails_fast(tmp_path: Path) -> None:
    async for database in provision("postgresql", tmp_path):
        revs = [
            table_rev("p1", None, "t_busy"),
            Rev("p2", "p1", up=("ALTER TABLE t_busy ADD COLUMN note VARCHAR(20)",)),
        ]
        cfg = write_project(tmp_path / "proj", database.url, revs, lock_timeout=0.3)
        await command.upgrade(cfg, "p1")
        engine = create_async_engine(database.url)
        try:
            async with engine.connect() as app:
                await app.begin()
                await app.execute(text("SELECT * FROM t_busy"))  # ACCESS SHARE, held
                with pytest.raises(MigrationStepError) as info:
                    await command.upgrade(cfg)
                await app.rollback()
        finally:
            await engine.dispose()
        message = str(info.value)
        assert "lock timeout" in message
        assert "ALTER TABLE t_busy ADD COLUMN note" in message
        assert "raise statement_timeout/lock_timeout" in message
        assert (await snapshot(database.url, cfg))["heads"] == ["p1"]
        # Once the table is free, the same upgrade goes through.
        await command.upgrade(cfg)
        assert (await snapshot(database.url, cfg))["heads"] == ["p2"]
