"""Columns of a table both sides have: added, dropped, and altered ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Computed, Identity, text
from sqlalchemy.schema import DefaultClause

from whimbrel.autogenerate.build import build_column, is_serial_default
from whimbrel.autogenerate.compare.types import compile_type, family, type_key, types_differ
from whimbrel.autogenerate.ops import CastingAlterColumnOp, NoteOp, ReversibleSQLOp
from whimbrel.autogenerate.sqlnorm import normalize_default, normalize_sql
from whimbrel.operations.table_ops import AddColumnOp, AlterColumnOp, DropColumnOp

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.types import TypeEngine

    from whimbrel.autogenerate.compare.context import CompareContext, TableChanges
    from whimbrel.autogenerate.reflect import DbColumn, DbTable
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("add_column_op", "compare_column", "drop_column_op", "plain_column")


def plain_column(column: Column[Any], ctx: CompareContext) -> Column[Any]:
    """A copy of a model column with no key, index or constraint: those are separate ops."""
    items: list[Any] = []
    if column.computed is not None:
        computed = column.computed
        items.append(Computed(_sql(computed.sqltext, ctx), persisted=computed.persisted))
    if column.identity is not None:
        ident = column.identity
        items.append(
            Identity(
                always=ident.always,
                on_null=ident.on_null,
                start=ident.start,
                increment=ident.increment,
                minvalue=ident.minvalue,
                maxvalue=ident.maxvalue,
                cycle=ident.cycle,
            )
        )
    default = column.server_default
    server_default = default.arg if isinstance(default, DefaultClause) else None
    kw: dict[str, Any] = {}
    if column.autoincrement is not True and column.autoincrement != "auto":
        kw["autoincrement"] = column.autoincrement
    return Column(
        column.name,
        column.type,
        *items,
        nullable=column.nullable,
        server_default=server_default,  # type: ignore[arg-type]
        comment=column.comment,
        **kw,
    )


def _sql(element: Any, ctx: CompareContext) -> str:
    return element if isinstance(element, str) else ctx.compile_expression(element)


def add_column_op(table: Table, column: Column[Any], ctx: CompareContext) -> AddColumnOp:
    """The ``AddColumnOp`` for a model column the database lacks."""
    schema = ctx.unqualified(table.schema)
    return AddColumnOp(table.name, plain_column(column, ctx), schema=schema)


def drop_column_op(db_table: DbTable, column: DbColumn) -> DropColumnOp:
    """The ``DropColumnOp`` for a database column the models lack (reversible)."""
    return DropColumnOp(
        db_table.name, column.name, schema=db_table.schema, column=build_column(column)
    )


def compare_column(
    ctx: CompareContext,
    table: Table,
    db_table: DbTable,
    column: Column[Any],
    db_column: DbColumn,
    changes: TableChanges,
) -> None:
    """Add to ``changes`` what makes ``db_column`` like the model's ``column``."""
    if _computed_differs(ctx, column, db_column):
        note = None
        if db_column.computed is None:
            note = NoteOp(
                f"WARNING: column {db_table.name}.{column.name} becomes a computed column: "
                "it is dropped and added again, and its data is lost",
                kind="data_loss",
                table=db_table.name,
                schema=db_table.schema,
            )
        if note is not None:
            changes.drop_columns.append(note)
        changes.drop_columns.append(drop_column_op(db_table, db_column))
        changes.drop_columns.append(add_column_op(table, column, ctx))
        return
    kw: dict[str, Any] = {}
    if _type_changed(ctx, column, db_column):
        kw["type_"] = column.type
        using = _postgresql_using(ctx, column.name, column.type, db_column.type)
        back = _postgresql_using(ctx, column.name, db_column.type, column.type)
        if using is not None or back is not None:
            kw["postgresql_using"] = using
            kw["reverse_using"] = back
    # A primary key is NOT NULL anyway (SQLite reports INTEGER PRIMARY KEY as nullable).
    if column.nullable != db_column.nullable and not column.primary_key:
        kw["nullable"] = column.nullable
    if _default_changed(ctx, column, db_column):
        default = column.server_default
        kw["server_default"] = default.arg if isinstance(default, DefaultClause) else None
    if (
        ctx.options.compare_comments
        and ctx.dialect.supports_comments
        and (column.comment or None) != db_column.comment
    ):
        kw["comment"] = column.comment or None
    if kw:
        op_class = CastingAlterColumnOp if "reverse_using" in kw else AlterColumnOp
        existing_default = (
            None
            if db_column.default is None or is_serial_default(db_column)
            else text(db_column.default)
        )
        changes.alter_columns.append(
            op_class(
                db_table.name,
                db_column.name,
                schema=db_table.schema,
                existing_type=db_column.type,
                existing_nullable=db_column.nullable,
                existing_server_default=existing_default,
                existing_comment=db_column.comment,
                existing_autoincrement=db_column.autoincrement if ctx.is_mysql else None,
                **kw,
            )
        )
    changes.alter_columns.extend(_identity_ops(ctx, db_table, column, db_column))


def _type_changed(ctx: CompareContext, column: Column[Any], db_column: DbColumn) -> bool:
    option = ctx.options.compare_type
    if option is False:
        return False
    if callable(option):
        decided = option(column, db_column.type, column.type)
        if decided is not None:
            return bool(decided)
    differ, _, _ = types_differ(column.type, db_column.type, ctx.dialect)
    return differ


def _postgresql_using(
    ctx: CompareContext, name: str, type_: TypeEngine[Any], from_type: TypeEngine[Any]
) -> str | None:
    """``USING col::type`` where PostgreSQL will not cast ``from_type`` by itself."""
    from sqlalchemy import Enum

    if ctx.dialect_name != "postgresql":
        return None
    quote = ctx.dialect.identifier_preparer.quote
    if isinstance(type_, Enum) and type_.native_enum and type_.name:
        enum = quote(type_.name)
        if type_.schema:
            enum = f"{quote(type_.schema)}.{enum}"
        return f"{quote(name)}::text::{enum}"
    old, new = type_key(from_type, ctx.dialect), type_key(type_, ctx.dialect)
    ddl = compile_type(type_, ctx.dialect)
    if ddl is None or family(old) == family(new) or family(new) == "string":
        return None  # an implicit or assignment cast exists
    return f"{quote(name)}::{ddl}"


def _default_changed(ctx: CompareContext, column: Column[Any], db_column: DbColumn) -> bool:
    if not ctx.options.compare_server_default:
        return False
    if column.computed is not None or column.identity is not None:
        return False
    if db_column.computed is not None or db_column.identity is not None:
        return False
    if column.server_default is not None and not isinstance(column.server_default, DefaultClause):
        return False  # a FetchedValue: the database's business
    reflected = None if is_serial_default(db_column) else db_column.default
    if reflected is not None and reflected.lower().startswith("nextval(") and column.primary_key:
        reflected = None
    return normalize_default(ctx.default_sql(column)) != normalize_default(reflected)


def _computed_differs(ctx: CompareContext, column: Column[Any], db_column: DbColumn) -> bool:
    computed = column.computed
    if computed is None and db_column.computed is None:
        return False
    if computed is None or db_column.computed is None:
        return True
    sqltext, persisted = db_column.computed
    if normalize_sql(_sql(computed.sqltext, ctx)) != normalize_sql(sqltext):
        return True
    return (
        computed.persisted is not None
        and persisted is not None
        and (bool(computed.persisted) != bool(persisted))
    )


def _identity_ops(
    ctx: CompareContext, db_table: DbTable, column: Column[Any], db_column: DbColumn
) -> list[MigrateOperation]:
    if ctx.dialect_name != "postgresql":
        return []
    wanted = column.identity
    found = db_column.identity
    if wanted is None and found is None:
        return []
    prep = ctx.dialect.identifier_preparer
    table = prep.quote(db_table.name)
    if db_table.schema:
        table = f"{prep.quote_schema(db_table.schema)}.{table}"
    alter = f"ALTER TABLE {table} ALTER COLUMN {prep.quote(column.name)}"
    label = f"{db_table.name}.{column.name}"
    tag: dict[str, Any] = {"kind": "identity", "subject": label, "reverse_kind": "identity"}
    if wanted is not None and found is None:
        if db_column.default is not None:
            return [
                NoteOp(
                    f"column {label} should become an identity column; it has a default "
                    f"({db_column.default}) to drop first: write this change by hand",
                    manual=True,
                    kind="identity",
                    table=db_table.name,
                    schema=db_table.schema,
                )
            ]
        return [
            ReversibleSQLOp(
                f"{alter} ADD {_identity_clause(wanted.always, wanted.start, wanted.increment)}",
                reverse_sql=f"{alter} DROP IDENTITY",
                **tag,
            )
        ]
    if wanted is None and found is not None:
        return [
            ReversibleSQLOp(
                f"{alter} DROP IDENTITY",
                reverse_sql=(
                    f"{alter} ADD "
                    + _identity_clause(
                        found.get("always"), found.get("start"), found.get("increment")
                    )
                ),
                **tag,
            )
        ]
    assert wanted is not None and found is not None
    ops: list[MigrateOperation] = []
    if bool(wanted.always) != bool(found.get("always")):
        ops.append(
            ReversibleSQLOp(
                f"{alter} SET GENERATED {_generated(wanted.always)}",
                reverse_sql=f"{alter} SET GENERATED {_generated(found.get('always'))}",
                **tag,
            )
        )
    for attr, clause in (("start", "START WITH"), ("increment", "INCREMENT BY")):
        value = getattr(wanted, attr)
        if value is not None and value != found.get(attr):
            ops.append(
                ReversibleSQLOp(
                    f"{alter} SET {clause} {int(value)}",
                    reverse_sql=f"{alter} SET {clause} {int(found.get(attr) or 1)}",
                    **tag,
                )
            )
    return ops


def _generated(always: object) -> str:
    return "ALWAYS" if always else "BY DEFAULT"


def _identity_clause(always: object, start: object, increment: object) -> str:
    options = []
    if start is not None:
        options.append(f"START WITH {int(str(start))}")
    if increment is not None:
        options.append(f"INCREMENT BY {int(str(increment))}")
    tail = f" ({' '.join(options)})" if options else ""
    return f"GENERATED {_generated(always)} AS IDENTITY{tail}"
