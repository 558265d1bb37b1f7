"""Offline SQL: a plan written out as one SQL script, with no database connection.

The revision scripts run as they would online, against the same operation objects,
but the dialect implementation has no connection (``DefaultImpl(None, dialect)``), so
every operation compiles into :attr:`~whimbrel.ddl.impl.DefaultImpl.captured`; this
module orders those statements into a script with the transactions, version rows and
history rows the online run would have:

* PostgreSQL and SQLite: one ``BEGIN``/``COMMIT`` around the run (one per revision with
  ``transaction_per_migration``); MariaDB/MySQL: one per revision, as online.
* A revision marked ``transactional = False``, and an ``op.autocommit_block()``, run
  between a ``COMMIT`` and the next ``BEGIN``; the version row of a revision that used
  an ``autocommit_block()`` is committed right after it, as online.
* PostgreSQL enum types are created once: a ``create_table``/``add_column`` skips the
  types the script created already, by an earlier table or by ``CREATE TYPE`` text
  given to ``op.execute`` (see :meth:`ConnectionlessContext.executed
  <whimbrel.operations.connectionless.ConnectionlessContext.executed>`).
* After each revision, the version table ``UPDATE`` (or ``INSERT``/``DELETE``) and its
  history row, with literal values.

What needs a live database cannot be written: ``op.get_bind()`` used for more than
its ``dialect``, ``op.run_async()``, reflection (a SQLite rebuild without
``copy_from=``...), and ``async def upgrade(op)`` revisions. At that place the script
gets a comment starting with :data:`LIVE_CONNECTION_MARK`, the result a note, and the
caller an :class:`~whimbrel.errors.OfflineSQLWarning`; generating goes on.
"""

from __future__ import annotations

import inspect as pyinspect
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import anyio.to_thread

from whimbrel.ddl.impl import impl_for
from whimbrel.errors import CommandError, ConnectionRequiredError, OfflineSQLError
from whimbrel.operations.base import Operations, bind_operations
from whimbrel.operations.connectionless import ConnectionlessContext
from whimbrel.operations.misc_ops import ExecuteSQLOp
from whimbrel.runtime.integrity import script_checksum
from whimbrel.runtime.version_table import HistoryRecord, VersionTables, now

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

    from whimbrel.config import Config
    from whimbrel.ddl.impl import DefaultImpl
    from whimbrel.operations.opbase import MigrateOperation
    from whimbrel.script.directory import Script, ScriptDirectory
    from whimbrel.script.graph import Plan, Step

__all__ = (
    "LIVE_CONNECTION_MARK",
    "OfflineContext",
    "OfflineOperations",
    "OfflineScript",
)

LIVE_CONNECTION_MARK = "WHIMBREL: LIVE CONNECTION NEEDED"
"""The first words of the comment written where a step needs a live database."""

_WIDTH = 88


class ScriptWriter:
    """The text of the script: statements ending in ``;``, comments, transactions."""

    def __init__(self, dialect: Dialect, config: Config) -> None:
        self._parts: list[str] = []
        self._config = config
        self._postgresql = dialect.name == "postgresql"
        self.in_transaction = False

    def statement(self, sql: str) -> None:
        text = sql.strip()
        if not text:
            return
        if not text.endswith(";"):
            text += ";"
        self._parts.append(text + "\n\n")

    def comment(self, text: str) -> None:
        lines = textwrap.wrap(text, _WIDTH - 3, break_long_words=False, break_on_hyphens=False)
        self._parts.append("".join(f"-- {line}\n" for line in lines) + "\n")

    def begin(self) -> None:
        if self.in_transaction:
            return
        self.statement("BEGIN")
        self.in_transaction = True
        if self._postgresql:
            # As online: SET LOCAL ends with the transaction.
            for name, millis in self._timeouts():
                self.statement(f"SET LOCAL {name} = {millis}")

    def commit(self) -> None:
        if self.in_transaction:
            self.statement("COMMIT")
            self.in_transaction = False

    def session_timeouts(self, on: bool) -> None:
        """Outside a transaction SET LOCAL does nothing: set the session's, then reset."""
        if not self._postgresql:
            return
        for name, millis in self._timeouts():
            self.statement(f"SET {name} = {millis}" if on else f"RESET {name}")

    def _timeouts(self) -> list[tuple[str, int]]:
        found = []
        for name in ("statement_timeout", "lock_timeout"):
            seconds = getattr(self._config, name)
            if seconds is not None:
                found.append((name, int(seconds * 1000)))
        return found

    def text(self) -> str:
        return "".join(self._parts).rstrip("\n") + "\n"


def _needs_connection(what: str, dialect: Dialect) -> ConnectionRequiredError:
    return ConnectionRequiredError(
        f"{what} needs a live database connection", dialect=dialect.name, operation=what
    )


class OfflineContext(ConnectionlessContext):
    """The migration context of offline SQL: a configuration and a dialect, no connection.

    Args:
        config: the project configuration.
        dialect: the dialect the SQL is written for.
        writer: the script being written.
        impl: the dialect implementation capturing the statements.
    """

    offline = True
    """Whether SQL is only generated (Alembic's ``context.is_offline_mode()``)."""

    def __init__(
        self, config: Config, dialect: Dialect, writer: ScriptWriter, impl: DefaultImpl
    ) -> None:
        super().__init__(config, dialect)
        self._writer = writer
        self._impl = impl
        # Set when the running step commits part of its work in an autocommit_block.
        self.committed_partly = False

    def refuse(self, what: str) -> Exception:
        return _needs_connection(what, self._dialect)

    def drain(self) -> None:
        """Move the statements captured so far into the script."""
        for sql in self._impl.captured:
            self._writer.statement(sql)
        self._impl.captured.clear()

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """``COMMIT``, the block's statements, then ``BEGIN`` again."""
        self.drain()
        self.committed_partly = True
        was_in = self._writer.in_transaction
        self._writer.commit()
        if was_in:
            self._writer.session_timeouts(True)
        try:
            yield
        finally:
            self.drain()
            if was_in:
                self._writer.session_timeouts(False)
                self._writer.begin()


class OfflineOperations(Operations):
    """``Operations`` whose statements are written to the script instead of run."""

    def __init__(self, context: OfflineContext, impl: DefaultImpl) -> None:
        super().__init__(context, None, impl)
        self._offline = context

    def get_bind(self) -> Connection:
        # A stand-in: a script may branch on the dialect without a connection.
        return cast("Connection", self._offline.bind())

    def run_async(self, fn: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
        raise _needs_connection("op.run_async()", self.impl.dialect)

    def invoke(self, operation: MigrateOperation) -> Any:
        result = super().invoke(operation)
        if isinstance(operation, ExecuteSQLOp):
            # A type made by CREATE TYPE text is not made again by a later create_table.
            self._offline.executed(self.impl, operation.sqltext)
        return result


class OfflineScript:
    """Writes one offline SQL script: the version tables, steps, stamps.

    Args:
        config: the project configuration (table names, transactions, timeouts).
        dialect: the dialect to write for.
    """

    def __init__(self, config: Config, dialect: Dialect) -> None:
        self.config = config
        self.dialect = dialect
        self.impl = impl_for(dialect)(None, dialect)
        self.impl.no_guessing = True
        self.writer = ScriptWriter(dialect, config)
        self.context = OfflineContext(config, dialect, self.writer, self.impl)
        self.tables = VersionTables(
            config.version_table,
            config.history_table,
            config.version_table_schema,
            dialect=dialect.name,
        )
        self.notes: list[str] = []

    @property
    def transactional_ddl(self) -> bool:
        return self.impl.transactional_ddl

    def header(self, summary: str) -> None:
        self.writer.comment(f"Whimbrel offline SQL for {self.dialect.name}: {summary}")
        if not self.transactional_ddl:
            who = (
                "MySQL and MariaDB commit"
                if self.dialect.name in ("mysql", "mariadb")
                else f"{self.dialect.name} is taken to commit"
            )
            self.writer.comment(
                f"{who} each DDL statement implicitly: if this script fails, the "
                "revisions before the failure stay applied."
            )

    def execute(self, statement: str | Executable) -> None:
        """Write one statement (compiled with literal values)."""
        self.impl.execute(statement)
        self.context.drain()

    def create_tables(self) -> None:
        """``CREATE TABLE`` of the version and history tables (a script from base)."""
        for statement in self.tables.create_statements():
            self.execute(statement)

    def record(self, before: Sequence[str], after: Sequence[str], record: HistoryRecord) -> None:
        """The version rows from ``before`` to ``after``, and the history row."""
        for statement in self.tables.head_statements(before, after):
            self.execute(statement)
        self.execute(self.tables.offline_record(record))

    def text(self) -> str:
        return self.writer.text()

    # -- steps ---------------------------------------------------------------------------

    async def run(self, plan: Plan, scripts: ScriptDirectory) -> None:
        """Write every step of ``plan``, and leave the last transaction open.

        Raises:
            OfflineSQLError: a step cannot be written (see the message).
            ScriptError: a revision file cannot be imported.
        """
        per_step = not self.transactional_ddl or self.config.transaction_per_migration
        if not plan.steps:
            self.writer.comment("Nothing to run: the target is already reached.")
        for index, step in enumerate(plan.steps, start=1):
            script = scripts.get_script(step.revision)
            if per_step and index > 1:
                self.writer.commit()
            self.writer.comment(_running(step, script))
            self.context.committed_partly = False
            if script.transactional:
                self.writer.begin()
                await self._run_step(step, script)
            else:
                self.writer.commit()
                self.writer.comment(
                    f"{step.revision} is marked transactional = False: it runs outside a "
                    "transaction"
                )
                self.writer.session_timeouts(True)
                await self._run_step(step, script)
                self.writer.session_timeouts(False)
                self.writer.begin()
            self.record(
                step.heads_before,
                step.heads_after,
                HistoryRecord(
                    revision=step.revision,
                    direction=step.direction,
                    heads_before=step.heads_before,
                    heads_after=step.heads_after,
                    applied_at=now(),
                    duration_ms=0.0,
                    checksum=script_checksum(script.path),
                ),
            )
            if self.context.committed_partly and not per_step:
                # As online: part of this step is committed, so its version row is
                # committed with it, and a later step's failure cannot take that back.
                self.writer.commit()

    async def _run_step(self, step: Step, script: Script) -> None:
        module = await anyio.to_thread.run_sync(self._load, script)
        name = "upgrade" if step.direction == "up" else "downgrade"
        fn = getattr(module, name, None)
        if fn is None:
            raise CommandError(
                f"revision {script.id} ({script.path}) has no {name}() function; "
                f"add one to {'downgrade past' if name == 'downgrade' else 'apply'} it"
            )
        if pyinspect.iscoroutinefunction(fn):
            self._left_out(
                step,
                script,
                f"its {name}() is 'async def' and runs only on a live database connection",
                "it is not in this script",
            )
            return
        takes_op = (
            script.upgrade_takes_op if name == "upgrade" else bool(script.downgrade_takes_op)
        )
        try:
            await anyio.to_thread.run_sync(self._call, fn, takes_op)
        except ConnectionRequiredError as exc:
            self.context.drain()
            line = _line_in(exc, script.file)
            where = f" from line {line} of {script.path.name}" if line else ""
            self._left_out(
                step,
                script,
                str(exc),
                f"the rest of its {name}(){where} is not in this script",
            )
            return
        except Exception as exc:
            self.impl.captured.clear()
            raise _failure(step, script, exc) from exc
        self.context.drain()

    def _load(self, script: Script) -> ModuleType:
        with self.config.extended_sys_path():
            return script.load_module()

    def _call(self, fn: Callable[..., Any], takes_op: bool) -> None:
        ops = OfflineOperations(self.context, self.impl)
        with self.config.extended_sys_path(), bind_operations(ops):
            if takes_op:
                fn(ops)
            else:
                fn()

    def _left_out(self, step: Step, script: Script, why: str, what: str) -> None:
        verb = "upgrade" if step.direction == "up" else "downgrade"
        subject = f"{verb} of {step.revision} ({script.message or script.path.name})"
        self.writer.comment(
            f"{LIVE_CONNECTION_MARK}: {subject}: {why}; {what}. Do its work another way "
            "before going on: the version row below records the revision as "
            f"{'applied' if step.direction == 'up' else 'reverted'}."
        )
        self.notes.append(f"{subject}: {why}; {what} (see the {LIVE_CONNECTION_MARK} comment)")


def _running(step: Step, script: Script) -> str:
    if step.direction == "up":
        frm, to = ", ".join(script.down_revisions) or "base", step.revision
        verb = "upgrade"
    else:
        frm, to = step.revision, ", ".join(script.down_revisions) or "base"
        verb = "downgrade"
    message = f" ({script.message})" if script.message else ""
    return f"Running {verb} {frm} -> {to}{message}"


def _line_in(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _failure(step: Step, script: Script, exc: Exception) -> OfflineSQLError:
    from sqlalchemy.exc import CompileError

    verb = "upgrade" if step.direction == "up" else "downgrade"
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    line = _line_in(exc, script.file)
    where = f"{script.path.name}:{line}" if line else script.path.name
    what = f"{verb} of {step.revision} ({where}) cannot be written as SQL: {reason}"
    if isinstance(exc, CompileError):
        what += (
            "; offline SQL writes every value into the statement: pass values with "
            "op.inline_literal() or write them into the SQL text"
        )
    return OfflineSQLError(what)
