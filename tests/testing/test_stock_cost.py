"""The stairway and downgrade-to-base checks stay cheap on the passing path.

A snapshot reuses the shapes of SQLite tables whose DDL it has seen, and
downgrade-to-base compares names only after each step; the failures still name the
revision at fault.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from stocksupport import write_revision

from databases import TestDatabase
from whimbrel.config import Config
from whimbrel.testing import CheckFailed, Migrator, check_downgrade_to_base, check_stairway
from whimbrel.testing import schema as schema_module
from whimbrel.testing.schema import ShapeCache, snapshot


def rev_id(i: int) -> str:
    return f"{i:04d}00000000"


def create(i: int) -> str:
    return (
        f'    op.create_table("t{i}", sa.Column("id", sa.Integer(), primary_key=True),'
        f' sa.Column("name", sa.String(20)))\n'
        f'    op.create_index("ix_t{i}_name", "t{i}", ["name"])'
    )


def drop(i: int) -> str:
    return f'    op.drop_index("ix_t{i}_name", table_name="t{i}")\n    op.drop_table("t{i}")'


def make_project(
    tmp_path: Path, url: str, count: int, *, broken: dict[int, tuple[str, str]] | None = None
) -> Config:
    """``count`` revisions, revision ``i`` creating table ``t<i>`` and its index.

    ``broken`` replaces the upgrade and downgrade bodies of chosen revisions.
    """
    project = tmp_path / "project"
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True)
    (project / "whimbrel.toml").write_text(f'script_location = "migrations"\nurl = "{url}"\n')
    for i in range(count):
        down = rev_id(i - 1) if i else None
        upgrade, downgrade = (broken or {}).get(i, (create(i), drop(i)))
        write_revision(project, rev_id(i), down, f"table {i}", upgrade, downgrade)
    return Config.load(project / "whimbrel.toml", environ={})


def named(i: int) -> str:
    return f"revision {rev_id(i)} ('table {i}', migrations/versions/{rev_id(i)}_table_{i}.py)"


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database.url)
    yield engine
    await engine.dispose()


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.asyncio
async def test_a_clean_project_passes_both(engine: AsyncEngine, tmp_path: Path) -> None:
    migrator = Migrator(make_project(tmp_path, url_of(engine), 6), engine)

    await check_stairway(migrator)
    await migrator.downgrade("base")
    await check_downgrade_to_base(migrator)

    assert await migrator.current() == ()
    assert await migrator.table_names() == set()


@pytest.mark.asyncio
async def test_a_table_left_behind_is_named(engine: AsyncEngine, tmp_path: Path) -> None:
    config = make_project(tmp_path, url_of(engine), 6, broken={3: (create(3), "    pass")})
    migrator = Migrator(config, engine)

    with pytest.raises(CheckFailed) as base:
        await check_downgrade_to_base(migrator)
    await migrator.execute("DROP TABLE t3")
    with pytest.raises(CheckFailed) as stairway:
        await check_stairway(migrator)

    assert base.value.revision == rev_id(3)
    assert str(base.value) == (
        "whimbrel downgrade to base check: after upgrading to head and downgrading to base, "
        f"the database is not empty: table t3 is left behind (created by {named(3)}). Each "
        "revision's downgrade() should drop what its upgrade() created"
    )
    assert stairway.value.revision == rev_id(3)
    assert str(stairway.value) == (
        f"whimbrel stairway check: downgrading {named(3)} did not give the schema back as it "
        "was before its upgrade: table t3 is left behind. Make downgrade() undo exactly what "
        "upgrade() does"
    )


@pytest.mark.asyncio
async def test_a_down_up_cycle_that_changes_the_schema_is_named(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # Revision 4's downgrade also drops an index revision 1 created; its upgrade does
    # not bring it back, so every step succeeds and only the schema tells.
    config = make_project(
        tmp_path,
        url_of(engine),
        6,
        broken={4: (create(4), drop(4) + '\n    op.drop_index("ix_t1_name", table_name="t1")')},
    )
    migrator = Migrator(config, engine)

    with pytest.raises(CheckFailed) as stairway:
        await check_stairway(migrator)

    assert stairway.value.revision == rev_id(4)
    assert str(stairway.value) == (
        f"whimbrel stairway check: downgrading {named(4)} did not give the schema back as it "
        "was before its upgrade: table t1: index ix_t1_name on (name) is gone. Make "
        "downgrade() undo exactly what upgrade() does"
    )


@pytest.mark.asyncio
async def test_stairway_reflects_each_sqlite_table_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reflected: list[str] = []
    shapes = schema_module._shapes

    def counting(conn: Any, insp: Any, schema: str | None, names: list[str]) -> Any:
        reflected.extend(names)
        return shapes(conn, insp, schema, names)

    monkeypatch.setattr(schema_module, "_shapes", counting)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        migrator = Migrator(make_project(tmp_path, "sqlite+aiosqlite://", 20), engine)
        await check_stairway(migrator)
    finally:
        await engine.dispose()

    # Once per table, where a snapshot reflecting everything would take 20 * 21 * 2.
    assert sorted(reflected) == sorted(f"t{i}" for i in range(20))


@pytest.mark.asyncio
async def test_a_cached_snapshot_follows_every_ddl_change(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    cache = ShapeCache()
    statements = [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent)",
        "ALTER TABLE parent ADD COLUMN note VARCHAR(10)",
        "CREATE UNIQUE INDEX ix_parent_code ON parent (code)",
        "DROP INDEX ix_parent_code",
        # child's foreign key names no column: its shape follows parent's primary key.
        "DROP TABLE parent",
        "CREATE TABLE parent (code TEXT PRIMARY KEY)",
    ]
    try:
        for statement in statements:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(statement)
            async with engine.connect() as conn:
                cached = await snapshot(conn, cache=cache)
                fresh = await snapshot(conn)
            assert cached == fresh, statement
    finally:
        await engine.dispose()

    assert len(cache) > 0
