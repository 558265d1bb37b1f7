"""SQL, data, the step's connection, ``whimbrel.op`` binding and user-defined ops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, offline_ops, run_ops
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from databases import TestDatabase
from whimbrel.errors import CommandError, IrreversibleOperationError, OperationError
from whimbrel.operations import Operations
from whimbrel.operations.base import current_operations
from whimbrel.operations.ops import BulkInsertOp, ExecuteSQLOp, MigrateOperation


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(database.url)
    try:
        yield eng
    finally:
        await eng.dispose()


async def _rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(sa.text(sql))).all()]


@pytest.mark.asyncio
async def test_execute_and_bulk_insert(engine: AsyncEngine) -> None:
    def up(op: Operations) -> None:
        table = op.create_table(
            "color",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(20)),
        )
        op.bulk_insert(table, [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}])
        light = sa.table("color", sa.column("id"), sa.column("name"))
        op.bulk_insert(light, [{"id": 3, "name": "blue"}], multiinsert=False)
        op.bulk_insert(
            light,
            [{"id": op.inline_literal(4), "name": op.inline_literal("o'range", sa.String())}],
        )
        op.bulk_insert(light, [])
        op.execute("UPDATE color SET name = 'crimson' WHERE id = 1")
        op.execute(light.update().where(light.c.id == 2).values(name="lime"))
        op.execute(sa.text("DELETE FROM color WHERE id = :id").bindparams(id=3))
        op.execute("SELECT 1", execution_options={"no_parameters": True})

    await run_ops(engine, up)
    assert await _rows(engine, "SELECT id, name FROM color ORDER BY id") == [
        (1, "crimson"),
        (2, "lime"),
        (4, "o'range"),
    ]
    with pytest.raises(IrreversibleOperationError, match="cannot reverse execute"):
        ExecuteSQLOp("DELETE FROM color").reverse()
    with pytest.raises(IrreversibleOperationError, match="bulk_insert"):
        BulkInsertOp(sa.table("color"), ()).reverse()


@pytest.mark.asyncio
async def test_bind_context_run_async_and_op_proxy(engine: AsyncEngine) -> None:
    seen: dict[str, Any] = {}

    async def count(conn: AsyncConnection) -> int:
        return int((await conn.execute(sa.text("SELECT COUNT(*) FROM probe"))).scalar_one())

    def up(op: Operations) -> None:
        # The ContextVar set around the step reaches into run_sync's greenlet.
        assert current_operations() is op
        op.create_table("probe", sa.Column("id", sa.Integer, primary_key=True))
        op.get_bind().execute(sa.text("INSERT INTO probe (id) VALUES (1)"))
        seen["count"] = op.run_async(count)
        seen["dialect"] = op.get_context().dialect.name
        seen["f"] = op.f("ix_final")

    await run_ops(engine, up)
    assert seen["count"] == 1
    assert seen["dialect"] == engine.dialect.name
    assert isinstance(seen["f"], sa.sql.elements.conv) and seen["f"] == "ix_final"
    with pytest.raises(CommandError, match="only available while a migration step runs"):
        current_operations()


@pytest.mark.asyncio
async def test_f_bypasses_naming_convention(engine: AsyncEngine) -> None:
    def up(op: Operations) -> None:
        op.create_table(
            "named",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(10)),
        )
        op.create_index(op.f("ix_exact_name"), "named", ["code"])

    await run_ops(engine, up)
    async with engine.connect() as conn:
        names = await conn.run_sync(
            lambda c: [ix["name"] for ix in sa.inspect(c).get_indexes("named")]
        )
    assert names == ["ix_exact_name"]


@dataclass(frozen=True, eq=False)
class CreateViewOp(MigrateOperation):
    view_name: str
    select: str

    @classmethod
    def create_view(cls, operations: Operations, view_name: str, select: str) -> None:
        operations.invoke(cls(view_name, select))

    def reverse(self) -> DropViewOp:
        return DropViewOp(self.view_name, self.select)


@dataclass(frozen=True, eq=False)
class DropViewOp(MigrateOperation):
    view_name: str
    select: str | None = None

    @classmethod
    def drop_view(cls, operations: Operations, view_name: str) -> None:
        operations.invoke(cls(view_name))

    def reverse(self) -> CreateViewOp:
        if self.select is None:
            return super().reverse()  # type: ignore[return-value]
        return CreateViewOp(self.view_name, self.select)


class ProjectOperations(Operations):
    """Custom operations are registered on a subclass, leaving ``Operations`` alone."""


ProjectOperations.register_operation("create_view")(CreateViewOp)
ProjectOperations.register_operation("drop_view")(DropViewOp)


@ProjectOperations.implementation_for(CreateViewOp)
def _create_view(operations: Operations, op: CreateViewOp) -> None:
    operations.execute(f"CREATE VIEW {op.view_name} AS {op.select}")


@ProjectOperations.implementation_for(DropViewOp)
def _drop_view(operations: Operations, op: DropViewOp) -> None:
    operations.execute(f"DROP VIEW {op.view_name}")


@pytest.mark.asyncio
async def test_user_defined_operations(engine: AsyncEngine) -> None:
    def up(conn: sa.Connection) -> list[str]:
        from opsupport import StubContext

        from whimbrel.ddl.impl import impl_for

        op = ProjectOperations(
            StubContext(conn.dialect), conn, impl_for(conn.dialect)(conn, conn.dialect)
        )
        op.create_table("base", sa.Column("id", sa.Integer, primary_key=True))
        op.create_view("v_base", "SELECT id FROM base")  # type: ignore[attr-defined]
        views = sa.inspect(conn).get_view_names()
        op.invoke(CreateViewOp("v_other", "SELECT id FROM base").reverse().reverse())
        op.invoke(CreateViewOp("v_other", "SELECT id FROM base").reverse())
        DropViewOp.drop_view(op, "v_base")
        return views + sa.inspect(conn).get_view_names()

    async with engine.begin() as conn:
        assert await conn.run_sync(up) == ["v_base"]


def test_registration_errors() -> None:
    with pytest.raises(OperationError, match="already exists"):
        ProjectOperations.register_operation("create_table")(CreateViewOp)
    with pytest.raises(OperationError, match="no classmethod 'nope'"):
        ProjectOperations.register_operation("nope")(CreateViewOp)
    with pytest.raises(OperationError, match="not a MigrateOperation"):
        ProjectOperations.implementation_for(int)  # type: ignore[arg-type]
    # Registrations stay on the subclass.
    assert Operations.custom_operation("create_view") is None
    op = offline_ops(sa.create_engine("sqlite://").dialect)
    with pytest.raises(AttributeError, match="create_view"):
        op.create_view  # type: ignore[attr-defined]  # noqa: B018

    @dataclass(frozen=True, eq=False)
    class Nothing(MigrateOperation):
        pass

    with pytest.raises(OperationError, match="no implementation for Nothing"):
        op.invoke(Nothing())
    with pytest.raises(CommandError, match="no database connection"):
        op.get_bind()
