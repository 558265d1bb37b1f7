"""Batch mode on SQLite: move-and-copy keeps rows, indexes, keys and constraints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import pytest
import pytest_asyncio
import sqlalchemy as sa
from opsupport import engine_for, make_ops, schema_of
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from whimbrel.errors import (
    BatchConstraintWarning,
    BatchError,
    ForeignKeyViolationError,
    UnsupportedOperationError,
)
from whimbrel.operations import Operations
from whimbrel.operations.base import bind_operations

pytestmark = pytest.mark.asyncio

Mode = Literal["off", "on-autocommit", "on-transaction"]

SCHEMA = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL,"
    " CONSTRAINT uq_parent_code UNIQUE (code))",
    "CREATE TABLE item (id INTEGER PRIMARY KEY,"
    " parent_id INTEGER CONSTRAINT fk_item_parent REFERENCES parent (id) ON DELETE CASCADE,"
    " name VARCHAR(20) NOT NULL CHECK (length(name) > 0),"
    " qty INTEGER, note TEXT,"
    " CONSTRAINT ck_item_qty CHECK (qty >= 0), CONSTRAINT uq_item_name UNIQUE (name))",
    "CREATE INDEX ix_item_qty ON item (qty DESC)",
    "CREATE INDEX ix_item_lower ON item (lower(name))",
    "CREATE INDEX ix_item_note ON item (note) WHERE note IS NOT NULL",
    "CREATE TABLE child (id INTEGER PRIMARY KEY,"
    " item_id INTEGER, CONSTRAINT fk_child_item FOREIGN KEY (item_id) REFERENCES item (id))",
    "CREATE VIEW v_item AS SELECT id, name FROM item",
    "INSERT INTO parent VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO item VALUES (1, 1, 'one', 5, 'n1'), (2, 2, 'two', 0, NULL),"
    " (3, NULL, 'x', 1, '')",
    "INSERT INTO child VALUES (10, 1), (11, 2), (12, NULL)",
]


def make_engine(path: Path, *, foreign_keys: bool) -> AsyncEngine:
    engine = engine_for(f"sqlite+aiosqlite:///{path / 'batch.db'}")
    if foreign_keys:

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _on(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

    return engine


async def run(
    engine: AsyncEngine, fn: Callable[[Operations], Any], *, real_transaction: bool = True
) -> Any:
    """Run ``fn(op)`` the way the runtime does: in a ``BEGIN IMMEDIATE`` transaction."""
    async with engine.connect() as conn:

        def step(sync: Connection) -> Any:
            if real_transaction:
                sync.exec_driver_sql("BEGIN IMMEDIATE")
            ops = make_ops(sync, conn)
            with bind_operations(ops):
                return fn(ops)

        try:
            result = await conn.run_sync(step)
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()
        return result


async def query(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.exec_driver_sql(sql)).all()]


async def setup(engine: AsyncEngine, statements: list[str] = SCHEMA) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


@pytest_asyncio.fixture
async def engine_off(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(tmp_path, foreign_keys=False)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def engine_on(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(tmp_path, foreign_keys=True)
    yield engine
    await engine.dispose()


def change_item(op: Operations) -> None:
    with op.batch_alter_table("item") as batch:
        batch.alter_column("qty", type_=sa.BigInteger, nullable=False, server_default="0")
        batch.add_column(
            sa.Column("price", sa.Numeric(10, 2), server_default="1.5"), insert_after="name"
        )
        batch.drop_column("note")
        batch.create_index("ix_item_price", ["price"])
        batch.create_unique_constraint("uq_item_parent_title", ["parent_id", "name"])
        batch.create_check_constraint("ck_item_price", "price > 0")
        batch.alter_column("name", new_column_name="title")


@pytest.mark.parametrize("mode", ["off", "on-autocommit", "on-transaction"])
async def test_rebuild_keeps_everything(tmp_path: Path, mode: Mode) -> None:
    engine = make_engine(tmp_path, foreign_keys=mode != "off")
    try:
        await setup(engine)
        await run(engine, change_item, real_transaction=mode != "on-autocommit")
        item = (await _schema(engine))["item"]
        assert item["order"] == ["id", "parent_id", "title", "price", "qty"]
        assert item["columns"]["qty"] == {
            "type": "BIGINT",
            "nullable": False,
            "default": "0",
            "comment": None,
        }
        assert await query(engine, "SELECT id, parent_id, title, price, qty FROM item") == [
            (1, 1, "one", 1.5, 5),
            (2, 2, "two", 1.5, 0),
            (3, None, "x", 1.5, 1),
        ]
        sql = (await query(engine, "SELECT sql FROM sqlite_master WHERE name = 'item'"))[0][0]
        for part in (
            "CONSTRAINT fk_item_parent FOREIGN KEY(parent_id) REFERENCES parent (id) "
            "ON DELETE CASCADE",
            "CONSTRAINT ck_item_qty CHECK (qty >= 0)",
            "CHECK (length(title) > 0)",  # unnamed, renamed by SQLite itself
            "CONSTRAINT uq_item_name UNIQUE (title)",
            "CONSTRAINT uq_item_parent_title UNIQUE (parent_id, title)",
            "CONSTRAINT ck_item_price CHECK (price > 0)",
        ):
            assert part in sql
        indexes = {ix[0]: ix[3] for ix in item["indexes"]}
        assert indexes == {
            "ix_item_lower": "createindexix_item_loweronitemlowertitle",
            "ix_item_price": "createindexix_item_priceonitemprice",
            "ix_item_qty": "createindexix_item_qtyonitemqtydesc",
        }
        # The foreign key pointing in still points here, with its rows.
        assert await query(engine, "SELECT * FROM child ORDER BY id") == [
            (10, 1),
            (11, 2),
            (12, None),
        ]
        assert (await _schema(engine))["child"]["fks"] == [
            ("fk_child_item", ("item_id",), "item", ("id",), None)
        ]
        assert await query(engine, "SELECT * FROM v_item ORDER BY id") == [
            (1, "one"),
            (2, "two"),
            (3, "x"),
        ]
        assert await query(engine, "PRAGMA foreign_key_check") == []
        fk_on = await query(engine, "PRAGMA foreign_keys")
        assert fk_on == [(0 if mode == "off" else 1,)]
        tables = await query(engine, "SELECT name FROM sqlite_master WHERE type = 'table'")
        assert sorted(t[0] for t in tables) == ["child", "item", "parent"]
    finally:
        await engine.dispose()


async def _schema(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(schema_of)


async def test_cascading_children_block_a_rebuild_in_a_transaction(
    engine_on: AsyncEngine,
) -> None:
    await setup(
        engine_on,
        [
            SCHEMA[0],
            "CREATE TABLE kid (id INTEGER PRIMARY KEY,"
            " parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)",
            "INSERT INTO parent VALUES (1, 'a')",
            "INSERT INTO kid VALUES (1, 1)",
        ],
    )

    def widen(op: Operations) -> None:
        with op.batch_alter_table("parent") as batch:
            batch.alter_column("code", type_=sa.String(40))

    with pytest.raises(BatchError, match=r"ON DELETE CASCADE.*'kid'.*autocommit_block"):
        await run(engine_on, widen)
    assert await query(engine_on, "SELECT * FROM kid") == [(1, 1)]

    def widen_outside(op: Operations) -> None:
        with op.autocommit_block():
            widen(op)

    await run(engine_on, widen_outside)
    assert await query(engine_on, "SELECT * FROM kid") == [(1, 1)]
    assert await query(engine_on, "PRAGMA foreign_keys") == [(1,)]
    columns = (await _schema(engine_on))["parent"]["columns"]
    assert columns["code"]["type"] == "VARCHAR"


async def test_violations_found_after_rebuild(engine_off: AsyncEngine, tmp_path: Path) -> None:
    await setup(engine_off)
    await setup(engine_off, ["INSERT INTO child VALUES (13, 99)"])  # an orphan
    await engine_off.dispose()
    engine = make_engine(tmp_path, foreign_keys=True)
    try:
        with pytest.raises(ForeignKeyViolationError, match="child rowid 13 -> item"):
            await run(engine, change_item, real_transaction=False)
        # The rebuild was rolled back as a whole.
        assert (await _schema(engine))["item"]["order"] == [
            "id",
            "parent_id",
            "name",
            "qty",
            "note",
        ]
        assert await query(engine, "PRAGMA foreign_keys") == [(1,)]
    finally:
        await engine.dispose()


async def test_recreate_modes(engine_off: AsyncEngine) -> None:
    await setup(engine_off, SCHEMA[:2])
    original = "SELECT sql FROM sqlite_master WHERE name = 'item'"
    before = await query(engine_off, original)

    def add_only(op: Operations) -> None:
        with op.batch_alter_table("item") as batch:
            batch.add_column(sa.Column("extra", sa.Integer))
            batch.create_index("ix_extra", ["extra"])
            batch.alter_column("extra", new_column_name="more")

    await run(engine_off, add_only)
    after = (await query(engine_off, original))[0][0]
    assert after == before[0][0].replace("note TEXT,", "note TEXT, more INTEGER,")

    def never(op: Operations) -> None:
        with op.batch_alter_table("item", recreate="never") as batch:
            batch.alter_column("qty", nullable=False)

    with pytest.raises(UnsupportedOperationError, match="recreate='never'"):
        await run(engine_off, never)

    def always(op: Operations) -> None:
        with op.batch_alter_table("item", recreate="always"):
            pass

    await run(engine_off, always)
    rebuilt = (await query(engine_off, original))[0][0]
    assert rebuilt.startswith("CREATE TABLE item (\n")


async def test_ordering_copy_from_and_table_args(engine_off: AsyncEngine) -> None:
    await setup(
        engine_off,
        [
            "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER, d INTEGER)",
            "INSERT INTO t VALUES (1, 2, 3, 4)",
        ],
    )

    def reorder(op: Operations) -> None:
        with op.batch_alter_table("t", partial_reordering=[("d", "a")]) as batch:
            batch.alter_column("b", insert_before="a")
            batch.add_column(sa.Column("e", sa.Integer, server_default="5"), insert_before="c")

    await run(engine_off, reorder)
    assert (await _schema(engine_off))["t"]["order"] == ["b", "d", "e", "c", "a"]
    assert await query(engine_off, "SELECT b, d, e, c, a FROM t") == [(2, 4, 5, 3, 1)]

    copy = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("b", sa.Integer),
        sa.Column("d", sa.Integer),
        sa.Column("e", sa.Integer),
        sa.Column("c", sa.Integer),
        sa.Column("a", sa.Integer),
        sa.Index("ix_t_c", "c"),
    )

    def from_copy(op: Operations) -> None:
        with op.batch_alter_table(
            "t",
            copy_from=copy,
            table_args=[sa.CheckConstraint("a > 0", name="ck_t_a")],
            table_kwargs={"sqlite_autoincrement": False},
        ) as batch:
            batch.drop_column("e")

    await run(engine_off, from_copy)
    t = (await _schema(engine_off))["t"]
    assert t["order"] == ["b", "d", "c", "a"]
    assert t["checks"] == [("ck_t_a", "a>0")]
    assert [ix[0] for ix in t["indexes"]] == ["ix_t_c"]


async def test_naming_convention_and_reflect_args(engine_off: AsyncEngine) -> None:
    await setup(
        engine_off,
        [
            "CREATE TABLE p (id INTEGER PRIMARY KEY)",
            "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id),"
            " flag INTEGER, UNIQUE (flag))",
            "INSERT INTO p VALUES (1)",
            "INSERT INTO c VALUES (1, 1, 1)",
        ],
    )

    def drop_unnamed(op: Operations) -> None:
        with op.batch_alter_table(
            "c",
            naming_convention={
                "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                "uq": "uq_%(table_name)s_%(column_0_name)s",
            },
            reflect_args=[sa.Column("flag", sa.Boolean)],
        ) as batch:
            batch.drop_constraint("fk_c_p_id_p", type_="foreignkey")
            batch.drop_constraint("uq_c_flag", type_="unique")

    await run(engine_off, drop_unnamed)
    c = (await _schema(engine_off))["c"]
    assert c["fks"] == [] and c["uniques"] == []
    assert c["columns"]["flag"]["type"] == "BOOLEAN"
    assert await query(engine_off, "SELECT * FROM c") == [(1, 1, 1)]


async def test_batch_errors(engine_off: AsyncEngine) -> None:
    await setup(engine_off, SCHEMA[:2])

    def attempt(body: Callable[[Any], object]) -> Callable[[Operations], None]:
        def fn(op: Operations) -> None:
            with op.batch_alter_table("item") as batch:
                body(batch)

        return fn

    with pytest.raises(BatchError, match="no column 'nope'"):
        await run(engine_off, attempt(lambda b: b.alter_column("nope", nullable=True)))
    with pytest.raises(BatchError, match="no index named 'nope'"):
        await run(engine_off, attempt(lambda b: (b.drop_column("note"), b.drop_index("nope"))))
    with pytest.raises(BatchError, match=r"no constraint named 'nope'.*naming_convention"):
        await run(engine_off, attempt(lambda b: b.drop_constraint("nope")))
    with pytest.raises(BatchError, match="no table 'ghost'"):

        def ghost(op: Operations) -> None:
            with op.batch_alter_table("ghost") as batch:
                batch.alter_column("x", nullable=True)

        await run(engine_off, ghost)
    with pytest.raises(UnsupportedOperationError, match="EXCLUDE"):
        await run(engine_off, attempt(lambda b: b.create_exclude_constraint("ex", ("qty", "="))))
    with pytest.warns(BatchConstraintWarning, match="CHECK.*length"):
        await run(engine_off, attempt(lambda b: b.drop_column("name")))
