"""Foreign keys of a table both sides have.

A foreign key is identified by what it links: its columns, the referred table and
the referred columns; its name is not compared (unnamed keys get names like
``posts_ibfk_1`` from MySQL). Its options (``ON DELETE``, ``ON UPDATE``,
``DEFERRABLE``, ``INITIALLY``, ``MATCH``) are, with each database's default spelled as
no option at all.

On MySQL and MariaDB, InnoDB needs an index on the columns of a foreign key and
makes one, named after the key, when there is none. Whimbrel makes that index
explicit when it adds a key (so the downgrade takes it away again) and drops it
with the key it belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKeyConstraint

from whimbrel.autogenerate.build import foreign_key_op, index_op
from whimbrel.autogenerate.compare.indexes import constraint_name
from whimbrel.autogenerate.ops import NoteOp
from whimbrel.operations.constraint_ops import CreateForeignKeyOp, CreateIndexOp, DropConstraintOp

if TYPE_CHECKING:
    from sqlalchemy import Table

    from whimbrel.autogenerate.compare.context import CompareContext, TableChanges
    from whimbrel.autogenerate.reflect import DbForeignKey, DbTable
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("compare_foreign_keys", "model_foreign_key_op")

Signature = tuple[tuple[str, ...], str | None, str, tuple[str, ...]]


def _action(value: str | None, mysql: bool) -> str | None:
    if value is None:
        return None
    value = " ".join(value.upper().split())
    if value == "NO ACTION" or (mysql and value == "RESTRICT"):
        return None
    return value


def _options(
    ctx: CompareContext,
    ondelete: str | None,
    onupdate: str | None,
    deferrable: bool | None,
    initially: str | None,
    match: str | None,
) -> tuple[Any, ...]:
    mysql = ctx.is_mysql
    init = (initially or "").upper() or None
    match_ = (match or "").upper() or None
    return (
        _action(ondelete, mysql),
        _action(onupdate, mysql),
        bool(deferrable) if ctx.dialect_name == "postgresql" else None,
        None if init in (None, "IMMEDIATE") or ctx.dialect_name != "postgresql" else init,
        None if match_ in (None, "SIMPLE") or mysql else match_,
    )


def model_signature(ctx: CompareContext, fkc: ForeignKeyConstraint) -> Signature:
    """What a model foreign key links."""
    tokens = [fk._column_tokens for fk in fkc.elements]
    schema, table, _ = tokens[0]
    return (
        tuple(c.name for c in fkc.columns),
        ctx.unqualified(schema),
        table,
        tuple(t[2] or "" for t in tokens),
    )


def db_signature(fk: DbForeignKey) -> Signature:
    """What a reflected foreign key links."""
    return (fk.columns, fk.referred_schema, fk.referred_table, fk.referred_columns)


def model_foreign_key_op(ctx: CompareContext, fkc: ForeignKeyConstraint) -> CreateForeignKeyOp:
    """The ``CreateForeignKeyOp`` for a model foreign key."""
    columns, referred_schema, referred_table, referred_columns = model_signature(ctx, fkc)
    table = fkc.table
    return CreateForeignKeyOp(
        constraint_name(fkc),
        table.name,
        referred_table,
        columns,
        referred_columns,
        onupdate=fkc.onupdate,
        ondelete=fkc.ondelete,
        deferrable=fkc.deferrable,
        initially=fkc.initially,
        match=fkc.match,
        source_schema=ctx.unqualified(table.schema),
        referent_schema=referred_schema,
    )


def compare_foreign_keys(
    ctx: CompareContext, table: Table, db_table: DbTable, changes: TableChanges
) -> None:
    """Add to ``changes`` the foreign key differences of one table."""
    parents = {"table_name": table.name, "schema_name": db_table.schema}
    db_fks = [
        fk
        for fk in db_table.foreign_keys
        if ctx.include_name(fk.name, "foreign_key_constraint", parents)
    ]
    claimed: set[int] = set()
    for fkc in sorted(table.foreign_key_constraints, key=lambda c: constraint_name(c) or ""):
        name = constraint_name(fkc)
        if not ctx.include_name(name, "foreign_key_constraint", parents):
            continue
        sig = model_signature(ctx, fkc)
        candidates = [fk for fk in db_fks if id(fk) not in claimed and db_signature(fk) == sig]
        found = next((fk for fk in candidates if fk.name == name), None) or next(
            iter(candidates), None
        )
        if not ctx.include_object(fkc, name, "foreign_key_constraint", False, found):
            if found is not None:
                claimed.add(id(found))
            continue
        wanted = _options(
            ctx, fkc.ondelete, fkc.onupdate, fkc.deferrable, fkc.initially, fkc.match
        )
        if found is not None:
            claimed.add(id(found))
            have = _options(
                ctx, found.ondelete, found.onupdate, found.deferrable, found.initially, found.match
            )
            if have == wanted:
                continue
            changes.drop_fks.extend(_drop(ctx, db_table, found, keep_index=True))
            changes.create_fks.append(model_foreign_key_op(ctx, fkc))
            continue
        changes.create_fks.extend(_create(ctx, table, db_table, fkc))
    for fk in db_fks:
        if id(fk) in claimed:
            continue
        if ctx.include_db_item(
            db_table,
            fk.name,
            "foreign_key_constraint",
            lambda t, f=fk: _find_built(t, f),
            None,
        ):
            changes.drop_fks.extend(_drop(ctx, db_table, fk, keep_index=False))


def _find_built(table: Table, fk: DbForeignKey) -> Any:
    for c in table.foreign_key_constraints:
        if tuple(x.name for x in c.columns) == fk.columns:
            return c
    return None


def _drop(
    ctx: CompareContext, db_table: DbTable, fk: DbForeignKey, *, keep_index: bool
) -> list[MigrateOperation]:
    if fk.name is None:
        return [
            NoteOp(
                f"the unnamed foreign key {db_table.name}({', '.join(fk.columns)}) -> "
                f"{fk.referred_table} cannot be dropped by name: drop it by hand",
                manual=True,
                kind="unnamed_constraint",
                table=db_table.name,
                schema=db_table.schema,
            )
        ]
    ops: list[MigrateOperation] = [
        DropConstraintOp(
            fk.name,
            db_table.name,
            type_="foreignkey",
            schema=db_table.schema,
            create_op=foreign_key_op(db_table, fk),
        )
    ]
    if ctx.is_mysql and not keep_index:
        implied = next(
            (ix for ix in db_table.indexes if ix.name == fk.name and not ix.unique), None
        )
        if implied is not None:
            from whimbrel.operations.constraint_ops import DropIndexOp

            ops.append(
                DropIndexOp(
                    implied.name or "",
                    db_table.name,
                    schema=db_table.schema,
                    create_op=index_op(db_table, implied, ctx.dialect_name),
                )
            )
    return ops


def _create(
    ctx: CompareContext, table: Table, db_table: DbTable, fkc: ForeignKeyConstraint
) -> list[MigrateOperation]:
    op = model_foreign_key_op(ctx, fkc)
    if not ctx.is_mysql or op.name is None or _covered(table, op.local_cols):
        return [op]
    # InnoDB would make this index itself; making it here lets the downgrade drop it.
    index = CreateIndexOp(op.name, table.name, op.local_cols, schema=op.source_schema)
    return [index, op]


def _covered(table: Table, columns: tuple[str, ...]) -> bool:
    """Whether an index or key of the model table starts with ``columns``."""
    n = len(columns)
    candidates: list[tuple[str, ...]] = [
        tuple(getattr(e, "name", "") for e in ix.expressions) for ix in table.indexes
    ]
    candidates.extend(
        tuple(c.name for c in con.columns)
        for con in table.constraints
        if not isinstance(con, ForeignKeyConstraint) and hasattr(con, "columns")
    )
    return any(c[:n] == columns for c in candidates)
