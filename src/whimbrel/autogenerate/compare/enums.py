"""PostgreSQL enum types: new types, new values, and values that went away.

* A type the models use and the database lacks is created first
  (``CREATE TYPE``); the downgrade drops it last.
* A type the database's compared columns use and the models no longer do is
  dropped last (``DROP TYPE IF EXISTS``: dropping a table drops its types too).
* New values are added with ``op.add_enum_value()``, each after the value before it
  so the order matches; the downgrade rebuilds the type without them.
* A removed (or reordered) value cannot be migrated automatically: the script gets a
  comment saying so and ``check`` reports it.

Other databases keep enum values in the column type; a changed ``ENUM(...)`` on
MySQL or a longer ``VARCHAR`` on SQLite is a type change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, String

from whimbrel.autogenerate.compare.context import ddl_compiler
from whimbrel.autogenerate.ops import NoteOp, ReversibleAddEnumValueOp, ReversibleSQLOp
from whimbrel.autogenerate.rename import label

if TYPE_CHECKING:
    from sqlalchemy import Table

    from whimbrel.autogenerate.compare.context import CompareContext
    from whimbrel.autogenerate.reflect import DbTable, TableKey
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("EnumChanges", "compare_enums", "model_enums")


class EnumChanges:
    """What comes first (new types and values) and last (dropped types)."""

    def __init__(self) -> None:
        self.first: list[MigrateOperation] = []
        self.last: list[MigrateOperation] = []


def _native_enum(type_: Any) -> Enum | None:
    impl = getattr(type_, "impl", None)
    if impl is not None and not isinstance(type_, Enum):
        type_ = impl  # a TypeDecorator over an Enum
    item = getattr(type_, "item_type", None)
    if item is not None:
        type_ = item  # an ARRAY of an enum
    if isinstance(type_, Enum) and type_.native_enum and type_.name:
        return type_
    return None


def model_enums(ctx: CompareContext, tables: list[Table]) -> dict[TableKey, Enum]:
    """The named native enum types the model tables use."""
    found: dict[TableKey, Enum] = {}
    for table in tables:
        for column in table.columns:
            enum = _native_enum(column.type)
            if enum is not None and enum.name is not None:
                schema = enum.schema if enum.schema is not None else None
                found.setdefault((ctx.unqualified(schema), enum.name), enum)
    return found


def _db_enum_users(
    ctx: CompareContext, db_tables: list[DbTable]
) -> dict[TableKey, list[tuple[DbTable, str, str | None]]]:
    users: dict[TableKey, list[tuple[DbTable, str, str | None]]] = {}
    for table in db_tables:
        for column in table.columns.values():
            enum = _native_enum(column.type)
            if enum is not None and enum.name is not None:
                key = (ctx.unqualified(enum.schema), enum.name)
                users.setdefault(key, []).append((table, column.name, column.default))
    return users


def compare_enums(
    ctx: CompareContext, tables: list[Table], db_tables: list[DbTable]
) -> EnumChanges:
    """The enum type changes (PostgreSQL; nothing elsewhere)."""
    changes = EnumChanges()
    if ctx.dialect_name != "postgresql":
        return changes
    wanted = model_enums(ctx, tables)
    users = _db_enum_users(ctx, db_tables)
    for key in sorted(wanted, key=lambda k: (k[0] or "", k[1])):
        enum = wanted[key]
        if not ctx.include_object(enum, key[1], "enum", False, None):
            continue
        labels = tuple(enum.enums)
        existing = ctx.db.enums.get(key)
        if existing is None:
            changes.first.append(
                ReversibleSQLOp(
                    _create_type(ctx, key, labels),
                    reverse_sql=f"DROP TYPE IF EXISTS {_name(ctx, key)}",
                    kind="add_enum",
                    subject=label(*key),
                    reverse_kind="remove_enum",
                )
            )
        elif existing != labels:
            changes.first.extend(_values(ctx, key, existing, labels, users.get(key, [])))
    for key in sorted(users, key=lambda k: (k[0] or "", k[1])):
        if key in wanted or key not in ctx.db.enums:
            continue
        if not ctx.include_object(None, key[1], "enum", True, None):
            continue
        changes.last.append(
            ReversibleSQLOp(
                f"DROP TYPE IF EXISTS {_name(ctx, key)}",
                reverse_sql=_create_type(ctx, key, ctx.db.enums[key]),
                kind="remove_enum",
                subject=label(*key),
                reverse_kind="add_enum",
            )
        )
    return changes


def _name(ctx: CompareContext, key: TableKey) -> str:
    prep = ctx.dialect.identifier_preparer
    schema, name = key
    return f"{prep.quote_schema(schema)}.{prep.quote(name)}" if schema else prep.quote(name)


def _literal(ctx: CompareContext, value: str) -> str:
    compiler = ddl_compiler(ctx.dialect)
    return str(compiler.sql_compiler.render_literal_value(value, String()))


def _create_type(ctx: CompareContext, key: TableKey, labels: tuple[str, ...]) -> str:
    values = ", ".join(_literal(ctx, v) for v in labels)
    return f"CREATE TYPE {_name(ctx, key)} AS ENUM ({values})"


def _values(
    ctx: CompareContext,
    key: TableKey,
    existing: tuple[str, ...],
    labels: tuple[str, ...],
    users: list[tuple[DbTable, str, str | None]],
) -> list[MigrateOperation]:
    label = _name(ctx, key)
    kept = [v for v in labels if v in existing]
    removed = [v for v in existing if v not in labels]
    if removed or kept != list(existing):
        what = (
            f"loses the values {', '.join(repr(v) for v in removed)}"
            if removed
            else "has its values in a new order"
        )
        message = (
            f"enum type {label} {what}: PostgreSQL cannot do this in place; write the "
            "migration by hand (create a new type, move the columns to it with "
            "alter_column(postgresql_using=...), drop the old type)"
        )
        return [NoteOp(message, manual=True, kind="enum_values", table=key[1], schema=key[0])]
    ops: list[MigrateOperation] = []
    restore = _rebuild(ctx, key, existing, users)
    added = tuple(v for v in labels if v not in existing)
    for i, value in enumerate(labels):
        if value in existing:
            continue
        after = labels[i - 1] if i > 0 else None
        before = labels[i + 1] if after is None and i + 1 < len(labels) else None
        ops.append(
            ReversibleAddEnumValueOp(
                key[1],
                value,
                schema=key[0],
                after=after,
                before=before,
                restore_statements=restore if not ops else (),
                added_values=added,
            )
        )
    return ops


def _rebuild(
    ctx: CompareContext,
    key: TableKey,
    labels: tuple[str, ...],
    users: list[tuple[DbTable, str, str | None]],
) -> tuple[str, ...]:
    """Statements giving the type ``labels`` again, moving its columns over."""
    prep = ctx.dialect.identifier_preparer
    schema, name = key
    old_name = f"{name}_old"
    old = _name(ctx, (schema, old_name))
    new = _name(ctx, key)
    statements = [
        f"ALTER TYPE {new} RENAME TO {prep.quote(old_name)}",
        _create_type(ctx, key, labels),
    ]
    for table, column, default in users:
        target = prep.quote(table.name)
        if table.schema:
            target = f"{prep.quote_schema(table.schema)}.{target}"
        alter = f"ALTER TABLE {target} ALTER COLUMN {prep.quote(column)}"
        if default is not None:
            statements.append(f"{alter} DROP DEFAULT")
        statements.append(f"{alter} TYPE {new} USING {prep.quote(column)}::text::{new}")
        if default is not None:
            statements.append(f"{alter} SET DEFAULT {default}")
    statements.append(f"DROP TYPE {old}")
    return tuple(statements)
