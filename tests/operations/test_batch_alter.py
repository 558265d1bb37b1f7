"""One batch block on every database: SQLite rebuilds, the others ALTER in place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, run_ops, snapshot
from sqlalchemy.ext.asyncio import AsyncEngine

from databases import TestDatabase
from whimbrel.errors import UnsupportedOperationError
from whimbrel.operations import Operations
from whimbrel.operations.ops import BatchAlterTableOp

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(database.url)
    try:
        yield eng
    finally:
        await eng.dispose()


def _tables(op: Operations) -> None:
    op.create_table(
        "owner",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(30), nullable=False),
    )
    op.create_table(
        "pet",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(30)),
        sa.Column("legs", sa.Integer),
        sa.Column("obsolete", sa.String(5)),
    )
    op.bulk_insert(
        sa.table("owner", sa.column("id"), sa.column("name")), [{"id": 1, "name": "ann"}]
    )
    op.bulk_insert(
        sa.table("pet", sa.column("id"), sa.column("owner_id"), sa.column("name")),
        [{"id": 1, "owner_id": 1, "name": "rex"}],
    )


def _batch(op: Operations) -> None:
    with op.batch_alter_table("pet") as batch:
        batch.alter_column("name", nullable=False, existing_type=sa.String(30))
        batch.alter_column("legs", server_default="4", existing_type=sa.Integer())
        batch.drop_column("obsolete")
        batch.add_column(sa.Column("sound", sa.String(10)))
        batch.create_foreign_key("fk_pet_owner", "owner", ["owner_id"], ["id"])
        batch.create_unique_constraint("uq_pet_owner_name", ["owner_id", "name"])
        batch.create_check_constraint("ck_pet_legs", "legs >= 0")
        batch.create_index("ix_pet_sound", ["sound"])
        batch.alter_column("sound", new_column_name="noise", existing_type=sa.String(10))
        batch.execute("UPDATE pet SET noise = 'woof'")


async def test_batch_on_every_database(engine: AsyncEngine, database: TestDatabase) -> None:
    await run_ops(engine, _tables)
    await run_ops(engine, _batch)
    pet = (await snapshot(engine))["pet"]
    assert pet["order"] == ["id", "owner_id", "name", "legs", "noise"]
    assert pet["columns"]["name"]["nullable"] is False
    assert pet["columns"]["legs"]["default"] == "4"
    assert [fk[1:4] for fk in pet["fks"]] == [(("owner_id",), "owner", ("id",))]
    assert [u[1] for u in pet["uniques"]] == [("owner_id", "name")]
    assert [c[1] for c in pet["checks"]] == ["legs>=0"]
    indexes: list[Any] = pet["indexes"]
    assert [ix[:2] for ix in indexes if ix[0] == "ix_pet_sound"] == [("ix_pet_sound", ("noise",))]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT id, name, noise FROM pet"))).all()
    assert [tuple(r) for r in rows] == [(1, "rex", "woof")]

    def undo(op: Operations) -> None:
        with op.batch_alter_table("pet") as batch:
            batch.drop_constraint("fk_pet_owner", type_="foreignkey")
            batch.drop_constraint("uq_pet_owner_name", type_="unique")
            batch.drop_constraint("ck_pet_legs", type_="check")

    await run_ops(engine, undo)
    pet = (await snapshot(engine))["pet"]
    assert pet["fks"] == [] and pet["uniques"] == [] and pet["checks"] == []


async def test_batch_reverses(engine: AsyncEngine, database: TestDatabase) -> None:
    await run_ops(engine, _tables)
    before = await snapshot(engine)
    recorded: list[BatchAlterTableOp] = []

    def record(op: Operations) -> None:
        with op.batch_alter_table("pet") as batch:
            batch.add_column(sa.Column("tail", sa.Boolean))
            batch.create_index("ix_pet_legs", ["legs"])
            batch.alter_column("legs", new_column_name="paws")
            batch.create_check_constraint("ck_pet_paws", "paws < 10")
            recorded.append(BatchAlterTableOp("pet", tuple(batch.collected)))

    await run_ops(engine, record)
    await run_ops(engine, lambda op: op.invoke(recorded[0].reverse()))
    assert await snapshot(engine) == before


async def test_recreate_always_is_sqlite_only(engine: AsyncEngine, database: TestDatabase) -> None:
    await run_ops(engine, _tables)

    def always(op: Operations) -> None:
        with op.batch_alter_table("pet", recreate="always") as batch:
            batch.add_column(sa.Column("x", sa.Integer))

    if database.dialect == "sqlite":
        await run_ops(engine, always)
        return
    with pytest.raises(UnsupportedOperationError, match="SQLite only"):
        await run_ops(engine, always)
