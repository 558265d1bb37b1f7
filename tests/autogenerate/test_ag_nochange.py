"""No false positives: a schema made from the models compares equal to them.

The realistic schema has server defaults of every spelling, an enum, expression and
partial indexes, composite keys, foreign keys with options, a self-reference,
comments, checks and a computed column.
"""

from __future__ import annotations

from pathlib import Path

import agmodels
import pytest
from agsupport import lint, project, snapshot
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase
from whimbrel import command
from whimbrel.autogenerate import AutogenerateOptions, autogenerate_revision, check
from whimbrel.errors import CommandError

pytestmark = pytest.mark.asyncio


async def test_create_all_then_check_finds_nothing(database: TestDatabase, tmp_path: Path) -> None:
    models = agmodels.realistic(database.dialect)
    engine = create_async_engine(database.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(models.create_all)
    finally:
        await engine.dispose()
    result = await check(project(tmp_path, database.url), metadata=models)
    assert result.ok, result.messages
    assert result.diffs == ()


async def test_generated_schema_checks_clean(database: TestDatabase, tmp_path: Path) -> None:
    models = agmodels.realistic(database.dialect)
    cfg = project(tmp_path, database.url)
    made = await autogenerate_revision(cfg, message="shop", metadata=models)
    lint(made.path)
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=models)).ok
    with pytest.raises(CommandError, match="no changes detected"):
        await autogenerate_revision(cfg, message="again", metadata=models)
    empty = await autogenerate_revision(cfg, message="empty", metadata=models, allow_empty=True)
    assert empty.diffs == ()
    assert "pass" in empty.path.read_text()
    await command.upgrade(cfg)
    await command.downgrade(cfg, "base")
    assert (await snapshot(database.url))["tables"] == {}


async def test_every_comparison_off_still_sees_tables(
    database: TestDatabase, tmp_path: Path
) -> None:
    models = agmodels.realistic(database.dialect)
    options = AutogenerateOptions(
        compare_type=False, compare_server_default=False, compare_comments=False
    )
    result = await check(project(tmp_path, database.url), metadata=models, options=options)
    assert not result.ok
    assert {d.kind for d in result.diffs} >= {"add_table"}
