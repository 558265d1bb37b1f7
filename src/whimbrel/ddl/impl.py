"""The default DDL implementation; dialects refine it.

An implementation turns schema changes, given as SQLAlchemy objects, into statements
on one connection. Without a connection (``connection=None``) it compiles them into
:attr:`DefaultImpl.captured` instead: the basis of SQL snapshots and offline SQL.

Dialects are found in an explicit registry (:func:`impl_for`), then in the
``whimbrel.ddl`` entry-point group for third-party dialects; nothing registers itself
on import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, Table, inspect, text
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    DropTableComment,
    SetColumnComment,
    SetTableComment,
)

from whimbrel.ddl.elements import (
    AddColumn,
    AlterColumnDefault,
    AlterColumnNullable,
    AlterColumnType,
    DropColumn,
    RenameColumn,
    RenameTable,
)
from whimbrel.ddl.schemaobj import stand_in_table
from whimbrel.errors import (
    ConnectionRequiredError,
    TransactionStateError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.engine.reflection import Inspector
    from sqlalchemy.schema import Constraint, Index
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.selectable import TableClause

    from whimbrel.ddl.elements import ColumnAlteration

__all__ = ("DefaultImpl", "impl_for")


class DefaultImpl:
    """Turns schema changes into statements on one connection (or into SQL text).

    Args:
        connection: the synchronous connection to run on; ``None`` compiles the
            statements into :attr:`captured` instead of running them.
        dialect: the dialect to compile for.
    """

    transactional_ddl = False

    def __init__(self, connection: Connection | None, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect
        self.captured: list[str] = []
        self.no_guessing = False
        """Set by offline SQL: without a connection, an operation that would have to
        guess what it cannot read (MySQL ``MODIFY``) raises
        :class:`~whimbrel.errors.ConnectionRequiredError` instead."""

    # -- running statements ---------------------------------------------------------------

    def execute(
        self, construct: str | Executable, *, execution_options: Mapping[str, Any] | None = None
    ) -> None:
        """Run SQL text or a construct (or capture its SQL when there is no connection)."""
        statement = text(construct) if isinstance(construct, str) else construct
        conn = self.connection
        if conn is None:
            self.captured.append(self._compile(statement))
            return
        if execution_options:
            conn = conn.execution_options(**execution_options)
        conn.execute(statement)

    def _exec(self, construct: Executable) -> None:
        self.execute(construct)

    def _compile(self, statement: Executable) -> str:
        from sqlalchemy.schema import ExecutableDDLElement

        # DDL is compiled as it would be for execution: other @compiles rules in the
        # process (Alembic's, for one) may not expect extra keywords.
        kwargs = {} if isinstance(statement, ExecutableDDLElement) else {"literal_binds": True}
        if kwargs and self.no_guessing:
            _refuse_unbound(statement)
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=self.dialect, compile_kwargs=kwargs
        )
        return str(compiled).strip()

    def require_connection(self, operation: str) -> Connection:
        """The connection, for work that needs to look at the database.

        Raises:
            ConnectionRequiredError: there is no connection (SQL is being captured).
        """
        if self.connection is None:
            raise ConnectionRequiredError(
                f"{operation} needs to read the database, and there is no connection "
                "(SQL is only being generated); give the missing details explicitly",
                dialect=self.dialect.name,
                operation=operation,
            )
        return self.connection

    def inspector(self, operation: str) -> Inspector:
        """A fresh ``Inspector`` on the connection (a new one: the schema is changing).

        Raises:
            ConnectionRequiredError: there is no connection.
        """
        return inspect(self.require_connection(operation))

    def in_autocommit(self) -> bool:
        """Whether the DBAPI connection commits each statement by itself."""
        conn = self.connection
        if conn is None:
            return True
        level = conn.get_execution_options().get("isolation_level")
        if level == "AUTOCOMMIT":
            return True
        try:
            dbapi = conn.connection.dbapi_connection
            return dbapi is not None and self.dialect.detect_autocommit_setting(dbapi)
        except NotImplementedError:
            return False

    def require_autocommit(self, statement: str) -> None:
        """Refuse early a statement that cannot run inside a transaction.

        Raises:
            TransactionStateError: the connection is in a transaction.
        """
        conn = self.connection
        if conn is None or self.in_autocommit():
            return
        raise TransactionStateError(statement)

    def unsupported(self, operation: str, hint: str) -> UnsupportedOperationError:
        """The error for an operation this dialect cannot perform."""
        return UnsupportedOperationError(
            f"{self.dialect.name} cannot {operation}; {hint}",
            dialect=self.dialect.name,
            operation=operation,
        )

    # -- tables ---------------------------------------------------------------------------

    def create_table(self, table: Table, *, if_not_exists: bool = False) -> None:
        """``CREATE TABLE`` with its indexes and (where not inline) comments."""
        self.before_create_table(table)
        self._exec(CreateTable(table, if_not_exists=if_not_exists))
        if self.dialect.supports_comments and not self.dialect.inline_comments:
            if table.comment is not None:
                self._exec(SetTableComment(table))
            for column in table.columns:
                if column.comment is not None:
                    self._exec(SetColumnComment(column))
        for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
            self.create_index(index, if_not_exists=if_not_exists)

    def before_create_table(self, table: Table) -> None:
        """Create what the table needs first (PostgreSQL: its enum types)."""

    def drop_table(self, table: Table, *, if_exists: bool = False) -> None:
        """``DROP TABLE`` (and, on PostgreSQL, enum types it alone used)."""
        self._exec(DropTable(table, if_exists=if_exists))
        self.after_drop_table(table)

    def after_drop_table(self, table: Table) -> None:
        """Drop what only the table needed (PostgreSQL: its enum types)."""

    def rename_table(self, old_name: str, new_name: str, *, schema: str | None = None) -> None:
        """``ALTER TABLE old RENAME TO new``."""
        self._exec(RenameTable(old_name, new_name, schema=schema))

    def create_table_comment(self, table: Table) -> None:
        """Set the table's comment to ``table.comment``."""
        if self.dialect.supports_comments:
            self._exec(SetTableComment(table))

    def drop_table_comment(self, table: Table) -> None:
        """Remove the table's comment."""
        if self.dialect.supports_comments:
            self._exec(DropTableComment(table))

    # -- columns --------------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
    ) -> None:
        """``ALTER TABLE ADD COLUMN``, then the column's constraints, index and comment."""
        table = stand_in_table(table_name, column, schema=schema)
        self.before_add_column(table, column)
        self._exec(AddColumn(table_name, column, schema=schema, if_not_exists=if_not_exists))
        for constraint in self.column_constraints(table):
            self.add_constraint(constraint)
        for index in table.indexes:
            self.create_index(index, if_not_exists=if_not_exists)
        if (
            column.comment is not None
            and self.dialect.supports_comments
            and not self.dialect.inline_comments
        ):
            self._exec(SetColumnComment(column))

    def before_add_column(self, table: Table, column: Column[Any]) -> None:
        """Create what the new column needs first (PostgreSQL: its enum type)."""

    def column_constraints(self, table: Table) -> list[Constraint]:
        """The constraints an added column brings, to add after it."""
        from sqlalchemy.schema import PrimaryKeyConstraint

        return [
            c
            for c in sorted(table.constraints, key=lambda c: str(c.name or ""))
            if not isinstance(c, PrimaryKeyConstraint)
        ]

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> None:
        """``ALTER TABLE DROP COLUMN``."""
        self._exec(DropColumn(table_name, column_name, schema=schema, if_exists=if_exists))

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        alteration: ColumnAlteration,
        *,
        schema: str | None = None,
    ) -> None:
        """``ALTER TABLE ALTER COLUMN`` statements, one per aspect that changes.

        The rename comes last, so every other statement names the column as it was.
        """
        a = alteration
        if a.nullable is not None:
            self._exec(AlterColumnNullable(table_name, column_name, a.nullable, schema=schema))
        if a.type_ is not None:
            if a.server_default is not False:
                # A default the new type cannot take would make the type change fail.
                self._exec(AlterColumnDefault(table_name, column_name, None, schema=schema))
            self._exec(
                AlterColumnType(
                    table_name, column_name, a.type_, schema=schema, using=a.postgresql_using
                )
            )
        if a.server_default is not False and (a.server_default is not None or a.type_ is None):
            self._exec(
                AlterColumnDefault(table_name, column_name, a.server_default, schema=schema)
            )
        if a.comment is not False and self.dialect.supports_comments:
            column = Column(column_name, a.type_ or a.existing_type, comment=a.comment)
            stand_in_table(table_name, column, schema=schema)
            self._exec(SetColumnComment(column))
        if a.new_column_name is not None and a.new_column_name != column_name:
            self._exec(RenameColumn(table_name, column_name, a.new_column_name, schema=schema))

    # -- indexes and constraints ----------------------------------------------------------

    def create_index(self, index: Index, *, if_not_exists: bool = False) -> None:
        """``CREATE INDEX``."""
        self._exec(CreateIndex(index, if_not_exists=if_not_exists))

    def drop_index(self, index: Index, *, if_exists: bool = False) -> None:
        """``DROP INDEX``."""
        self._exec(DropIndex(index, if_exists=if_exists))

    def add_constraint(self, constraint: Constraint) -> None:
        """``ALTER TABLE ADD CONSTRAINT``.

        Raises:
            UnsupportedOperationError: an ``EXCLUDE`` constraint outside PostgreSQL.
        """
        if constraint.__visit_name__ == "exclude_constraint" and self.dialect.name != "postgresql":
            raise self.unsupported("add an EXCLUDE constraint", "EXCLUDE is PostgreSQL's")
        self._exec(AddConstraint(constraint))

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        """``ALTER TABLE DROP CONSTRAINT``."""
        self._exec(DropConstraint(constraint, if_exists=if_exists))

    # -- data -----------------------------------------------------------------------------

    def bulk_insert(
        self,
        table: Table | TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        """``INSERT`` the rows, in one ``executemany`` when possible."""
        if not rows:
            return
        from sqlalchemy.sql.elements import ClauseElement

        literal = any(isinstance(v, ClauseElement) for row in rows for v in row.values())
        if self.connection is None or literal or not multiinsert:
            # SQL expressions in the values (inline_literal) go row by row, inline.
            for row in rows:
                self._exec(table.insert().values(dict(row)))
            return
        self.connection.execute(table.insert(), [dict(row) for row in rows])

    # -- types ----------------------------------------------------------------------------

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
        """Add a value to a named enum type (PostgreSQL only).

        Raises:
            UnsupportedOperationError: the dialect has no named enum types.
        """
        raise self.unsupported(
            "add a value to an enum type",
            "only PostgreSQL has named enum types; on other databases alter the "
            "column's type with alter_column(type_=sa.Enum(...))",
        )

    # -- batch ----------------------------------------------------------------------------

    def requires_recreate(self, kind: str, column: Column[Any] | None = None) -> bool:
        """Whether a batch operation of ``kind`` needs the table rebuilt (SQLite)."""
        return False

    def new_metadata(self) -> MetaData:
        """A fresh ``MetaData`` (a hook for dialect-specific naming)."""
        return MetaData()


def _refuse_unbound(statement: Executable) -> None:
    """Literal binds render a parameter without a value as NULL: refuse that guess."""
    from sqlalchemy.exc import CompileError
    from sqlalchemy.sql.elements import BindParameter
    from sqlalchemy.sql.visitors import iterate

    for element in iterate(statement):  # type: ignore[arg-type]
        if (
            isinstance(element, BindParameter)
            and element.required
            and element.value is None
            and element.callable is None
        ):
            raise CompileError(f"bind parameter {element.key!r} has no value")


_IMPLS: dict[str, str] = {
    "sqlite": "whimbrel.ddl.sqlite:SQLiteImpl",
    "postgresql": "whimbrel.ddl.postgresql:PostgresqlImpl",
    "mysql": "whimbrel.ddl.mysql:MySQLImpl",
    "mariadb": "whimbrel.ddl.mysql:MySQLImpl",
}

ENTRY_POINT_GROUP = "whimbrel.ddl"


def impl_for(dialect: Dialect) -> type[DefaultImpl]:
    """The implementation class for a dialect (``DefaultImpl`` when unknown).

    Looks in Whimbrel's own registry, then in the ``whimbrel.ddl`` entry-point group,
    where a third-party package names its implementation under the dialect's name
    (``mydb = "mypackage.ddl:MyDBImpl"``).
    """
    from importlib import import_module
    from importlib.metadata import entry_points

    target = _IMPLS.get(dialect.name)
    if target is not None:
        module_name, _, attr = target.partition(":")
        impl: type[DefaultImpl] = getattr(import_module(module_name), attr)
        return impl
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=dialect.name):
        loaded: type[DefaultImpl] = entry.load()
        return loaded
    return DefaultImpl
