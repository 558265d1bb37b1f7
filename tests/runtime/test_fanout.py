"""Fan-out: many SQLite files, PostgreSQL tenant schemas and MariaDB databases at once;
one target made to fail, the rest complete, and a re-run finishes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from projects import snapshot, table_rev, write_project
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase, provision
from whimbrel import command
from whimbrel.fanout import Target, TargetResult
from whimbrel.results import CurrentResult, MigrationResult

pytestmark = pytest.mark.asyncio

CHAIN = [table_rev(f"f{i}", f"f{i - 1}" if i else None, f"t_f{i}") for i in range(3)]


async def _execute(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def test_fifty_sqlite_files(tmp_path: Path) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'db{i:02d}.sqlite'}" for i in range(50)]
    cfg = write_project(tmp_path / "proj", urls[0], CHAIN)
    cfg.targets = tuple(urls)
    # One target already has a table the first revision creates: it fails.
    await _execute(urls[7], "CREATE TABLE t_f0 (id INTEGER PRIMARY KEY)")
    seen: list[TargetResult] = []
    result = await command.upgrade_many(cfg, concurrency=8, on_target=seen.append)
    assert len(seen) == 50
    assert [t.target for t in result.failed] == [urls[7]]
    assert "t_f0" in (result.failed[0].error or "")
    assert sum(1 for t in result.targets if t.ok) == 49
    assert (await snapshot(urls[3], cfg))["heads"] == ["f2"]

    await _execute(urls[7], "DROP TABLE t_f0")
    again = await command.upgrade_many(cfg, concurrency=8)
    assert again.ok
    steps = {
        t.target: len(t.result.steps)
        for t in again.targets
        if isinstance(t.result, MigrationResult)
    }
    assert steps[urls[7]] == 3
    assert sum(steps.values()) == 3  # the others were already done
    current = await command.current_many(cfg)
    assert all(isinstance(t.result, CurrentResult) and t.result.at_head for t in current.targets)


async def test_fifty_postgresql_tenant_schemas(tmp_path: Path) -> None:
    async for database in provision("postgresql", tmp_path):
        cfg = write_project(tmp_path / "proj", database.url, CHAIN)
        schemas = [f"tenant_{i:02d}" for i in range(50)]
        cfg.tenant_schemas = tuple(schemas)
        await _execute(database.url, "CREATE SCHEMA tenant_13")
        await _execute(database.url, "CREATE TABLE tenant_13.t_f1 (id INTEGER PRIMARY KEY)")
        result = await command.upgrade_many(cfg, concurrency=16)
        assert [t.target for t in result.failed] == ["tenant_13"]
        assert "t_f1" in (result.failed[0].error or "")

        await _execute(database.url, "DROP TABLE tenant_13.t_f1")
        again = await command.upgrade_many(cfg, concurrency=16)
        assert again.ok
        engine = create_async_engine(database.url)
        try:
            async with engine.connect() as conn:
                tables = (
                    await conn.execute(
                        text(
                            "SELECT table_schema, count(*) FROM information_schema.tables "
                            "WHERE table_schema LIKE 'tenant_%' GROUP BY table_schema"
                        )
                    )
                ).all()
                heads = (
                    (
                        await conn.execute(
                            text("SELECT version_num FROM tenant_05.whimbrel_version")
                        )
                    )
                    .scalars()
                    .all()
                )
                public = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'public'"
                        )
                    )
                ).scalar()
        finally:
            await engine.dispose()
        # Each schema: three tables plus its own version and history tables.
        assert {row[0]: row[1] for row in tables} == dict.fromkeys(schemas, 5)
        assert heads == ["f2"]
        assert public == 0


@asynccontextmanager
async def _fresh(dialect: str, path: Path) -> AsyncIterator[TestDatabase]:
    # Resumed to its end on exit (not aclose()d), so provision's cleanup runs.
    async for db in provision(dialect, path):
        yield db


async def test_several_mariadb_databases(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        dbs = []
        for i in range(4):
            (tmp_path / str(i)).mkdir()
            dbs.append(await stack.enter_async_context(_fresh("mariadb", tmp_path / str(i))))
        cfg = write_project(tmp_path / "proj", dbs[0].url, CHAIN)
        targets = [Target(name=f"db{i}", url=db.url) for i, db in enumerate(dbs)]
        await _execute(dbs[2].url, "CREATE TABLE t_f2 (id INTEGER PRIMARY KEY)")
        result = await command.upgrade_many(cfg, targets=targets, concurrency=4)
        assert [t.target for t in result.failed] == ["db2"]
        # MariaDB commits each step: db2 stopped at f1.
        assert (await snapshot(dbs[2].url, cfg))["heads"] == ["f1"]
        await _execute(dbs[2].url, "DROP TABLE t_f2")
        again = await command.upgrade_many(cfg, targets=targets, concurrency=4)
        assert again.ok
        assert (await snapshot(dbs[2].url, cfg))["heads"] == ["f2"]
