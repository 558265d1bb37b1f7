"""``Operations``: every ``op.*`` a revision script can call.

One ``Operations`` object is bound for each step the runtime runs. Scripts receive it
as their ``op`` argument, or reach it through ``from whimbrel import op``, a proxy that
resolves through a :class:`~contextvars.ContextVar` set for the step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from whimbrel.errors import CommandError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

    from whimbrel.config import Config
    from whimbrel.ddl.impl import DefaultImpl

__all__ = ("MigrationContextLike", "Operations", "bind_operations", "current_operations")

T = TypeVar("T")

_current: ContextVar[Operations | None] = ContextVar("whimbrel_operations", default=None)


class MigrationContextLike(Protocol):
    """What operations need from the runtime's migration context."""

    @property
    def config(self) -> Config: ...

    @property
    def dialect(self) -> Dialect: ...

    @property
    def async_connection(self) -> AsyncConnection: ...

    def autocommit_block(self) -> Any:
        """A sync context manager: commit, run the block in autocommit, begin again."""
        ...


def current_operations() -> Operations:
    """The operations bound to the running step.

    Raises:
        CommandError: no migration step is running in this context.
    """
    ops = _current.get()
    if ops is None:
        raise CommandError(
            "'op' is only available while a migration step runs; call it from a "
            "revision script's upgrade() or downgrade()"
        )
    return ops


@contextmanager
def bind_operations(ops: Operations) -> Iterator[Operations]:
    """Bind ``ops`` as ``whimbrel.op`` for the duration of the block."""
    token = _current.set(ops)
    try:
        yield ops
    finally:
        _current.reset(token)


class Operations:
    """The operations of one migration step.

    Args:
        context: the running migration context.
        connection: the step's synchronous connection (inside ``run_sync``).
        impl: the dialect implementation that turns operations into SQL.
    """

    def __init__(
        self, context: MigrationContextLike, connection: Connection, impl: DefaultImpl
    ) -> None:
        self._context = context
        self._connection = connection
        self.impl = impl

    def get_bind(self) -> Connection:
        """The step's SQLAlchemy ``Connection`` (synchronous, inside the transaction)."""
        return self._connection

    def get_context(self) -> MigrationContextLike:
        """The running migration context."""
        return self._context

    def execute(
        self, sqltext: str | Executable, *, execution_options: dict[str, Any] | None = None
    ) -> None:
        """Execute SQL text or a SQLAlchemy construct in the step's transaction.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.impl.execute(sqltext, execution_options=execution_options)

    def run_async(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Await ``fn(async_connection)`` on the step's connection, in its transaction.

        Raises:
            Exception: whatever ``fn`` raises.
        """
        from sqlalchemy.util import await_

        return await_(fn(self._context.async_connection))

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """Run the block outside a transaction (e.g. ``CREATE INDEX CONCURRENTLY``).

        Commits the work so far, runs the block in autocommit mode, then begins a
        new transaction for the rest of the step.

        Raises:
            CommandError: the run shares a caller's transaction, which Whimbrel may
                not commit.
        """
        with self._context.autocommit_block():
            yield
