"""One table both sides have: its columns (with renames), keys, indexes and comment."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from whimbrel.autogenerate.compare.checks import compare_checks
from whimbrel.autogenerate.compare.columns import add_column_op, compare_column, drop_column_op
from whimbrel.autogenerate.compare.context import TableChanges
from whimbrel.autogenerate.compare.foreign_keys import compare_foreign_keys
from whimbrel.autogenerate.compare.indexes import compare_indexes
from whimbrel.autogenerate.compare.types import family, type_key
from whimbrel.autogenerate.ops import NoteOp
from whimbrel.autogenerate.rename import label
from whimbrel.operations.table_ops import AlterColumnOp, CreateTableCommentOp, DropTableCommentOp

if TYPE_CHECKING:
    from sqlalchemy import Column, Table

    from whimbrel.autogenerate.compare.context import CompareContext
    from whimbrel.autogenerate.reflect import DbColumn, DbSchema, DbTable
    from whimbrel.autogenerate.rename import RenameResolver

__all__ = ("compare_table", "rename_db_column", "rename_db_table")


def compare_table(
    ctx: CompareContext, table: Table, db_table: DbTable, resolver: RenameResolver
) -> TableChanges:
    """Everything that makes ``db_table`` like the model ``table``."""
    changes = TableChanges(db_table.schema, db_table.name)
    parents = {"table_name": table.name, "schema_name": db_table.schema}
    model_columns = {
        c.name: c for c in table.columns if ctx.include_name(c.name, "column", parents)
    }
    db_columns = {
        name: c
        for name, c in db_table.columns.items()
        if ctx.include_name(name, "column", parents)
    }
    added = [c for name, c in model_columns.items() if name not in db_columns]
    dropped = [c for name, c in db_columns.items() if name not in model_columns]
    if added and dropped and ctx.options.detect_renames:
        pairs = resolver.columns(
            db_table.schema,
            db_table.name,
            table.name,
            dropped,
            added,
            lambda old, new: _columns_compatible(ctx, old, new),
        )
        for old, new in pairs:
            changes.alter_columns.append(
                AlterColumnOp(
                    db_table.name, old.name, schema=db_table.schema, new_column_name=new.name
                )
            )
            rename_db_column(ctx.db, db_table, old.name, new.name)
            db_columns = {
                name: c
                for name, c in db_table.columns.items()
                if ctx.include_name(name, "column", parents)
            }
        added = [c for name, c in model_columns.items() if name not in db_columns]
        dropped = [c for name, c in db_columns.items() if name not in model_columns]

    for column in added:
        if ctx.include_object(column, column.name, "column", False, None):
            changes.add_columns.append(add_column_op(table, column, ctx))
    for db_column in dropped:
        if not ctx.include_db_item(
            db_table, db_column.name, "column", lambda t, n=db_column.name: t.c[n], None
        ):
            continue
        changes.drop_columns.append(_data_loss_note(db_table, db_column, resolver))
        changes.drop_columns.append(drop_column_op(db_table, db_column))
    for name, column in model_columns.items():
        found = db_columns.get(name)
        if found is None:
            continue
        if ctx.has_object_hook and not ctx.include_object(
            column, name, "column", False, ctx.built_table(db_table).c[name]
        ):
            continue
        compare_column(ctx, table, db_table, column, found, changes)

    model_pk = tuple(c.name for c in table.primary_key.columns)
    if model_pk != db_table.pk_columns and (model_pk or db_table.pk_columns):
        changes.alter_columns.append(
            NoteOp(
                f"the primary key of {label(db_table.schema, db_table.name)} changes from "
                f"({', '.join(db_table.pk_columns)}) to ({', '.join(model_pk)}): write this "
                "change by hand (drop_constraint and create_primary_key, or batch mode on "
                "SQLite)",
                manual=True,
                kind="primary_key",
                table=db_table.name,
                schema=db_table.schema,
            )
        )
    compare_indexes(ctx, table, db_table, changes)
    compare_foreign_keys(ctx, table, db_table, changes)
    compare_checks(ctx, table, db_table, changes)
    _compare_comment(ctx, table, db_table, changes)
    return changes


def _columns_compatible(ctx: CompareContext, old: DbColumn, new: Column[Any]) -> bool:
    old_key = type_key(old.type, ctx.dialect)
    new_key = type_key(new.type, ctx.dialect)
    return old_key is not None and family(old_key) == family(new_key)


def _data_loss_note(db_table: DbTable, column: DbColumn, resolver: RenameResolver) -> NoteOp:
    where = label(db_table.schema, db_table.name, column.name)
    text = f"WARNING: drops column {where} and the data in it."
    suspected = [
        r
        for r in resolver.suspected
        if r.kind == "column"
        and r.schema == db_table.schema
        and r.old == column.name
        and r.table == db_table.name
    ]
    if suspected:
        text += (
            f" If {suspected[0].new_label} is {where} renamed, generate again and answer "
            f"yes, or pass --rename {suspected[0].spec}"
        )
    return NoteOp(
        text,
        "the column comes back empty: its data was dropped by the upgrade",
        kind="data_loss",
        table=db_table.name,
        schema=db_table.schema,
    )


def _compare_comment(
    ctx: CompareContext, table: Table, db_table: DbTable, changes: TableChanges
) -> None:
    if not (ctx.options.compare_comments and ctx.dialect.supports_comments):
        return
    wanted = table.comment or None
    if wanted == db_table.comment:
        return
    if wanted is None:
        changes.comments.append(
            DropTableCommentOp(
                db_table.name, schema=db_table.schema, existing_comment=db_table.comment
            )
        )
    else:
        changes.comments.append(
            CreateTableCommentOp(
                db_table.name, wanted, schema=db_table.schema, existing_comment=db_table.comment
            )
        )


# -- renames change what was reflected, as the database will after the rename ---------


def _word(old: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)")


def rename_db_column(db: DbSchema, table: DbTable, old: str, new: str) -> None:
    """Rename a reflected column, and what refers to it, as the database will."""
    word = _word(old)
    columns = {}
    for name, column in table.columns.items():
        if name == old:
            column.name = new
            name = new
        if column.computed is not None:
            column.computed = (word.sub(new, column.computed[0]), column.computed[1])
        columns[name] = column
    table.columns = columns
    table.pk_columns = tuple(new if c == old else c for c in table.pk_columns)
    for index in table.indexes:
        index.elements = tuple(
            word.sub(new, e) if is_expr else (new if e == old else e)
            for e, is_expr in zip(index.elements, index.expressions, strict=True)
        )
        if index.where is not None:
            index.where = word.sub(new, index.where)
    for unique in table.uniques:
        unique.columns = tuple(new if c == old else c for c in unique.columns)
    for check in table.checks:
        check.sqltext = word.sub(new, check.sqltext)
    for fk in table.foreign_keys:
        fk.columns = tuple(new if c == old else c for c in fk.columns)
    for other in db.tables.values():
        for fk in other.foreign_keys:
            if (fk.referred_schema, fk.referred_table) == (table.schema, table.name):
                fk.referred_columns = tuple(new if c == old else c for c in fk.referred_columns)


def rename_db_table(db: DbSchema, table: DbTable, new: str) -> None:
    """Rename a reflected table, and the foreign keys referring to it."""
    old_key = table.key
    for other in db.tables.values():
        for fk in other.foreign_keys:
            if (fk.referred_schema, fk.referred_table) == old_key:
                fk.referred_table = new
    del db.tables[old_key]
    table.name = new
    db.tables[table.key] = table
