"""Running a revision's ``upgrade()`` with no database: operations recorded, SQL compiled.

A :class:`RecordingOperations` is an :class:`~whimbrel.operations.Operations` whose
dialect implementation has no connection, so each ``op.*`` call builds its operation
object and compiles it into SQL (``DefaultImpl.captured``) instead of running it.
Every call is recorded with the line of the revision file it came from, whether it
would run inside a transaction, and the SQL it compiled to. ``op.execute`` text is
kept as written. Async scripts get :class:`RecordingAsyncOperations`, the same idea
for ``async def upgrade(op)``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio.to_thread

from whimbrel.ddl.impl import impl_for
from whimbrel.errors import CommandError
from whimbrel.operations.base import Operations, bind_operations
from whimbrel.operations.connectionless import ConnectionlessContext
from whimbrel.operations.misc_ops import BatchAlterTableOp, ExecuteSQLOp, ModifyTableOps
from whimbrel.operations.opbase import MigrateOperation
from whimbrel.operations.table_ops import AddColumnOp, AlterColumnOp

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql import ColumnElement
    from sqlalchemy.sql.base import Executable

    from whimbrel.config import Config
    from whimbrel.ddl.impl import DefaultImpl
    from whimbrel.operations.batch import BatchOperations
    from whimbrel.script.directory import Script

__all__ = (
    "RecordedOp",
    "Recording",
    "RecordingAsyncOperations",
    "RecordingContext",
    "RecordingOperations",
    "compile_sql",
    "record_script",
)

T = TypeVar("T")

_NO_DATABASE = (
    "there is no database connection while a revision is analysed statically "
    "(lint, plan); the rest of upgrade() could not be followed"
)


@dataclass(frozen=True, slots=True)
class RecordedOp:
    """One operation a revision's ``upgrade()`` asked for.

    Attributes:
        operation: the operation object.
        line: the line of the revision file that called it (``None`` if not found).
        sql: the statements it compiles to for the dialect (``op.execute`` text as
            written, possibly several statements in one string).
        autocommit: it runs outside a transaction (``transactional = False`` or
            inside ``op.autocommit_block()``).
        batched: a data change made in bounded batches (``update_in_batches``).
        error: why its SQL could not be compiled without a database.
    """

    operation: MigrateOperation
    line: int | None
    sql: tuple[str, ...]
    autocommit: bool
    batched: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """What ``upgrade()`` of one revision did, statically."""

    script: Script
    ops: tuple[RecordedOp, ...]
    stopped: str | None = None
    stopped_line: int | None = None


class _Recorder:
    """The shared state of one recording: the operations so far and where they came from."""

    def __init__(self, filename: str, *, autocommit: bool) -> None:
        self.filename = filename
        self.autocommit = autocommit
        self.ops: list[RecordedOp] = []
        # Batch operations recorded by batch_op.*: id -> (operation, line).
        self.located: dict[int, tuple[MigrateOperation, int | None]] = {}

    def locate(self) -> int | None:
        """The line of the revision file in the current call stack (innermost first)."""
        frame: FrameType | None = inspect.currentframe()
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def add(self, op: RecordedOp) -> None:
        self.ops.append(op)


class _LocatedList(list[MigrateOperation]):
    """``BatchOperations.collected`` that remembers the line of each ``batch_op.*`` call."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self._recorder = recorder

    def append(self, op: MigrateOperation) -> None:
        self._recorder.located[id(op)] = (op, self._recorder.locate())
        super().append(op)


class RecordingContext(ConnectionlessContext):
    """The migration context of a static run: a config and a dialect, no connection."""

    def __init__(self, config: Config, dialect: Dialect, recorder: _Recorder) -> None:
        super().__init__(config, dialect)
        self._recorder = recorder

    def refuse(self, what: str) -> Exception:
        return CommandError(_NO_DATABASE)

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        before = self._recorder.autocommit
        self._recorder.autocommit = True
        try:
            yield
        finally:
            self._recorder.autocommit = before


def compile_sql(construct: str | Executable, dialect: Dialect) -> tuple[str, str | None]:
    """The SQL of ``op.execute``'s argument, and why it could not be compiled, if so."""
    from sqlalchemy.sql.elements import TextClause

    if isinstance(construct, str):
        return construct.strip(), None
    if isinstance(construct, TextClause):
        return construct.text.strip(), None
    try:
        compiled = construct.compile(  # type: ignore[attr-defined]
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
        return str(compiled).strip(), None
    except Exception:
        # Values without a literal renderer: placeholders are as good for reading.
        try:
            return str(construct.compile(dialect=dialect)).strip(), None  # type: ignore[attr-defined]
        except Exception as exc:
            return "", _reason(exc)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _in_place(op: MigrateOperation) -> MigrateOperation:
    # ALTER cannot place a column: outside SQLite, batch placement is dropped.
    if isinstance(op, AddColumnOp | AlterColumnOp) and (op.insert_before or op.insert_after):
        return replace(op, insert_before=None, insert_after=None)
    return op


class RecordingOperations(Operations):
    """``Operations`` that record each call and compile it, touching no database.

    Args:
        context: the static context.
        impl: a dialect implementation built with ``connection=None``.
        recorder: where calls are recorded.
    """

    def __init__(self, context: RecordingContext, impl: DefaultImpl, recorder: _Recorder) -> None:
        super().__init__(context, None, impl)
        self._recording = context
        self._recorder = recorder
        self._depth = 0

    def get_bind(self) -> Connection:
        # A stand-in: a script may branch on the dialect without a connection.
        return cast("Connection", self._recording.bind())

    def invoke(self, operation: MigrateOperation) -> Any:
        if self._depth:
            # An implementation carrying out parts of the recorded operation.
            return super().invoke(operation)
        return self._dispatch(operation, self._recorder.locate())

    def record_execute(
        self, statement: str | Executable, line: int | None, *, batched: bool = False
    ) -> None:
        """Record SQL run directly (an async script's ``await op.execute(...)``)."""
        op = ExecuteSQLOp(statement)
        sql, error = compile_sql(statement, self.impl.dialect)
        self._recording.executed(self.impl, statement)
        self._recorder.add(
            RecordedOp(op, line, (sql,) if sql else (), self._recorder.autocommit, batched, error)
        )

    def _dispatch(self, operation: MigrateOperation, line: int | None) -> Any:
        if isinstance(operation, ModifyTableOps):
            for inner in operation.ops:
                self._dispatch(inner, line)
            return None
        if isinstance(operation, BatchAlterTableOp):
            return self._batch(operation, line)
        return self._record(operation, line)

    def _batch(self, batch: BatchAlterTableOp, line: int | None) -> Any:
        located = self._recorder.located
        lines = [located.pop(id(inner), (inner, line))[1] for inner in batch.ops]
        if self.impl.dialect.name != "sqlite" and batch.options.recreate != "always":
            # Outside SQLite a batch is its operations, one ALTER at a time.
            for inner, inner_line in zip(batch.ops, lines, strict=True):
                self._record(_in_place(inner), inner_line)
            return None
        autocommit = self._recorder.autocommit
        for inner, inner_line in zip(batch.ops, lines, strict=True):
            self._recorder.add(RecordedOp(inner, inner_line, (), autocommit))
        return self._record(batch, line)

    def _record(self, operation: MigrateOperation, line: int | None) -> Any:
        if isinstance(operation, ExecuteSQLOp):
            self.record_execute(operation.sqltext, line)
            return None
        captured = self.impl.captured
        before = len(captured)
        result: Any = None
        error = None
        self._depth += 1
        try:
            result = super().invoke(operation)
        except Exception as exc:
            # What the database would have told (a reflected type...) is not known here.
            error = _reason(exc)
        finally:
            self._depth -= 1
        self._recorder.add(
            RecordedOp(
                operation,
                line,
                tuple(captured[before:]),
                self._recorder.autocommit,
                error=error,
            )
        )
        return result

    @contextmanager
    def batch_alter_table(self, table_name: str, **kw: Any) -> Iterator[BatchOperations]:
        with super().batch_alter_table(table_name, **kw) as batch:
            batch.collected = _LocatedList(self._recorder)
            yield batch


class RecordingAsyncOperations:
    """The ``op`` of an ``async def upgrade(op)`` analysed statically.

    Mirrors :class:`~whimbrel.operations.asyncops.AsyncOperations`: ``execute`` and
    ``update_in_batches`` are recorded, ``run_sync`` runs its function with the
    recording operations, and ``batches`` yields nothing (there are no rows to read).
    """

    def __init__(self, operations: RecordingOperations, recorder: _Recorder) -> None:
        self._ops = operations
        self._recorder = recorder

    def get_context(self) -> Any:
        return self._ops.get_context()

    @property
    def connection(self) -> AsyncConnection:
        raise CommandError(_NO_DATABASE)

    async def execute(
        self, statement: str | Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        self._ops.record_execute(statement, self._recorder.locate())
        return None

    async def run_sync(self, fn: Callable[[Operations], T]) -> T:
        return fn(self._ops)

    async def batches(self, query: Any, *, size: int = 10_000) -> AsyncIterator[Sequence[Any]]:
        for _ in ():
            yield ()

    async def update_in_batches(
        self,
        table: Table,
        values: Mapping[str, Any],
        *,
        where: ColumnElement[bool] | None = None,
        batch_size: int = 10_000,
    ) -> int:
        from sqlalchemy import update

        stmt = update(table).values(**values)
        if where is not None:
            stmt = stmt.where(where)
        self._ops.record_execute(stmt, self._recorder.locate(), batched=True)
        return 0


def _load(script: Script, config: Config) -> ModuleType:
    with config.extended_sys_path():
        return script.load_module()


def _call(
    ops: RecordingOperations, config: Config, fn: Callable[..., Any], takes_op: bool
) -> None:
    with config.extended_sys_path(), bind_operations(ops):
        if takes_op:
            fn(ops)
        else:
            fn()


def _traceback_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


async def record_script(
    script: Script, config: Config, dialect: Dialect, *, impl: DefaultImpl | None = None
) -> Recording:
    """Run ``upgrade()`` of ``script`` against recording operations for ``dialect``.

    An exception raised by ``upgrade()`` (it asked for the connection, say) ends the
    recording; it is reported in :attr:`Recording.stopped`, not raised. Pass the same
    ``impl`` for the revisions of one run, so that what an earlier one created (a
    PostgreSQL enum type) is not created again by a later one, as online.

    Raises:
        ScriptError: the revision file cannot be imported.
    """
    module = await anyio.to_thread.run_sync(_load, script, config)
    recorder = _Recorder(script.file, autocommit=not script.transactional)
    if impl is None:
        impl = impl_for(dialect)(None, dialect)
    ops = RecordingOperations(RecordingContext(config, dialect, recorder), impl, recorder)
    fn = getattr(module, "upgrade", None)
    stopped = None
    stopped_line = None
    try:
        if fn is None:
            raise CommandError("the module has no upgrade() function")
        if inspect.iscoroutinefunction(fn):
            aops = RecordingAsyncOperations(ops, recorder)
            with config.extended_sys_path(), bind_operations(ops):
                await (fn(aops) if script.upgrade_takes_op else fn())
        else:
            await anyio.to_thread.run_sync(_call, ops, config, fn, script.upgrade_takes_op)
    except Exception as exc:
        stopped = _reason(exc)
        stopped_line = _traceback_line(exc, script.file)
    return Recording(script, tuple(recorder.ops), stopped, stopped_line)
