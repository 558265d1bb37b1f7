"""``AsyncOperations``: the ``op`` of a revision script written ``async def upgrade(op)``.

Async scripts run on the step's ``AsyncConnection``, inside the step's transaction,
and mix freely with plain scripts in one history. They suit data migrations: read and
write rows with ``await``, in batches, next to a schema change made with
``await op.run_sync(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, CursorResult, Row
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql import ColumnElement, Select
    from sqlalchemy.sql.base import Executable

    from whimbrel.operations.base import MigrationContextLike, Operations

__all__ = ("AsyncOperations",)

T = TypeVar("T")


class AsyncOperations:
    """The operations of one async step.

    Args:
        context: the running migration context.
        connection: the step's connection, inside its transaction.
        make_operations: builds the synchronous :class:`Operations` for a sync
            connection (used by :meth:`run_sync`).
    """

    def __init__(
        self,
        context: MigrationContextLike,
        connection: AsyncConnection,
        make_operations: Callable[[Connection], Operations],
    ) -> None:
        self._context = context
        self.connection = connection
        self._make = make_operations

    def get_context(self) -> MigrationContextLike:
        """The running migration context."""
        return self._context

    async def execute(
        self, statement: str | Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        """Execute SQL text or a construct in the step's transaction.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        from sqlalchemy import text

        stmt = text(statement) if isinstance(statement, str) else statement
        return await self.connection.execute(stmt, parameters)

    async def run_sync(self, fn: Callable[[Operations], T]) -> T:
        """Run ``fn(op)`` with the synchronous operations (DDL: ``add_column``...).

        Raises:
            Exception: whatever ``fn`` raises.
        """
        return await self.connection.run_sync(lambda conn: fn(self._make(conn)))

    async def batches(
        self, query: Select[Any], *, size: int = 10_000
    ) -> AsyncIterator[Sequence[Row[Any]]]:
        """The rows of ``query`` in lists of ``size``; you may write between lists.

        PostgreSQL and SQLite stream the rows through a server-side cursor, closed
        when the iteration ends so that a later step may alter the same table.
        MySQL/MariaDB cannot write on a connection that is still streaming, so there
        the rows are read in full first, then handed out ``size`` at a time.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the query.
        """
        if self.connection.dialect.name in ("mysql", "mariadb"):
            rows = (await self.connection.execute(query)).all()
            for start in range(0, len(rows), size):
                yield rows[start : start + size]
            return
        result = await self.connection.stream(query)
        try:
            async for chunk in result.partitions(size):
                yield chunk
        finally:
            await result.close()
            if self.connection.dialect.name == "postgresql":
                # asyncpg keeps a cursor's portal until the transaction ends, and an
                # open portal blocks ALTER TABLE on its table in this session.
                await self.connection.exec_driver_sql("CLOSE ALL")

    async def update_in_batches(
        self,
        table: Table,
        values: Mapping[str, Any],
        *,
        where: ColumnElement[bool] | None = None,
        batch_size: int = 10_000,
    ) -> int:
        """``UPDATE table SET values [WHERE where]``, ``batch_size`` rows at a time.

        Walks the primary key in order (keyset pagination), so each statement touches
        one bounded slice of a large table; all of it inside the step's transaction.
        Returns the number of rows updated.

        Raises:
            ValueError: the table has no single-column primary key.
            sqlalchemy.exc.DBAPIError: the database rejects a statement.
        """
        from sqlalchemy import select, update

        keys = list(table.primary_key.columns)
        if len(keys) != 1:
            raise ValueError(
                f"update_in_batches needs a single-column primary key on {table.name!r}"
            )
        key = keys[0]
        done = 0
        last: Any = None
        while True:
            page = select(key).order_by(key).limit(batch_size)
            if where is not None:
                page = page.where(where)
            if last is not None:
                page = page.where(key > last)
            ids = (await self.connection.execute(page)).scalars().all()
            if not ids:
                return done
            stmt = update(table).where(key.in_(ids)).values(**values)
            await self.connection.execute(stmt)
            done += len(ids)
            last = ids[-1]
