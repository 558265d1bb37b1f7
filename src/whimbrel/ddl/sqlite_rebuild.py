"""Rebuilding a SQLite table: reflect it whole, then move it aside and copy it back.

Reflection combines SQLAlchemy's ``Inspector`` (columns, primary key, foreign keys;
``get_multi_foreign_keys`` to find the tables pointing here) with SQLite's own
catalogue: ``PRAGMA index_list``/``index_xinfo`` and the ``CREATE INDEX`` texts, and
the ``CREATE TABLE`` text for constraint names (:mod:`whimbrel.ddl.sqlite_schema`).

The rebuild follows SQLite's documented procedure, in one of three ways:

* foreign keys not enforced: rename the table aside (``legacy_alter_table`` on, so
  no other table's ``REFERENCES`` is rewritten), create the new table, copy the rows,
  drop the old one, recreate the indexes -- in a transaction of its own when the
  connection is not in one, so a row the new table refuses changes nothing;
* enforced, but outside a transaction: switch enforcement off, do the above in a
  transaction of its own, run ``PRAGMA foreign_key_check``, switch it back on;
* enforced inside a transaction, where ``PRAGMA foreign_keys`` cannot change: defer
  the checks, copy the rows aside, drop and recreate the table, copy them back (so
  SQLite sees each parent row return), then ``PRAGMA foreign_key_check``. Dropping
  the table would fire ``ON DELETE`` actions of referencing tables, so when one with
  rows has such an action, the rebuild is refused with a hint instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Computed, MetaData, Table, cast, column, insert, select, table, text
from sqlalchemy.schema import (
    CheckConstraint,
    CreateIndex,
    CreateTable,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
)

from whimbrel.ddl.schemaobj import ensure_fk_targets
from whimbrel.ddl.sqlite_schema import parse_create_table
from whimbrel.errors import BatchError, ForeignKeyViolationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.schema import Index
    from sqlalchemy.types import TypeEngine

    from whimbrel.ddl.impl import DefaultImpl

__all__ = (
    "RebuildPlan",
    "ReflectedIndex",
    "ReflectedTable",
    "Transfer",
    "rebuild_table",
    "reflect_table",
)

_ACTIONS = frozenset({"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"})
_SAVEPOINT = "whimbrel_rebuild"


@dataclass(frozen=True)
class ReflectedIndex:
    """An index made by ``CREATE INDEX`` (not one backing a constraint)."""

    name: str
    sql: str
    columns: tuple[str | None, ...]
    unique: bool


@dataclass
class ReflectedTable:
    """A SQLite table as it is: a ``Table`` with its constraints, and its indexes."""

    table: Table
    indexes: list[ReflectedIndex] = field(default_factory=list)
    autoincrement: bool = False


def _pragma(conn: Connection, name: str, argument: str, schema: str | None) -> list[Any]:
    prefix = f'"{schema}".' if schema else ""
    quoted = argument.replace('"', '""')
    return list(conn.exec_driver_sql(f'PRAGMA {prefix}{name}("{quoted}")').fetchall())


def _master(schema: str | None) -> str:
    return f'"{schema}".sqlite_master' if schema else "sqlite_master"


def reflect_table(
    conn: Connection,
    table_name: str,
    *,
    schema: str | None = None,
    metadata: MetaData | None = None,
    overrides: Sequence[Column[Any]] = (),
    column_reflect: Sequence[Callable[[Any, Table, dict[str, Any]], None]] = (),
) -> ReflectedTable:
    """Reflect ``table_name`` with every constraint SQLite keeps, names included.

    ``overrides`` replace reflected columns of the same name; each ``column_reflect``
    listener may edit a column's reflected description (as SQLAlchemy's event does).

    Raises:
        BatchError: there is no such table.
    """
    from sqlalchemy import inspect

    row = conn.execute(
        text(f"SELECT sql FROM {_master(schema)} WHERE type = 'table' AND name = :name"),
        {"name": table_name},
    ).first()
    if row is None:
        raise BatchError(f"there is no table {table_name!r} to alter", table=table_name)
    parsed = parse_create_table(row[0])
    inspector = inspect(conn)
    metadata = metadata if metadata is not None else MetaData()
    by_name = {c.name: c for c in overrides}

    items: list[Any] = []
    placeholder = Table(table_name, MetaData(), schema=schema)
    for reflected_info in inspector.get_columns(table_name, schema=schema):
        info: dict[str, Any] = dict(reflected_info)
        for listener in column_reflect:
            listener(inspector, placeholder, info)
        name = info["name"]
        if name in by_name:
            items.append(by_name[name]._copy())
            continue
        default = info.get("default")
        computed = info.get("computed")
        extra: list[Any] = []
        if computed is not None:
            extra.append(Computed(computed["sqltext"], persisted=computed.get("persisted")))
        items.append(
            Column(
                name,
                info["type"],
                *extra,
                nullable=info["nullable"],
                server_default=text(default) if default is not None and not computed else None,
                autoincrement=False,
            )
        )

    pk = inspector.get_pk_constraint(table_name, schema=schema)
    if pk["constrained_columns"]:
        items.append(PrimaryKeyConstraint(*pk["constrained_columns"], name=pk.get("name")))

    fk_rows = _pragma(conn, "foreign_key_list", table_name, schema)
    for fk in inspector.get_foreign_keys(table_name, schema=schema):
        local = tuple(fk["constrained_columns"])
        options = dict(fk.get("options") or {})
        on_update, on_delete = _fk_actions(fk_rows, local, fk["referred_table"])
        target = fk["referred_table"]
        if fk.get("referred_schema"):
            target = f"{fk['referred_schema']}.{target}"
        items.append(
            ForeignKeyConstraint(
                list(local),
                [f"{target}.{c}" for c in fk["referred_columns"]],
                name=fk.get("name") or parsed.foreign_key_names.get(local),
                onupdate=options.get("onupdate") or on_update,
                ondelete=options.get("ondelete") or on_delete,
                deferrable=options.get("deferrable"),
                initially=options.get("initially"),
            )
        )

    indexes: list[ReflectedIndex] = []
    for _seq, name, unique, origin, _partial in _pragma(conn, "index_list", table_name, schema):
        if origin == "u":
            cols = tuple(r[2] for r in _pragma(conn, "index_info", name, schema))
            items.append(UniqueConstraint(*cols, name=parsed.unique_names.get(cols)))
        elif origin == "c":
            sql = conn.execute(
                text(f"SELECT sql FROM {_master(schema)} WHERE type = 'index' AND name = :n"),
                {"n": name},
            ).scalar_one()
            cols = tuple(r[2] for r in _pragma(conn, "index_xinfo", name, schema) if r[5])
            indexes.append(ReflectedIndex(name, sql, cols, bool(unique)))
    for name, sqltext in parsed.checks:
        items.append(CheckConstraint(text(sqltext), name=name))

    reflected = Table(table_name, metadata, *items, schema=schema)
    ensure_fk_targets(reflected)
    indexes.sort(key=lambda ix: ix.name)
    return ReflectedTable(reflected, indexes, parsed.autoincrement)


def _fk_actions(
    rows: list[Any], local: tuple[str, ...], referred: str
) -> tuple[str | None, str | None]:
    groups: dict[int, list[Any]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    for group in groups.values():
        ordered = sorted(group, key=lambda r: r[1])
        if tuple(r[3] for r in ordered) == local and ordered[0][2] == referred:
            update, delete = ordered[0][5], ordered[0][6]
            return (
                None if update == "NO ACTION" else update,
                None if delete == "NO ACTION" else delete,
            )
    return None, None


@dataclass(frozen=True)
class Transfer:
    """Where a column of the rebuilt table takes its values from."""

    column: str
    source: str
    cast_to: TypeEngine[Any] | None = None


@dataclass(frozen=True)
class RebuildPlan:
    """The table to build in place of the old one, and how to fill it."""

    table: Table
    transfers: tuple[Transfer, ...]
    index_sql: tuple[str, ...] = ()
    indexes: tuple[Index, ...] = ()


def rebuild_table(impl: DefaultImpl, plan: RebuildPlan) -> None:
    """Replace the table with ``plan.table``, keeping its rows (see the module doc).

    Raises:
        BatchError: the rebuild would fire ``ON DELETE`` actions of other tables.
        ForeignKeyViolationError: rows break foreign keys afterwards.
    """
    if impl.connection is None:
        _write_move_and_copy(impl, plan)
        return
    conn = impl.connection
    name = plan.table.name
    schema = plan.table.schema
    enforced = _pragma_value(conn, "foreign_keys", schema=None) == 1
    if not enforced:
        if _in_transaction(conn):
            _move_and_copy(impl, conn, plan)
        else:
            with _own_transaction(conn):
                _move_and_copy(impl, conn, plan)
        return
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
    # The pragma changes only outside a transaction.
    if _pragma_value(conn, "foreign_keys", schema=None) == 0:
        try:
            with _own_transaction(conn):
                _move_and_copy(impl, conn, plan)
                _check_foreign_keys(conn, name, schema)
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        return
    _copy_aside(impl, conn, plan)


def _in_transaction(conn: Connection) -> bool:
    # SQLAlchemy's own flag says nothing here: in autocommit mode it still "begins".
    driver = conn.connection.driver_connection
    return bool(getattr(driver, "in_transaction", True))


@contextmanager
def _own_transaction(conn: Connection) -> Iterator[None]:
    """``BEGIN`` ... ``COMMIT`` on a connection outside a transaction; rolled back on error.

    Without it each statement of the move-and-copy commits by itself, and a failed row
    copy leaves the rows in ``_whimbrel_old_<table>`` and the new table empty.
    """
    conn.exec_driver_sql("BEGIN")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    conn.exec_driver_sql("COMMIT")


def _pragma_value(conn: Connection, pragma: str, *, schema: str | None) -> Any:
    prefix = f'"{schema}".' if schema else ""
    return conn.exec_driver_sql(f"PRAGMA {prefix}{pragma}").scalar()


def _old_name(name: str) -> str:
    return f"_whimbrel_old_{name}"


def _copy_rows(impl: DefaultImpl, plan: RebuildPlan, source: str) -> None:
    old = table(source, *(column(t.source) for t in plan.transfers), schema=plan.table.schema)
    exprs = [
        cast(old.c[t.source], t.cast_to) if t.cast_to is not None else old.c[t.source]
        for t in plan.transfers
    ]
    impl.execute(
        insert(plan.table).from_select([t.column for t in plan.transfers], select(*exprs))
    )


def _finish(impl: DefaultImpl, plan: RebuildPlan) -> None:
    for sql in plan.index_sql:
        impl.execute(sql)
    for index in plan.indexes:
        impl.execute(CreateIndex(index))


def _quoted(impl: DefaultImpl, name: str, schema: str | None) -> str:
    preparer = impl.dialect.identifier_preparer
    quoted = preparer.quote(name)
    return f"{preparer.quote_schema(schema)}.{quoted}" if schema else quoted


def _move_and_copy(impl: DefaultImpl, conn: Connection, plan: RebuildPlan) -> None:
    name, schema = plan.table.name, plan.table.schema
    old = _old_name(name)
    legacy = _pragma_value(conn, "legacy_alter_table", schema=None)
    # Legacy renaming leaves other tables' REFERENCES (and views) naming the table,
    # so they find the rebuilt one under the same name.
    conn.exec_driver_sql("PRAGMA legacy_alter_table = ON")
    try:
        impl.execute(
            f"ALTER TABLE {_quoted(impl, name, schema)} RENAME TO {_quoted(impl, old, None)}"
        )
    finally:
        conn.exec_driver_sql(f"PRAGMA legacy_alter_table = {int(bool(legacy))}")
    impl.execute(CreateTable(plan.table))
    _copy_rows(impl, plan, old)
    impl.execute(f"DROP TABLE {_quoted(impl, old, schema)}")
    _finish(impl, plan)


def _write_move_and_copy(impl: DefaultImpl, plan: RebuildPlan) -> None:
    """The move-and-copy as SQL text, for offline SQL (no connection to read pragmas).

    Foreign keys are taken as not enforced (SQLite's default, and the only way a
    script can rebuild a referenced table without the checks Whimbrel makes online).
    The script cannot tell whether it runs in a transaction (``transactional = False``,
    an ``autocommit_block()``), so a savepoint holds the rebuild: outside one it is a
    transaction of its own, as online; inside one it changes nothing.
    """
    name, schema = plan.table.name, plan.table.schema
    old = _old_name(name)
    impl.execute(f"SAVEPOINT {_SAVEPOINT}")
    impl.execute("PRAGMA legacy_alter_table = ON")
    impl.execute(f"ALTER TABLE {_quoted(impl, name, schema)} RENAME TO {_quoted(impl, old, None)}")
    impl.execute("PRAGMA legacy_alter_table = OFF")
    impl.execute(CreateTable(plan.table))
    _copy_rows(impl, plan, old)
    impl.execute(f"DROP TABLE {_quoted(impl, old, schema)}")
    _finish(impl, plan)
    impl.execute(f"RELEASE {_SAVEPOINT}")


def _copy_aside(impl: DefaultImpl, conn: Connection, plan: RebuildPlan) -> None:
    name, schema = plan.table.name, plan.table.schema
    _refuse_actions(conn, name, schema)
    deferred = _pragma_value(conn, "defer_foreign_keys", schema=None)
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    try:
        old = _old_name(name)
        impl.execute(
            f"CREATE TABLE {_quoted(impl, old, schema)} AS "
            f"SELECT * FROM {_quoted(impl, name, schema)}"
        )
        impl.execute(f"DROP TABLE {_quoted(impl, name, schema)}")
        impl.execute(CreateTable(plan.table))
        _copy_rows(impl, plan, old)
        impl.execute(f"DROP TABLE {_quoted(impl, old, schema)}")
        _finish(impl, plan)
        _check_foreign_keys(conn, name, schema)
    finally:
        conn.exec_driver_sql(f"PRAGMA defer_foreign_keys = {int(bool(deferred))}")


def _children(conn: Connection, name: str, schema: str | None) -> list[str]:
    """Tables with a foreign key to ``name`` (one bulk reflection call)."""
    from sqlalchemy import inspect

    found: list[str] = []
    for (_schema, child), fks in inspect(conn).get_multi_foreign_keys(schema=schema).items():
        if child != name and any(fk["referred_table"] == name for fk in fks):
            found.append(child)
    return sorted(found)


def _refuse_actions(conn: Connection, name: str, schema: str | None) -> None:
    for child in _children(conn, name, schema):
        for row in _pragma(conn, "foreign_key_list", child, schema):
            if row[2] != name or row[6] not in _ACTIONS:
                continue
            has_rows = conn.exec_driver_sql(f'SELECT 1 FROM "{child}" LIMIT 1').first()
            if has_rows is not None:
                raise BatchError(
                    f"cannot rebuild table {name!r} inside a transaction while "
                    f"PRAGMA foreign_keys is on: dropping it would fire ON DELETE "
                    f"{row[6]} on the rows of {child!r}; run the batch inside "
                    "'with op.autocommit_block():' or mark the script "
                    "'transactional = False', so foreign keys can be switched off",
                    table=name,
                )


def _check_foreign_keys(conn: Connection, name: str, schema: str | None) -> None:
    violations: list[tuple[str, int | None, str]] = [
        (row[0], row[1], row[2])
        for tname in [name, *_children(conn, name, schema)]
        for row in _pragma(conn, "foreign_key_check", tname, schema)
    ]
    if violations:
        raise ForeignKeyViolationError(name, violations)
