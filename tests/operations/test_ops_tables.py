"""Table and column operations, executed for real on each database and reflected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, run_ops, snapshot
from sqlalchemy.ext.asyncio import AsyncEngine

from databases import TestDatabase
from whimbrel.errors import UnsupportedOperationError
from whimbrel.operations import Operations
from whimbrel.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    CreateTableOp,
    DropColumnOp,
    MigrateOperation,
    RenameTableOp,
)

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(database.url)
    try:
        yield eng
    finally:
        await eng.dispose()


def _parent(op: Operations) -> None:
    op.create_table(
        "parent",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), nullable=False),
    )


async def test_table_lifecycle(engine: AsyncEngine, database: TestDatabase) -> None:
    def create(op: Operations) -> sa.Table:
        return op.create_table(
            "account",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False, comment="display name"),
            sa.Column("status", sa.String(10), server_default="new"),
            sa.UniqueConstraint("name", name="uq_account_name"),
            sa.Index("ix_account_status", "status"),
            comment="Accounts",
        )

    table = await run_ops(engine, create)
    assert isinstance(table, sa.Table) and table.name == "account"
    schema = (await snapshot(engine))["account"]
    assert schema["order"] == ["id", "name", "status"]
    assert schema["columns"]["name"]["nullable"] is False
    assert schema["columns"]["status"]["default"] == "new"
    assert [ix[0] for ix in schema["indexes"]] == ["ix_account_status"]
    assert [u[1] for u in schema["uniques"]] == [("name",)]
    if database.dialect != "sqlite":
        assert schema["comment"] == "Accounts"
        assert schema["columns"]["name"]["comment"] == "display name"

    def rename_and_comment(op: Operations) -> None:
        op.rename_table("account", "member")
        op.create_table_comment("member", "Members", existing_comment="Accounts")

    await run_ops(engine, rename_and_comment)
    schema = await snapshot(engine)
    assert list(schema) == ["member"] + (["_enums"] if database.dialect == "postgresql" else [])
    if database.dialect != "sqlite":
        assert schema["member"]["comment"] == "Members"

    await run_ops(engine, lambda op: op.drop_table_comment("member"))
    assert (await snapshot(engine))["member"]["comment"] is None

    def drop(op: Operations) -> None:
        op.drop_table("member")
        op.drop_table("member", if_exists=True)
        op.create_table("again", sa.Column("id", sa.Integer, primary_key=True))
        op.create_table("again", sa.Column("id", sa.Integer, primary_key=True), if_not_exists=True)

    await run_ops(engine, drop)
    assert [t for t in await snapshot(engine) if not t.startswith("_")] == ["again"]


async def test_column_operations(engine: AsyncEngine, database: TestDatabase) -> None:
    def up(op: Operations) -> None:
        _parent(op)
        op.create_table(
            "item",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String(20)),
        )
        op.add_column("item", sa.Column("qty", sa.Integer, nullable=False, server_default="3"))
        op.add_column(
            "item",
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", name="fk_item_parent")),
        )
        op.add_column("item", sa.Column("tag", sa.String(10), index=True))
        op.add_column("item", sa.Column("tag", sa.String(10)), if_not_exists=True)
        op.add_column("item", sa.Column("gone", sa.Integer))
        op.drop_column("item", "gone")
        op.drop_column("item", "gone", if_exists=True)
        op.alter_column("item", "label", new_column_name="title")

    await run_ops(engine, up)
    item = (await snapshot(engine))["item"]
    assert item["order"] == ["id", "title", "qty", "parent_id", "tag"]
    assert item["columns"]["qty"] == {
        "type": "INTEGER",
        "nullable": False,
        "default": "3",
        "comment": None,
    }
    assert [fk[1:4] for fk in item["fks"]] == [(("parent_id",), "parent", ("id",))]
    if database.dialect != "sqlite":  # SQLAlchemy cannot read inline FK names on SQLite
        assert item["fks"][0][0] == "fk_item_parent"
    assert [ix[:2] for ix in item["indexes"] if ix[0] == "ix_item_tag"] == [
        ("ix_item_tag", ("tag",))
    ]


async def test_alter_column_in_place(engine: AsyncEngine, database: TestDatabase) -> None:
    def create(op: Operations) -> None:
        op.create_table(
            "item",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String(20), comment="the label"),
            sa.Column("qty", sa.String(10), server_default="1"),
        )

    await run_ops(engine, create)
    if database.dialect == "sqlite":
        with pytest.raises(UnsupportedOperationError, match="batch_alter_table"):
            await run_ops(engine, lambda op: op.alter_column("item", "label", nullable=False))
        return

    def alter(op: Operations) -> None:
        # No existing_* hints: MySQL reads them, so the comment survives MODIFY.
        op.alter_column("item", "label", nullable=False)
        op.alter_column(
            "item",
            "qty",
            type_=sa.Integer,
            server_default="5",
            postgresql_using="qty::integer",
        )
        op.alter_column("item", "label", type_=sa.String(40), existing_nullable=False)
        op.alter_column("item", "qty", server_default=None)
        op.alter_column("item", "id", comment="key")

    await run_ops(engine, alter)
    item = (await snapshot(engine))["item"]
    assert item["columns"]["label"] == {
        "type": "VARCHAR",
        "nullable": False,
        "default": None,
        "comment": "the label",
    }
    assert item["columns"]["qty"]["type"] == "INTEGER"
    assert item["columns"]["qty"]["default"] is None
    assert item["columns"]["id"]["comment"] == "key"


async def test_ops_reverse_to_the_start(engine: AsyncEngine, database: TestDatabase) -> None:
    await run_ops(engine, _parent)
    before = await snapshot(engine)
    ops: list[MigrateOperation] = [
        CreateTableOp(
            "thing",
            (
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("name", sa.String(30), nullable=False),
                sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
                sa.Index("ix_thing_name", "name"),
            ),
            comment="Things",
        ),
        AddColumnOp("thing", sa.Column("size", sa.Integer, server_default="0")),
        AddColumnOp("parent", sa.Column("note", sa.String(20))),
        DropColumnOp("parent", "note", column=sa.Column("note", sa.String(20))),
        AlterColumnOp("thing", "size", new_column_name="volume"),
        RenameTableOp("thing", "stuff"),
        CreateTableCommentOp("stuff", "Stuff", existing_comment="Things"),
    ]
    if database.dialect != "sqlite":
        ops += [
            AlterColumnOp(
                "stuff",
                "name",
                nullable=True,
                type_=sa.String(60),
                existing_type=sa.String(30),
                existing_nullable=False,
            ),
            AlterColumnOp(
                "stuff",
                "volume",
                server_default="7",
                existing_server_default="0",
                existing_type=sa.Integer(),
            ),
        ]

    def apply(op: Operations, items: list[MigrateOperation]) -> None:
        for item in items:
            op.invoke(item)

    await run_ops(engine, lambda op: apply(op, ops))
    changed = await snapshot(engine)
    assert "stuff" in changed and changed != before
    reverse = [item.reverse() for item in reversed(ops)]
    await run_ops(engine, lambda op: apply(op, reverse))
    assert await snapshot(engine) == before
