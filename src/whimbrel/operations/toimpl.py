"""How each built-in operation is carried out: operation object → implementation call.

An explicit table (:data:`BUILTIN`) from operation class to function; user-defined
operations add theirs with :meth:`Operations.implementation_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from whimbrel.operations import constraint_ops as c
from whimbrel.operations import misc_ops as m
from whimbrel.operations import table_ops as t

if TYPE_CHECKING:
    from sqlalchemy import Table

    from whimbrel.operations.base import Operations
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("BUILTIN", "ImplementationFn")

ImplementationFn = Callable[["Operations", Any], Any]
"""``fn(operations, operation)``: carries out one kind of operation."""


def _create_table(ops: Operations, op: t.CreateTableOp) -> Table:
    table = op.to_table(ops.impl.new_metadata())
    ops.impl.create_table(table, if_not_exists=bool(op.if_not_exists))
    return table


def _drop_table(ops: Operations, op: t.DropTableOp) -> None:
    ops.impl.drop_table(op.to_table(), if_exists=bool(op.if_exists))


def _rename_table(ops: Operations, op: t.RenameTableOp) -> None:
    ops.impl.rename_table(op.old_table_name, op.new_table_name, schema=op.schema)


def _create_table_comment(ops: Operations, op: t.CreateTableCommentOp) -> None:
    from whimbrel.ddl.schemaobj import stand_in_table

    ops.impl.create_table_comment(
        stand_in_table(op.table_name, schema=op.schema, comment=op.comment)
    )


def _drop_table_comment(ops: Operations, op: t.DropTableCommentOp) -> None:
    from whimbrel.ddl.schemaobj import stand_in_table

    ops.impl.drop_table_comment(stand_in_table(op.table_name, schema=op.schema))


def _add_column(ops: Operations, op: t.AddColumnOp) -> None:
    ops.impl.add_column(
        op.table_name,
        op.column._copy(),
        schema=op.schema,
        if_not_exists=bool(op.if_not_exists),
    )


def _drop_column(ops: Operations, op: t.DropColumnOp) -> None:
    ops.impl.drop_column(
        op.table_name, op.column_name, schema=op.schema, if_exists=bool(op.if_exists)
    )


def _alter_column(ops: Operations, op: t.AlterColumnOp) -> None:
    ops.impl.alter_column(op.table_name, op.column_name, op.to_alteration(), schema=op.schema)


def _create_index(ops: Operations, op: c.CreateIndexOp) -> None:
    ops.impl.create_index(op.to_index(), if_not_exists=bool(op.if_not_exists))


def _drop_index(ops: Operations, op: c.DropIndexOp) -> None:
    ops.impl.drop_index(op.to_index(), if_exists=bool(op.if_exists))


def _add_constraint(ops: Operations, op: c.AddConstraintOp) -> None:
    ops.impl.add_constraint(op.to_constraint())


def _drop_constraint(ops: Operations, op: c.DropConstraintOp) -> None:
    ops.impl.drop_constraint(op.to_constraint(), if_exists=bool(op.if_exists))


def _execute(ops: Operations, op: m.ExecuteSQLOp) -> None:
    ops.impl.execute(op.sqltext, execution_options=op.execution_options)


def _bulk_insert(ops: Operations, op: m.BulkInsertOp) -> None:
    ops.impl.bulk_insert(op.table, op.rows, multiinsert=op.multiinsert)


def _add_enum_value(ops: Operations, op: m.AddEnumValueOp) -> None:
    ops.impl.add_enum_value(
        op.enum_name,
        op.value,
        schema=op.schema,
        before=op.before,
        after=op.after,
        if_not_exists=op.if_not_exists,
    )


def _modify_table(ops: Operations, op: m.ModifyTableOps) -> None:
    for inner in op.ops:
        ops.invoke(inner)


def _batch(ops: Operations, op: m.BatchAlterTableOp) -> None:
    from whimbrel.operations.batch_apply import apply_batch

    apply_batch(ops, op)


BUILTIN: dict[type[MigrateOperation], ImplementationFn] = {
    t.CreateTableOp: _create_table,
    t.DropTableOp: _drop_table,
    t.RenameTableOp: _rename_table,
    t.CreateTableCommentOp: _create_table_comment,
    t.DropTableCommentOp: _drop_table_comment,
    t.AddColumnOp: _add_column,
    t.DropColumnOp: _drop_column,
    t.AlterColumnOp: _alter_column,
    c.CreateIndexOp: _create_index,
    c.DropIndexOp: _drop_index,
    c.AddConstraintOp: _add_constraint,
    c.DropConstraintOp: _drop_constraint,
    m.ExecuteSQLOp: _execute,
    m.BulkInsertOp: _bulk_insert,
    m.AddEnumValueOp: _add_enum_value,
    m.ModifyTableOps: _modify_table,
    m.BatchAlterTableOp: _batch,
}
