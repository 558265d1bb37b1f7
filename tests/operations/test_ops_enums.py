"""Enum types: PostgreSQL's follow the tables that use them; ADD VALUE extends them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, run_ops, snapshot
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from databases import TestDatabase
from whimbrel.errors import IrreversibleOperationError, UnsupportedOperationError
from whimbrel.operations import Operations
from whimbrel.operations.ops import AddEnumValueOp, CreateTableOp

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = engine_for(database.url)
    try:
        yield eng
    finally:
        await eng.dispose()


def _mood() -> sa.Enum:
    return sa.Enum("happy", "sad", name="mood")


async def test_enum_types_follow_tables(engine: AsyncEngine, database: TestDatabase) -> None:
    person = CreateTableOp(
        "person", (sa.Column("id", sa.Integer, primary_key=True), sa.Column("mood", _mood()))
    )
    pet = CreateTableOp(
        "pet", (sa.Column("id", sa.Integer, primary_key=True), sa.Column("mood", _mood()))
    )

    def up(op: Operations) -> None:
        op.invoke(person)
        op.invoke(pet)  # the type exists already: not created twice
        op.add_column("pet", sa.Column("size", sa.Enum("s", "m", "l", name="size")))
        op.add_column("person", sa.Column("size", sa.Enum("s", "m", "l", name="size")))
        op.bulk_insert(
            sa.table("person", sa.column("id"), sa.column("mood")), [{"id": 1, "mood": "sad"}]
        )

    await run_ops(engine, up)
    schema = await snapshot(engine)
    assert schema["person"]["columns"]["mood"]["type"] in ("VARCHAR", "ENUM")
    if database.dialect != "postgresql":
        return
    assert schema["_enums"] == [("mood", ("happy", "sad")), ("size", ("s", "m", "l"))]

    await run_ops(engine, lambda op: op.invoke(person.reverse()))
    assert (await snapshot(engine))["_enums"][0][0] == "mood"  # pet still uses it
    await run_ops(engine, lambda op: op.invoke(pet.reverse()))
    # pet's columns as created did not include "size", so that type stays.
    assert (await snapshot(engine))["_enums"] == [("size", ("s", "m", "l"))]


async def test_add_enum_value(engine: AsyncEngine, database: TestDatabase) -> None:
    if database.dialect != "postgresql":
        with pytest.raises(UnsupportedOperationError, match="only PostgreSQL"):
            await run_ops(engine, lambda op: op.add_enum_value("mood", "meh"))
        return

    def up(op: Operations) -> None:
        op.create_table(
            "person", sa.Column("id", sa.Integer, primary_key=True), sa.Column("mood", _mood())
        )
        op.add_enum_value("mood", "meh", before="sad")
        op.add_enum_value("mood", "meh")  # IF NOT EXISTS
        op.add_enum_value("mood", "ecstatic", after="happy")

    await run_ops(engine, up)
    assert (await snapshot(engine))["_enums"] == [("mood", ("happy", "ecstatic", "meh", "sad"))]

    def use_in_same_transaction(op: Operations) -> None:
        op.add_enum_value("mood", "calm")
        op.execute("INSERT INTO person (id, mood) VALUES (1, 'calm')")

    # PostgreSQL 12+: the new value exists, but not for use before commit.
    with pytest.raises(sa.exc.DBAPIError, match="unsafe use of new value"):
        await run_ops(engine, use_in_same_transaction)
    with pytest.raises(IrreversibleOperationError, match="cannot remove a value"):
        AddEnumValueOp("mood", "calm").reverse()


async def test_existing_type_is_not_recreated(engine: AsyncEngine, database: TestDatabase) -> None:
    if database.dialect != "postgresql":
        # Elsewhere an enum is a column type (MySQL ENUM, or VARCHAR on SQLite).
        await run_ops(
            engine,
            lambda op: op.create_table("word", sa.Column("first", sa.Enum("a", "b", name="l"))),
        )
        assert (await snapshot(engine))["word"]["columns"]["first"]["type"] in ("ENUM", "VARCHAR")
        return

    def up(op: Operations) -> None:
        postgresql.ENUM("a", "b", name="letters").create(op.get_bind())
        op.create_table(
            "word",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("first", postgresql.ENUM(name="letters", create_type=False)),
        )
        op.drop_table("word")  # columns unknown: the type stays, as with Alembic

    await run_ops(engine, up)
    assert (await snapshot(engine))["_enums"] == [("letters", ("a", "b"))]
