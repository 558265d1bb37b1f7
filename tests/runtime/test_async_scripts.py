"""Async revision scripts (``async def upgrade(op)``): awaited on the step's
AsyncConnection in the same transaction, mixed freely with plain scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import Rev, snapshot, write_project
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase, provision
from whimbrel import command
from whimbrel.errors import MigrationStepError

pytestmark = pytest.mark.asyncio

ASYNC_HEADER = """
import sqlalchemy as sa

ITEMS = sa.Table(
    "items",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("upper_name", sa.String(50)),
)
"""


def _write_async(path: Path, rev_id: str, down: str, upgrade: str, downgrade: str) -> None:
    path.write_text(
        f'"""{rev_id}"""\n'
        f"{ASYNC_HEADER}\n"
        f"revision = {rev_id!r}\ndown_revision = {down!r}\n\n\n"
        f"async def upgrade(op):\n{upgrade}\n\n"
        f"async def downgrade(op):\n{downgrade}\n"
    )


FILL = (
    "    column = sa.Column('upper_name', sa.String(50))\n"
    "    await op.run_sync(lambda o: o.add_column('items', column))\n"
    "    done = await op.update_in_batches(ITEMS, {'upper_name': sa.func.upper(ITEMS.c.name)},"
    " batch_size=BATCH)\n"
    "    left = 'SELECT count(*) FROM items WHERE upper_name IS NULL'\n"
    "    rows = (await op.execute(left)).scalar()\n"
    "    assert rows == 0 and done == EXPECTED, (rows, done)\n"
)
EMPTY_DOWN = "    await op.run_sync(lambda o: o.drop_column('items', 'upper_name'))\n"


def _project(tmp_path: Path, url: str, seed_sql: str, expected: int, batch: int) -> Path:
    revs = [
        Rev(
            "a1",
            None,
            up=("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))", seed_sql),
            down_sql=("DROP TABLE items",),
        )
    ]
    cfg = write_project(tmp_path / "proj", url, revs)
    versions = cfg.script_location / "versions"
    _write_async(
        versions / "a2.py",
        "a2",
        "a1",
        f"    BATCH = {batch}\n    EXPECTED = {expected}\n" + FILL,
        EMPTY_DOWN,
    )
    # a plain script after the async one: they mix in one history
    (versions / "a3.py").write_text(
        '"""a3"""\nfrom whimbrel import op\n\nrevision = "a3"\ndown_revision = "a2"\n\n\n'
        "def upgrade() -> None:\n"
        "    op.execute(\"UPDATE items SET name = 'checked' WHERE upper_name IS NOT NULL\")\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    return cfg.script_location


async def test_sync_and_async_scripts_mix(database: TestDatabase, tmp_path: Path) -> None:
    seed = "INSERT INTO items (id, name) VALUES (1, 'apple'), (2, 'pear'), (3, 'fig')"
    location = _project(tmp_path, database.url, seed, expected=3, batch=2)
    from whimbrel.config import Config

    cfg = Config(script_location=location, url=database.url)
    result = await command.upgrade(cfg)
    assert [s.revision for s in result.steps] == ["a1", "a2", "a3"]
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT name, upper_name FROM items ORDER BY id"))
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("checked", "APPLE"),
        ("checked", "PEAR"),
        ("checked", "FIG"),
    ]
    await command.downgrade(cfg, "a1")
    assert (await snapshot(database.url, cfg))["heads"] == ["a1"]


async def test_hundred_thousand_rows_commit_and_roll_back_with_the_schema(tmp_path: Path) -> None:
    async for database in provision("postgresql", tmp_path):
        seed = (
            "INSERT INTO items (id, name) SELECT g, 'item ' || g FROM generate_series(1, 100000) g"
        )
        location = _project(tmp_path, database.url, seed, expected=100_000, batch=10_000)
        from whimbrel.config import Config

        cfg = Config(script_location=location, url=database.url)
        await command.upgrade(cfg, "a1")
        # A failing step after the async data migration: the column and the 100,000
        # updates go back with it.
        boom = location / "versions" / "a3.py"
        boom.write_text(
            boom.read_text().replace(
                "def upgrade() -> None:\n",
                "def upgrade() -> None:\n    raise RuntimeError('boom')\n",
            )
        )
        with pytest.raises(MigrationStepError, match="boom"):
            await command.upgrade(cfg)
        engine = create_async_engine(database.url)
        try:
            async with engine.connect() as conn:
                cols = (
                    (
                        await conn.execute(
                            text(
                                "SELECT column_name FROM information_schema.columns "
                                "WHERE table_name = 'items'"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            assert sorted(cols) == ["id", "name"]
            boom.write_text(boom.read_text().replace("    raise RuntimeError('boom')\n", ""))
            result = await command.upgrade(cfg, allow_changed=True)
            assert [s.revision for s in result.steps] == ["a2", "a3"]
            async with engine.connect() as conn:
                filled = (
                    await conn.execute(
                        text("SELECT count(*) FROM items WHERE upper_name LIKE 'ITEM %'")
                    )
                ).scalar()
            assert filled == 100_000
        finally:
            await engine.dispose()


PAGED = (
    "    seen = 0\n"
    "    async for rows in op.batches(sa.select(ITEMS.c.id, ITEMS.c.name), size=BATCH):\n"
    "        for row in rows:\n"
    "            await op.execute(\n"
    "                sa.update(ITEMS).where(ITEMS.c.id == row.id)"
    ".values(upper_name=row.name.upper())\n"
    "            )\n"
    "        seen += len(rows)\n"
    "    assert seen == EXPECTED, seen\n"
)
ALTER_AFTER = "    await op.execute('ALTER TABLE items ADD COLUMN note VARCHAR(10)')\n"


async def test_batches_allow_writes_and_a_later_alter(
    database: TestDatabase, tmp_path: Path
) -> None:
    seed = "INSERT INTO items (id, name) VALUES " + ", ".join(
        f"({i}, 'n{i}')" for i in range(1, 251)
    )
    revs = [
        Rev(
            "b1",
            None,
            up=(
                "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), "
                "upper_name VARCHAR(50))",
                seed,
            ),
        )
    ]
    cfg = write_project(tmp_path / "proj", database.url, revs)
    versions = cfg.script_location / "versions"
    _write_async(
        versions / "b2.py",
        "b2",
        "b1",
        "    BATCH = 40\n    EXPECTED = 250\n" + PAGED,
        "    pass\n",
    )
    _write_async(versions / "b3.py", "b3", "b2", ALTER_AFTER, "    pass\n")
    result = await command.upgrade(cfg)
    assert [s.revision for s in result.steps] == ["b1", "b2", "b3"]
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            missing = (
                await conn.execute(text("SELECT count(*) FROM items WHERE upper_name IS NULL"))
            ).scalar()
    finally:
        await engine.dispose()
    assert missing == 0
