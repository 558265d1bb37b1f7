"""DDL constructs SQLAlchemy does not have, and what a column alteration asks for.

SQLAlchemy covers ``CREATE/DROP TABLE``, indexes, constraints and comments; it has no
``ALTER TABLE`` for columns or renames. The elements here fill that gap; how each
dialect spells them lives in :mod:`whimbrel.ddl.compiler` (``@compiles``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from sqlalchemy.schema import ExecutableDDLElement

if TYPE_CHECKING:
    from sqlalchemy.schema import Column, DefaultClause, FetchedValue
    from sqlalchemy.sql.elements import ColumnElement, TextClause
    from sqlalchemy.types import TypeEngine

__all__ = (
    "AddColumn",
    "AddEnumValue",
    "AlterColumnDefault",
    "AlterColumnNullable",
    "AlterColumnType",
    "AlterTableElement",
    "ColumnAlteration",
    "DropColumn",
    "ModifyColumn",
    "RenameColumn",
    "RenameTable",
    "ServerDefault",
    "Unchanged",
)

ServerDefault: TypeAlias = "str | TextClause | ColumnElement[Any] | DefaultClause | FetchedValue"
"""A server default given as a literal string, ``sa.text(...)``, an SQL expression
(``sa.func.now()``) or a ``DefaultClause``."""

Unchanged: TypeAlias = Literal[False]
"""``False`` in ``server_default``/``comment`` means "leave as it is" (``None`` removes)."""


@dataclass(frozen=True, eq=False, kw_only=True)
class ColumnAlteration:
    """What ``alter_column`` changes, and what the caller says the column is now.

    ``server_default`` and ``comment`` use ``False`` for "unchanged" and ``None`` for
    "remove"; ``existing_server_default`` uses ``False`` for "unknown".
    """

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

    @property
    def changes_definition(self) -> bool:
        """Whether anything but the name changes."""
        return (
            self.nullable is not None
            or self.type_ is not None
            or self.server_default is not False
            or self.comment is not False
            or self.autoincrement is not None
        )


class AlterTableElement(ExecutableDDLElement):
    """Base of ``ALTER TABLE <table> ...`` statements."""

    inherit_cache = False

    def __init__(self, table_name: str, *, schema: str | None = None) -> None:
        self.table_name = table_name
        self.schema = schema


class RenameTable(AlterTableElement):
    """``ALTER TABLE old RENAME TO new``."""

    def __init__(self, old_name: str, new_name: str, *, schema: str | None = None) -> None:
        super().__init__(old_name, schema=schema)
        self.new_name = new_name


class AddColumn(AlterTableElement):
    """``ALTER TABLE t ADD COLUMN <spec>``; ``column`` is attached to a stand-in table."""

    def __init__(
        self,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column = column
        self.if_not_exists = if_not_exists


class DropColumn(AlterTableElement):
    """``ALTER TABLE t DROP COLUMN c``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column_name = column_name
        self.if_exists = if_exists


class RenameColumn(AlterTableElement):
    """``ALTER TABLE t RENAME COLUMN old TO new``."""

    def __init__(
        self, table_name: str, column_name: str, new_name: str, *, schema: str | None = None
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column_name = column_name
        self.new_name = new_name


class AlterColumnNullable(AlterTableElement):
    """``ALTER TABLE t ALTER COLUMN c SET/DROP NOT NULL``."""

    def __init__(
        self, table_name: str, column_name: str, nullable: bool, *, schema: str | None = None
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column_name = column_name
        self.nullable = nullable


class AlterColumnType(AlterTableElement):
    """``ALTER TABLE t ALTER COLUMN c TYPE x [USING expr]``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        type_: TypeEngine[Any],
        *,
        schema: str | None = None,
        using: str | None = None,
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column_name = column_name
        self.type_ = type_
        self.using = using


class AlterColumnDefault(AlterTableElement):
    """``ALTER TABLE t ALTER COLUMN c SET DEFAULT x`` (or ``DROP DEFAULT`` for None)."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        default: ServerDefault | None,
        *,
        schema: str | None = None,
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column_name = column_name
        self.default = default


class ModifyColumn(AlterTableElement):
    """MySQL's ``MODIFY COLUMN c <spec>`` or ``CHANGE COLUMN c new <spec>``.

    ``column`` carries the whole new definition (named with the new name) and is
    attached to a stand-in table.
    """

    def __init__(
        self,
        table_name: str,
        column_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
    ) -> None:
        super().__init__(table_name, schema=schema)
        self.column_name = column_name
        self.column = column


class AddEnumValue(ExecutableDDLElement):
    """PostgreSQL's ``ALTER TYPE e ADD VALUE [IF NOT EXISTS] 'v' [BEFORE|AFTER 'w']``."""

    inherit_cache = False

    def __init__(
        self,
        enum_name: str,
        value: str,
        *,
        schema: str | None = None,
        before: str | None = None,
        after: str | None = None,
        if_not_exists: bool = True,
    ) -> None:
        self.enum_name = enum_name
        self.value = value
        self.schema = schema
        self.before = before
        self.after = after
        self.if_not_exists = if_not_exists
