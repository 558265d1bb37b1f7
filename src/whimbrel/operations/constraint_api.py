"""``op.*`` for indexes, constraints and enum types (a part of ``Operations``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from whimbrel.operations.constraint_ops import (
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
    DropIndexOp,
)
from whimbrel.operations.misc_ops import AddEnumValueOp
from whimbrel.operations.opbase import ConstraintType, MigrateOperation, frozen_kwargs

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement, TextClause

    from whimbrel.operations.constraint_ops import IndexColumn

__all__ = ("ConstraintOperations", "index_kwargs")


def index_kwargs(
    *,
    postgresql_concurrently: bool,
    postgresql_where: str | TextClause | ColumnElement[bool] | None,
    postgresql_using: str | None,
    postgresql_include: Sequence[str] | None,
    sqlite_where: str | TextClause | ColumnElement[bool] | None,
    mysql_length: int | Mapping[str, int] | None,
    kw: Mapping[str, Any],
) -> Mapping[str, Any]:
    """The dialect options of an index, leaving out those not given."""
    from sqlalchemy import text

    options: dict[str, Any] = dict(kw)
    if postgresql_concurrently:
        options["postgresql_concurrently"] = True
    if postgresql_where is not None:
        where = text(postgresql_where) if isinstance(postgresql_where, str) else postgresql_where
        options["postgresql_where"] = where
    if postgresql_using is not None:
        options["postgresql_using"] = postgresql_using
    if postgresql_include is not None:
        options["postgresql_include"] = list(postgresql_include)
    if sqlite_where is not None:
        options["sqlite_where"] = (
            text(sqlite_where) if isinstance(sqlite_where, str) else sqlite_where
        )
    if mysql_length is not None:
        options["mysql_length"] = mysql_length
    return frozen_kwargs(options)


class ConstraintOperations(ABC):
    """Index, constraint and enum-type operations."""

    @abstractmethod
    def invoke(self, operation: MigrateOperation) -> Any:
        """Hand an operation to the dialect implementation (provided by Operations)."""

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[IndexColumn],
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool | None = None,
        postgresql_concurrently: bool = False,
        postgresql_where: str | TextClause | ColumnElement[bool] | None = None,
        postgresql_using: str | None = None,
        postgresql_include: Sequence[str] | None = None,
        sqlite_where: str | TextClause | ColumnElement[bool] | None = None,
        mysql_length: int | Mapping[str, int] | None = None,
        **kw: Any,
    ) -> None:
        """Create an index on column names or expressions (``sa.text("lower(email)")``).

        Raises:
            TransactionStateError: ``postgresql_concurrently=True`` inside a
                transaction; use ``op.autocommit_block()`` or a non-transactional script.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        options = index_kwargs(
            postgresql_concurrently=postgresql_concurrently,
            postgresql_where=postgresql_where,
            postgresql_using=postgresql_using,
            postgresql_include=postgresql_include,
            sqlite_where=sqlite_where,
            mysql_length=mysql_length,
            kw=kw,
        )
        self.invoke(
            CreateIndexOp(
                index_name,
                table_name,
                tuple(columns),
                schema=schema,
                unique=unique,
                if_not_exists=if_not_exists,
                dialect_kwargs=options,
            )
        )

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        postgresql_concurrently: bool = False,
        **kw: Any,
    ) -> None:
        """Drop an index (MySQL/MariaDB need its ``table_name``).

        Raises:
            TransactionStateError: ``postgresql_concurrently=True`` inside a transaction.
            UnsupportedOperationError: MySQL without ``table_name``.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        options = dict(kw)
        if postgresql_concurrently:
            options["postgresql_concurrently"] = True
        self.invoke(
            DropIndexOp(
                index_name,
                table_name,
                schema=schema,
                if_exists=if_exists,
                dialect_kwargs=frozen_kwargs(options),
            )
        )

    def create_primary_key(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        """Add a primary key.

        Raises:
            UnsupportedOperationError: SQLite; use ``batch_alter_table``.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(CreatePrimaryKeyOp(constraint_name, table_name, tuple(columns), schema=schema))

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a unique constraint.

        Raises:
            UnsupportedOperationError: SQLite; use ``batch_alter_table``.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            CreateUniqueConstraintOp(
                constraint_name,
                table_name,
                tuple(columns),
                schema=schema,
                deferrable=deferrable,
                initially=initially,
                dialect_kwargs=frozen_kwargs(kw),
            )
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        """Add a foreign key from ``source_table`` to ``referent_table``.

        Raises:
            UnsupportedOperationError: SQLite; use ``batch_alter_table``.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            CreateForeignKeyOp(
                constraint_name,
                source_table,
                referent_table,
                tuple(local_cols),
                tuple(remote_cols),
                onupdate=onupdate,
                ondelete=ondelete,
                deferrable=deferrable,
                initially=initially,
                match=match,
                source_schema=source_schema,
                referent_schema=referent_schema,
                dialect_kwargs=frozen_kwargs(dialect_kw),
            )
        )

    def create_check_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: str | TextClause | ColumnElement[Any],
        *,
        schema: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a check constraint; ``condition`` is SQL text or an expression.

        Raises:
            UnsupportedOperationError: SQLite; use ``batch_alter_table``.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            CreateCheckConstraintOp(
                constraint_name,
                table_name,
                condition,
                schema=schema,
                deferrable=deferrable,
                initially=initially,
                dialect_kwargs=frozen_kwargs(kw),
            )
        )

    def create_exclude_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        *elements: tuple[str | ColumnElement[Any] | TextClause, str],
        where: str | TextClause | ColumnElement[bool] | None = None,
        using: str = "gist",
        schema: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
    ) -> None:
        """Add a PostgreSQL ``EXCLUDE`` constraint from ``(column, operator)`` pairs.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects it (any other database).
        """
        self.invoke(
            CreateExcludeConstraintOp(
                constraint_name,
                table_name,
                tuple(elements),
                where=where,
                using=using,
                schema=schema,
                deferrable=deferrable,
                initially=initially,
            )
        )

    def drop_constraint(
        self,
        constraint_name: str,
        table_name: str,
        type_: ConstraintType | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
    ) -> None:
        """Drop a constraint by name.

        ``type_`` (``"foreignkey"``, ``"primary"``, ``"unique"``, ``"check"``) tells
        MySQL which ``DROP`` to use; without it, MySQL looks the constraint up first.

        Raises:
            UnsupportedOperationError: SQLite (use ``batch_alter_table``), or MySQL
                finds no such constraint.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            DropConstraintOp(
                constraint_name, table_name, type_=type_, schema=schema, if_exists=if_exists
            )
        )

    def add_enum_value(
        self,
        enum_name: str,
        value: str,
        *,
        schema: str | None = None,
        before: str | None = None,
        after: str | None = None,
        if_not_exists: bool = True,
    ) -> None:
        """Add a value to a PostgreSQL enum type (``ALTER TYPE ... ADD VALUE``).

        PostgreSQL 12+ runs this inside a transaction, but the new value cannot be
        used until that transaction commits: insert rows using it in a later
        migration, or after ``op.autocommit_block()``.

        Raises:
            UnsupportedOperationError: not PostgreSQL.
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(
            AddEnumValueOp(
                enum_name,
                value,
                schema=schema,
                before=before,
                after=after,
                if_not_exists=if_not_exists,
            )
        )
