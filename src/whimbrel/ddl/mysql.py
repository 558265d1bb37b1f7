"""MySQL and MariaDB: DDL commits implicitly; columns change by ``MODIFY``/``CHANGE``.

``MODIFY COLUMN`` restates the whole column, so every aspect that does not change
must be known. Alembic asks for them as ``existing_*`` arguments; here, what the
caller leaves out is read from the database first, so a forgotten
``existing_nullable`` can no longer turn a ``NOT NULL`` column nullable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, text
from sqlalchemy.schema import (
    CheckConstraint,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
)

from whimbrel.ddl.elements import (
    AlterColumnDefault,
    ColumnAlteration,
    ModifyColumn,
    RenameColumn,
)
from whimbrel.ddl.impl import DefaultImpl
from whimbrel.ddl.schemaobj import UNKNOWN_TABLE, stand_in_table
from whimbrel.errors import ConnectionRequiredError, UnsupportedOperationError

if TYPE_CHECKING:
    from sqlalchemy.schema import Constraint, Index
    from sqlalchemy.types import TypeEngine

    from whimbrel.ddl.elements import ServerDefault

__all__ = ("MySQLImpl",)

_CONSTRAINT_TYPE = text(
    "SELECT CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS "
    "WHERE TABLE_SCHEMA = coalesce(:schema, DATABASE()) AND TABLE_NAME = :table "
    "AND CONSTRAINT_NAME = :name"
)

_KINDS: dict[str, type[Constraint]] = {
    "PRIMARY KEY": PrimaryKeyConstraint,
    "UNIQUE": UniqueConstraint,
    "FOREIGN KEY": ForeignKeyConstraint,
    "CHECK": CheckConstraint,
}


class MySQLImpl(DefaultImpl):
    """MySQL and MariaDB."""

    transactional_ddl = False

    # -- columns --------------------------------------------------------------------------

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        alteration: ColumnAlteration,
        *,
        schema: str | None = None,
    ) -> None:
        a = alteration
        renamed = a.new_column_name is not None and a.new_column_name != column_name
        only_default = (
            a.server_default is not False
            and a.nullable is None
            and a.type_ is None
            and a.comment is False
            and a.autoincrement is None
        )
        if only_default and not renamed:
            default = a.server_default if a.server_default is not False else None
            self._exec(AlterColumnDefault(table_name, column_name, default, schema=schema))
            return
        if not a.changes_definition:
            if not renamed:
                return
            if self._has_rename_column():
                assert a.new_column_name is not None
                self._exec(RenameColumn(table_name, column_name, a.new_column_name, schema=schema))
                return
            # Older servers rename with CHANGE COLUMN, which restates the definition.
        column = self._full_definition(table_name, column_name, a, schema=schema)
        stand_in_table(table_name, column, schema=schema)
        self._exec(ModifyColumn(table_name, column_name, column, schema=schema))

    def _has_rename_column(self) -> bool:
        if self.dialect.server_version_info is None:
            # Offline SQL: no server to ask; MySQL 8.0 and MariaDB 10.5 (every
            # supported release) have RENAME COLUMN.
            return True
        version = self.dialect.server_version_info
        is_mariadb = getattr(self.dialect, "is_mariadb", False)
        return version >= ((10, 5) if is_mariadb else (8, 0))

    def _full_definition(
        self, table_name: str, column_name: str, a: ColumnAlteration, *, schema: str | None
    ) -> Column[Any]:
        existing = ColumnFacts(
            type_=a.existing_type,
            nullable=a.existing_nullable,
            server_default=a.existing_server_default,
            comment=a.existing_comment,
            autoincrement=a.existing_autoincrement,
        )
        if existing.incomplete(a):
            if self.connection is None and self.no_guessing:
                self._refuse_guessing(table_name, column_name, a, existing)
            existing = existing.completed_by(
                self._reflect_column(table_name, column_name, schema=schema)
            )
        type_ = a.type_ if a.type_ is not None else existing.type_
        if type_ is None:
            raise self.unsupported(
                "MODIFY a column without knowing its type",
                "pass existing_type= (there is no connection to read it from)",
            )
        nullable = a.nullable if a.nullable is not None else existing.nullable
        default = a.server_default if a.server_default is not False else existing.server_default
        comment = a.comment if a.comment is not False else existing.comment
        autoincrement = a.autoincrement if a.autoincrement is not None else existing.autoincrement
        name = a.new_column_name or column_name
        return Column(
            name,
            type_,
            nullable=True if nullable is None else nullable,
            server_default=default if default is not False else None,  # type: ignore[arg-type]
            comment=comment,
            primary_key=bool(autoincrement),
            autoincrement=bool(autoincrement),
        )

    def _refuse_guessing(
        self, table_name: str, column_name: str, a: ColumnAlteration, existing: ColumnFacts
    ) -> None:
        # MODIFY restates the whole column: an aspect neither changed nor given would be
        # lost (a NOT NULL column turned nullable), and offline nothing can be read.
        missing = [
            name
            for name, unknown in (
                ("existing_type", a.type_ is None and existing.type_ is None),
                ("existing_nullable", a.nullable is None and existing.nullable is None),
                (
                    "existing_server_default",
                    a.server_default is False and existing.server_default is False,
                ),
            )
            if unknown
        ]
        if missing:
            raise ConnectionRequiredError(
                f"alter_column of {table_name}.{column_name} restates the whole column "
                f"(MODIFY) and must read the database for what it does not change; pass "
                f"{', '.join(f'{m}=' for m in missing)} to generate it offline",
                dialect=self.dialect.name,
                operation="alter_column",
            )

    def _reflect_column(
        self, table_name: str, column_name: str, *, schema: str | None
    ) -> dict[str, Any] | None:
        if self.connection is None:
            return None
        for column in self.inspector("alter_column").get_columns(table_name, schema=schema):
            if column["name"] == column_name:
                return dict(column)
        return None

    # -- indexes and constraints ----------------------------------------------------------

    def drop_index(self, index: Index, *, if_exists: bool = False) -> None:
        if index.table is None or index.table.name == UNKNOWN_TABLE:
            raise self.unsupported(
                "drop an index without its table", "pass table_name= to drop_index()"
            )
        super().drop_index(index, if_exists=if_exists)

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        known = isinstance(constraint, tuple(_KINDS.values()))
        if known and not if_exists:
            super().drop_constraint(constraint)
            return
        table = constraint.table
        name = "PRIMARY" if isinstance(constraint, PrimaryKeyConstraint) else str(constraint.name)
        conn = self.require_connection(
            "drop_constraint(if_exists=True)" if known else "drop_constraint without type_"
        )
        params = {"schema": table.schema, "table": table.name, "name": name}
        kinds = conn.execute(_CONSTRAINT_TYPE, params).scalars().all()
        if not kinds:
            if if_exists:
                return
            raise UnsupportedOperationError(
                f"table {table.name!r} has no constraint named {name!r}",
                dialect=self.dialect.name,
                operation="drop_constraint",
            )
        if not known:
            constraint = _placeholder(_KINDS[kinds[0]], name)
            stand_in_table(table.name, constraint, schema=table.schema)
        super().drop_constraint(constraint)


def _placeholder(kind: type[Constraint], name: str) -> Constraint:
    if kind is ForeignKeyConstraint:
        return ForeignKeyConstraint([], [], name=name)
    if kind is CheckConstraint:
        return CheckConstraint("1 = 1", name=name)
    return kind(name=name)


class ColumnFacts:
    """What is known of a column's current definition (``None``/``False``: unknown)."""

    def __init__(
        self,
        *,
        type_: TypeEngine[Any] | None,
        nullable: bool | None,
        server_default: ServerDefault | bool | None,
        comment: str | None,
        autoincrement: bool | None,
    ) -> None:
        self.type_ = type_
        self.nullable = nullable
        self.server_default = server_default
        self.comment = comment
        self.autoincrement = autoincrement

    def incomplete(self, a: ColumnAlteration) -> bool:
        return (
            (a.type_ is None and self.type_ is None)
            or (a.nullable is None and self.nullable is None)
            or (a.server_default is False and self.server_default is False)
            or (a.comment is False and self.comment is None)
            or (a.autoincrement is None and self.autoincrement is None)
        )

    def completed_by(self, reflected: dict[str, Any] | None) -> ColumnFacts:
        if reflected is None:
            return self
        default = reflected.get("default")
        reflected_default: ServerDefault | None = (
            None if default is None or str(default).upper() == "NULL" else text(str(default))
        )
        auto = reflected.get("autoincrement")
        return ColumnFacts(
            type_=self.type_ if self.type_ is not None else reflected["type"],
            nullable=self.nullable if self.nullable is not None else reflected["nullable"],
            server_default=(
                self.server_default if self.server_default is not False else reflected_default
            ),
            comment=self.comment if self.comment is not None else reflected.get("comment"),
            autoincrement=(self.autoincrement if self.autoincrement is not None else auto is True),
        )
