"""``op.*`` for tables and columns (a part of :class:`~whimbrel.operations.Operations`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from whimbrel.operations.opbase import MigrateOperation, frozen_kwargs
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    CreateTableOp,
    DropColumnOp,
    DropTableCommentOp,
    DropTableOp,
    RenameTableOp,
)

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.schema import SchemaItem
    from sqlalchemy.types import TypeEngine

    from whimbrel.ddl.elements import ServerDefault

__all__ = ("TableOperations", "to_type")


def to_type(type_: TypeEngine[Any] | type[TypeEngine[Any]] | None) -> TypeEngine[Any] | None:
    """An instance for a type given as a class (``sa.String``) or instance."""
    if isinstance(type_, type):
        return type_()
    return type_


class TableOperations(ABC):
    """Table and column operations."""

    @abstractmethod
    def invoke(self, operation: MigrateOperation) -> Any:
        """Hand an operation to the dialect implementation (provided by Operations)."""

    def create_table(
        self,
        table_name: str,
        *columns_and_constraints: SchemaItem,
        schema: str | None = None,
        comment: str | None = None,
        if_not_exists: bool | None = None,
        info: Mapping[str, Any] | None = None,
        prefixes: Sequence[str] = (),
        **kw: Any,
    ) -> Table:
        """Create a table; returns the ``Table`` (handy for ``bulk_insert``).

        On PostgreSQL, named enum types of its columns are created first if missing.

        Args:
            table_name: the table's name.
            *columns_and_constraints: ``Column``, ``Constraint`` and ``Index`` objects.
            schema: the schema (``None``: the default one).
            comment: the table's comment.
            if_not_exists: ``CREATE TABLE IF NOT EXISTS``.
            info: the ``Table.info`` dictionary.
            prefixes: words between ``CREATE`` and ``TABLE`` (``"TEMPORARY"``).
            **kw: dialect options (``mysql_engine="InnoDB"``...).

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        op = CreateTableOp(
            table_name,
            tuple(columns_and_constraints),
            schema=schema,
            comment=comment,
            if_not_exists=if_not_exists,
            info=frozen_kwargs(info),
            prefixes=tuple(prefixes),
            dialect_kwargs=frozen_kwargs(kw),
        )
        table: Table = self.invoke(op)
        return table

    def drop_table(
        self,
        table_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """Drop a table.

        Enum types are left in place (Alembic does the same): the table's columns are
        not known here. Drop a PostgreSQL enum type with
        ``sa.Enum(name="mood").drop(op.get_bind(), checkfirst=True)``.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            DropTableOp(
                table_name, schema=schema, if_exists=if_exists, dialect_kwargs=frozen_kwargs(kw)
            )
        )

    def rename_table(
        self, old_table_name: str, new_table_name: str, *, schema: str | None = None
    ) -> None:
        """Rename a table within its schema.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(RenameTableOp(old_table_name, new_table_name, schema=schema))

    def create_table_comment(
        self,
        table_name: str,
        comment: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Set a table's comment (nothing to do on SQLite, which has no comments).

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            CreateTableCommentOp(
                table_name, comment, schema=schema, existing_comment=existing_comment
            )
        )

    def drop_table_comment(
        self,
        table_name: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Remove a table's comment (nothing to do on SQLite).

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            DropTableCommentOp(table_name, schema=schema, existing_comment=existing_comment)
        )

    def add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        """Add a column, with its foreign key, unique constraint, index and comment.

        On PostgreSQL, a named enum type of the column is created first if missing.
        On SQLite, a primary key or unique column needs ``batch_alter_table``.

        Raises:
            UnsupportedOperationError: the dialect cannot add such a column in place.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(AddColumnOp(table_name, column, schema=schema, if_not_exists=if_not_exists))

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
    ) -> None:
        """Drop a column.

        Raises:
            UnsupportedOperationError: SQLite cannot drop this column in place (it is
                indexed, keyed or constrained); use ``batch_alter_table``.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(DropColumnOp(table_name, column_name, schema=schema, if_exists=if_exists))

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | Literal[False] | None = False,
        server_default: ServerDefault | Literal[False] | None = False,
        new_column_name: str | None = None,
        type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_type: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_server_default: ServerDefault | Literal[False] | None = False,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        autoincrement: bool | None = None,
        existing_autoincrement: bool | None = None,
        schema: str | None = None,
        postgresql_using: str | None = None,
    ) -> None:
        """Change a column's nullability, type, default, comment or name.

        ``server_default``/``comment``: ``False`` (the default) leaves them alone,
        ``None`` removes them. The ``existing_*`` arguments describe the column as it
        is: MySQL/MariaDB restate the whole column (``MODIFY``), and what is not given
        is read from the database; they also make the operation reversible.

        Raises:
            UnsupportedOperationError: SQLite can only rename a column in place; use
                ``batch_alter_table`` for the rest.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            AlterColumnOp(
                table_name,
                column_name,
                schema=schema,
                nullable=nullable,
                type_=to_type(type_),
                server_default=server_default,
                new_column_name=new_column_name,
                comment=comment,
                autoincrement=autoincrement,
                existing_type=to_type(existing_type),
                existing_nullable=existing_nullable,
                existing_server_default=existing_server_default,
                existing_comment=existing_comment,
                existing_autoincrement=existing_autoincrement,
                postgresql_using=postgresql_using,
            )
        )
