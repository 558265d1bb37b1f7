"""The commands that run against the database: upgrade, downgrade, stamp, current..."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import anyio
import anyio.to_thread

from whimbrel.errors import (
    ChangedScriptError,
    NotAtHeadError,
    UnknownRevisionError,
    UsageError,
)
from whimbrel.results import (
    CurrentResult,
    EnsureVersionResult,
    MigrationResult,
    OfflineSQLResult,
    StepResult,
    VerifyResult,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.commands.offline import OfflineOutput
    from whimbrel.config import Config
    from whimbrel.fanout import ManyResult
    from whimbrel.runtime.context import MigrationContext, StepListener
    from whimbrel.script.directory import ScriptDirectory
    from whimbrel.script.graph import RevisionGraph

from whimbrel.commands.offline import refuse_range_online
from whimbrel.commands.scripts import as_tuple, load_scripts, revision_infos


@overload
async def upgrade(
    config: Config,
    revision: str = "heads",
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    allow_changed: bool = False,
    sql: Literal[False] = False,
    output: None = None,
) -> MigrationResult: ...


@overload
async def upgrade(
    config: Config,
    revision: str = "heads",
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    allow_changed: bool = False,
    sql: Literal[True],
    output: OfflineOutput | None = None,
) -> OfflineSQLResult: ...


async def upgrade(
    config: Config,
    revision: str = "heads",
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    allow_changed: bool = False,
    sql: bool = False,
    output: OfflineOutput | None = None,
) -> MigrationResult | OfflineSQLResult:
    """Upgrade the database to ``revision``, or write the SQL that would (``sql=True``).

    Awaitable from any running asyncio loop (a FastAPI lifespan, a test): no event
    loop of its own. The database is reached through, in order: ``connection``,
    ``config.attributes["connection"]``, ``engine``, ``config.attributes["engine"]``,
    ``env.py``'s ``create_engine`` hook, or the configured URL. A connection that is
    already in a transaction is used inside it and never committed.

    With ``sql=True`` nothing connects: the SQL script of the upgrade (DDL, version
    and history rows, transactions) is returned in an
    :class:`~whimbrel.results.OfflineSQLResult`, for the configured URL's dialect.
    ``revision`` may then be a range ``FROM:TO``; without ``FROM`` the script starts
    from base and creates the version tables. A step that needs a live database is
    left out with a marked comment and an :class:`~whimbrel.errors.OfflineSQLWarning`.

    Args:
        config: the project configuration.
        revision: the target: ``heads`` (default), ``head``, an id, ``label@head``,
            ``+N``...; with ``sql=True`` also ``FROM:TO``.
        connection: run on this connection.
        engine: run on a connection from this engine.
        on_step: called (and awaited, if it returns an awaitable) when each step
            starts and ends, with a :class:`~whimbrel.results.StepEvent`.
        lock: take the migration lock first (see :mod:`whimbrel.runtime.lock`), so
            concurrent runs apply each revision once.
        allow_changed: run even if applied revision files were edited since they ran.
        sql: write the SQL instead of running it (offline SQL; no connection).
        output: with ``sql=True``, also write the script to this text stream or file.

    Raises:
        MigrationStepError: a revision failed; see its message for what remains.
        LockTimeoutError: another run held the lock beyond ``migration_lock_timeout``.
        ChangedScriptError: applied revision files changed (see ``allow_changed``).
        OfflineSQLError: a range without ``sql=True``, or a step that cannot be
            written as SQL.
        RevisionError: the target cannot be resolved.
        DatabaseError: the database cannot be reached.
        ConfigError: no URL is configured, or it is invalid.
    """
    if sql:
        from whimbrel.commands.offline import upgrade_sql

        return await upgrade_sql(
            config, revision, output=output, connection=connection, engine=engine
        )
    refuse_range_online(revision)
    return await _migrate(
        config, "upgrade", revision, connection, engine, on_step, lock, allow_changed
    )


@overload
async def downgrade(
    config: Config,
    revision: str,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    sql: Literal[False] = False,
    output: None = None,
) -> MigrationResult: ...


@overload
async def downgrade(
    config: Config,
    revision: str,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    sql: Literal[True],
    output: OfflineOutput | None = None,
) -> OfflineSQLResult: ...


async def downgrade(
    config: Config,
    revision: str,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    sql: bool = False,
    output: OfflineOutput | None = None,
) -> MigrationResult | OfflineSQLResult:
    """Downgrade the database to ``revision`` (``base``, an id, ``-N``, ``label@base``...).

    Takes out the applied revisions above the target, newest first, and whatever
    depends on them. Connection handling as in :func:`upgrade`.

    With ``sql=True`` nothing connects and the SQL is returned (see :func:`upgrade`);
    ``revision`` must then be a range ``FROM:TO`` (``head:base``), since there is no
    database to read the start from.

    Raises:
        MigrationStepError: a revision failed; see its message for what remains.
        LockTimeoutError: another run held the lock beyond ``migration_lock_timeout``.
        OfflineSQLError: ``sql=True`` without ``FROM:``, a range without ``sql=True``,
            or a step that cannot be written as SQL.
        RangeError: the target is not below the current revisions.
        RevisionError: the target cannot be resolved.
        DatabaseError: the database cannot be reached.
    """
    if sql:
        from whimbrel.commands.offline import downgrade_sql

        return await downgrade_sql(
            config, revision, output=output, connection=connection, engine=engine
        )
    refuse_range_online(revision)
    return await _migrate(config, "downgrade", revision, connection, engine, on_step, lock, True)


async def _migrate(
    config: Config,
    kind: str,
    target: str,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
    on_step: StepListener | None,
    lock: bool,
    allow_changed: bool,
) -> MigrationResult:
    from whimbrel.runtime.connection import connect
    from whimbrel.runtime.context import MigrationContext

    scripts, graph = await load_scripts(config)
    started = time.perf_counter()
    async with connect(config, connection=connection, engine=engine) as conn:
        ctx = MigrationContext(conn.connection, config, shared=conn.shared)
        async with _locked(ctx, lock), _transaction(ctx):
            before = await ctx.read_heads()
            check_known(graph, before)
            if kind == "upgrade":
                plan = graph.plan_upgrade(before, target)
            else:
                plan = graph.plan_downgrade(before, target)
            if plan.steps and before and not allow_changed:
                # (From base nothing has been applied, so no applied script can differ.)
                await _refuse_changed(ctx, graph, scripts, before)
            steps = await ctx.run(plan, scripts, listener=on_step)
        return MigrationResult(
            command=kind,
            target=target,
            database=conn.database,
            heads_before=before,
            heads_after=ctx.heads,
            steps=tuple(steps),
            duration_s=time.perf_counter() - started,
        )


async def _refuse_changed(
    ctx: MigrationContext, graph: RevisionGraph, scripts: ScriptDirectory, heads: Sequence[str]
) -> None:
    from whimbrel.runtime.integrity import applied_by_history, changed_scripts

    recorded = await ctx.async_connection.run_sync(applied_by_history, ctx.tables)
    changed = await anyio.to_thread.run_sync(changed_scripts, graph, scripts, heads, recorded)
    if changed:
        raise ChangedScriptError(changed)


async def verify(
    config: Config,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> VerifyResult:
    """Check the database against the revision files. Changes nothing.

    Reports applied revisions whose file changed since it ran (by the checksum in the
    history table), version rows that no revision file defines, and revisions the
    history records as applied that the version table no longer implies. The
    history is replayed in order (upgrades add a revision, downgrades remove it,
    stamps set what their heads imply), so after anything Whimbrel ran the two
    agree; they differ when the version table was changed without Whimbrel (by
    hand) or a ``down_revision`` was edited.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.runtime.connection import connect
    from whimbrel.runtime.integrity import changed_scripts, checksums, read_history, replay
    from whimbrel.runtime.version_table import VersionTables

    scripts, graph = await load_scripts(config)
    tables = VersionTables(config.version_table, config.history_table, config.version_table_schema)
    async with connect(config, connection=connection, engine=engine, read_only=True) as conn:
        _, heads = await read_heads(config, conn.connection)
        began = not conn.connection.in_transaction()
        rows = await conn.connection.run_sync(read_history, tables)
        if began and conn.connection.in_transaction():
            await conn.connection.rollback()  # as read_heads: leave no transaction open
        database = conn.database
    known = [h for h in heads if h in graph]
    changed = await anyio.to_thread.run_sync(
        changed_scripts, graph, scripts, known, checksums(rows)
    )
    applied = graph.applied(known)
    replayed = replay(rows, graph)
    unreachable = sorted(r for r in replayed if r not in applied)
    # With no history at all there is nothing to hold the version table against.
    unrecorded = graph.topological([r for r in applied if r not in replayed]) if rows else []
    return VerifyResult(
        database=database,
        heads=heads,
        changed=tuple(changed),
        unknown=tuple(h for h in heads if h not in graph),
        unreachable=tuple(unreachable),
        unrecorded=tuple(unrecorded),
    )


class _locked:
    """Hold the migration lock around a block (or do nothing when ``enabled`` is off)."""

    def __init__(self, ctx: MigrationContext, enabled: bool) -> None:
        from whimbrel.runtime.lock import MigrationLock

        config = ctx.config
        self.lock = (
            MigrationLock(
                ctx.async_connection,
                table=config.version_table,
                schema=config.version_table_schema,
                timeout=config.migration_lock_timeout,
                shared=ctx.shared,
            )
            if enabled
            else None
        )

    async def __aenter__(self) -> None:
        if self.lock is not None:
            await self.lock.acquire()

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self.lock is None:
            return
        try:
            await self.lock.release()
        except Exception:
            # The connection may be gone (the reason the run failed): the original
            # error is the one to report; the server drops the lock with the session.
            if exc_type is None:
                raise


class _transaction:
    """Begin; commit on success; roll back on any failure or cancellation."""

    def __init__(self, ctx: MigrationContext) -> None:
        self.ctx = ctx

    async def __aenter__(self) -> None:
        await self.ctx.begin()

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # Shielded: a cancelled task still rolls back (or commits) before it unwinds.
        with anyio.CancelScope(shield=True):
            if exc_type is None:
                await self.ctx.commit()
            else:
                await self.ctx.rollback()


def check_known(graph: RevisionGraph, heads: Sequence[str]) -> None:
    unknown = [h for h in heads if h not in graph]
    if unknown:
        raise UnknownRevisionError(
            unknown[0],
            hint=(
                "the database's version table names it but no revision file defines it; "
                "restore the file, or 'whimbrel stamp --purge <rev>' to reset the table"
            ),
        )


@overload
async def stamp(
    config: Config,
    revision: str | Sequence[str],
    *,
    purge: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    lock: bool = True,
    sql: Literal[False] = False,
    output: None = None,
) -> MigrationResult: ...


@overload
async def stamp(
    config: Config,
    revision: str | Sequence[str],
    *,
    purge: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    lock: bool = True,
    sql: Literal[True],
    output: OfflineOutput | None = None,
) -> OfflineSQLResult: ...


async def stamp(
    config: Config,
    revision: str | Sequence[str],
    *,
    purge: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    lock: bool = True,
    sql: bool = False,
    output: OfflineOutput | None = None,
) -> MigrationResult | OfflineSQLResult:
    """Set the version table to ``revision`` (one or several) without running anything.

    Args:
        config: the project configuration.
        revision: target(s); each replaces the current heads on its own line.
            ``base`` empties the table. With ``sql=True`` also one range ``FROM:TO``.
        purge: delete every row first (also rows no script defines).
        connection: run on this connection (see :func:`upgrade`).
        engine: run on this engine (see :func:`upgrade`).
        lock: take the migration lock first (see :func:`upgrade`).
        sql: write the SQL instead of running it (see :func:`upgrade`); without
            ``FROM:`` it starts from base and creates the version tables.
        output: with ``sql=True``, also write the script to this text stream or file.

    Raises:
        RevisionError: a target cannot be resolved, or the table names unknown
            revisions (use ``purge``).
        OfflineSQLError: a range without ``sql=True``, or several with it.
        DatabaseError: the database cannot be reached.
    """
    if sql:
        from whimbrel.commands.offline import stamp_sql

        return await stamp_sql(
            config, revision, purge=purge, output=output, connection=connection, engine=engine
        )
    from whimbrel.runtime.connection import connect
    from whimbrel.runtime.context import MigrationContext
    from whimbrel.runtime.version_table import HistoryRecord, now

    targets = as_tuple(revision)
    if not targets:
        raise UsageError("stamp needs at least one revision (or 'base')")
    for target in targets:
        refuse_range_online(target)
    _, graph = await load_scripts(config)
    started = time.perf_counter()
    async with connect(config, connection=connection, engine=engine) as conn:
        ctx = MigrationContext(conn.connection, config, shared=conn.shared)
        async with _locked(ctx, lock), _transaction(ctx):
            before = await ctx.read_heads()
            if not purge:
                check_known(graph, before)
            after = graph.plan_stamp(before, targets, purge=purge)
            duration = time.perf_counter() - started
            step = StepResult(
                revision=" ".join(after) or None,
                direction="stamp",
                message=None,
                duration_s=duration,
                heads_before=before,
                heads_after=after,
            )
            record = HistoryRecord(
                revision=step.revision,
                direction="stamp",
                heads_before=before,
                heads_after=after,
                applied_at=now(),
                duration_ms=duration * 1000,
                checksum=None,
            )
            if purge and before:
                # Purging rewrites every row, known or not.
                ctx.set_heads((), None)
                await ctx.flush()
                before_rows: tuple[str, ...] = ()
            else:
                before_rows = before
            if after != before_rows or purge:
                ctx.set_heads(after, record)
        return MigrationResult(
            command="stamp",
            target=" ".join(targets),
            database=conn.database,
            heads_before=before,
            heads_after=after,
            steps=(step,),
            duration_s=time.perf_counter() - started,
        )


async def current(
    config: Config,
    *,
    check_heads: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> CurrentResult:
    """The revisions the database is at. Creates nothing.

    Args:
        config: the project configuration.
        check_heads: raise :class:`~whimbrel.errors.NotAtHeadError` unless every
            revision is applied.
        connection: run on this connection (see :func:`upgrade`).
        engine: run on this engine (see :func:`upgrade`).

    Raises:
        NotAtHeadError: with ``check_heads``, the database is behind.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.runtime.connection import connect

    scripts, graph = await load_scripts(config)
    async with connect(config, connection=connection, engine=engine, read_only=True) as conn:
        exists, heads = await read_heads(config, conn.connection)
        database = conn.database
    known = [h for h in heads if h in graph]
    at_head = len(known) == len(heads) and len(graph.applied(known)) == len(graph)
    if check_heads and not at_head:
        raise NotAtHeadError(heads, graph.heads)
    return CurrentResult(
        database=database,
        heads=heads,
        revisions=revision_infos(scripts, graph, known),
        at_head=at_head,
        version_table_exists=exists,
    )


async def read_heads(config: Config, connection: AsyncConnection) -> tuple[bool, tuple[str, ...]]:
    from whimbrel.runtime.version_table import VersionTables

    tables = VersionTables(config.version_table, config.history_table, config.version_table_schema)

    def read(conn: Any) -> tuple[bool, tuple[str, ...]]:
        if not tables.exists(conn):
            return False, ()
        return True, tables.read_existing(conn)

    began = not connection.in_transaction()
    found = await connection.run_sync(read)
    if began and connection.in_transaction():
        # Reading autobegan a transaction: end it, or a later command on this
        # connection would take it for the caller's and never commit.
        await connection.rollback()
    return found


async def read_current(
    config: Config,
    graph: RevisionGraph,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
) -> tuple[str, ...]:
    from whimbrel.runtime.connection import connect

    async with connect(config, connection=connection, engine=engine, read_only=True) as conn:
        _, heads = await read_heads(config, conn.connection)
    check_known(graph, heads)
    return heads


async def ensure_version(
    config: Config,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> EnsureVersionResult:
    """Create the version and history tables if they do not exist.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.runtime.connection import connect
    from whimbrel.runtime.context import MigrationContext

    async with connect(config, connection=connection, engine=engine) as conn:
        ctx = MigrationContext(conn.connection, config, shared=conn.shared)
        async with _locked(ctx, True), _transaction(ctx):
            created = await ctx.ensure_tables()
        return EnsureVersionResult(
            database=conn.database, version_table=config.version_table, created=created
        )


async def upgrade_many(config: Config, revision: str = "heads", **kwargs: Any) -> ManyResult:
    """Upgrade many databases or tenant schemas at once; see :func:`whimbrel.fanout.upgrade_many`.

    Raises:
        ConfigError: there are no targets.
        UsageError: bad concurrency, or a target listed twice.
    """
    from whimbrel.fanout import upgrade_many as fan_out

    return await fan_out(config, revision, **kwargs)


async def current_many(config: Config, **kwargs: Any) -> ManyResult:
    """The current revisions of many targets; see :func:`whimbrel.fanout.current_many`.

    Raises:
        ConfigError: there are no targets.
        UsageError: bad concurrency, or a target listed twice.
    """
    from whimbrel.fanout import current_many as fan_out

    return await fan_out(config, **kwargs)
