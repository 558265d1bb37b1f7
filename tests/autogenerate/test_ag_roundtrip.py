"""Autogenerate on each database: generate, upgrade, check clean, downgrade restores.

The models change in every way autogenerate detects (``agmodels``). Each step
writes a real revision file through ``autogenerate_revision``, lints it, runs it
with ``command.upgrade`` and compares again: nothing may be left. The downgrade must
give back exactly the schema reflected before the upgrade.
"""

from __future__ import annotations

from pathlib import Path

import agmodels
import pytest
from agsupport import lint, project, snapshot

from databases import TestDatabase
from whimbrel import command
from whimbrel.autogenerate import autogenerate_revision, check

pytestmark = pytest.mark.asyncio


async def test_every_change_round_trips(database: TestDatabase, tmp_path: Path) -> None:
    dialect = database.dialect
    cfg = project(tmp_path, database.url)
    empty = await snapshot(database.url)

    first = await autogenerate_revision(
        cfg, message="create the app", metadata=agmodels.base(dialect), rev_id="a1"
    )
    lint(first.path)
    assert {d.kind for d in first.diffs} == {"add_table", "add_index"} | (
        {"add_enum"} if dialect == "postgresql" else set()
    )
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=agmodels.base(dialect))).ok
    before = await snapshot(database.url)

    second = await autogenerate_revision(
        cfg,
        message="every kind of change",
        metadata=agmodels.target(dialect),
        renames=agmodels.RENAMES,
        rev_id="b2",
    )
    lint(second.path)
    kinds = {d.kind for d in second.diffs}
    expected = {
        "add_table",
        "remove_table",
        "rename_table",
        "add_column",
        "remove_column",
        "rename_column",
        "modify_type",
        "modify_nullable",
        "modify_default",
        "add_index",
        "remove_index",
        "add_unique",
        "remove_unique",
        "add_foreign_key",
        "remove_foreign_key",
        "add_check",
        "remove_check",
    }
    if dialect != "sqlite":
        expected |= {"modify_comment", "modify_table_comment"}
    if dialect == "postgresql":
        expected |= {"add_enum", "add_enum_value"}
    assert expected <= kinds, expected - kinds
    destructive = set(second.destructive)
    assert any("remove table old_stuff" in m for m in destructive)
    assert any("remove column users.legacy" in m for m in destructive)
    assert any("users.bio" in m and "may lose data" in m for m in destructive)
    assert not any("users.score" in m and "type" in m for m in destructive)
    assert {str(r) for r in second.renames} == {
        "users.fullname → users.full_name",
        "tags → labels",
    }
    text = second.path.read_text()
    assert "WARNING: drops table old_stuff and the data in it" in text
    if dialect == "sqlite":
        assert 'with op.batch_alter_table("users") as batch_op:' in text

    await command.upgrade(cfg)
    after = await check(cfg, metadata=agmodels.target(dialect))
    assert after.ok, after.messages

    await command.downgrade(cfg, "a1")
    assert await snapshot(database.url) == before
    assert (await check(cfg, metadata=agmodels.base(dialect), require_head=False)).ok

    await command.downgrade(cfg, "base")
    assert await snapshot(database.url) == empty
