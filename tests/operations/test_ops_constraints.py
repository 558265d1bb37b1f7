"""Index and constraint operations, executed for real on each database and reflected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, make_ops, run_ops, snapshot
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from databases import TestDatabase
from whimbrel.errors import (
    IrreversibleOperationError,
    TransactionStateError,
    UnsupportedOperationError,
)
from whimbrel.operations import Operations
from whimbrel.operations.ops import (
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
    MigrateOperation,
)

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
        "author",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(80), nullable=False),
        sa.Column("age", sa.Integer),
    )
    op.create_table(
        "book",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(80)),
    )


async def test_indexes(engine: AsyncEngine, database: TestDatabase) -> None:
    def up(op: Operations) -> None:
        _tables(op)
        op.create_index("ix_author_email", "author", ["email"], unique=True)
        op.create_index("ix_author_email", "author", ["email"], if_not_exists=True)
        op.create_index(
            "ix_author_age",
            "author",
            ["age"],
            postgresql_where="age > 18",
            sqlite_where="age > 18",
        )
        op.create_index("ix_book_title", "book", ["title"], mysql_length=10)
        if database.dialect != "mariadb":  # MariaDB has no expression indexes
            op.create_index("ix_author_lower", "author", [sa.text("lower(email)")])
        if database.dialect == "postgresql":
            op.create_index("ix_book_cover", "book", ["author_id"], postgresql_include=["title"])
            op.create_index("ix_book_hash", "book", ["title"], postgresql_using="hash")

    await run_ops(engine, up)
    schema = await snapshot(engine)
    names = {ix[0]: ix for ix in schema["author"]["indexes"]}
    if database.dialect == "mariadb":  # a unique index is a unique constraint there
        assert ("ix_author_email", ("email",)) in schema["author"]["uniques"]
    else:
        assert names["ix_author_email"][1:3] == (("email",), True)
    assert "ix_author_age" in names
    assert (database.dialect == "mariadb") == ("ix_author_lower" not in names)
    if database.dialect == "sqlite":
        assert "whereage>18" in names["ix_author_age"][3]

    def down(op: Operations) -> None:
        op.drop_index("ix_author_email", "author")
        op.drop_index("ix_author_age", "author")
        op.drop_index("ix_author_age", "author", if_exists=True)

    await run_ops(engine, down)
    author = (await snapshot(engine))["author"]
    left = {ix[0] for ix in author["indexes"]} | {u[0] for u in author["uniques"]}
    assert "ix_author_email" not in left and "ix_author_age" not in left


async def test_constraints(engine: AsyncEngine, database: TestDatabase) -> None:
    def up(op: Operations) -> None:
        _tables(op)
        op.create_primary_key("pk_book", "book", ["id"])
        op.create_unique_constraint("uq_book_title", "book", ["title", "author_id"])
        op.create_foreign_key(
            "fk_book_author", "book", "author", ["author_id"], ["id"], ondelete="CASCADE"
        )
        op.create_check_constraint("ck_author_age", "author", "age >= 0")

    if database.dialect == "sqlite":
        with pytest.raises(UnsupportedOperationError, match="batch_alter_table"):
            await run_ops(engine, up)
        return
    await run_ops(engine, up)
    schema = await snapshot(engine)
    book = schema["book"]
    assert book["pk"] == ("id",)
    assert book["uniques"] == [("uq_book_title", ("title", "author_id"))]
    assert book["fks"] == [("fk_book_author", ("author_id",), "author", ("id",), "CASCADE")]
    assert [c[0] for c in schema["author"]["checks"]] == ["ck_author_age"]

    def down(op: Operations) -> None:
        op.drop_constraint("fk_book_author", "book", type_="foreignkey")
        # No type_: MySQL looks the kind up; the others need none.
        op.drop_constraint("uq_book_title", "book")
        op.drop_constraint("ck_author_age", "author", type_="check")
        op.drop_constraint("ck_author_age", "author", type_="check", if_exists=True)
        op.drop_constraint("pk_book", "book", type_="primary")

    await run_ops(engine, down)
    schema = await snapshot(engine)
    assert schema["book"]["pk"] == ()
    assert schema["book"]["uniques"] == [] and schema["book"]["fks"] == []
    assert schema["author"]["checks"] == []


async def test_constraint_ops_reverse(engine: AsyncEngine, database: TestDatabase) -> None:
    await run_ops(engine, _tables)
    before = await snapshot(engine)
    ops: list[MigrateOperation] = [
        CreateIndexOp("ix_book_title", "book", ("title",)),
        CreateIndexOp("ix_author_age_email", "author", ("age", "email"), unique=True),
    ]
    if database.dialect != "sqlite":
        ops += [
            CreatePrimaryKeyOp("pk_book", "book", ("id",)),
            CreateUniqueConstraintOp("uq_book_title", "book", ("title",)),
            CreateForeignKeyOp("fk_book_author", "book", "author", ("author_id",), ("id",)),
            CreateCheckConstraintOp("ck_author_age", "author", "age > 0"),
        ]

    def apply(op: Operations, items: list[MigrateOperation]) -> None:
        for item in items:
            op.invoke(item)

    await run_ops(engine, lambda op: apply(op, ops))
    assert await snapshot(engine) != before
    await run_ops(engine, lambda op: apply(op, [o.reverse() for o in reversed(ops)]))
    if database.dialect == "mariadb":
        # MySQL keeps the index it made for a foreign key when the key is dropped.
        await run_ops(engine, lambda op: op.drop_index("fk_book_author", "book"))
    assert await snapshot(engine) == before
    with pytest.raises(IrreversibleOperationError, match="create_op"):
        DropConstraintOp("x", "book").reverse()


async def test_drop_unknown_constraint(engine: AsyncEngine, database: TestDatabase) -> None:
    await run_ops(engine, _tables)
    if database.dialect == "sqlite":
        with pytest.raises(UnsupportedOperationError, match="batch_alter_table"):
            await run_ops(engine, lambda op: op.drop_constraint("nope", "book"))
        return
    # MySQL looks the kind up by name first; PostgreSQL lets the server answer.
    error = UnsupportedOperationError if database.dialect == "mariadb" else sa.exc.DBAPIError
    with pytest.raises(error, match="nope"):
        await run_ops(engine, lambda op: op.drop_constraint("nope", "book"))
    await run_ops(engine, lambda op: op.drop_constraint("nope", "book", if_exists=True))


async def test_postgresql_exclude_constraint(engine: AsyncEngine, database: TestDatabase) -> None:
    if database.dialect != "postgresql":
        with pytest.raises(UnsupportedOperationError, match=r"EXCLUDE|constraint"):
            await run_ops(engine, _exclude)
        return
    await run_ops(engine, _exclude)
    async with engine.connect() as conn:
        kinds = await conn.scalar(
            sa.text("SELECT contype::text FROM pg_constraint WHERE conname = 'ex_room_slot'")
        )
    assert kinds == "x"
    await run_ops(engine, lambda op: op.drop_constraint("ex_room_slot", "booking", "exclude"))


def _exclude(op: Operations) -> None:
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("room", sa.Integer),
        sa.Column("active", sa.Boolean),
    )
    op.create_exclude_constraint(
        "ex_room_slot", "booking", ("room", "="), where=sa.text("active"), using="btree"
    )


async def test_concurrent_index_needs_autocommit(
    engine: AsyncEngine, database: TestDatabase
) -> None:
    await run_ops(engine, _tables)
    if database.dialect != "postgresql":
        # Other databases ignore the PostgreSQL option: a plain index, in the transaction.
        await run_ops(
            engine,
            lambda op: op.create_index("ix_c", "author", ["age"], postgresql_concurrently=True),
        )
        assert "ix_c" in {ix[0] for ix in (await snapshot(engine))["author"]["indexes"]}
        return

    def in_transaction(op: Operations) -> None:
        op.create_index("ix_c", "author", ["age"], postgresql_concurrently=True)

    with pytest.raises(TransactionStateError, match=r"transactional = False.*autocommit_block"):
        await run_ops(engine, in_transaction)

    def concurrently(conn: Connection) -> None:
        op = make_ops(conn)
        conn.execute(sa.text("SELECT 1"))
        with op.autocommit_block():
            op.create_index("ix_c", "author", ["age"], postgresql_concurrently=True)
            op.drop_index("ix_c", "author", postgresql_concurrently=True)
            op.create_index("ix_c", "author", ["age"], postgresql_concurrently=True)
        with pytest.raises(TransactionStateError, match="DROP INDEX CONCURRENTLY"):
            op.drop_index("ix_c", "author", postgresql_concurrently=True)

    async with engine.connect() as conn:
        await conn.run_sync(concurrently)
        await conn.rollback()
    names = {ix[0] for ix in (await snapshot(engine))["author"]["indexes"]}
    assert "ix_c" in names
