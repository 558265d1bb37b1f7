"""The default DDL implementation; dialects refine it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.sql.base import Executable

__all__ = ("DefaultImpl", "impl_for")


class DefaultImpl:
    """Turns operations into statements on one connection."""

    transactional_ddl = False

    def __init__(self, connection: Connection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def execute(
        self, construct: str | Executable, *, execution_options: dict[str, Any] | None = None
    ) -> None:
        from sqlalchemy import text

        statement = text(construct) if isinstance(construct, str) else construct
        conn = self.connection
        if execution_options:
            conn = conn.execution_options(**execution_options)
        conn.execute(statement)


class SQLiteImpl(DefaultImpl):
    transactional_ddl = True


class PostgresqlImpl(DefaultImpl):
    transactional_ddl = True


class MySQLImpl(DefaultImpl):
    transactional_ddl = False


_IMPLS: dict[str, type[DefaultImpl]] = {
    "sqlite": SQLiteImpl,
    "postgresql": PostgresqlImpl,
    "mysql": MySQLImpl,
    "mariadb": MySQLImpl,
}


def impl_for(dialect: Dialect) -> type[DefaultImpl]:
    """The implementation class for a dialect (``DefaultImpl`` when unknown)."""
    return _IMPLS.get(dialect.name, DefaultImpl)
