"""Operations on tables and columns: create, drop, rename, alter, comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, Table

from whimbrel.ddl.elements import ColumnAlteration
from whimbrel.ddl.schemaobj import copy_item, ensure_fk_targets
from whimbrel.errors import IrreversibleOperationError
from whimbrel.operations.opbase import MigrateOperation, frozen_kwargs

if TYPE_CHECKING:
    from sqlalchemy.schema import SchemaItem
    from sqlalchemy.types import TypeEngine

    from whimbrel.ddl.elements import ServerDefault, Unchanged

__all__ = (
    "AddColumnOp",
    "AlterColumnOp",
    "CreateTableCommentOp",
    "CreateTableOp",
    "DropColumnOp",
    "DropTableCommentOp",
    "DropTableOp",
    "RenameTableOp",
)


def _table_label(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name


@dataclass(frozen=True, eq=False)
class CreateTableOp(MigrateOperation):
    """Create a table from columns, constraints and indexes."""

    table_name: str
    items: tuple[SchemaItem, ...] = ()
    schema: str | None = None
    comment: str | None = None
    if_not_exists: bool | None = None
    info: Mapping[str, Any] = field(default_factory=frozen_kwargs)
    prefixes: tuple[str, ...] = ()
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    def describe(self) -> str:
        return f"create_table {_table_label(self.table_name, self.schema)!r}"

    @property
    def columns(self) -> tuple[Column[Any], ...]:
        """The columns among the items."""
        return tuple(item for item in self.items if isinstance(item, Column))

    def to_table(self, metadata: MetaData | None = None) -> Table:
        """A ``Table`` built from copies of the items (the op's own stay untouched)."""
        metadata = metadata if metadata is not None else MetaData()
        table = Table(
            self.table_name,
            metadata,
            *(copy_item(item) for item in self.items),
            schema=self.schema,
            comment=self.comment,
            info=dict(self.info),
            prefixes=list(self.prefixes),
            **self.dialect_kwargs,
        )
        ensure_fk_targets(table)
        return table

    def reverse(self) -> DropTableOp:
        return DropTableOp(
            self.table_name,
            schema=self.schema,
            items=self.items,
            comment=self.comment,
            info=self.info,
            prefixes=self.prefixes,
            dialect_kwargs=self.dialect_kwargs,
        )


@dataclass(frozen=True, eq=False)
class DropTableOp(MigrateOperation):
    """Drop a table; with its ``items`` known, it can be reversed."""

    table_name: str
    schema: str | None = None
    if_exists: bool | None = None
    items: tuple[SchemaItem, ...] = ()
    comment: str | None = None
    info: Mapping[str, Any] = field(default_factory=frozen_kwargs)
    prefixes: tuple[str, ...] = ()
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    def describe(self) -> str:
        return f"drop_table {_table_label(self.table_name, self.schema)!r}"

    def to_table(self, metadata: MetaData | None = None) -> Table:
        """The table to drop (with its columns when they are known)."""
        return CreateTableOp(
            self.table_name,
            self.items,
            schema=self.schema,
            comment=self.comment,
            info=self.info,
            prefixes=self.prefixes,
            dialect_kwargs=self.dialect_kwargs,
        ).to_table(metadata)

    def reverse(self) -> CreateTableOp:
        if not any(isinstance(item, Column) for item in self.items):
            raise IrreversibleOperationError(
                self.describe(),
                "the table's columns are unknown; build DropTableOp with items= "
                "(as CreateTableOp.reverse() does) to make it reversible",
            )
        return CreateTableOp(
            self.table_name,
            self.items,
            schema=self.schema,
            comment=self.comment,
            info=self.info,
            prefixes=self.prefixes,
            dialect_kwargs=self.dialect_kwargs,
        )


@dataclass(frozen=True, eq=False)
class RenameTableOp(MigrateOperation):
    """Rename a table (within its schema)."""

    old_table_name: str
    new_table_name: str
    schema: str | None = None

    def describe(self) -> str:
        return f"rename_table {self.old_table_name!r} to {self.new_table_name!r}"

    def reverse(self) -> RenameTableOp:
        return RenameTableOp(self.new_table_name, self.old_table_name, schema=self.schema)


@dataclass(frozen=True, eq=False)
class CreateTableCommentOp(MigrateOperation):
    """Set a table's comment."""

    table_name: str
    comment: str
    schema: str | None = None
    existing_comment: str | None = None

    def describe(self) -> str:
        return f"create_table_comment {_table_label(self.table_name, self.schema)!r}"

    def reverse(self) -> CreateTableCommentOp | DropTableCommentOp:
        if self.existing_comment is None:
            return DropTableCommentOp(
                self.table_name, schema=self.schema, existing_comment=self.comment
            )
        return CreateTableCommentOp(
            self.table_name,
            self.existing_comment,
            schema=self.schema,
            existing_comment=self.comment,
        )


@dataclass(frozen=True, eq=False)
class DropTableCommentOp(MigrateOperation):
    """Remove a table's comment."""

    table_name: str
    schema: str | None = None
    existing_comment: str | None = None

    def describe(self) -> str:
        return f"drop_table_comment {_table_label(self.table_name, self.schema)!r}"

    def reverse(self) -> CreateTableCommentOp:
        if self.existing_comment is None:
            raise IrreversibleOperationError(
                self.describe(), "pass existing_comment= to restore the comment"
            )
        return CreateTableCommentOp(self.table_name, self.existing_comment, schema=self.schema)


@dataclass(frozen=True, eq=False)
class AddColumnOp(MigrateOperation):
    """Add a column; ``insert_before``/``insert_after`` place it in batch mode."""

    table_name: str
    column: Column[Any]
    schema: str | None = None
    if_not_exists: bool | None = None
    insert_before: str | None = None
    insert_after: str | None = None

    def describe(self) -> str:
        return f"add_column {self.column.name!r} to {self.table_name!r}"

    def reverse(self) -> DropColumnOp:
        return DropColumnOp(
            self.table_name, self.column.name, schema=self.schema, column=self.column
        )


@dataclass(frozen=True, eq=False)
class DropColumnOp(MigrateOperation):
    """Drop a column; with the ``column`` known, it can be reversed."""

    table_name: str
    column_name: str
    schema: str | None = None
    if_exists: bool | None = None
    column: Column[Any] | None = None

    def describe(self) -> str:
        return f"drop_column {self.column_name!r} of {self.table_name!r}"

    def reverse(self) -> AddColumnOp:
        if self.column is None:
            raise IrreversibleOperationError(
                self.describe(), "the column's definition is unknown; pass column="
            )
        return AddColumnOp(self.table_name, self.column, schema=self.schema)


@dataclass(frozen=True, eq=False)
class AlterColumnOp(MigrateOperation):
    """Change a column's type, nullability, default, comment or name.

    ``insert_before``/``insert_after`` move the column (batch mode on SQLite).
    ``server_default`` and ``comment`` use ``False`` for "unchanged" and ``None`` for
    "remove"; ``existing_server_default=False`` means "unknown".
    """

    table_name: str
    column_name: str
    schema: str | None = None
    nullable: bool | None = None
    type_: TypeEngine[Any] | None = None
    server_default: ServerDefault | Unchanged | None = False
    new_column_name: str | None = None
    comment: str | Unchanged | None = False
    autoincrement: bool | None = None
    existing_type: TypeEngine[Any] | None = None
    existing_nullable: bool | None = None
    existing_server_default: ServerDefault | Unchanged | None = False
    existing_comment: str | None = None
    existing_autoincrement: bool | None = None
    postgresql_using: str | None = None
    insert_before: str | None = None
    insert_after: str | None = None

    def describe(self) -> str:
        return f"alter_column {self.column_name!r} of {self.table_name!r}"

    def to_alteration(self) -> ColumnAlteration:
        """The change, as the DDL layer takes it."""
        return ColumnAlteration(
            nullable=self.nullable,
            type_=self.type_,
            server_default=self.server_default,
            new_column_name=self.new_column_name,
            comment=self.comment,
            autoincrement=self.autoincrement,
            existing_type=self.existing_type,
            existing_nullable=self.existing_nullable,
            existing_server_default=self.existing_server_default,
            existing_comment=self.existing_comment,
            existing_autoincrement=self.existing_autoincrement,
            postgresql_using=self.postgresql_using,
        )

    def reverse(self) -> AlterColumnOp:
        missing: list[str] = []
        if self.type_ is not None and self.existing_type is None:
            missing.append("existing_type")
        if self.server_default is not False and self.existing_server_default is False:
            missing.append("existing_server_default")
        if self.autoincrement is not None and self.existing_autoincrement is None:
            missing.append("existing_autoincrement")
        if missing:
            raise IrreversibleOperationError(
                self.describe(),
                f"pass {', '.join(missing)}= so the previous definition can be restored",
            )
        if self.nullable is not None and self.existing_nullable is None:
            # A nullability change is a flip: what it was is the opposite of what it becomes.
            was_nullable: bool | None = not self.nullable
        else:
            was_nullable = self.existing_nullable if self.nullable is not None else None
        return AlterColumnOp(
            self.table_name,
            self.new_column_name or self.column_name,
            schema=self.schema,
            nullable=was_nullable,
            type_=self.existing_type if self.type_ is not None else None,
            server_default=(
                self.existing_server_default if self.server_default is not False else False
            ),
            new_column_name=self.column_name if self.new_column_name is not None else None,
            comment=self.existing_comment if self.comment is not False else False,
            autoincrement=self.existing_autoincrement if self.autoincrement is not None else None,
            existing_type=self.type_ if self.type_ is not None else self.existing_type,
            existing_nullable=self.nullable
            if self.nullable is not None
            else self.existing_nullable,
            existing_server_default=(
                self.server_default
                if self.server_default is not False
                else self.existing_server_default
            ),
            existing_comment=(
                self.comment if self.comment is not False else self.existing_comment
            ),
            existing_autoincrement=(
                self.autoincrement
                if self.autoincrement is not None
                else self.existing_autoincrement
            ),
        )
