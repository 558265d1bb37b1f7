"""``plan`` against live databases: the steps, their SQL and locks, and no change at all.

The schema (tables, columns, indexes, constraints), the version table and the history
table are compared before and after each ``plan``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lintsupport import Revision, write_project
from rulecases import SETUP
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import provision
from whimbrel import command
from whimbrel.config import Config
from whimbrel.lint import PlanResult, plan
from whimbrel.results import to_data

STEP2 = """
op.add_column("accounts", sa.Column("plan", sa.String(10)))
with op.autocommit_block():
    op.create_index("ix_accounts_age", "accounts", ["age"], postgresql_concurrently=True)
op.create_foreign_key(
    "fk_o_a", "orders", "accounts", ["account_id"], ["id"], postgresql_not_valid=True
)
op.execute("UPDATE accounts SET note = 'n' WHERE id < 10")
"""

STEP2_PORTABLE = """
op.add_column("accounts", sa.Column("plan", sa.String(10)))
op.create_index("ix_accounts_age", "accounts", ["age"])
op.execute("UPDATE accounts SET note = 'n' WHERE id < 10")
"""

STEP3 = """
op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
op.create_index("ix_tags_id", "tags", ["id"])
op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_o_a")
"""

STEP3_PORTABLE = """
op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
op.create_index("ix_tags_id", "tags", ["id"])
op.execute("DELETE FROM orders WHERE id < 0")
"""


def _project(root: Path, url: str, step3: str, step2: str = STEP2) -> Config:
    return write_project(
        root,
        [
            Revision("r1", None, SETUP),
            Revision("r2", "r1", step2),
            Revision("r3", "r2", step3, header="transactional = False"),
        ],
        url=url,
        lock_timeout=2.0,
    )


async def _state(url: str) -> dict[str, Any]:
    """Everything plan must leave alone: schema, version rows, history rows."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync: Any) -> dict[str, Any]:
                found = inspect(sync)
                out: dict[str, Any] = {}
                for name in sorted(found.get_table_names()):
                    out[name] = {
                        "columns": [
                            (c["name"], str(c["type"]), c["nullable"])
                            for c in found.get_columns(name)
                        ],
                        "indexes": sorted(str(ix["name"]) for ix in found.get_indexes(name)),
                        "fks": sorted(str(fk["name"]) for fk in found.get_foreign_keys(name)),
                    }
                for table in ("whimbrel_version", "whimbrel_history"):
                    if table in out:
                        rows = sync.execute(text(f"SELECT * FROM {table}")).all()
                        out[f"{table} rows"] = sorted(repr(tuple(r)) for r in rows)
                return out

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_plan_on_postgresql(tmp_path: Path) -> None:
    async for db in provision("postgresql", tmp_path):
        config = _project(tmp_path / "project", db.url, STEP3)
        await command.upgrade(config, "r1")
        engine = create_async_engine(db.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO accounts (id, note) "
                        "SELECT g, 'x' FROM generate_series(2, 5000) AS g"
                    )
                )
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE accounts"))
        finally:
            await engine.dispose()
        before = await _state(db.url)
        result = await plan(config)
        assert await _state(db.url) == before

        assert result.dialect == "postgresql"
        assert result.heads_before == ("r1",)
        assert result.heads_after == ("r3",)
        assert result.transactional_ddl is True
        assert result.lock_timeout == 2.0
        assert [s.revision for s in result.steps] == ["r2", "r3"]
        r2, r3 = result.steps
        assert r2.transactional is True and r3.transactional is False
        assert r2.notes == ()
        by_sql = {st.sql: st for st in r2.statements}
        add = by_sql["ALTER TABLE accounts ADD COLUMN plan VARCHAR(10)"]
        assert add.operation == "add_column 'plan' to 'accounts'"
        assert not add.autocommit
        [lock] = add.locks
        assert (lock.table, lock.mode) == ("accounts", "ACCESS EXCLUSIVE")
        assert lock.rows is not None and 4000 <= lock.rows <= 6000
        assert lock.total_bytes is not None and lock.total_bytes > 8192
        index = by_sql["CREATE INDEX CONCURRENTLY ix_accounts_age ON accounts (age)"]
        assert index.autocommit
        assert [(x.table, x.mode) for x in index.locks] == [("accounts", "SHARE UPDATE EXCLUSIVE")]
        fk = next(st for st in r2.statements if "FOREIGN KEY" in st.sql)
        assert fk.sql.endswith("NOT VALID")
        assert {(x.table, x.mode) for x in fk.locks} == {
            ("orders", "SHARE ROW EXCLUSIVE"),
            ("accounts", "SHARE ROW EXCLUSIVE"),
        }
        update = by_sql["UPDATE accounts SET note = 'n' WHERE id < 10"]
        assert [(x.table, x.mode) for x in update.locks] == [("accounts", "ROW EXCLUSIVE")]
        # r3 runs outside a transaction; its table does not exist yet (no size).
        assert all(st.autocommit for st in r3.statements)
        create_ix = next(st for st in r3.statements if st.sql.startswith("CREATE INDEX"))
        assert [(x.table, x.mode, x.rows, x.total_bytes) for x in create_ix.locks] == [
            ("tags", "SHARE", None, None)
        ]
        validate = r3.statements[-1]
        assert validate.line is not None
        assert [(x.table, x.mode) for x in validate.locks] == [
            ("orders", "SHARE UPDATE EXCLUSIVE")
        ]
        json.dumps(to_data(result))

        # A target short of the heads, then nothing to do once applied.
        assert [s.revision for s in (await plan(config, "r2")).steps] == ["r2"]
        await command.upgrade(config)
        done = await plan(config)
        assert done.steps == () and done.heads_before == ("r3",)
        assert await _state(db.url) != before


@pytest.mark.asyncio
@pytest.mark.parametrize("dialect", ["mariadb", "sqlite"])
async def test_plan_on_mariadb_and_sqlite(dialect: str, tmp_path: Path) -> None:
    async for db in provision(dialect, tmp_path):
        config = _project(tmp_path / "project", db.url, STEP3_PORTABLE, STEP2_PORTABLE)
        await command.upgrade(config, "r1")
        before = await _state(db.url)
        result: PlanResult = await plan(config)
        assert await _state(db.url) == before
        assert [s.revision for s in result.steps] == ["r2", "r3"]
        assert result.transactional_ddl is (dialect == "sqlite")
        add = result.steps[0].statements[0]
        assert add.sql.startswith("ALTER TABLE accounts ADD")
        [lock] = add.locks
        assert lock.table == "accounts" and lock.mode is None
        if dialect == "mariadb":
            assert lock.rows is not None and lock.total_bytes is not None
        else:
            assert lock.rows is None and lock.total_bytes is None
        await command.upgrade(config)
        assert (await plan(config)).steps == ()


@pytest.mark.asyncio
async def test_plan_from_an_empty_database_creates_nothing(tmp_path: Path) -> None:
    async for db in provision("postgresql", tmp_path):
        config = _project(tmp_path / "project", db.url, STEP3)
        result = await plan(config)
        assert result.heads_before == ()
        assert [s.revision for s in result.steps] == ["r1", "r2", "r3"]
        assert await _state(db.url) == {}
    missing = tmp_path / "nothing-here.db"
    url = f"sqlite+aiosqlite:///{missing}"
    config = _project(tmp_path / "project2", url, STEP3_PORTABLE, STEP2_PORTABLE)
    result = await plan(config)
    assert [s.revision for s in result.steps] == ["r1", "r2", "r3"]
    assert result.dialect == "sqlite"
    assert not missing.exists()


@pytest.mark.asyncio
async def test_plan_notes_what_it_cannot_compile(tmp_path: Path) -> None:
    body = """
    op.add_column("accounts", sa.Column("plan", sa.String(10)))
    op.get_bind().execute(sa.text("SELECT 1"))
    """
    async for db in provision("postgresql", tmp_path):
        config = write_project(
            tmp_path / "project",
            [Revision("r1", None, SETUP), Revision("r2", "r1", body)],
            url=db.url,
        )
        await command.upgrade(config, "r1")
        [step] = (await plan(config)).steps
        assert len(step.statements) == 1
        assert len(step.notes) == 1 and "stopped at line" in step.notes[0]
