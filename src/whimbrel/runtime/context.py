"""``MigrationContext``: runs planned steps on an ``AsyncConnection``.

Scripts are plain synchronous functions; each step runs inside
``AsyncConnection.run_sync`` with an :class:`~whimbrel.operations.Operations` bound
for it. Transactions follow the dialect:

* PostgreSQL and SQLite have transactional DDL: the whole run is one transaction
  (or one per step with ``transaction_per_migration``), and the version and history
  rows are written in it, just before it commits.
* MariaDB/MySQL commit DDL implicitly: each step is its own transaction and bumps the
  version in that same step.
* A script with ``transactional = False`` (or an ``op.autocommit_block()``) commits
  what came before and runs in autocommit mode. Such a step has committed part of
  its work, so its version and history rows are committed as soon as it ends and the
  steps after it run in a new transaction: a later failure rolls back only those,
  and the version table never lags behind committed work. A failure inside such a
  step (after the commit) is reported as partly committed, not rolled back.
* On a caller's connection that is already in a transaction, nothing is ever
  committed or rolled back: the caller decides.

SQLite through pysqlite/aiosqlite does not begin a transaction before DDL by itself,
so each transaction here starts with an explicit ``BEGIN IMMEDIATE``; DDL then really
is transactional and a failed run leaves nothing behind.
"""

from __future__ import annotations

import inspect as pyinspect
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from whimbrel.ddl.impl import impl_for
from whimbrel.errors import CommandError, MigrationStepError
from whimbrel.operations.base import Operations, bind_operations
from whimbrel.results import StepEvent, StepResult
from whimbrel.runtime.integrity import script_checksum
from whimbrel.runtime.version_table import HistoryRecord, VersionTables, now

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection

    from whimbrel.config import Config
    from whimbrel.script.directory import Script, ScriptDirectory
    from whimbrel.script.graph import Plan, Step

__all__ = ("MigrationContext", "StepListener")

StepListener = Callable[[StepEvent], Awaitable[None] | None]


class MigrationContext:
    """Runs migrations for one configuration on one ``AsyncConnection``.

    Args:
        connection: the connection to run on.
        config: the project configuration (version table names, options).
        shared: the caller owns the transaction; never commit or roll back.
    """

    def __init__(self, connection: AsyncConnection, config: Config, *, shared: bool) -> None:
        self._conn = connection
        self._config = config
        self.shared = shared
        self.tables = VersionTables(
            config.version_table,
            config.history_table,
            config.version_table_schema,
            dialect=connection.dialect.name,
        )
        self.transactional_ddl = impl_for(connection.dialect).transactional_ddl
        self._sync: Connection | None = None
        self._heads: tuple[str, ...] = ()
        self._flushed_heads: tuple[str, ...] = ()
        self._pending: list[HistoryRecord] = []
        self._tables_ready = False
        self._version_missing = False
        # The running step has committed part of its work (an autocommit_block).
        self._step_committed = False

    # -- what operations see (MigrationContextLike) ------------------------------------

    @property
    def config(self) -> Config:
        return self._config

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    @property
    def async_connection(self) -> AsyncConnection:
        return self._conn

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """Inside a step: commit, run the block in autocommit mode, begin again.

        Raises:
            CommandError: the run is inside a caller's transaction.
        """
        conn = self._sync
        if conn is None:
            raise CommandError("autocommit_block() can only be used while a step runs")
        if self.shared:
            raise CommandError(
                "autocommit_block() needs to commit, but this run is inside the caller's "
                "transaction; run this command on its own connection"
            )
        self._flush_sync(conn)
        self._step_committed = True
        conn.commit()
        default = conn.default_isolation_level
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            self._session_timeouts(conn, True)
            yield
        finally:
            self._session_timeouts(conn, False)
            if conn.in_transaction():
                conn.commit()
            conn.execution_options(isolation_level=default or "READ COMMITTED")
            conn.begin()
            self._sqlite_begin(conn)

    # -- transactions ------------------------------------------------------------------

    async def begin(self) -> None:
        """Begin a transaction of our own (or make a caller's SQLite one real)."""
        if not self.shared and not self._conn.in_transaction():
            await self._conn.begin()
        await self._conn.run_sync(self._sqlite_begin)

    def _sqlite_begin(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            self._postgresql_timeouts(conn)
            return
        if conn.dialect.name != "sqlite":
            return
        driver = conn.connection.driver_connection
        if driver is not None and not getattr(driver, "in_transaction", True):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if not self.shared else "BEGIN")

    def _postgresql_timeouts(self, conn: Connection) -> None:
        # SET LOCAL: the settings end with the transaction, so a pooled connection
        # goes back to the application as it came.
        for name in ("statement_timeout", "lock_timeout"):
            seconds = getattr(self._config, name)
            if seconds is not None:
                conn.exec_driver_sql(f"SET LOCAL {name} = {int(seconds * 1000)}")

    def _session_timeouts(self, conn: Connection, on: bool) -> None:
        # Outside a transaction SET LOCAL does nothing: set the session's, then reset.
        if conn.dialect.name != "postgresql":
            return
        for name in ("statement_timeout", "lock_timeout"):
            seconds = getattr(self._config, name)
            if seconds is None:
                continue
            if on:
                conn.exec_driver_sql(f"SET {name} = {int(seconds * 1000)}")
            else:
                conn.exec_driver_sql(f"RESET {name}")

    async def commit(self) -> None:
        """Write pending version rows and commit (no-op on a caller's transaction)."""
        await self.flush()
        if not self.shared and self._conn.in_transaction():
            await self._conn.commit()

    async def rollback(self) -> None:
        """Roll back our transaction and forget what was pending."""
        self._pending.clear()
        self._heads = self._flushed_heads
        if not self.shared and self._conn.in_transaction():
            await self._conn.rollback()

    async def flush(self) -> None:
        """Write pending version and history rows in the current transaction."""
        if self._pending or self._heads != self._flushed_heads:
            await self._conn.run_sync(self._flush_sync)

    def _flush_sync(self, conn: Connection) -> None:
        if not self._pending and self._heads == self._flushed_heads:
            return
        self._ensure_tables(conn)
        self.tables.write_heads(conn, self._flushed_heads, self._heads)
        self.tables.record(conn, self._pending)
        self._flushed_heads = self._heads
        self._pending.clear()

    def _ensure_tables(self, conn: Connection) -> None:
        if not self._tables_ready:
            missing = (self.tables.version.name,) if self._version_missing else ()
            self.tables.ensure(conn, known_missing=missing)
            self._tables_ready = True
            self._version_missing = False

    # -- state -------------------------------------------------------------------------

    async def read_heads(self) -> tuple[str, ...]:
        """The head rows in the version table (creating nothing)."""
        heads = await self._conn.run_sync(self._read_sync)
        self._heads = self._flushed_heads = heads
        return heads

    def _read_sync(self, conn: Connection) -> tuple[str, ...]:
        if not self.tables.exists(conn):
            # Seen under the lock: the first flush creates it without asking again.
            self._version_missing = True
            return ()
        self._version_missing = False
        self._tables_ready = self._has_history(conn)
        return self.tables.read_existing(conn)

    def _has_history(self, conn: Connection) -> bool:
        from sqlalchemy import inspect

        return inspect(conn).has_table(self.tables.history.name, schema=self.tables.schema)

    async def ensure_tables(self) -> bool:
        """Create the version and history tables if missing; return whether created."""
        created: bool = await self._conn.run_sync(self.tables.ensure)
        self._tables_ready = True
        return created

    def set_heads(self, heads: Sequence[str], record: HistoryRecord | None = None) -> None:
        """Record new head rows (written at the next flush)."""
        self._heads = tuple(heads)
        if record is not None:
            self._pending.append(record)

    @property
    def heads(self) -> tuple[str, ...]:
        """The head rows as they stand in this run (flushed or not)."""
        return self._heads

    # -- running -----------------------------------------------------------------------

    async def run(
        self,
        plan: Plan,
        scripts: ScriptDirectory,
        *,
        listener: StepListener | None = None,
    ) -> list[StepResult]:
        """Run the steps of a plan; the caller has begun the transaction.

        Raises:
            MigrationStepError: a step raised; our transaction was rolled back (or, on
                a database without transactional DDL, the steps before it are kept).
            ScriptError: a revision file cannot be imported.
        """
        per_step = not self.transactional_ddl or self._config.transaction_per_migration
        results: list[StepResult] = []
        total = len(plan.steps)
        for index, step in enumerate(plan.steps, start=1):
            script = scripts.get_script(step.revision)
            await _notify(
                listener,
                StepEvent(step.revision, step.direction, "start", script.message, index, total),
            )
            result = await self._run_step(step, script, results, own_txn=not script.transactional)
            results.append(result)
            if per_step and not self.shared:
                await self.commit()
                if index < total:
                    await self.begin()
            await _notify(
                listener,
                StepEvent(
                    step.revision,
                    step.direction,
                    "end",
                    script.message,
                    index,
                    total,
                    result.duration_s,
                ),
            )
        return results

    async def _run_step(
        self, step: Step, script: Script, done: Sequence[StepResult], *, own_txn: bool
    ) -> StepResult:
        with self._config.extended_sys_path():
            module = script.load_module()
        name = "upgrade" if step.direction == "up" else "downgrade"
        fn = getattr(module, name, None)
        if fn is None:
            raise CommandError(
                f"revision {script.id} ({script.path}) has no {name}() function; "
                f"add one to {'downgrade past' if name == 'downgrade' else 'apply'} it"
            )
        takes_op = (
            script.upgrade_takes_op if name == "upgrade" else bool(script.downgrade_takes_op)
        )
        checksum = script_checksum(script.path)
        if own_txn and self.shared:
            raise CommandError(
                f"revision {script.id} is marked transactional = False, but this run is "
                "inside the caller's transaction; run it on its own connection"
            )
        self._step_committed = False
        started = time.perf_counter()
        try:
            if own_txn:
                await self.commit()
                await self._run_autocommit(fn, takes_op)
            else:
                await self._invoke(fn, takes_op)
        except Exception as exc:
            raise await self._failure(
                step, script, done, exc, autocommit=own_txn, partial=self._step_committed
            ) from exc
        duration = time.perf_counter() - started
        self.set_heads(
            step.heads_after,
            HistoryRecord(
                revision=step.revision,
                direction=step.direction,
                heads_before=step.heads_before,
                heads_after=step.heads_after,
                applied_at=now(),
                duration_ms=duration * 1000,
                checksum=checksum,
            ),
        )
        if own_txn or self._step_committed:
            # Record the step at once: some of its work is already committed, and a
            # later failure must not roll back its version row while that work stays.
            # The steps after it run in a new transaction.
            if not self._conn.in_transaction():
                await self.begin()
            await self.commit()
            await self.begin()
        return StepResult(
            revision=step.revision,
            direction=step.direction,
            message=script.message,
            duration_s=duration,
            heads_before=step.heads_before,
            heads_after=step.heads_after,
        )

    async def _run_autocommit(self, fn: Callable[..., Any], takes_op: bool) -> None:
        default = self._conn.default_isolation_level
        await self._conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            await self._conn.run_sync(self._session_timeouts, True)
            await self._invoke(fn, takes_op)
        finally:
            await self._conn.run_sync(self._session_timeouts, False)
            # Even in autocommit mode SQLAlchemy autobegins a (no-op) transaction.
            if self._conn.in_transaction():
                await self._conn.commit()
            await self._conn.execution_options(isolation_level=default or "READ COMMITTED")

    async def _invoke(self, fn: Callable[..., Any], takes_op: bool) -> None:
        if not pyinspect.iscoroutinefunction(fn):
            await self._conn.run_sync(self._call, fn, takes_op)
            return
        # An async script: awaited on this task, on the step's AsyncConnection.
        from whimbrel.operations.asyncops import AsyncOperations

        aops = AsyncOperations(self, self._conn, self._operations)
        if takes_op:
            await fn(aops)
        else:
            await fn()
        await self._conn.run_sync(self._close_cursors)

    def _operations(self, conn: Connection) -> Operations:
        return Operations(self, conn, impl_for(conn.dialect)(conn, conn.dialect))

    def _call(self, conn: Connection, fn: Callable[..., Any], takes_op: bool) -> None:
        ops = self._operations(conn)
        self._sync = conn
        try:
            with bind_operations(ops):
                if takes_op:
                    fn(ops)
                else:
                    fn()
        finally:
            self._sync = None
        if ops.bind_used or getattr(ops.impl, "used_extended", False):
            self._close_cursors(conn)

    def _close_cursors(self, conn: Connection) -> None:
        # asyncpg keeps a server-side cursor (ORM yield_per, stream_results) open until
        # the transaction ends, and an open cursor blocks a later ALTER TABLE of its
        # table in the same run. Our own run only: a caller's cursors are the caller's.
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "asyncpg":
            if not self.shared and conn.in_transaction():
                conn.exec_driver_sql("CLOSE ALL")

    async def _failure(
        self,
        step: Step,
        script: Script,
        done: Sequence[StepResult],
        exc: Exception,
        *,
        autocommit: bool,
        partial: bool = False,
    ) -> MigrationStepError:
        from sqlalchemy.exc import StatementError

        statement = exc.statement if isinstance(exc, StatementError) else None
        orig = getattr(exc, "orig", None) or exc
        reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        verb = "upgrade" if step.direction == "up" else "downgrade"
        what = f"{verb} of {step.revision} ({script.message or script.path.name}) failed: {reason}"
        if statement:
            what += f"; statement: {_shorten(statement)}"
        if "being used by active queries in this session" in reason:
            what += (
                "; an earlier revision of this run left a server-side cursor open (ORM "
                "yield_per or stream_results), which asyncpg keeps until the transaction "
                "ends: set transaction_per_migration = true, or use postgresql+psycopg://"
            )
        if "statement timeout" in reason or "lock timeout" in reason:
            what += (
                "; the table was busy or the statement slow: retry when traffic is lower, "
                "or raise statement_timeout/lock_timeout in the configuration"
            )
        completed = [r.revision for r in done if r.revision]
        if self.shared:
            what += "; the caller's transaction is left for the caller to roll back"
            return MigrationStepError(
                what,
                revision=step.revision,
                direction=step.direction,
                statement=statement,
                completed=completed,
                heads=self._flushed_heads,
            )
        if self.transactional_ddl and partial and not autocommit:
            # An autocommit_block committed part of this step: not a clean rollback.
            await self.rollback()
            kept = self._flushed_heads
            rev = step.revision
            what += (
                f"; {rev} is partly committed: what it ran before and inside "
                "op.autocommit_block() stays, the rest of it is rolled back, and the "
                f"version table is at {', '.join(kept) or 'base'}; undo {rev}'s "
                f"committed part by hand (or make {rev} skip what exists) before "
                f"running {verb} again"
            )
            await self._record_failure(step, script, reason)
        elif self.transactional_ddl and not autocommit:
            await self.rollback()
            kept = self._flushed_heads
            what += f"; rolled back, the database is at {', '.join(kept) or 'base'}"
        else:
            await self.rollback()
            kept = self._flushed_heads
            applied = ", ".join(completed) or "none"
            why = (
                "it ran outside a transaction"
                if autocommit
                else (f"{self.dialect.name} cannot roll back DDL")
            )
            what += (
                f"; {why}: steps completed before it: "
                f"{applied}; version table at {', '.join(kept) or 'base'}; "
                "statements of the failed step that ran before the error stay applied"
            )
            await self._record_failure(step, script, reason)
        return MigrationStepError(
            what,
            revision=step.revision,
            direction=step.direction,
            statement=statement,
            completed=completed,
            heads=kept,
        )

    async def _record_failure(self, step: Step, script: Script, reason: str) -> None:
        record = HistoryRecord(
            revision=step.revision,
            direction=step.direction,
            heads_before=step.heads_before,
            heads_after=self._flushed_heads,
            applied_at=now(),
            duration_ms=0.0,
            checksum=script_checksum(script.path),
            status="failed",
            error=reason[:2000],
        )

        def write(conn: Connection) -> None:
            self._ensure_tables(conn)
            self.tables.record(conn, [record])

        await self._conn.begin()
        await self._conn.run_sync(write)
        await self._conn.commit()


async def _notify(listener: StepListener | None, event: StepEvent) -> None:
    if listener is None:
        return
    outcome = listener(event)
    if outcome is not None:
        await outcome


def _shorten(statement: str, limit: int = 200) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
