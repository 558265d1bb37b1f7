"""Operations on indexes and constraints."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from sqlalchemy import Index, MetaData
from sqlalchemy.schema import (
    CheckConstraint,
    Constraint,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import TextClause

from whimbrel.ddl.schemaobj import UNKNOWN_TABLE, column_names, stand_in_table
from whimbrel.errors import IrreversibleOperationError
from whimbrel.operations.opbase import ConstraintType, MigrateOperation, frozen_kwargs

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.sql.elements import ColumnElement

__all__ = (
    "AddConstraintOp",
    "CreateCheckConstraintOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreateIndexOp",
    "CreatePrimaryKeyOp",
    "CreateUniqueConstraintOp",
    "DropConstraintOp",
    "DropIndexOp",
    "IndexColumn",
)

IndexColumn: TypeAlias = "str | TextClause | ColumnElement[Any]"
"""An index element: a column name, ``sa.text("lower(name)")`` or a column expression."""


@dataclass(frozen=True, eq=False)
class CreateIndexOp(MigrateOperation):
    """Create an index on columns or expressions."""

    index_name: str | None
    table_name: str
    columns: tuple[IndexColumn, ...]
    schema: str | None = None
    unique: bool = False
    if_not_exists: bool | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    def describe(self) -> str:
        return f"create_index {self.index_name!r} on {self.table_name!r}"

    def to_index(self, table: Table | None = None) -> Index:
        """The ``Index``, attached to ``table`` or to a stand-in table."""
        if table is None:
            included = self.dialect_kwargs.get("postgresql_include") or ()
            table = stand_in_table(
                self.table_name,
                schema=self.schema,
                column_names=[*column_names(self.columns), *included],
            )
        elements = [table.c[c] if isinstance(c, str) else c for c in self.columns]
        return Index(
            self.index_name,
            *elements,
            unique=self.unique,
            _table=table,
            **self.dialect_kwargs,
        )

    def reverse(self) -> DropIndexOp:
        return DropIndexOp(
            self.index_name or "",
            self.table_name,
            schema=self.schema,
            dialect_kwargs=self.dialect_kwargs,
            create_op=self,
        )


@dataclass(frozen=True, eq=False)
class DropIndexOp(MigrateOperation):
    """Drop an index; MySQL needs its ``table_name``."""

    index_name: str
    table_name: str | None = None
    schema: str | None = None
    if_exists: bool | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)
    create_op: CreateIndexOp | None = None

    def describe(self) -> str:
        return f"drop_index {self.index_name!r}"

    def to_index(self) -> Index:
        """A nameable ``Index`` (on a stand-in table when the table name is known)."""
        if self.create_op is not None:
            index = self.create_op.to_index()
            index.dialect_kwargs.update(self.dialect_kwargs)
            return index
        table = stand_in_table(self.table_name or UNKNOWN_TABLE, schema=self.schema)
        return Index(self.index_name, _table=table, **self.dialect_kwargs)

    def reverse(self) -> CreateIndexOp:
        if self.create_op is None:
            raise IrreversibleOperationError(
                self.describe(), "the index's definition is unknown; pass create_op="
            )
        return self.create_op


@dataclass(frozen=True, eq=False)
class AddConstraintOp(MigrateOperation, ABC):
    """Base of the operations that add a constraint to an existing table."""

    constraint_type: ClassVar[ConstraintType]

    @property
    @abstractmethod
    def constraint_name(self) -> str | None:
        """The constraint's name, if it has one."""

    @property
    @abstractmethod
    def target_table(self) -> str:
        """The table the constraint is added to."""

    @property
    @abstractmethod
    def target_schema(self) -> str | None:
        """The schema of :attr:`target_table`."""

    @abstractmethod
    def to_constraint(self, table: Table | None = None) -> Constraint:
        """The constraint, attached to ``table`` or to a stand-in table."""

    def describe(self) -> str:
        kind = type(self).__name__.removeprefix("Create").removesuffix("Op")
        return f"{kind} {self.constraint_name!r} on {self.target_table!r}"

    def reverse(self) -> DropConstraintOp:
        if self.constraint_name is None:
            raise IrreversibleOperationError(
                self.describe(), "an unnamed constraint cannot be dropped by name"
            )
        return DropConstraintOp(
            self.constraint_name,
            self.target_table,
            type_=self.constraint_type,
            schema=self.target_schema,
            create_op=self,
        )

    def _attach(self, constraint: Constraint, table: Table | None, names: list[str]) -> None:
        if table is None:
            table = stand_in_table(
                self.target_table, schema=self.target_schema, column_names=names
            )
        table.append_constraint(constraint)


@dataclass(frozen=True, eq=False)
class CreatePrimaryKeyOp(AddConstraintOp):
    """Add a primary key."""

    name: str | None
    table_name: str
    columns: tuple[str, ...]
    schema: str | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    constraint_type: ClassVar[ConstraintType] = "primary"

    @property
    def constraint_name(self) -> str | None:
        return self.name

    @property
    def target_table(self) -> str:
        return self.table_name

    @property
    def target_schema(self) -> str | None:
        return self.schema

    def to_constraint(self, table: Table | None = None) -> PrimaryKeyConstraint:
        constraint = PrimaryKeyConstraint(*self.columns, name=self.name, **self.dialect_kwargs)
        self._attach(constraint, table, list(self.columns))
        return constraint


@dataclass(frozen=True, eq=False)
class CreateUniqueConstraintOp(AddConstraintOp):
    """Add a unique constraint."""

    name: str | None
    table_name: str
    columns: tuple[str, ...]
    schema: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    constraint_type: ClassVar[ConstraintType] = "unique"

    @property
    def constraint_name(self) -> str | None:
        return self.name

    @property
    def target_table(self) -> str:
        return self.table_name

    @property
    def target_schema(self) -> str | None:
        return self.schema

    def to_constraint(self, table: Table | None = None) -> UniqueConstraint:
        constraint = UniqueConstraint(
            *self.columns,
            name=self.name,
            deferrable=self.deferrable,
            initially=self.initially,
            **self.dialect_kwargs,
        )
        self._attach(constraint, table, list(self.columns))
        return constraint


@dataclass(frozen=True, eq=False)
class CreateForeignKeyOp(AddConstraintOp):
    """Add a foreign key from ``source_table`` to ``referent_table``."""

    name: str | None
    source_table: str
    referent_table: str
    local_cols: tuple[str, ...]
    remote_cols: tuple[str, ...]
    onupdate: str | None = None
    ondelete: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None
    source_schema: str | None = None
    referent_schema: str | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    constraint_type: ClassVar[ConstraintType] = "foreignkey"

    @property
    def constraint_name(self) -> str | None:
        return self.name

    @property
    def target_table(self) -> str:
        return self.source_table

    @property
    def target_schema(self) -> str | None:
        return self.source_schema

    def to_constraint(self, table: Table | None = None) -> ForeignKeyConstraint:
        prefix = (
            f"{self.referent_schema}.{self.referent_table}"
            if self.referent_schema
            else (self.referent_table)
        )
        constraint = ForeignKeyConstraint(
            list(self.local_cols),
            [f"{prefix}.{col}" for col in self.remote_cols],
            name=self.name,
            onupdate=self.onupdate,
            ondelete=self.ondelete,
            deferrable=self.deferrable,
            initially=self.initially,
            match=self.match,
            **self.dialect_kwargs,
        )
        metadata = table.metadata if table is not None else MetaData()
        if table is None:
            table = stand_in_table(
                self.source_table,
                schema=self.source_schema,
                metadata=metadata,
                column_names=self.local_cols,
            )
        table.append_constraint(constraint)
        from whimbrel.ddl.schemaobj import ensure_fk_targets

        ensure_fk_targets(table)
        return constraint


@dataclass(frozen=True, eq=False)
class CreateCheckConstraintOp(AddConstraintOp):
    """Add a check constraint."""

    name: str | None
    table_name: str
    condition: str | TextClause | ColumnElement[Any]
    schema: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    constraint_type: ClassVar[ConstraintType] = "check"

    @property
    def constraint_name(self) -> str | None:
        return self.name

    @property
    def target_table(self) -> str:
        return self.table_name

    @property
    def target_schema(self) -> str | None:
        return self.schema

    def to_constraint(self, table: Table | None = None) -> CheckConstraint:
        constraint = CheckConstraint(
            self.condition,
            name=self.name,
            deferrable=self.deferrable,
            initially=self.initially,
            **self.dialect_kwargs,
        )
        self._attach(constraint, table, [])
        return constraint


@dataclass(frozen=True, eq=False)
class CreateExcludeConstraintOp(AddConstraintOp):
    """Add a PostgreSQL ``EXCLUDE`` constraint: ``(element, operator)`` pairs."""

    name: str | None
    table_name: str
    elements: tuple[tuple[str | ColumnElement[Any] | TextClause, str], ...]
    where: str | TextClause | ColumnElement[bool] | None = None
    using: str = "gist"
    schema: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    dialect_kwargs: Mapping[str, Any] = field(default_factory=frozen_kwargs)

    constraint_type: ClassVar[ConstraintType] = "exclude"

    @property
    def constraint_name(self) -> str | None:
        return self.name

    @property
    def target_table(self) -> str:
        return self.table_name

    @property
    def target_schema(self) -> str | None:
        return self.schema

    def to_constraint(self, table: Table | None = None) -> Constraint:
        from sqlalchemy.dialects.postgresql import ExcludeConstraint

        names = [e for e, _ in self.elements if isinstance(e, str)]
        if table is None:
            table = stand_in_table(self.table_name, schema=self.schema, column_names=names)
        constraint = ExcludeConstraint(
            *((table.c[e] if isinstance(e, str) else e, op) for e, op in self.elements),
            name=self.name,
            using=self.using,
            where=self.where,
            deferrable=self.deferrable,
            initially=self.initially,
            **self.dialect_kwargs,
        )
        table.append_constraint(constraint)
        return constraint


_KINDS: dict[ConstraintType | None, type[Constraint]] = {
    "primary": PrimaryKeyConstraint,
    "unique": UniqueConstraint,
    "foreignkey": ForeignKeyConstraint,
    "check": CheckConstraint,
    "exclude": Constraint,  # dropped by name alone
    None: Constraint,
}


@dataclass(frozen=True, eq=False)
class DropConstraintOp(MigrateOperation):
    """Drop a constraint by name; ``type_`` tells MySQL which ``DROP`` to use."""

    constraint_name: str
    table_name: str
    type_: ConstraintType | None = None
    schema: str | None = None
    if_exists: bool | None = None
    create_op: AddConstraintOp | None = None

    def describe(self) -> str:
        return f"drop_constraint {self.constraint_name!r} on {self.table_name!r}"

    def to_constraint(self, table: Table | None = None) -> Constraint:
        """A constraint of the right kind, named, attached to ``table`` or a stand-in."""
        if table is None:
            table = stand_in_table(self.table_name, schema=self.schema)
        if self.type_ == "foreignkey":
            constraint: Constraint = ForeignKeyConstraint([], [], name=self.constraint_name)
        elif self.type_ == "check":
            constraint = CheckConstraint("1 = 1", name=self.constraint_name)
        else:
            constraint = _KINDS[self.type_](name=self.constraint_name)
        table.append_constraint(constraint)
        return constraint

    def reverse(self) -> AddConstraintOp:
        if self.create_op is None:
            raise IrreversibleOperationError(
                self.describe(), "the constraint's definition is unknown; pass create_op="
            )
        return self.create_op
