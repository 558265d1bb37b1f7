"""``batch_op.*``: the operations of a ``batch_alter_table`` block.

Each call records an operation object; when the block ends, the whole list is
applied at once (:mod:`whimbrel.operations.batch_apply`), which on SQLite may mean
rebuilding the table by move-and-copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from whimbrel.operations.constraint_api import index_kwargs
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
from whimbrel.operations.misc_ops import ExecuteSQLOp
from whimbrel.operations.opbase import ConstraintType, MigrateOperation, frozen_kwargs
from whimbrel.operations.table_api import to_type
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    DropColumnOp,
    DropTableCommentOp,
)

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.elements import ColumnElement, TextClause
    from sqlalchemy.types import TypeEngine

    from whimbrel.ddl.elements import ServerDefault
    from whimbrel.operations.base import Operations
    from whimbrel.operations.constraint_ops import IndexColumn

__all__ = ("BatchOperations",)


class BatchOperations:
    """The operations on one table inside ``batch_alter_table``.

    Args:
        operations: the step's operations object.
        table_name: the table being changed.
        schema: its schema.
    """

    def __init__(
        self, operations: Operations, table_name: str, *, schema: str | None = None
    ) -> None:
        self.operations = operations
        self.table_name = table_name
        self.schema = schema
        self.collected: list[MigrateOperation] = []

    @property
    def impl(self) -> Any:
        """The dialect implementation of the step."""
        return self.operations.impl

    def get_bind(self) -> Connection:
        """The step's connection.

        Raises:
            CommandError: there is no connection (SQL is only being generated).
        """
        return self.operations.get_bind()

    def get_context(self) -> Any:
        """The running migration context (as ``op.get_context()``)."""
        return self.operations.get_context()

    @staticmethod
    def f(name: str) -> Any:
        """A name used as given, bypassing the naming convention (as ``op.f``)."""
        from whimbrel.operations.base import Operations

        return Operations.f(name)

    @staticmethod
    def inline_literal(value: Any, type_: Any = None) -> Any:
        """A literal rendered inline in SQL (as ``op.inline_literal``)."""
        from whimbrel.operations.base import Operations

        return Operations.inline_literal(value, type_)

    def invoke(self, operation: MigrateOperation) -> None:
        """Record an operation, to be applied when the block ends."""
        self.collected.append(operation)

    # -- columns --------------------------------------------------------------------------

    def add_column(
        self,
        column: Column[Any],
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        """Add a column; on SQLite ``insert_before``/``insert_after`` place it.

        Raises:
            BatchError: (when the block ends) the table cannot be rebuilt.
        """
        self.invoke(
            AddColumnOp(
                self.table_name,
                column,
                schema=self.schema,
                if_not_exists=if_not_exists,
                insert_before=insert_before,
                insert_after=insert_after,
            )
        )

    def drop_column(self, column_name: str, *, if_exists: bool | None = None) -> None:
        """Drop a column; on SQLite its indexes and constraints go with it.

        Raises:
            BatchError: (when the block ends) there is no such column.
        """
        self.invoke(
            DropColumnOp(self.table_name, column_name, schema=self.schema, if_exists=if_exists)
        )

    def alter_column(
        self,
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
        insert_before: str | None = None,
        insert_after: str | None = None,
        postgresql_using: str | None = None,
    ) -> None:
        """Change a column (see ``Operations.alter_column``); on SQLite, also move it.

        Raises:
            BatchError: (when the block ends) there is no such column.
        """
        self.invoke(
            AlterColumnOp(
                self.table_name,
                column_name,
                schema=self.schema,
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
                insert_before=insert_before,
                insert_after=insert_after,
            )
        )

    # -- indexes --------------------------------------------------------------------------

    def create_index(
        self,
        index_name: str | None,
        columns: Sequence[IndexColumn],
        *,
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
        """Create an index on the table.

        Raises:
            TransactionStateError: (when the block ends) a concurrent build in a
                transaction.
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
                self.table_name,
                tuple(columns),
                schema=self.schema,
                unique=unique,
                if_not_exists=if_not_exists,
                dialect_kwargs=options,
            )
        )

    def drop_index(self, index_name: str, *, if_exists: bool | None = None, **kw: Any) -> None:
        """Drop an index of the table.

        Raises:
            BatchError: (when the block ends, SQLite rebuild) there is no such index.
        """
        self.invoke(
            DropIndexOp(
                index_name,
                self.table_name,
                schema=self.schema,
                if_exists=if_exists,
                dialect_kwargs=frozen_kwargs(kw),
            )
        )

    # -- constraints ----------------------------------------------------------------------

    def create_primary_key(self, constraint_name: str | None, columns: Sequence[str]) -> None:
        """Set the table's primary key.

        Raises:
            BatchError: (when the block ends) the table cannot be rebuilt.
        """
        self.invoke(
            CreatePrimaryKeyOp(
                constraint_name, self.table_name, tuple(columns), schema=self.schema
            )
        )

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        columns: Sequence[str],
        *,
        deferrable: bool | None = None,
        initially: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a unique constraint.

        Raises:
            BatchError: (when the block ends) the table cannot be rebuilt.
        """
        self.invoke(
            CreateUniqueConstraintOp(
                constraint_name,
                self.table_name,
                tuple(columns),
                schema=self.schema,
                deferrable=deferrable,
                initially=initially,
                dialect_kwargs=frozen_kwargs(kw),
            )
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        referent_schema: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        """Add a foreign key from this table to ``referent_table``.

        Raises:
            BatchError: (when the block ends) the table cannot be rebuilt.
        """
        self.invoke(
            CreateForeignKeyOp(
                constraint_name,
                self.table_name,
                referent_table,
                tuple(local_cols),
                tuple(remote_cols),
                onupdate=onupdate,
                ondelete=ondelete,
                deferrable=deferrable,
                initially=initially,
                match=match,
                source_schema=self.schema,
                referent_schema=referent_schema,
                dialect_kwargs=frozen_kwargs(dialect_kw),
            )
        )

    def create_check_constraint(
        self,
        constraint_name: str | None,
        condition: str | TextClause | ColumnElement[Any],
        **kw: Any,
    ) -> None:
        """Add a check constraint.

        Raises:
            BatchError: (when the block ends) the table cannot be rebuilt.
        """
        self.invoke(
            CreateCheckConstraintOp(
                constraint_name,
                self.table_name,
                condition,
                schema=self.schema,
                dialect_kwargs=frozen_kwargs(kw),
            )
        )

    def create_exclude_constraint(
        self,
        constraint_name: str | None,
        *elements: tuple[str | ColumnElement[Any] | TextClause, str],
        where: str | TextClause | ColumnElement[bool] | None = None,
        using: str = "gist",
    ) -> None:
        """Add a PostgreSQL ``EXCLUDE`` constraint.

        Raises:
            UnsupportedOperationError: (when the block ends) not PostgreSQL.
        """
        self.invoke(
            CreateExcludeConstraintOp(
                constraint_name,
                self.table_name,
                tuple(elements),
                where=where,
                using=using,
                schema=self.schema,
            )
        )

    def drop_constraint(
        self,
        constraint_name: str,
        type_: ConstraintType | None = None,
        *,
        if_exists: bool | None = None,
    ) -> None:
        """Drop a constraint by name.

        Raises:
            BatchError: (when the block ends, SQLite rebuild) no constraint has the name.
        """
        self.invoke(
            DropConstraintOp(
                constraint_name,
                self.table_name,
                type_=type_,
                schema=self.schema,
                if_exists=if_exists,
            )
        )

    # -- comments and SQL -----------------------------------------------------------------

    def create_table_comment(self, comment: str, *, existing_comment: str | None = None) -> None:
        """Set the table's comment (nothing to do on SQLite)."""
        self.invoke(
            CreateTableCommentOp(
                self.table_name, comment, schema=self.schema, existing_comment=existing_comment
            )
        )

    def drop_table_comment(self, *, existing_comment: str | None = None) -> None:
        """Remove the table's comment (nothing to do on SQLite)."""
        self.invoke(
            DropTableCommentOp(
                self.table_name, schema=self.schema, existing_comment=existing_comment
            )
        )

    def execute(
        self, sqltext: str | Executable, *, execution_options: Mapping[str, Any] | None = None
    ) -> None:
        """Run SQL at this point of the batch (after the changes recorded before it).

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(ExecuteSQLOp(sqltext, execution_options=frozen_kwargs(execution_options)))
