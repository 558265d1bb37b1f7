"""``Operations``: every ``op.*`` a revision script can call.

One ``Operations`` object is bound for each step the runtime runs. Scripts receive it
as their ``op`` argument, or reach it through ``from whimbrel import op``, a proxy that
resolves through a :class:`~contextvars.ContextVar` set for the step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from whimbrel.errors import CommandError, OperationError
from whimbrel.operations.alembic_proxy import alembic_proxies
from whimbrel.operations.constraint_api import ConstraintOperations
from whimbrel.operations.misc_ops import BatchOptions, BulkInsertOp, ExecuteSQLOp, Recreate
from whimbrel.operations.opbase import MigrateOperation, frozen_kwargs
from whimbrel.operations.registry import OperationRegistry
from whimbrel.operations.table_api import TableOperations

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.elements import BindParameter, conv
    from sqlalchemy.sql.schema import SchemaItem
    from sqlalchemy.sql.selectable import TableClause
    from sqlalchemy.types import TypeEngine

    from whimbrel.config import Config
    from whimbrel.ddl.impl import DefaultImpl
    from whimbrel.operations.batch import BatchOperations

__all__ = (
    "MigrationContextLike",
    "Operations",
    "bind_operations",
    "bound_operations",
    "current_operations",
)

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


def bound_operations() -> Operations | None:
    """The operations bound to the running step, or ``None`` outside a step."""
    return _current.get()


@contextmanager
def bind_operations(ops: Operations) -> Iterator[Operations]:
    """Bind ``ops`` as ``whimbrel.op`` for the duration of the block.

    A loaded Alembic's ``alembic.op`` and ``alembic.context`` answer with ``ops`` too
    meanwhile (:func:`~whimbrel.operations.alembic_proxy.alembic_proxies`).
    """
    token = _current.set(ops)
    try:
        with alembic_proxies():
            yield ops
    finally:
        _current.reset(token)


class Operations(TableOperations, ConstraintOperations, OperationRegistry):
    """The operations of one migration step: every ``op.*`` a script can call.

    Each call builds an operation object (:mod:`whimbrel.operations.ops`) and hands
    it to :meth:`invoke`, which finds its implementation and runs it on the step's
    connection through the dialect implementation.

    Args:
        context: the running migration context.
        connection: the step's synchronous connection (inside ``run_sync``); ``None``
            when SQL is only generated (the implementation captures it).
        impl: the dialect implementation that turns operations into SQL.
    """

    def __init__(
        self, context: MigrationContextLike, connection: Connection | None, impl: DefaultImpl
    ) -> None:
        self._context = context
        self._connection = connection
        self.impl = impl
        self.bind_used = False
        """Whether the script took the connection itself (get_bind, run_async)."""

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # User-defined operations (register_operation); invisible to type
            # checkers on purpose, so a typo in a built-in name stays an error.
            found = type(self).custom_operation(name)
            if found is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            op_cls, source = found
            method = getattr(op_cls, source)

            def call(*args: Any, **kw: Any) -> Any:
                return method(self, *args, **kw)

            return call

    # -- the step --------------------------------------------------------------------------

    def get_bind(self) -> Connection:
        """The step's SQLAlchemy ``Connection`` (synchronous, inside the transaction).

        Raises:
            CommandError: there is no connection (SQL is only being generated).
        """
        if self._connection is None:
            raise CommandError("there is no database connection while SQL is only generated")
        # The script may now run anything, server-side cursors included.
        self.bind_used = True
        return self._connection

    def get_context(self) -> MigrationContextLike:
        """The running migration context."""
        return self._context

    def invoke(self, operation: MigrateOperation) -> Any:
        """Carry out an operation object; returns what its implementation returns.

        Raises:
            OperationError: no implementation is registered for the operation's class.
        """
        fn = type(self).find_implementation(type(operation))
        if fn is None:
            raise OperationError(
                f"no implementation for {type(operation).__name__}; register one with "
                "@Operations.implementation_for"
            )
        return fn(self, operation)

    # -- SQL and data ----------------------------------------------------------------------

    def execute(
        self, sqltext: str | Executable, *, execution_options: Mapping[str, Any] | None = None
    ) -> None:
        """Execute SQL text or a SQLAlchemy construct in the step's transaction.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects the statement.
        """
        self.invoke(ExecuteSQLOp(sqltext, execution_options=frozen_kwargs(execution_options)))

    def bulk_insert(
        self,
        table: Table | TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        """Insert ``rows`` (dictionaries keyed by column name) into ``table``.

        ``table`` is a ``Table`` (``op.create_table`` returns one) or a lightweight
        ``sa.table("t", sa.column("id"), ...)``. With ``multiinsert`` the rows go in
        one ``executemany``; values built with :meth:`inline_literal` go row by row.

        Raises:
            sqlalchemy.exc.DBAPIError: the database rejects a row.
        """
        self.invoke(BulkInsertOp(table, tuple(rows), multiinsert=multiinsert))

    @staticmethod
    def inline_literal(value: Any, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
        """A value rendered inline in the SQL rather than bound (for offline SQL)."""
        from sqlalchemy import literal

        return literal(value, type_, literal_execute=True)

    @staticmethod
    def f(name: str) -> conv:
        """A constraint or index name taken as final, bypassing the naming convention."""
        from sqlalchemy.sql.elements import conv

        return conv(name)

    # -- async and transactions ------------------------------------------------------------

    def run_async(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Await ``fn(async_connection)`` on the step's connection, in its transaction.

        Raises:
            Exception: whatever ``fn`` raises.
        """
        from sqlalchemy.util import await_

        self.bind_used = True
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

    # -- batch mode ------------------------------------------------------------------------

    @contextmanager
    def batch_alter_table(
        self,
        table_name: str,
        *,
        schema: str | None = None,
        recreate: Recreate = "auto",
        partial_reordering: Sequence[Sequence[str]] | None = None,
        copy_from: Table | None = None,
        table_args: Sequence[SchemaItem] = (),
        table_kwargs: Mapping[str, Any] | None = None,
        reflect_args: Sequence[SchemaItem] = (),
        reflect_kwargs: Mapping[str, Any] | None = None,
        naming_convention: Mapping[str, str] | None = None,
    ) -> Iterator[BatchOperations]:
        """Group changes to one table; on SQLite, rebuild it by move-and-copy if needed.

        The block collects ``batch_op.*`` calls and applies them when it ends. On
        SQLite, changes ``ALTER TABLE`` cannot make (types, nullability, defaults,
        constraints, column order) rebuild the table: a new table is created, rows
        are copied, the old table is dropped and the new one renamed, keeping
        indexes, foreign keys, unique and check constraints. On PostgreSQL and
        MySQL the changes are plain ``ALTER`` statements. See ``docs/batch.md``.

        Args:
            table_name: the table to change.
            schema: its schema.
            recreate: ``"auto"`` (rebuild only when needed), ``"always"`` or
                ``"never"`` (SQLite).
            partial_reordering: column orders to impose, each a sequence of names.
            copy_from: the table as it is, instead of reflecting it.
            table_args: extra constraints or indexes for the rebuilt table.
            table_kwargs: extra keyword arguments for the rebuilt ``Table``.
            reflect_args: ``Column`` objects overriding reflected ones.
            reflect_kwargs: keyword arguments for the reflecting ``Table``.
            naming_convention: names for constraints the database left unnamed.

        Raises:
            BatchError: the table cannot be rebuilt as asked.
            UnsupportedOperationError: ``recreate="never"`` (or a database other than
                SQLite with ``"always"``) and an operation that needs a rebuild.
        """
        from whimbrel.operations.batch import BatchOperations
        from whimbrel.operations.misc_ops import BatchAlterTableOp

        options = BatchOptions(
            recreate=recreate,
            partial_reordering=tuple(tuple(order) for order in partial_reordering or ()),
            copy_from=copy_from,
            table_args=tuple(table_args),
            table_kwargs=frozen_kwargs(table_kwargs),
            reflect_args=tuple(reflect_args),
            reflect_kwargs=frozen_kwargs(reflect_kwargs),
            naming_convention=naming_convention,
        )
        batch = BatchOperations(self, table_name, schema=schema)
        yield batch
        self.invoke(
            BatchAlterTableOp(table_name, tuple(batch.collected), schema=schema, options=options)
        )
