"""The same revision through Alembic and through Whimbrel gives the same schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, make_ops, snapshot
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from databases import TestDatabase

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(database.url)
    try:
        yield eng
    finally:
        await eng.dispose()


def revision(op: Any, dialect: str) -> None:
    """A revision written once, for Alembic's ``op`` and Whimbrel's alike."""
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(80), nullable=False),
        sa.Column("name", sa.String(50)),
        sa.Column("age", sa.Integer),
        comment="Customers",
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("total", sa.Numeric(10, 2), server_default="0"),
        sa.Column("note", sa.String(100)),
        sa.Column("legacy", sa.Integer),
    )
    op.create_index("ix_customer_email", "customer", ["email"], unique=True)
    op.add_column("customer", sa.Column("city", sa.String(40), server_default="Paris"))
    op.bulk_insert(
        sa.table("customer", sa.column("id"), sa.column("email")), [{"id": 1, "email": "a@b"}]
    )
    if dialect == "sqlite":
        with op.batch_alter_table("orders") as batch:
            batch.create_foreign_key(
                "fk_orders_customer", "customer", ["customer_id"], ["id"], ondelete="CASCADE"
            )
            batch.create_check_constraint("ck_orders_total", "total >= 0")
            batch.alter_column("note", existing_type=sa.String(100), nullable=False)
            batch.drop_column("legacy")
        with op.batch_alter_table("customer") as batch:
            batch.create_unique_constraint("uq_customer_name", ["name"])
    else:
        op.create_foreign_key(
            "fk_orders_customer", "orders", "customer", ["customer_id"], ["id"], ondelete="CASCADE"
        )
        op.create_check_constraint("ck_orders_total", "orders", "total >= 0")
        op.alter_column(
            "orders",
            "note",
            existing_type=sa.String(100),
            type_=sa.String(200),
            nullable=False,
            existing_nullable=True,
        )
        op.drop_column("orders", "legacy")
        op.create_unique_constraint("uq_customer_name", "customer", ["name"])
        op.alter_column(
            "customer",
            "city",
            server_default="Lyon",
            existing_type=sa.String(40),
            existing_nullable=True,
        )
        op.create_table_comment("customer", "Clients", existing_comment="Customers")
    op.alter_column("customer", "name", new_column_name="full_name", existing_type=sa.String(50))
    op.rename_table("orders", "purchase")
    op.drop_index("ix_customer_email", "customer")
    op.create_index("ix_customer_email_city", "customer", ["email", "city"])
    op.drop_column("customer", "age")


def _drop_everything(conn: Connection) -> None:
    metadata = sa.MetaData()
    metadata.reflect(conn)
    metadata.drop_all(conn)


async def test_alembic_and_whimbrel_agree(engine: AsyncEngine, database: TestDatabase) -> None:
    from alembic.operations import Operations as AlembicOperations
    from alembic.runtime.migration import MigrationContext

    def with_alembic(conn: Connection) -> None:
        context = MigrationContext.configure(conn)
        revision(AlembicOperations(context), database.dialect)

    def with_whimbrel(conn: Connection) -> None:
        revision(make_ops(conn), database.dialect)

    async with engine.begin() as conn:
        await conn.run_sync(with_alembic)
    by_alembic = await snapshot(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_drop_everything)
    assert [t for t in await snapshot(engine) if not t.startswith("_")] == []

    async with engine.begin() as conn:
        await conn.run_sync(with_whimbrel)
    by_whimbrel = await snapshot(engine)
    assert by_whimbrel == by_alembic
    assert by_whimbrel["purchase"]["fks"][0][1:] == (
        ("customer_id",),
        "customer",
        ("id",),
        "CASCADE",
    )
