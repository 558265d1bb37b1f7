"""The table a SQLite batch rebuild produces: reflected table + operations → new table.

Column renames never reach this model: batch mode runs them as native
``RENAME COLUMN`` statements, which also rewrite the names inside indexes, checks and
foreign keys. What remains — types, nullability, defaults, order, added and dropped
columns, constraints and indexes — is applied here to an in-memory copy.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Computed, Table
from sqlalchemy.schema import (
    CheckConstraint,
    Constraint,
    DefaultClause,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
)

from whimbrel.ddl.schemaobj import copy_item, ensure_fk_targets
from whimbrel.ddl.sqlite_rebuild import RebuildPlan, ReflectedIndex, ReflectedTable, Transfer
from whimbrel.ddl.sqlite_schema import mentions
from whimbrel.errors import BatchConstraintWarning, BatchError, UnsupportedOperationError
from whimbrel.operations.constraint_ops import (
    AddConstraintOp,
    CreateExcludeConstraintOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    DropConstraintOp,
    DropIndexOp,
)
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    DropColumnOp,
    DropTableCommentOp,
)

if TYPE_CHECKING:
    from whimbrel.operations.misc_ops import BatchOptions
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("BatchTableModel",)


def _fresh_column(col: Column[Any], **changes: Any) -> Column[Any]:
    """An unattached column like ``col`` with ``changes`` applied."""
    default = changes.pop("server_default", False)
    if default is False:
        server = col.server_default
        if isinstance(server, DefaultClause):
            default = DefaultClause(server.arg)
        else:
            default = None
    extra: list[Any] = []
    computed = col.computed
    if computed is not None:
        extra.append(Computed(computed.sqltext, persisted=computed.persisted))
        default = None
    return Column(
        col.name,
        changes.pop("type_", col.type),
        *extra,
        nullable=changes.pop("nullable", col.nullable),
        server_default=default,
        autoincrement=changes.pop("autoincrement", col.autoincrement),
        comment=changes.pop("comment", col.comment),
    )


def _warn(message: str) -> None:
    warnings.warn(message, BatchConstraintWarning, stacklevel=3)


class BatchTableModel:
    """A reflected SQLite table, changed by batch operations, and the plan to build it."""

    def __init__(self, reflected: ReflectedTable, options: BatchOptions) -> None:
        source = reflected.table
        self.name = source.name
        self.schema = source.schema
        self.options = options
        self.autoincrement = reflected.autoincrement
        self.columns: list[Column[Any]] = [_fresh_column(c) for c in source.columns]
        self.sources: dict[str, str] = {c.name: c.name for c in source.columns}
        self.casts: set[str] = set()
        pk = source.primary_key
        self.pk: tuple[str | None, list[str]] | None = (
            (pk.name if isinstance(pk.name, str) else None, [c.name for c in pk.columns])
            if len(pk.columns)
            else None
        )
        self.constraints: list[Constraint] = [
            c for c in source.constraints if not isinstance(c, PrimaryKeyConstraint)
        ]
        self.new_constraints: list[AddConstraintOp] = []
        self.indexes: list[ReflectedIndex] = list(reflected.indexes)
        self.new_indexes: list[CreateIndexOp] = []

    # -- lookups --------------------------------------------------------------------------

    def _position(self, name: str) -> int:
        for index, col in enumerate(self.columns):
            if col.name == name:
                return index
        raise BatchError(f"table {self.name!r} has no column {name!r}", table=self.name)

    def has_column(self, name: str) -> bool:
        """Whether the table (as changed so far) has the column."""
        return any(c.name == name for c in self.columns)

    # -- applying operations --------------------------------------------------------------

    def apply(self, op: MigrateOperation) -> None:
        """Apply one operation to the model.

        Raises:
            BatchError: the operation names a column, index or constraint that is
                not there.
            UnsupportedOperationError: SQLite has no such thing (``EXCLUDE``).
        """
        if isinstance(op, AddColumnOp):
            self._add_column(op)
        elif isinstance(op, DropColumnOp):
            if not self.has_column(op.column_name) and op.if_exists:
                return
            self._drop_column(op.column_name)
        elif isinstance(op, AlterColumnOp):
            self._alter_column(op)
        elif isinstance(op, CreateIndexOp):
            self.new_indexes.append(op)
        elif isinstance(op, DropIndexOp):
            self._drop_index(op)
        elif isinstance(op, CreatePrimaryKeyOp):
            self.pk = (op.name, list(op.columns))
        elif isinstance(op, CreateExcludeConstraintOp):
            raise UnsupportedOperationError(
                "SQLite has no EXCLUDE constraints", dialect="sqlite", operation=op.describe()
            )
        elif isinstance(op, AddConstraintOp):
            self.new_constraints.append(op)
        elif isinstance(op, DropConstraintOp):
            self._drop_constraint(op)
        elif isinstance(op, CreateTableCommentOp | DropTableCommentOp):
            return  # SQLite keeps no comments
        else:
            raise BatchError(f"{op.describe()} cannot be part of a table rebuild", table=self.name)

    def _add_column(self, op: AddColumnOp) -> None:
        if self.has_column(op.column.name):
            if op.if_not_exists:
                return
            raise BatchError(
                f"table {self.name!r} already has a column {op.column.name!r}", table=self.name
            )
        column = op.column._copy()
        if op.insert_before is not None:
            self.columns.insert(self._position(op.insert_before), column)
        elif op.insert_after is not None:
            self.columns.insert(self._position(op.insert_after) + 1, column)
        else:
            self.columns.append(column)

    def _alter_column(self, op: AlterColumnOp) -> None:
        index = self._position(op.column_name)
        col = self.columns[index]
        changes: dict[str, Any] = {}
        if op.nullable is not None:
            changes["nullable"] = op.nullable
        if op.type_ is not None:
            changes["type_"] = op.type_
            if op.type_._type_affinity is not col.type._type_affinity:
                self.casts.add(col.name)
        if op.server_default is not False:
            changes["server_default"] = op.server_default
        if op.comment is not False:
            changes["comment"] = op.comment
        if op.autoincrement is not None:
            changes["autoincrement"] = op.autoincrement
        if changes:
            col = self.columns[index] = _fresh_column(col, **changes)
        if op.insert_before is not None or op.insert_after is not None:
            del self.columns[index]
            anchor = op.insert_before or op.insert_after or ""
            target = self._position(anchor) + (0 if op.insert_before is not None else 1)
            self.columns.insert(target, col)

    def _drop_column(self, name: str) -> None:
        del self.columns[self._position(name)]
        self.sources.pop(name, None)
        self.casts.discard(name)
        if self.pk is not None and name in self.pk[1]:
            self.pk = None
        kept: list[Constraint] = []
        for constraint in self.constraints:
            if isinstance(constraint, CheckConstraint):
                if mentions(str(constraint.sqltext), {name}):
                    label = constraint.name or f"CHECK ({constraint.sqltext})"
                    _warn(
                        f"batch_alter_table({self.name!r}): check constraint {label} "
                        f"involves dropped column {name!r} and is not carried over"
                    )
                    continue
            elif name in _constraint_columns(constraint):
                continue
            kept.append(constraint)
        self.constraints = kept
        indexes: list[ReflectedIndex] = []
        for index in self.indexes:
            if name in index.columns:
                continue
            if None in index.columns or " WHERE " in index.sql.upper():
                body = index.sql[index.sql.find("(") :]
                if mentions(body, {name}):
                    _warn(
                        f"batch_alter_table({self.name!r}): index {index.name!r} "
                        f"involves dropped column {name!r} and is not carried over"
                    )
                    continue
            indexes.append(index)
        self.indexes = indexes
        self.new_indexes = [op for op in self.new_indexes if name not in op.columns]
        self.new_constraints = [
            op for op in self.new_constraints if name not in getattr(op, "columns", ())
        ]

    def _drop_index(self, op: DropIndexOp) -> None:
        before = len(self.indexes) + len(self.new_indexes)
        self.indexes = [ix for ix in self.indexes if ix.name != op.index_name]
        self.new_indexes = [ix for ix in self.new_indexes if ix.index_name != op.index_name]
        if len(self.indexes) + len(self.new_indexes) == before and not op.if_exists:
            raise BatchError(
                f"table {self.name!r} has no index named {op.index_name!r}", table=self.name
            )

    def _drop_constraint(self, op: DropConstraintOp) -> None:
        name = op.constraint_name
        if self.pk is not None and (self.pk[0] == name or (op.type_ == "primary")):
            self.pk = None
            return
        count = len(self.constraints) + len(self.new_constraints)
        self.constraints = [c for c in self.constraints if c.name != name]
        self.new_constraints = [c for c in self.new_constraints if c.constraint_name != name]
        if len(self.constraints) + len(self.new_constraints) == count and not op.if_exists:
            raise BatchError(
                f"table {self.name!r} has no constraint named {name!r} (unnamed "
                "constraints cannot be dropped by name; give them names with "
                "naming_convention= or rebuild with table_args=)",
                table=self.name,
            )

    # -- the result -----------------------------------------------------------------------

    def _ordered(self) -> list[Column[Any]]:
        columns = list(self.columns)
        for order in self.options.partial_reordering:
            present = [name for name in order if any(c.name == name for c in columns)]
            slots = sorted(i for i, c in enumerate(columns) if c.name in present)
            by_name = {c.name: c for c in columns}
            for slot, name in zip(slots, present, strict=True):
                columns[slot] = by_name[name]
        return columns

    def plan(self) -> RebuildPlan:
        """The new table and how to fill it from the old one."""
        metadata = self.options.metadata()
        columns = self._ordered()
        items: list[Any] = list(columns)
        if self.pk is not None:
            names = [n for n in self.pk[1] if any(c.name == n for c in columns)]
            if names:
                items.append(PrimaryKeyConstraint(*names, name=self.pk[0]))
        items.extend(copy_item(c) for c in self.constraints)
        items.extend(copy_item(item) for item in self.options.table_args)
        kwargs = dict(self.options.table_kwargs)
        if self.autoincrement:
            kwargs.setdefault("sqlite_autoincrement", True)
        table = Table(self.name, metadata, *items, schema=self.schema, **kwargs)
        for op in self.new_constraints:
            op.to_constraint(table)
        ensure_fk_targets(table)
        for index_op in self.new_indexes:
            index_op.to_index(table)
        transfers = tuple(
            Transfer(c.name, self.sources[c.name], c.type if c.name in self.casts else None)
            for c in columns
            if c.name in self.sources
        )
        indexes = tuple(sorted(table.indexes, key=lambda ix: str(ix.name)))
        return RebuildPlan(table, transfers, tuple(ix.sql for ix in self.indexes), indexes)


def _constraint_columns(constraint: Constraint) -> set[str]:
    if isinstance(constraint, UniqueConstraint | ForeignKeyConstraint):
        return {c.name for c in constraint.columns}
    return set()
