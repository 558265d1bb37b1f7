"""Test support for operations: a stand-in migration context and runners."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from whimbrel.config import Config
from whimbrel.ddl.impl import impl_for
from whimbrel.operations.base import Operations, bind_operations

T = TypeVar("T")


class StubContext:
    """A ``MigrationContextLike`` for tests: one connection, no version tables."""

    def __init__(
        self,
        dialect: Dialect,
        async_connection: AsyncConnection | None = None,
        sync_connection: Connection | None = None,
    ) -> None:
        self._dialect = dialect
        self._async = async_connection
        self._sync = sync_connection
        self.autocommit_blocks = 0

    @property
    def config(self) -> Config:
        return Config(script_location=Path("migrations"))

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def async_connection(self) -> AsyncConnection:
        assert self._async is not None, "no async connection in this test"
        return self._async

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        conn = self._sync
        assert conn is not None
        self.autocommit_blocks += 1
        if conn.in_transaction():
            conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            if conn.in_transaction():
                conn.commit()
            conn.execution_options(isolation_level=conn.default_isolation_level or "SERIALIZABLE")


def make_ops(conn: Connection, async_conn: AsyncConnection | None = None) -> Operations:
    """An ``Operations`` on ``conn``, as the runtime builds it."""
    impl = impl_for(conn.dialect)(conn, conn.dialect)
    return Operations(StubContext(conn.dialect, async_conn, conn), conn, impl)


def offline_ops(dialect: Dialect) -> Operations:
    """An ``Operations`` with no connection: statements are captured as SQL text."""
    impl = impl_for(dialect)(None, dialect)
    return Operations(StubContext(dialect), None, impl)


def engine_for(url: str) -> AsyncEngine:
    return create_async_engine(url)


async def run_ops(engine: AsyncEngine, fn: Callable[[Operations], T]) -> T:
    """Run ``fn(op)`` in one transaction, with ``op`` bound as ``whimbrel.op``."""
    async with engine.begin() as conn:

        def step(sync_conn: Connection) -> T:
            ops = make_ops(sync_conn, conn)
            with bind_operations(ops):
                return fn(ops)

        return await conn.run_sync(step)


async def snapshot(engine: AsyncEngine) -> dict[str, Any]:
    """The reflected schema: tables, columns, keys, indexes, constraints, comments."""
    async with engine.connect() as conn:
        return await conn.run_sync(schema_of)


def schema_of(conn: Connection) -> dict[str, Any]:
    """Every table's reflected shape, normalised enough to compare across runs."""
    insp = inspect(conn)
    dialect = conn.dialect.name
    out: dict[str, Any] = {}
    for name in sorted(insp.get_table_names()):
        columns = {
            c["name"]: {
                "type": _type_name(c["type"]),
                "nullable": c["nullable"],
                "default": _norm_default(c.get("default")),
                "comment": c.get("comment"),
            }
            for c in insp.get_columns(name)
        }
        pk = insp.get_pk_constraint(name)
        fks = sorted(
            (
                (
                    fk.get("name"),
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    ((fk.get("options") or {}).get("ondelete") or "").upper() or None,
                )
                for fk in insp.get_foreign_keys(name)
            ),
            key=repr,
        )
        if dialect == "sqlite":
            indexes, uniques = _sqlite_indexes(conn, name)
        else:
            uniques = sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(name)
            )
            # MySQL shows the indexes behind foreign keys and unique constraints.
            hidden = {fk[0] for fk in fks} | {u[0] for u in uniques}
            indexes = sorted(
                (ix["name"], tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
                for ix in insp.get_indexes(name)
                if not (dialect == "mysql" and ix["name"] in hidden)
                and not ix.get("duplicates_constraint")
            )
        checks = sorted(
            (
                (c["name"], _norm_sql(c["sqltext"]))
                for c in insp.get_check_constraints(name)
                if not (dialect == "mysql" and c["name"] in columns)  # MariaDB's JSON checks
            ),
            key=repr,
        )
        comment = insp.get_table_comment(name).get("text") if dialect != "sqlite" else None
        out[name] = {
            "columns": columns,
            "order": list(columns),
            "pk": tuple(pk["constrained_columns"]),
            "pk_name": pk.get("name") if dialect == "postgresql" else None,
            "fks": fks,
            "indexes": indexes,
            "uniques": uniques,
            "checks": checks,
            "comment": comment,
        }
    if dialect == "postgresql":
        out["_enums"] = sorted(
            (e["name"], tuple(e["labels"]))
            for e in insp.get_enums()  # type: ignore[attr-defined]
        )
    return out


def _sqlite_indexes(conn: Connection, table: str) -> tuple[list[Any], list[Any]]:
    indexes: list[Any] = []
    uniques: list[Any] = []
    for _seq, name, unique, origin, _partial in conn.exec_driver_sql(
        f'PRAGMA index_list("{table}")'
    ).fetchall():
        cols = tuple(
            str(r[2]) for r in conn.exec_driver_sql(f'PRAGMA index_xinfo("{name}")') if r[5]
        )
        if origin == "u":
            uniques.append((None, cols))
        elif origin == "c":
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).scalar_one()
            indexes.append((name, cols, bool(unique), _norm_sql(sql)))
    return sorted(indexes), sorted(uniques)


def _type_name(type_: Any) -> str:
    return type(type_).__name__.upper()


def _norm_default(default: Any) -> Any:
    if default is None:
        return None
    return str(default).strip("()").replace("'", "").split("::")[0]


def _norm_sql(sql: str) -> str:
    return "".join(ch for ch in sql.lower() if ch not in ' ()`"')


def metadata() -> MetaData:
    return MetaData()
