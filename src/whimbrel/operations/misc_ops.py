"""Operations on data and types, and the containers that group operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from whimbrel.errors import IrreversibleOperationError
from whimbrel.operations.opbase import MigrateOperation, frozen_kwargs

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.schema import SchemaItem
    from sqlalchemy.sql.selectable import TableClause

__all__ = (
    "AddEnumValueOp",
    "BatchAlterTableOp",
    "BatchOptions",
    "BulkInsertOp",
    "ExecuteSQLOp",
    "ModifyTableOps",
    "Recreate",
)

Recreate = Literal["auto", "always", "never"]


@dataclass(frozen=True, eq=False)
class ExecuteSQLOp(MigrateOperation):
    """Run SQL text or a SQLAlchemy construct."""

    sqltext: str | Executable
    execution_options: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    def describe(self) -> str:
        return "execute"

    def reverse(self) -> MigrateOperation:
        raise IrreversibleOperationError(
            self.describe(), "Whimbrel cannot know what arbitrary SQL undoes"
        )


@dataclass(frozen=True, eq=False)
class BulkInsertOp(MigrateOperation):
    """Insert rows (dictionaries keyed by column name) into a table."""

    table: Table | TableClause
    rows: tuple[Mapping[str, Any], ...]
    multiinsert: bool = True

    def describe(self) -> str:
        return f"bulk_insert into {self.table.name!r}"

    def reverse(self) -> MigrateOperation:
        raise IrreversibleOperationError(
            self.describe(), "write the DELETE for the inserted rows with op.execute()"
        )


@dataclass(frozen=True, eq=False)
class AddEnumValueOp(MigrateOperation):
    """Add a value to a PostgreSQL enum type (``ALTER TYPE ... ADD VALUE``)."""

    enum_name: str
    value: str
    schema: str | None = None
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = True

    def describe(self) -> str:
        return f"add_enum_value {self.value!r} to {self.enum_name!r}"

    def reverse(self) -> MigrateOperation:
        raise IrreversibleOperationError(
            self.describe(),
            "PostgreSQL cannot remove a value from an enum type; create a new type "
            "without it, move the columns to it with alter_column(postgresql_using=...), "
            "and drop the old type",
        )


@dataclass(frozen=True, eq=False)
class ModifyTableOps(MigrateOperation):
    """Operations on one table, grouped (as autogenerate produces them)."""

    table_name: str
    ops: tuple[MigrateOperation, ...]
    schema: str | None = None

    def describe(self) -> str:
        return f"operations on {self.table_name!r}"

    def reverse(self) -> ModifyTableOps:
        return ModifyTableOps(
            self.table_name, tuple(op.reverse() for op in reversed(self.ops)), schema=self.schema
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class BatchOptions:
    """How ``batch_alter_table`` reads and rebuilds the table.

    Attributes:
        recreate: ``"auto"`` rebuilds only when an operation needs it (SQLite),
            ``"always"`` rebuilds, ``"never"`` only issues ALTER statements.
        partial_reordering: column orders to impose on the rebuilt table, each a
            tuple of names in the order wanted.
        copy_from: the table as it is, used instead of reflecting it.
        table_args: extra items (constraints...) for the rebuilt table.
        table_kwargs: extra keyword arguments for the rebuilt ``Table``.
        reflect_args: items overriding reflected ones (e.g. a ``Column`` with the
            right type).
        reflect_kwargs: keyword arguments for the reflecting ``Table``.
        naming_convention: a naming convention for the reflected table's metadata,
            to name constraints that the database left unnamed.
    """

    recreate: Recreate = "auto"
    partial_reordering: tuple[tuple[str, ...], ...] = ()
    copy_from: Table | None = None
    table_args: tuple[SchemaItem, ...] = ()
    table_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)
    reflect_args: tuple[SchemaItem, ...] = ()
    reflect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)
    naming_convention: Mapping[str, str] | None = None

    def metadata(self) -> MetaData:
        """A fresh ``MetaData`` carrying the naming convention, if any."""
        from sqlalchemy import MetaData

        if self.naming_convention:
            return MetaData(naming_convention=dict(self.naming_convention))
        return MetaData()


@dataclass(frozen=True, eq=False)
class BatchAlterTableOp(MigrateOperation):
    """The operations of one ``batch_alter_table`` block, applied together."""

    table_name: str
    ops: tuple[MigrateOperation, ...]
    schema: str | None = None
    options: BatchOptions = field(default_factory=BatchOptions)

    def describe(self) -> str:
        return f"batch_alter_table {self.table_name!r}"

    def reverse(self) -> BatchAlterTableOp:
        return BatchAlterTableOp(
            self.table_name,
            tuple(op.reverse() for op in reversed(self.ops)),
            schema=self.schema,
            options=self.options,
        )
