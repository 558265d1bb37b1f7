"""A comparable picture of a database's schema, and the differences between two.

The stock checks take one before an upgrade and one after the matching downgrade: a
downgrade that leaves a table, a column, an index or an enum type behind (or drops
one it did not create) shows up as a difference, in words.

Reflecting every table is the cost of a snapshot, and the checks take one after each
step. So a :class:`ShapeCache` keeps each table's shape under its SQLite DDL (the
``sqlite_master`` rows of the table and its indexes, from which SQLite's reflection
reads everything): a table reflected once is not reflected again while its DDL stays
the same. Other databases reflect in bulk (one ``get_multi_*`` query per kind), and
:func:`outline` gives the names alone, for a check that needs no more.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ("SchemaSnapshot", "ShapeCache", "TableShape", "differences", "outline", "snapshot")


@dataclass(frozen=True, slots=True)
class TableShape:
    """One table: its columns (name to type and nullability) and its other parts.

    ``parts`` holds a description of each index and constraint, such as
    ``"index ix_orders_customer_id on (customer_id)"``.
    """

    columns: dict[str, str] = field(default_factory=dict)
    parts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SchemaSnapshot:
    """The tables and other named objects of one schema of a database."""

    tables: dict[str, TableShape] = field(default_factory=dict)
    others: frozenset[str] = frozenset()

    @property
    def table_names(self) -> frozenset[str]:
        """The names of the tables."""
        return frozenset(self.tables)


class ShapeCache:
    """Table shapes already reflected, keyed by the DDL they were reflected from.

    Only SQLite has DDL to key on; elsewhere the cache stays empty. Keys are the exact
    DDL text, so one cache may serve several databases and never goes stale.
    """

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, ...], TableShape] = {}

    def __len__(self) -> int:
        return len(self._shapes)

    def get(self, key: tuple[str, ...]) -> TableShape | None:
        """The shape reflected from ``key``'s DDL, if any."""
        return self._shapes.get(key)

    def put(self, key: tuple[str, ...], shape: TableShape) -> None:
        """Remember the shape reflected from ``key``'s DDL."""
        self._shapes[key] = shape


async def snapshot(
    connection: AsyncConnection,
    *,
    exclude: Collection[str] = (),
    schema: str | None = None,
    cache: ShapeCache | None = None,
) -> SchemaSnapshot:
    """Reflect the schema of ``connection``'s database, leaving out ``exclude`` tables.

    Args:
        connection: the database to reflect.
        exclude: tables to leave out (the version and history tables).
        schema: the schema to reflect, the default one when ``None``.
        cache: shapes reflected before, reused for SQLite tables whose DDL is unchanged.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: reflection failed.
    """
    return await connection.run_sync(_reflect, frozenset(exclude), schema, cache)


async def outline(
    connection: AsyncConnection, *, exclude: Collection[str] = (), schema: str | None = None
) -> SchemaSnapshot:
    """The table names and other named objects, without reflecting any table.

    Its tables have no columns or parts: :func:`differences` between two outlines
    names the tables, views, sequences and enum types that came or went, in the same
    words as between two snapshots.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: reflection failed.
    """
    return await connection.run_sync(_outline, frozenset(exclude), schema)


def _outline(conn: Connection, exclude: frozenset[str], schema: str | None) -> SchemaSnapshot:
    from sqlalchemy import inspect

    insp = inspect(conn)
    names = [t for t in insp.get_table_names(schema=schema) if t not in exclude]
    return SchemaSnapshot({name: TableShape() for name in names}, _others(conn, insp, schema))


def _reflect(
    conn: Connection, exclude: frozenset[str], schema: str | None, cache: ShapeCache | None
) -> SchemaSnapshot:
    from sqlalchemy import inspect

    insp = inspect(conn)
    names = [t for t in insp.get_table_names(schema=schema) if t not in exclude]
    if not names:
        return SchemaSnapshot(others=_others(conn, insp, schema))
    keys: dict[str, tuple[str, ...]] = {}
    if cache is not None and schema is None and conn.dialect.name == "sqlite":
        keys = _sqlite_keys(conn, names)
    known: dict[str, TableShape] = {}
    if cache is not None:
        for name, key in keys.items():
            shape = cache.get(key)
            if shape is not None:
                known[name] = shape
    todo = [name for name in names if name not in known]
    if todo:
        fresh = _shapes(conn, insp, schema, todo)
        if cache is not None:
            for name in todo:
                if name in keys:
                    cache.put(keys[name], fresh[name])
        known.update(fresh)
    return SchemaSnapshot({name: known[name] for name in names}, _others(conn, insp, schema))


# A foreign key with no column list refers to the other table's primary key, which
# SQLite's reflection reads from that table: such a table's shape is not its DDL alone.
_REFERENCE = re.compile(
    r"\breferences\s+(?:\"[^\"]*\"|`[^`]*`|\[[^\]]*\]|'[^']*'|[^\s(),]+)\s*(\()?",
    re.IGNORECASE,
)


def _sqlite_keys(conn: Connection, names: list[str]) -> dict[str, tuple[str, ...]]:
    """Each table's DDL with its indexes', for the tables whose shape it determines."""
    from sqlalchemy import text

    rows = conn.execute(
        text("SELECT tbl_name, type, name, sql FROM sqlite_master ORDER BY tbl_name, type, name")
    )
    ddl: dict[str, list[str]] = {}
    for table, kind, name, sql in rows:
        ddl.setdefault(table, []).extend((kind, name, sql or ""))
    keys: dict[str, tuple[str, ...]] = {}
    for name in names:
        parts = ddl.get(name, [])
        sqls = parts[2::3]
        if parts and not any(m[1] is None for sql in sqls for m in _REFERENCE.finditer(sql)):
            keys[name] = (name, *parts)
    return keys


def _shapes(
    conn: Connection, insp: Any, schema: str | None, names: list[str]
) -> dict[str, TableShape]:
    key = {(schema, name): name for name in names}
    kw: dict[str, Any] = {"schema": schema, "filter_names": names}
    columns = insp.get_multi_columns(**kw)
    pks = insp.get_multi_pk_constraint(**kw)
    indexes = insp.get_multi_indexes(**kw)
    uniques = insp.get_multi_unique_constraints(**kw)
    fks = insp.get_multi_foreign_keys(**kw)
    try:
        checks = insp.get_multi_check_constraints(**kw)
    except NotImplementedError:
        checks = {}
    tables: dict[str, TableShape] = {}
    for ref, name in key.items():
        cols = {
            c["name"]: f"{_type(c['type'], conn)} {'NULL' if c['nullable'] else 'NOT NULL'}"
            for c in columns.get(ref, [])
        }
        parts: set[str] = set()
        pk: Any = pks.get(ref) or {}
        if pk.get("constrained_columns"):
            parts.add(f"primary key on {_cols(pk['constrained_columns'])}")
        for ix in indexes.get(ref, []):
            kind = "unique index" if ix.get("unique") else "index"
            parts.add(f"{kind} {ix['name']} on {_cols(ix['column_names'])}")
        for uq in uniques.get(ref, []):
            parts.add(f"unique constraint {_name(uq.get('name'))}on {_cols(uq['column_names'])}")
        for fk in fks.get(ref, []):
            parts.add(
                f"foreign key {_name(fk.get('name'))}{_cols(fk['constrained_columns'])} "
                f"-> {fk['referred_table']}{_cols(fk['referred_columns'])}"
            )
        for ck in checks.get(ref, []):
            parts.add(f"check constraint {_name(ck.get('name'))}({ck.get('sqltext')})")
        tables[name] = TableShape(cols, frozenset(parts))
    return tables


def _others(conn: Connection, insp: Any, schema: str | None) -> frozenset[str]:
    found: set[str] = set()
    found.update(f"view {v}" for v in insp.get_view_names(schema=schema))
    try:
        sequences = set(insp.get_sequence_names(schema=schema))
    except NotImplementedError:
        sequences = set()
    # A serial or identity column's sequence belongs to its table: it comes and goes
    # with it, and is not worth a line of its own.
    found.update(f"sequence {s}" for s in sorted(sequences - _owned_sequences(conn)))
    if hasattr(insp, "get_enums"):
        found.update(f"enum type {e['name']}" for e in insp.get_enums(schema=schema or "public"))
    return frozenset(found)


def _owned_sequences(conn: Connection) -> set[str]:
    if conn.dialect.name != "postgresql":
        return set()
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "WHERE s.relkind = 'S' AND d.classid = 'pg_class'::regclass "
            "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
        )
    )
    return {row[0] for row in rows}


def _type(type_: Any, conn: Connection) -> str:
    try:
        return str(type_.compile(dialect=conn.dialect))
    except Exception:
        return repr(type_)


def _cols(names: Iterable[str | None]) -> str:
    return f"({', '.join(str(n) for n in names)})"


def _name(name: object) -> str:
    return f"{name} " if name else ""


def differences(before: SchemaSnapshot, after: SchemaSnapshot) -> list[str]:
    """What changed from ``before`` to ``after``, one phrase per difference.

    Phrases read as what ``after`` has that ``before`` had not (``... is left
    behind``), what it lacks (``... is gone``), and column types that changed.

    Raises:
        Nothing: it compares two values already reflected.
    """
    out = _added_removed("table ", before.table_names, after.table_names)
    for name in sorted(before.table_names & after.table_names):
        old, new = before.tables[name], after.tables[name]
        out += _added_removed(f"column {name}.", old.columns.keys(), new.columns.keys())
        out += [
            f"column {name}.{col} changed from {old.columns[col]} to {new.columns[col]}"
            for col in sorted(old.columns.keys() & new.columns.keys())
            if old.columns[col] != new.columns[col]
        ]
        out += _added_removed(f"table {name}: ", old.parts, new.parts)
    out += _added_removed("", before.others, after.others)
    return out


def _added_removed(prefix: str, old: AbstractSet[str], new: AbstractSet[str]) -> list[str]:
    return [f"{prefix}{item} is left behind" for item in sorted(new - old)] + [
        f"{prefix}{item} is gone" for item in sorted(old - new)
    ]
