"""``op.autocommit_block()`` and failures: a step whose work is partly committed is
recorded at once, so a later failure rolls back only what came after it, and a failure
in that step says what stays committed instead of claiming a clean rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import Rev, snapshot, table_rev, write_project
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase
from whimbrel import command
from whimbrel.config import Config
from whimbrel.errors import MigrationStepError

pytestmark = pytest.mark.asyncio

BROKEN = "SELECT * FROM no_such_table"  # an error on every dialect (1/0 is NULL on SQLite)


def _block_rev(rev_id: str, down: str | None, *, inside: str = "") -> Rev:
    """Creates ``t_<id>``, then an autocommit block (running ``inside``, if given)."""
    block = f"        wop.execute({inside!r})\n" if inside else "        pass\n"
    return Rev(
        rev_id,
        down,
        body=(
            f"    wop.execute('CREATE TABLE t_{rev_id} (id INTEGER PRIMARY KEY)')\n"
            f"    with wop.autocommit_block():\n{block}"
        ),
        message="with block",
    )


# r0 plain, r1 uses autocommit_block, r2 plain and fine, r3 fails.
LATER_FAILURE = [
    table_rev("r0", None, "t_r0"),
    _block_rev("r1", "r0"),
    table_rev("r2", "r1", "t_r2"),
    Rev("r3", "r2", up=("CREATE TABLE t_r3 (id INTEGER PRIMARY KEY)", BROKEN), message="bad"),
]


def _project(tmp_path: Path, database: TestDatabase, revs: list[Rev], **kw: object) -> Config:
    return write_project(tmp_path / "proj", database.url, revs, **kw)


@pytest.mark.parametrize("per_migration", [False, True], ids=["one-txn", "per-migration"])
async def test_later_failure_rolls_back_to_the_autocommitted_step(
    transactional_database: TestDatabase, tmp_path: Path, per_migration: bool
) -> None:
    database = transactional_database
    cfg = _project(tmp_path, database, LATER_FAILURE, transaction_per_migration=per_migration)
    with pytest.raises(MigrationStepError) as info:
        await command.upgrade(cfg)
    err = info.value
    assert err.revision == "r3"
    # r1 committed part of its work: it and r0 are recorded; with one transaction for
    # the rest of the run r2 went with r3 (per migration, r2 committed on its own).
    at = "r2" if per_migration else "r1"
    assert f"; rolled back, the database is at {at}" in str(err)
    assert err.heads == (at,)
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == [at]
    expected_history = [("r0", "up", "", "r0", "ok"), ("r1", "up", "r0", "r1", "ok")]
    expected_tables = ["t_r0", "t_r1"]
    if per_migration:
        expected_history.append(("r2", "up", "r1", "r2", "ok"))
        expected_tables.append("t_r2")
    assert snap["history"] == expected_history
    assert snap["tables"] == expected_tables

    # Fixed, the upgrade resumes where the version table says, with nothing in the way.
    fixed = [*LATER_FAILURE[:3], table_rev("r3", "r2", "t_r3")]
    cfg = _project(tmp_path, database, fixed, transaction_per_migration=per_migration)
    result = await command.upgrade(cfg)
    assert [s.revision for s in result.steps] == (["r3"] if per_migration else ["r2", "r3"])
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["r3"]
    assert snap["tables"] == ["t_r0", "t_r1", "t_r2", "t_r3"]


async def test_later_failure_on_every_dialect(database: TestDatabase, tmp_path: Path) -> None:
    cfg = _project(tmp_path, database, LATER_FAILURE)
    with pytest.raises(MigrationStepError) as info:
        await command.upgrade(cfg)
    snap = await snapshot(database.url, cfg)
    # MariaDB commits every step anyway; r2 completed there.
    at = "r2" if database.dialect == "mariadb" else "r1"
    assert info.value.heads == (at,)
    assert snap["heads"] == [at]
    assert [h[0] for h in snap["history"] if h[4] == "ok"] == ["r0", "r1", "r2"][
        : 3 if at == "r2" else 2
    ]
    assert {"t_r0", "t_r1"} <= set(snap["tables"])


@pytest.mark.parametrize("where", ["inside", "after"])
async def test_failure_in_the_step_that_autocommitted(
    transactional_database: TestDatabase, tmp_path: Path, where: str
) -> None:
    database = transactional_database
    if where == "inside":
        body = (
            "    wop.execute('CREATE TABLE t_before (id INTEGER PRIMARY KEY)')\n"
            "    with wop.autocommit_block():\n"
            "        wop.execute('CREATE TABLE t_inside (id INTEGER PRIMARY KEY)')\n"
            f"        wop.execute({BROKEN!r})\n"
        )
    else:
        body = (
            "    wop.execute('CREATE TABLE t_before (id INTEGER PRIMARY KEY)')\n"
            "    with wop.autocommit_block():\n"
            "        wop.execute('CREATE TABLE t_inside (id INTEGER PRIMARY KEY)')\n"
            "    wop.execute('CREATE TABLE t_after (id INTEGER PRIMARY KEY)')\n"
            f"    wop.execute({BROKEN!r})\n"
        )
    revs = [table_rev("r1", None, "t_r1"), Rev("r2", "r1", body=body, message="partial")]
    cfg = _project(tmp_path, database, revs)
    with pytest.raises(MigrationStepError) as info:
        await command.upgrade(cfg)
    err = info.value
    message = str(err)
    assert "rolled back, the database is at" not in message
    assert "upgrade of r2 (partial) failed" in message
    assert "r2 is partly committed" in message
    assert "the version table is at r1" in message
    assert "undo" in message and "\n" not in message
    assert err.heads == ("r1",)
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["r1"]
    # What ran before and inside the block stays; after it, nothing does.
    assert snap["tables"] == ["t_before", "t_inside", "t_r1"]
    assert snap["history"] == [("r1", "up", "", "r1", "ok"), ("r2", "up", "r1", "r1", "failed")]


async def test_failure_before_the_block_rolls_back_cleanly(
    transactional_database: TestDatabase, tmp_path: Path
) -> None:
    database = transactional_database
    body = (
        "    wop.execute('CREATE TABLE t_before (id INTEGER PRIMARY KEY)')\n"
        f"    wop.execute({BROKEN!r})\n"
        "    with wop.autocommit_block():\n"
        "        pass\n"
    )
    revs = [table_rev("r1", None, "t_r1"), Rev("r2", "r1", body=body, message="early")]
    cfg = _project(tmp_path, database, revs)
    with pytest.raises(MigrationStepError) as info:
        await command.upgrade(cfg)
    assert "; rolled back, the database is at base" in str(info.value)
    snap = await snapshot(database.url, cfg)
    assert snap["tables"] == []
    assert snap["heads"] is None


async def test_downgrade_with_a_block_is_recorded_at_once(
    transactional_database: TestDatabase, tmp_path: Path
) -> None:
    database = transactional_database
    revs = [
        Rev("r1", None, up=("CREATE TABLE t_r1 (id INTEGER PRIMARY KEY)",), down_sql=(BROKEN,)),
        table_rev("r2", "r1", "t_r2"),
    ]
    cfg = _project(tmp_path, database, revs)
    r2 = cfg.script_location / "versions" / "r2.py"
    text = r2.read_text()
    assert text.endswith("    wop.execute('DROP TABLE t_r2')\n")
    r2.write_text(text + "    with wop.autocommit_block():\n        pass\n")
    await command.upgrade(cfg)
    with pytest.raises(MigrationStepError) as info:
        await command.downgrade(cfg, "base")
    assert "; rolled back, the database is at r1" in str(info.value)
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["r1"]
    assert snap["tables"] == ["t_r1"]
    assert snap["history"][-1] == ("r2", "down", "r2", "r1", "ok")


# -- a caller's connection --------------------------------------------------------------


@pytest.mark.parametrize("how", ["argument", "attribute"])
async def test_callers_transaction_refuses_the_block_and_commits_nothing(
    transactional_database: TestDatabase, tmp_path: Path, how: str
) -> None:
    database = transactional_database
    cfg = _project(tmp_path, database, LATER_FAILURE)
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            with pytest.raises(MigrationStepError) as info:
                if how == "argument":
                    await command.upgrade(cfg, connection=conn)
                else:
                    cfg.attributes["connection"] = conn
                    await command.upgrade(cfg)
            cfg.attributes.pop("connection", None)
            err = info.value
            assert err.revision == "r1"
            assert "autocommit_block() needs to commit" in str(err)
            assert "left for the caller to roll back" in str(err)
            # Nothing was committed behind the caller's back.
            assert conn.in_transaction()
            await conn.rollback()
    finally:
        await engine.dispose()
    snap = await snapshot(database.url, cfg)
    assert snap["tables"] == []
    assert snap["heads"] is None


async def test_callers_idle_connection_gets_the_same_guarantee(
    transactional_database: TestDatabase, tmp_path: Path
) -> None:
    database = transactional_database
    cfg = _project(tmp_path, database, LATER_FAILURE)
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            # Not in a transaction: Whimbrel runs its own transactions on it.
            with pytest.raises(MigrationStepError) as info:
                await command.upgrade(cfg, connection=conn)
            assert "; rolled back, the database is at r1" in str(info.value)
            assert not conn.in_transaction()
    finally:
        await engine.dispose()
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["r1"]
    assert snap["tables"] == ["t_r0", "t_r1"]
    assert [h[0] for h in snap["history"]] == ["r0", "r1"]
