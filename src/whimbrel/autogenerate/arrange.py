"""From compared operations to the upgrade and downgrade of a script.

* **Batch mode**: on SQLite, a table's group of operations that ``ALTER TABLE``
  cannot do (change a type, add a constraint...) becomes one
  ``op.batch_alter_table`` block, which rebuilds the table. ``render_as_batch=True``
  makes every group a block (on any database), ``False`` none.
* **Downgrade**: the reverse of the upgrade, operation by operation, last first. An
  operation that cannot be reversed becomes a comment asking for the reverse to be
  written by hand.
* **Tidying**: indexes of a table dropped in the same direction are not dropped one
  by one first (MySQL refuses to drop an index a foreign key needs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.schema import DefaultClause

from whimbrel.autogenerate.ops import NoteOp
from whimbrel.errors import IrreversibleOperationError
from whimbrel.operations.constraint_ops import (
    AddConstraintOp,
    CreateIndexOp,
    DropConstraintOp,
    DropIndexOp,
)
from whimbrel.operations.misc_ops import BatchAlterTableOp, BatchOptions, ModifyTableOps
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    DropColumnOp,
    DropTableCommentOp,
    DropTableOp,
)

if TYPE_CHECKING:
    from whimbrel.autogenerate.reflect import DbSchema
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("executable", "reverse_ops", "tidy", "to_batch")


def _sqlite_needs_rebuild(op: MigrateOperation, db: DbSchema | None) -> bool:
    """Whether SQLite's ``ALTER TABLE`` cannot do ``op`` in place."""
    if isinstance(op, NoteOp | CreateIndexOp | DropIndexOp):
        return False
    if isinstance(op, CreateTableCommentOp | DropTableCommentOp):
        return False
    if isinstance(op, AddColumnOp):
        column = op.column
        default = column.server_default
        constant = default is None or (
            isinstance(default, DefaultClause) and isinstance(default.arg, str)
        )
        not_null_without_default = not column.nullable and default is None
        return (
            not constant
            or column.primary_key
            or bool(column.unique)
            or column.computed is not None
            or not_null_without_default
        )
    if isinstance(op, DropColumnOp):
        return _column_is_referenced(op, db)
    if isinstance(op, AlterColumnOp):
        return (
            op.type_ is not None
            or op.nullable is not None
            or op.server_default is not False
            or op.autoincrement is not None
        )
    return isinstance(op, AddConstraintOp | DropConstraintOp)


def _column_is_referenced(op: DropColumnOp, db: DbSchema | None) -> bool:
    if db is None:
        return True
    table = db.tables.get((op.schema, op.table_name))
    if table is None:
        return True
    name = op.column_name
    if name in table.pk_columns:
        return True
    if any(name in u.columns for u in table.uniques):
        return True
    if any(name in fk.columns for fk in table.foreign_keys):
        return True
    if any(name in ix.elements or any(ix.expressions) for ix in table.indexes):
        return True
    return any(name in ck.sqltext for ck in table.checks) or any(
        c.computed is not None and name in c.computed[0] for c in table.columns.values()
    )


def _needs_forced_rebuild(op: MigrateOperation) -> bool:
    if not isinstance(op, AddColumnOp):
        return False
    column = op.column
    return not column.nullable and column.server_default is None and column.computed is None


def inner_ops(group: ModifyTableOps) -> list[MigrateOperation]:
    """The operations of a group in both directions (its own, and its reverse's)."""
    reversed_group = reverse_one(group)
    return [*group.ops, *getattr(reversed_group, "ops", ())]


def to_batch(
    ops: list[MigrateOperation],
    *,
    dialect_name: str,
    render_as_batch: bool | None,
    db: DbSchema | None = None,
) -> list[MigrateOperation]:
    """Turn table groups into ``batch_alter_table`` blocks where needed (see above)."""
    if render_as_batch is False:
        return ops
    out: list[MigrateOperation] = []
    for op in ops:
        if not isinstance(op, ModifyTableOps):
            out.append(op)
            continue
        if render_as_batch is True:
            wanted = any(not isinstance(o, NoteOp) for o in op.ops)
        elif dialect_name == "sqlite":
            wanted = any(_sqlite_needs_rebuild(o, db) for o in inner_ops(op))
        else:
            wanted = False
        if wanted:
            options = BatchOptions()
            if dialect_name == "sqlite" and any(_needs_forced_rebuild(o) for o in inner_ops(op)):
                # ADD COLUMN ... NOT NULL without a default only works by rebuilding.
                options = BatchOptions(recreate="always")
            out.append(BatchAlterTableOp(op.table_name, op.ops, schema=op.schema, options=options))
        else:
            out.append(op)
    return out


def reverse_one(op: MigrateOperation) -> MigrateOperation:
    """The reverse of ``op``, or a note asking for it to be written by hand."""
    if isinstance(op, ModifyTableOps):
        return ModifyTableOps(
            op.table_name, tuple(reverse_one(o) for o in reversed(op.ops)), schema=op.schema
        )
    if isinstance(op, BatchAlterTableOp):
        return BatchAlterTableOp(
            op.table_name,
            tuple(reverse_one(o) for o in reversed(op.ops)),
            schema=op.schema,
            options=op.options,
        )
    try:
        return op.reverse()
    except IrreversibleOperationError as exc:
        return NoteOp(
            f"cannot undo {op.describe()}: {exc.reason}; write this step by hand",
            manual=True,
            kind="irreversible",
        )


def reverse_ops(ops: list[MigrateOperation]) -> list[MigrateOperation]:
    """The downgrade of an upgrade: each operation reversed, last first."""
    return [reverse_one(op) for op in reversed(ops)]


def tidy(ops: list[MigrateOperation]) -> list[MigrateOperation]:
    """Leave out index drops of tables dropped later, and empty groups."""
    dropped_later: set[tuple[str | None, str]] = set()
    out: list[MigrateOperation] = []
    for op in reversed(ops):
        if isinstance(op, DropTableOp):
            dropped_later.add((op.schema, op.table_name))
        if isinstance(op, DropIndexOp) and (op.schema, op.table_name or "") in dropped_later:
            continue
        if isinstance(op, ModifyTableOps | BatchAlterTableOp) and not op.ops:
            continue
        out.append(op)
    out.reverse()
    return out


def executable(
    ops: tuple[MigrateOperation, ...] | list[MigrateOperation],
) -> list[MigrateOperation]:
    """``ops`` without the notes, for running them through ``Operations.invoke``."""
    out: list[MigrateOperation] = []
    for op in ops:
        if isinstance(op, NoteOp):
            continue
        if isinstance(op, ModifyTableOps):
            out.append(ModifyTableOps(op.table_name, tuple(executable(op.ops)), schema=op.schema))
        elif isinstance(op, BatchAlterTableOp):
            out.append(
                BatchAlterTableOp(
                    op.table_name, tuple(executable(op.ops)), schema=op.schema, options=op.options
                )
            )
        else:
            out.append(op)
    return out
