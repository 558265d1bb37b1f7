"""Applying a ``batch_alter_table`` block: plain ALTERs, or a SQLite table rebuild.

On PostgreSQL and MySQL every recorded operation runs as it would outside the block.
On SQLite the operations are split into steps, in order:

* native steps — statements SQLite's ``ALTER TABLE`` can run (``RENAME COLUMN``,
  ``ADD COLUMN`` at the end, indexes, ``execute``);
* rebuild steps — runs of operations applied together to one move-and-copy
  rebuild of the table.

A rename splits a rebuild run, so the rebuild never has to rename a column inside
an index or a check: SQLite's own ``RENAME COLUMN`` does that.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import Column

from whimbrel.errors import ConnectionRequiredError, UnsupportedOperationError
from whimbrel.operations.constraint_ops import CreateIndexOp, DropIndexOp
from whimbrel.operations.misc_ops import BatchAlterTableOp, ExecuteSQLOp
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    DropTableCommentOp,
)

if TYPE_CHECKING:
    from whimbrel.ddl.impl import DefaultImpl
    from whimbrel.operations.base import Operations
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("apply_batch", "plan_steps")


def _is_rename(op: MigrateOperation) -> bool:
    return (
        isinstance(op, AlterColumnOp)
        and op.new_column_name is not None
        and op.new_column_name != op.column_name
    )


def _expand(ops: tuple[MigrateOperation, ...]) -> list[MigrateOperation]:
    """Split each ``alter_column`` that renames and changes into change, then rename."""
    out: list[MigrateOperation] = []
    for op in ops:
        if not _is_rename(op):
            out.append(op)
            continue
        assert isinstance(op, AlterColumnOp)
        change = replace(op, new_column_name=None)
        if change.to_alteration().changes_definition or op.insert_before or op.insert_after:
            out.append(change)
        out.append(
            AlterColumnOp(
                op.table_name, op.column_name, schema=op.schema, new_column_name=op.new_column_name
            )
        )
    return out


def _needs_rebuild(impl: DefaultImpl, op: MigrateOperation) -> bool:
    if isinstance(op, AddColumnOp):
        if op.insert_before is not None or op.insert_after is not None:
            return True
        return impl.requires_recreate("add_column", op.column)
    if isinstance(op, CreateIndexOp | DropIndexOp | CreateTableCommentOp | DropTableCommentOp):
        return False
    if isinstance(op, AlterColumnOp):
        changes = replace(op, comment=False).to_alteration().changes_definition
        return changes or op.insert_before is not None or op.insert_after is not None
    return True


def plan_steps(
    impl: DefaultImpl, batch: BatchAlterTableOp
) -> list[MigrateOperation | list[MigrateOperation]]:
    """Order a SQLite batch into native operations and rebuild runs (lists).

    Raises:
        UnsupportedOperationError: ``recreate="never"`` and an operation that needs
            a rebuild.
    """
    recreate = batch.options.recreate
    steps: list[MigrateOperation | list[MigrateOperation]] = []
    pending: list[MigrateOperation] = []

    def flush() -> None:
        if pending:
            steps.append(list(pending))
            pending.clear()

    for op in _expand(batch.ops):
        if _is_rename(op) or isinstance(op, ExecuteSQLOp):
            flush()
            steps.append(op)
            continue
        needs = _needs_rebuild(impl, op)
        if needs and recreate == "never":
            raise UnsupportedOperationError(
                f"{op.describe()} needs the table rebuilt, and recreate='never' was given",
                dialect=impl.dialect.name,
                operation=op.describe(),
            )
        if recreate == "always" or needs or pending:
            pending.append(op)
        else:
            steps.append(op)
    flush()
    if recreate == "always" and not any(isinstance(step, list) for step in steps):
        steps.append([])
    return steps


def apply_batch(ops: Operations, batch: BatchAlterTableOp) -> None:
    """Carry out a batch: ALTER statements, or on SQLite rebuilds where needed.

    Raises:
        UnsupportedOperationError: ``recreate="always"`` on a database other than
            SQLite, or ``"never"`` with an operation that needs a rebuild.
        BatchError: the table cannot be rebuilt.
    """
    impl = ops.impl
    if impl.dialect.name != "sqlite":
        if batch.options.recreate == "always":
            raise UnsupportedOperationError(
                "recreate='always' rebuilds tables on SQLite only; "
                f"{impl.dialect.name} alters them in place",
                dialect=impl.dialect.name,
                operation=batch.describe(),
            )
        for op in batch.ops:
            ops.invoke(_in_place(op))
        return
    first = True
    for step in plan_steps(impl, batch):
        if isinstance(step, list):
            _rebuild(ops, batch, step, copy_from=first)
            first = False
        else:
            ops.invoke(_in_place(step))


def _in_place(op: MigrateOperation) -> MigrateOperation:
    """The operation without batch-only placement (ALTER cannot place a column)."""
    if isinstance(op, AddColumnOp) and (op.insert_before or op.insert_after):
        return replace(op, insert_before=None, insert_after=None)
    if isinstance(op, AlterColumnOp) and (op.insert_before or op.insert_after):
        return replace(op, insert_before=None, insert_after=None)
    return op


def _rebuild(
    ops: Operations,
    batch: BatchAlterTableOp,
    run: list[MigrateOperation],
    *,
    copy_from: bool,
) -> None:
    from sqlalchemy import MetaData
    from sqlalchemy.schema import CreateIndex

    from whimbrel.ddl.sqlite_rebuild import (
        ReflectedIndex,
        ReflectedTable,
        rebuild_table,
        reflect_table,
    )
    from whimbrel.operations.batch_model import BatchTableModel

    impl = ops.impl
    options = batch.options
    if copy_from and options.copy_from is not None:
        source = options.copy_from.to_metadata(MetaData())
        indexes = [
            ReflectedIndex(
                str(ix.name),
                str(CreateIndex(ix).compile(dialect=impl.dialect)),
                tuple(getattr(c, "name", None) for c in ix.expressions),
                bool(ix.unique),
            )
            for ix in source.indexes
        ]
        for ix in list(source.indexes):
            source.indexes.discard(ix)
        reflected = ReflectedTable(source, indexes)
    else:
        if impl.connection is None:
            hint = (
                "a rename splits this batch into two rebuilds and the second must read the "
                "table again; give the rename a batch_alter_table block of its own"
                if options.copy_from is not None
                else "pass copy_from=sa.Table(...) (the table as it is) to generate the "
                "rebuild offline"
            )
            raise ConnectionRequiredError(
                f"batch_alter_table must rebuild table {batch.table_name!r} and reads its "
                f"definition from the database; {hint}",
                dialect=impl.dialect.name,
                operation="batch_alter_table",
            )
        conn = impl.connection
        overrides = [item for item in options.reflect_args if isinstance(item, Column)]
        listeners = [
            fn
            for event, fn in options.reflect_kwargs.get("listeners", ())
            if event == "column_reflect"
        ]
        reflected = reflect_table(
            conn,
            batch.table_name,
            schema=batch.schema,
            metadata=options.metadata(),
            overrides=overrides,
            column_reflect=listeners,
        )
    model = BatchTableModel(reflected, options)
    for op in run:
        model.apply(op)
    rebuild_table(impl, model.plan())
