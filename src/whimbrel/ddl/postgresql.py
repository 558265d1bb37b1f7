"""PostgreSQL: transactional DDL, named enum types, concurrent index builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, text

from whimbrel.ddl.elements import AddEnumValue
from whimbrel.ddl.impl import DefaultImpl

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Column, Table
    from sqlalchemy.dialects.postgresql import ENUM
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.schema import Index
    from sqlalchemy.sql.base import Executable

__all__ = ("PostgresqlImpl",)

_TYPE_IN_USE = text(
    "SELECT 1 FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_type t ON a.atttypid = t.oid "
    "JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid "
    "LEFT JOIN pg_catalog.pg_type e ON t.typelem = e.oid "
    "WHERE NOT a.attisdropped AND n.nspname = coalesce(:schema, current_schema()) "
    "AND (t.typname = :name OR (e.typname = :name AND e.typnamespace = n.oid)) LIMIT 1"
)


class PostgresqlImpl(DefaultImpl):
    """PostgreSQL: every DDL statement is transactional (except concurrent indexes)."""

    transactional_ddl = True
    used_extended = False

    def __init__(self, connection: Connection | None, dialect: Dialect) -> None:
        super().__init__(connection, dialect)
        # Offline SQL cannot ask the database whether a type exists: the types this
        # script already created are not created twice.
        self._written_enums: set[tuple[str | None, str]] = set()

    # -- one round trip per DDL statement --------------------------------------------------

    def execute(
        self, construct: str | Executable, *, execution_options: Mapping[str, Any] | None = None
    ) -> None:
        """Run a statement; parameterless DDL goes through asyncpg's simple protocol.

        SQLAlchemy's asyncpg driver prepares every statement before running it: two
        round trips. DDL has no parameters and no result, so Whimbrel sends it as a
        simple query, in the same transaction: one round trip. A schema translation map
        (tenant schemas) is rendered into the statement, as SQLAlchemy would at
        execution. Anything else, and any connection with event listeners or echo,
        takes the ordinary path.
        """
        sql = self._simple_sql(construct, execution_options)
        if sql is None:
            self.used_extended = True
            super().execute(construct, execution_options=execution_options)
            return
        assert self.connection is not None  # _simple_sql checked it
        _run_simple(self.connection, sql)

    def _simple_sql(
        self, construct: str | Executable, execution_options: Mapping[str, Any] | None
    ) -> str | None:
        from sqlalchemy.schema import ExecutableDDLElement
        from sqlalchemy.sql.elements import TextClause

        conn = self.connection
        if conn is None or execution_options or conn.engine.echo:
            return None
        translate = conn._execution_options.get("schema_translate_map")
        if conn.dispatch.before_cursor_execute or conn.dispatch.before_execute:
            return None
        driver = conn.connection.dbapi_connection
        if not all(
            hasattr(driver, a)
            for a in ("_connection", "_start_transaction", "_execute_mutex", "_transaction")
        ):
            return None  # not asyncpg (psycopg, or another SQLAlchemy version)
        statement = text(construct) if isinstance(construct, str) else construct
        if isinstance(statement, TextClause):
            if statement._bindparams:
                return None
        elif not isinstance(statement, ExecutableDDLElement):
            return None
        if translate:
            compiled = statement.compile(
                dialect=self.dialect, schema_translate_map=translate, render_schema_translate=True
            )
        else:
            compiled = statement.compile(dialect=self.dialect)
        return str(compiled).strip()

    # -- enum types follow the tables that use them ---------------------------------------

    def _enums(self, columns: Any) -> list[ENUM]:
        from sqlalchemy.dialects.postgresql import ENUM

        found: dict[tuple[str | None, str], ENUM] = {}
        for column in columns:
            type_ = column.type
            if not isinstance(type_, Enum) or not type_.native_enum or type_.name is None:
                continue
            impl = type_.dialect_impl(self.dialect)
            if isinstance(impl, ENUM) and impl.create_type:
                found.setdefault((impl.schema, impl.name or ""), impl)
        return list(found.values())

    def _create_enums(self, columns: Any) -> None:
        for enum in self._enums(columns):
            if self.connection is None:
                from sqlalchemy.dialects.postgresql.named_types import CreateEnumType

                key = (enum.schema, enum.name or "")
                if key not in self._written_enums:
                    self._written_enums.add(key)
                    self._exec(CreateEnumType(enum))
            else:
                enum.create(self.connection, checkfirst=True)

    def note_type(self, schema: str | None, name: str, *, exists: bool) -> None:
        """Offline: SQL text of the script created (``exists``) or dropped a type."""
        if exists:
            self._written_enums.add((schema, name))
        else:
            self._written_enums.discard((schema, name))

    def before_create_table(self, table: Table) -> None:
        self._create_enums(table.columns)

    def before_add_column(self, table: Table, column: Column[Any]) -> None:
        self._create_enums([column])

    def after_drop_table(self, table: Table) -> None:
        for enum in self._enums(table.columns):
            if self.connection is not None:
                params = {"schema": enum.schema, "name": enum.name}
                if self.connection.execute(_TYPE_IN_USE, params).first() is not None:
                    continue  # another table still uses the type
                enum.drop(self.connection, checkfirst=True)
            else:
                from sqlalchemy.dialects.postgresql.named_types import DropEnumType

                self._written_enums.discard((enum.schema, enum.name or ""))
                self._exec(DropEnumType(enum))

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
        self._exec(
            AddEnumValue(
                enum_name,
                value,
                schema=schema,
                before=before,
                after=after,
                if_not_exists=if_not_exists,
            )
        )

    # -- indexes that cannot run in a transaction -----------------------------------------

    def create_index(self, index: Index, *, if_not_exists: bool = False) -> None:
        if index.dialect_options["postgresql"]["concurrently"]:
            self.require_autocommit("CREATE INDEX CONCURRENTLY")
        super().create_index(index, if_not_exists=if_not_exists)

    def drop_index(self, index: Index, *, if_exists: bool = False) -> None:
        if index.dialect_options["postgresql"]["concurrently"]:
            self.require_autocommit("DROP INDEX CONCURRENTLY")
        super().drop_index(index, if_exists=if_exists)


def _run_simple(conn: Connection, sql: str) -> None:
    """Send ``sql`` as one simple query on the connection's asyncpg driver."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.util import await_

    driver: Any = conn.connection.dbapi_connection

    async def run() -> None:
        async with driver._execute_mutex:
            if driver._transaction is None:
                # Begins only when not in autocommit mode, as SQLAlchemy itself would.
                await driver._start_transaction()
            await driver._connection.execute(sql)

    try:
        await_(run())
    except Exception as exc:
        try:
            driver._handle_exception(exc)  # raises the driver's DB-API error
        except Exception as dbapi_error:
            raise DBAPIError.instance(
                sql, None, dbapi_error, conn.dialect.loaded_dbapi.Error
            ) from exc
        raise
