"""The async runtime against real databases: every test runs on SQLite, PostgreSQL and
MariaDB (the ``database`` fixture), checking the schema, the version table and the
history table after every command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from projects import Rev, snapshot, table_rev, write_project
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase, provision
from whimbrel import command
from whimbrel.config import Config
from whimbrel.errors import MigrationStepError, NotAtHeadError
from whimbrel.results import StepEvent

pytestmark = pytest.mark.asyncio

#            / a1 (alpha) -- a2 ---------------\
#   base1 --<                                   >-- m -- top
#            \ b1 (beta) -- b2 (depends on a1) /
BRANCHY = [
    table_rev("base1", None, "t_base"),
    table_rev("a1", "base1", "t_a1", labels=("alpha",)),
    table_rev("a2", "a1", "t_a2"),
    table_rev("b1", "base1", "t_b1", labels=("beta",)),
    table_rev("b2", "b1", "t_b2", depends_on=("a1",)),
    Rev("m", ("a2", "b2"), message="merge"),
    table_rev("top", "m", "t_top"),
]


def _project(tmp_path: Path, database: TestDatabase, revs: list[Rev]) -> Config:
    return write_project(tmp_path / "proj", database.url, revs)


async def test_upgrade_downgrade_across_branches_merges_and_depends_on(
    database: TestDatabase, tmp_path: Path
) -> None:
    cfg = _project(tmp_path, database, BRANCHY)

    # Labels reach down through the merge, so alpha@head is top: name a2 instead.
    result = await command.upgrade(cfg, "alpha@a2")
    assert [s.revision for s in result.steps] == ["base1", "a1", "a2"]
    snap = await snapshot(database.url, cfg)
    assert snap["tables"] == ["t_a1", "t_a2", "t_base"]
    assert snap["heads"] == ["a2"]
    assert snap["history"] == [
        ("base1", "up", "", "base1", "ok"),
        ("a1", "up", "base1", "a1", "ok"),
        ("a2", "up", "a1", "a2", "ok"),
    ]

    # beta's b2 depends on a1, which is already applied.
    result = await command.upgrade(cfg, "beta@b2")
    assert [s.revision for s in result.steps] == ["b1", "b2"]
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["a2", "b2"]
    assert snap["history"][-1] == ("b2", "up", "a2 b1", "a2 b2", "ok")

    # The merge collapses the two rows into one.
    result = await command.upgrade(cfg, "heads")
    assert [s.revision for s in result.steps] == ["m", "top"]
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["top"]
    assert snap["tables"] == ["t_a1", "t_a2", "t_b1", "t_b2", "t_base", "t_top"]

    # The same upgrade again is a no-op: nothing runs, nothing is written.
    again = await command.upgrade(cfg, "heads")
    assert again.steps == ()
    assert await snapshot(database.url, cfg) == snap

    result = await command.downgrade(cfg, "-1")
    assert [s.revision for s in result.steps] == ["top"]
    assert (await snapshot(database.url, cfg))["heads"] == ["m"]

    # Downgrading to a1 takes out a2 and the merge; b2 stays and implies a1.
    result = await command.downgrade(cfg, "a1")
    assert [s.revision for s in result.steps] == ["m", "a2"]
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["b2"]
    assert snap["tables"] == ["t_a1", "t_b1", "t_b2", "t_base"]

    # alpha@base takes out alpha's revisions and what depends on them (b2).
    result = await command.downgrade(cfg, "alpha@base")
    assert [s.revision for s in result.steps] == ["b2", "a1"]
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["b1"]
    assert snap["tables"] == ["t_b1", "t_base"]

    result = await command.downgrade(cfg, "base")
    assert [s.revision for s in result.steps] == ["b1", "base1"]
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == []
    assert snap["tables"] == []
    directions = [row[1] for row in snap["history"]]
    assert directions == ["up"] * 7 + ["down"] * 7


async def test_stamp_moves_rows_without_running(database: TestDatabase, tmp_path: Path) -> None:
    cfg = _project(tmp_path, database, BRANCHY)
    result = await command.stamp(cfg, ["a2", "b1"])
    assert result.heads_after == ("a2", "b1")
    snap = await snapshot(database.url, cfg)
    assert snap["tables"] == []
    assert snap["heads"] == ["a2", "b1"]
    assert snap["history"] == [("a2 b1", "stamp", "", "a2 b1", "ok")]

    await command.stamp(cfg, "beta@b2")
    assert (await snapshot(database.url, cfg))["heads"] == ["a2", "b2"]

    await command.stamp(cfg, "a1", purge=True)
    assert (await snapshot(database.url, cfg))["heads"] == ["a1"]

    await command.stamp(cfg, "base")
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == []
    assert [h[1] for h in snap["history"]] == ["stamp"] * 4


async def test_read_only_commands_create_nothing(database: TestDatabase, tmp_path: Path) -> None:
    cfg = _project(tmp_path, database, BRANCHY)
    found = await command.current(cfg)
    assert found.heads == ()
    assert not found.version_table_exists
    assert not found.at_head
    history = await command.history(cfg, indicate_current=True)
    assert history.current == ()
    with pytest.raises(NotAtHeadError):
        await command.current(cfg, check_heads=True)
    snap = await snapshot(database.url, cfg)
    assert snap == {"tables": [], "heads": None, "history": None}

    await command.upgrade(cfg)
    found = await command.current(cfg, check_heads=True)
    assert found.at_head
    assert found.heads == ("top",)
    assert [r.revision for r in found.revisions] == ["top"]
    shown = await command.show(cfg, "current")
    assert [r.revision for r in shown.revisions] == ["top"]


async def test_ensure_version_creates_both_tables(database: TestDatabase, tmp_path: Path) -> None:
    cfg = _project(tmp_path, database, BRANCHY)
    assert (await command.ensure_version(cfg)).created
    assert not (await command.ensure_version(cfg)).created
    snap = await snapshot(database.url, cfg)
    assert snap == {"tables": [], "heads": [], "history": []}


FAILING = [
    table_rev("r1", None, "t_one"),
    table_rev("r2", "r1", "t_two"),
    Rev(
        "r3",
        "r2",
        up=("CREATE TABLE t_three (id INTEGER PRIMARY KEY)", "SELECT * FROM no_such_table"),
        message="broken",
    ),
]


async def test_failed_migration(database: TestDatabase, tmp_path: Path) -> None:
    cfg = _project(tmp_path, database, FAILING)
    await command.upgrade(cfg, "r1")
    before = await snapshot(database.url, cfg)

    with pytest.raises(MigrationStepError) as info:
        await command.upgrade(cfg, "head")
    err = info.value
    assert err.revision == "r3"
    assert "upgrade of r3 (broken) failed" in str(err)
    assert "no_such_table" in str(err)
    after = await snapshot(database.url, cfg)

    if database.dialect == "mariadb":
        # No transactional DDL: r2 stays applied and recorded, r3's CREATE TABLE too,
        # and the failed attempt is in the history.
        assert err.completed == ("r2",)
        assert "steps completed before it: r2" in str(err)
        assert after["heads"] == ["r2"]
        assert after["tables"] == ["t_one", "t_three", "t_two"]
        assert after["history"][-1][0] == "r3"
        assert after["history"][-1][4] == "failed"
    else:
        # Transactional DDL: nothing of the run remains.
        assert "rolled back" in str(err)
        assert after == before


async def test_failed_first_run_leaves_no_version_table(
    transactional_database: TestDatabase, tmp_path: Path
) -> None:
    """PostgreSQL and SQLite only: MariaDB commits DDL (see test_failed_migration)."""
    database = transactional_database
    cfg = _project(tmp_path, database, FAILING)
    with pytest.raises(MigrationStepError):
        await command.upgrade(cfg)
    assert await snapshot(database.url, cfg) == {"tables": [], "heads": None, "history": None}


async def test_commands_share_the_callers_transaction(
    database: TestDatabase, tmp_path: Path
) -> None:
    cfg = _project(tmp_path, database, BRANCHY)
    engine = create_async_engine(database.url)
    try:
        if database.dialect != "mariadb":
            # upgrade + stamp, then roll back: the database is untouched.
            async with engine.connect() as conn:
                await conn.begin()
                await command.upgrade(cfg, "a2", connection=conn)
                await command.stamp(cfg, "base1", connection=conn)
                inside = await conn.execute(text(f"SELECT version_num FROM {cfg.version_table}"))
                assert [r[0] for r in inside] == ["base1"]
                await conn.rollback()
            assert await snapshot(database.url, cfg) == {
                "tables": [],
                "heads": None,
                "history": None,
            }
        # ... and committed together, through config.attributes.
        async with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            await command.upgrade(cfg, "a2")
            await command.stamp(cfg, "base1")
        cfg.attributes.clear()
        snap = await snapshot(database.url, cfg)
        assert snap["heads"] == ["base1"]
        assert snap["tables"] == ["t_a1", "t_a2", "t_base"]
        assert [h[1] for h in snap["history"]] == ["up", "up", "up", "stamp"]
    finally:
        await engine.dispose()


async def test_engine_argument_and_attribute(database: TestDatabase, tmp_path: Path) -> None:
    cfg = _project(tmp_path, database, BRANCHY)
    cfg.url = "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none"
    engine = create_async_engine(database.url)
    try:
        await command.upgrade(cfg, "base1", engine=engine)
        cfg.attributes["engine"] = engine
        await command.upgrade(cfg, "a1")
        assert (await command.current(cfg)).heads == ("a1",)
    finally:
        await engine.dispose()


async def test_step_events_and_both_op_styles(database: TestDatabase, tmp_path: Path) -> None:
    revs = [
        table_rev("s1", None, "t_s1"),
        table_rev("s2", "s1", "t_s2", takes_op=True),
    ]
    cfg = _project(tmp_path, database, revs)
    events: list[StepEvent] = []

    async def listener(event: StepEvent) -> None:
        events.append(event)

    await command.upgrade(cfg, on_step=listener)
    assert [(e.revision, e.phase, e.index, e.total) for e in events] == [
        ("s1", "start", 1, 2),
        ("s1", "end", 1, 2),
        ("s2", "start", 1 + 1, 2),
        ("s2", "end", 2, 2),
    ]
    assert all(e.duration_s is not None for e in events if e.phase == "end")
    assert (await snapshot(database.url, cfg))["tables"] == ["t_s1", "t_s2"]


TRACK_BIND = """
import anyio
from whimbrel.operations import Operations

SEEN = []


async def _pause(conn):
    await anyio.sleep(0.05)
    return conn
"""


async def test_two_runs_in_one_process_do_not_see_each_other(tmp_path: Path) -> None:
    """The op proxy resolves per step through a ContextVar copied into run_sync's
    greenlet: two concurrent runs on two databases each see their own connection."""
    body = (
        "    bound = wop.get_bind()\n"
        "    conn = wop.run_async(_pause)\n"
        "    assert wop.get_bind() is bound\n"
        "    assert conn.sync_connection is bound\n"
        "    wop.execute('CREATE TABLE {name} (id INTEGER PRIMARY KEY)')\n"
    )
    configs = []
    for name in ("left", "right"):
        rev = Rev("c1", None, body=body.format(name=f"t_{name}"), extra=TRACK_BIND)
        url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
        configs.append((write_project(tmp_path / name, url, [rev]), url))

    async with anyio.create_task_group() as tg:
        for cfg, _ in configs:
            tg.start_soon(command.upgrade, cfg)
    for (cfg, url), name in zip(configs, ("left", "right"), strict=True):
        snap = await snapshot(url, cfg)
        assert snap["tables"] == [f"t_{name}"]
        assert snap["heads"] == ["c1"]


async def test_cancelled_upgrade_rolls_back(database: TestDatabase, tmp_path: Path) -> None:
    slow = Rev(
        "slow",
        "r1",
        body=(
            "    wop.execute('CREATE TABLE t_slow (id INTEGER PRIMARY KEY)')\n"
            "    wop.run_async(_pause)\n"
        ),
        extra="import anyio\n\nasync def _pause(conn):\n    await anyio.sleep(30)\n",
    )
    cfg = _project(tmp_path, database, [table_rev("r1", None, "t_one"), slow])
    with anyio.move_on_after(1.5):
        await command.upgrade(cfg)
    snap = await snapshot(database.url, cfg)
    if database.dialect == "mariadb":
        # r1 committed on its own; the cancelled step's DDL cannot be undone.
        assert snap["heads"] == ["r1"]
    else:
        assert snap == {"tables": [], "heads": None, "history": None}


async def test_transaction_per_migration(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, FAILING, transaction_per_migration=True)
    with pytest.raises(MigrationStepError) as info:
        await command.upgrade(cfg)
    snap = await snapshot(database.url, cfg)
    # r1 and r2 were committed one by one; r3 failed.
    assert snap["heads"] == ["r2"]
    assert info.value.completed == ("r1", "r2")
    expected = (
        ["t_one", "t_three", "t_two"]
        if database.dialect == "mariadb"
        else [
            "t_one",
            "t_two",
        ]
    )
    assert snap["tables"] == expected


def _concurrently(dialect: str) -> dict[str, Any]:
    if dialect == "postgresql":
        return {"sql": "CREATE INDEX CONCURRENTLY ix_t_one_id ON t_one (id)"}
    return {"sql": "CREATE INDEX ix_t_one_id ON t_one (id)"}


async def test_non_transactional_script_and_autocommit_block(
    database: TestDatabase, tmp_path: Path
) -> None:
    sql = _concurrently(database.dialect)["sql"]
    second_index = sql.replace("ix_t_one_id", "ix2").replace("t_one", "t_blk")
    revs = [
        table_rev("r1", None, "t_one"),
        Rev(
            "idx",
            "r1",
            up=(sql,),
            down_sql=(
                "DROP INDEX ix_t_one_id" + (" ON t_one" if database.dialect == "mariadb" else ""),
            ),
            transactional=False,
        ),
        Rev(
            "blk",
            "idx",
            body=(
                "    wop.execute('CREATE TABLE t_blk (id INTEGER PRIMARY KEY)')\n"
                "    with wop.autocommit_block():\n"
                f"        wop.execute({second_index!r})\n"
            ),
        ),
    ]
    cfg = _project(tmp_path, database, revs)
    result = await command.upgrade(cfg)
    assert [s.revision for s in result.steps] == ["r1", "idx", "blk"]
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["blk"]
    assert snap["tables"] == ["t_blk", "t_one"]
    assert [h[0] for h in snap["history"]] == ["r1", "idx", "blk"]
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            from sqlalchemy import inspect

            names = await conn.run_sync(
                lambda c: [i["name"] for i in inspect(c).get_indexes("t_one")]
            )
        assert "ix_t_one_id" in names
    finally:
        await engine.dispose()


async def test_psycopg_async_driver(tmp_path: Path) -> None:
    """PostgreSQL through psycopg 3's async mode, as well as asyncpg."""
    async for database in provision("postgresql", tmp_path):
        url = database.url.replace("postgresql+asyncpg://", "postgresql+psycopg://")
        cfg = write_project(tmp_path / "proj", url, FAILING[:2])
        result = await command.upgrade(cfg)
        assert [s.revision for s in result.steps] == ["r1", "r2"]
        snap = await snapshot(url, cfg)
        assert snap["tables"] == ["t_one", "t_two"]
        assert snap["heads"] == ["r2"]
        await command.downgrade(cfg, "base")
        assert (await snapshot(url, cfg))["tables"] == []
