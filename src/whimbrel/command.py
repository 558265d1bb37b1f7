"""The commands: coroutines that take a :class:`~whimbrel.config.Config` first.

They return result objects (``whimbrel.results``) and never print; the CLI renders
them. Names, arguments and meaning follow Alembic's command API.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from whimbrel.errors import (
    ChangedScriptError,
    CommandError,
    MultipleHeadsError,
    NotAtHeadError,
    UnknownRevisionError,
    UsageError,
)
from whimbrel.results import (
    BranchesResult,
    BranchPoint,
    CurrentResult,
    EditResult,
    EnsureVersionResult,
    HeadsResult,
    HistoryResult,
    InitResult,
    MigrationResult,
    RevisionInfo,
    ShowResult,
    StepResult,
    TemplateInfo,
    VerifyResult,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.adopt import AdoptResult
    from whimbrel.autogenerate.results import AutogenerateResult, CheckResult
    from whimbrel.config import Config
    from whimbrel.fanout import ManyResult
    from whimbrel.lint import LintResult, PlanResult
    from whimbrel.runtime.context import MigrationContext, StepListener
    from whimbrel.script.directory import Script, ScriptDirectory
    from whimbrel.script.graph import RevisionGraph

__all__ = (
    "adopt",
    "autogenerate",
    "branches",
    "check",
    "current",
    "current_many",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "lint",
    "list_templates",
    "merge",
    "plan",
    "revision",
    "show",
    "stamp",
    "upgrade",
    "upgrade_many",
    "verify",
)


async def list_templates(config: Config | None = None) -> list[TemplateInfo]:
    """List the project templates ``init`` can use.

    Args:
        config: unused; accepted so every command takes a config first.

    Raises:
        WhimbrelError: never in practice; listed for uniformity.
    """
    from whimbrel.script.templates import list_templates as _list

    return [TemplateInfo(name=t.name, description=t.description) for t in _list()]


async def init(
    config: Config | None,
    directory: str | Path,
    *,
    template: str = "default",
    package: bool = False,
) -> InitResult:
    """Create a new migration environment.

    Args:
        config: its ``config_file``, when set, says where the configuration is
            written; otherwise the current directory.
        directory: the script directory to create (``script_location``).
        template: a name from :func:`list_templates`.
        package: also write ``__init__.py`` files so the directory is a package.

    Raises:
        CommandError: the directory exists and is not empty, the template is
            unknown, or the configuration already exists.
    """
    from whimbrel.script.templates import init_project

    config_dir = (
        config.config_file.parent if config is not None and config.config_file else Path.cwd()
    )
    target = Path(directory)
    if not target.is_absolute():
        target = config_dir / target
    made = init_project(directory=target, template=template, config_dir=config_dir)
    created = list(made.created)
    if package:
        for pkg in (target, target / "versions"):
            init_file = pkg / "__init__.py"
            if not init_file.exists():
                init_file.write_text("")
                created.append(init_file)
    return InitResult(
        directory=target,
        config_file=made.config_file,
        template=template,
        created=tuple(created),
    )


def script_directory(config: Config) -> ScriptDirectory:
    """The script directory a configuration points at."""
    from whimbrel.script.directory import ScriptDirectory

    return ScriptDirectory.from_config(config)


async def _load(config: Config) -> tuple[ScriptDirectory, RevisionGraph]:
    # Reading thousands of headers is blocking file work: keep it off the event loop.
    scripts = script_directory(config)
    graph = await anyio.to_thread.run_sync(scripts.graph)
    return scripts, graph


def _info(scripts: ScriptDirectory, graph: RevisionGraph, rev_id: str) -> RevisionInfo:
    node = graph.get(rev_id)
    script: Script = scripts.get_script(rev_id)
    return RevisionInfo(
        revision=rev_id,
        down_revisions=node.down_revisions,
        branch_labels=tuple(sorted(graph.branch_labels(rev_id))),
        depends_on=node.depends_on,
        message=node.message,
        path=script.path,
        doc=script.doc,
        create_date=script.create_date,
        is_head=not graph.children(rev_id),
        is_base=not node.down_revisions,
        is_branch_point=graph.is_branch_point(rev_id),
        is_merge_point=graph.is_merge_point(rev_id),
        children=graph.children(rev_id),
    )


async def revision(
    config: Config,
    *,
    message: str | None = None,
    head: str = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    version_path: str | Path | None = None,
    rev_id: str | None = None,
    depends_on: str | Sequence[str] | None = None,
) -> RevisionInfo:
    """Create a new revision file.

    Args:
        config: the project configuration.
        message: the message; the file's docstring and slug.
        head: the revision the new one follows: ``head`` (default), ``base`` for a
            new base, a ``label@head``, or any revision with ``splice``.
        splice: allow ``head`` to name a revision that is not a head, starting a
            new branch from it.
        branch_label: label(s) for the new revision.
        version_path: the version location to write into.
        rev_id: use this id instead of a generated one.
        depends_on: revisions or branch labels the new revision depends on.

    Raises:
        MultipleHeadsError: ``head`` where several heads exist.
        CommandError: ``head`` names a non-head without ``splice``, the id or a
            label is taken, or the version path is not a configured location.
        RevisionError: an identifier cannot be resolved.
    """
    scripts, graph = await _load(config)
    downs: tuple[str, ...] = ()
    if head != "base":
        downs = graph.resolve(head)
        if len(downs) > 1:
            raise MultipleHeadsError(downs, head)
        for down in downs:
            if graph.children(down) and not splice:
                raise CommandError(
                    f"revision {down} is not a head; pass --splice to start a new branch "
                    "from it, or use --head head"
                )
    labels = _as_tuple(branch_label)
    return await _generate(
        config,
        scripts,
        graph,
        message=message,
        downs=downs,
        labels=labels,
        depends_on=_resolve_depends_on(graph, _as_tuple(depends_on)),
        version_path=version_path,
        rev_id=rev_id,
    )


async def merge(
    config: Config,
    revisions: str | Sequence[str] = "heads",
    *,
    message: str | None = None,
    branch_label: str | Sequence[str] | None = None,
    rev_id: str | None = None,
) -> RevisionInfo:
    """Create a merge revision that joins two or more revisions.

    Args:
        config: the project configuration.
        revisions: identifiers to merge; ``heads`` (default) merges every head.
        message: the merge revision's message.
        branch_label: label(s) for the merge revision.
        rev_id: use this id instead of a generated one.

    Raises:
        UsageError: fewer than two revisions to merge.
        RevisionError: an identifier cannot be resolved.
    """
    scripts, graph = await _load(config)
    downs: list[str] = []
    for ident in _as_tuple(revisions):
        downs.extend(r for r in graph.resolve(ident) if r not in downs)
    if len(downs) < 2:
        raise UsageError(
            f"nothing to merge: {' '.join(_as_tuple(revisions))} resolves to "
            f"{', '.join(downs) or 'base'}; name two or more revisions"
        )
    return await _generate(
        config,
        scripts,
        graph,
        message=message,
        downs=tuple(downs),
        labels=_as_tuple(branch_label),
        depends_on=(),
        version_path=None,
        rev_id=rev_id,
    )


async def _generate(
    config: Config,
    scripts: ScriptDirectory,
    graph: RevisionGraph,
    *,
    message: str | None,
    downs: tuple[str, ...],
    labels: tuple[str, ...],
    depends_on: tuple[str, ...],
    version_path: str | Path | None,
    rev_id: str | None,
) -> RevisionInfo:
    if rev_id is not None:
        if rev_id in graph:
            raise CommandError(f"revision id {rev_id!r} already exists; choose another")
        bad = [c for c in "@-+:" if c in rev_id]
        if bad or not rev_id.strip():
            raise UsageError(f"revision id {rev_id!r} may not be empty or contain @ - + :")
    for label in labels:
        owner = graph.label_owner(label)
        if owner is not None or label in graph:
            raise CommandError(
                f"branch label {label!r} is already used by revision {owner or label}"
            )
    path = None
    if version_path is not None:
        path = Path(version_path)
        if not path.is_absolute():
            base = config.config_file.parent if config.config_file else Path.cwd()
            path = (base / path).resolve()
    script = scripts.generate_revision(
        rev_id=rev_id,
        message=message,
        down_revisions=downs,
        branch_labels=labels,
        depends_on=depends_on,
        version_path=path,
    )
    scripts.invalidate()
    _, new_graph = await _load(config)
    return _info(scripts, new_graph, script.revision.revision)


def _resolve_depends_on(graph: RevisionGraph, idents: tuple[str, ...]) -> tuple[str, ...]:
    """Keep branch labels as written; turn ids and prefixes into full ids."""
    out: list[str] = []
    for ident in idents:
        if graph.label_owner(ident) is not None:
            out.append(ident)
        else:
            found = graph.resolve_one(ident)
            if found is None:
                raise UsageError(f"--depends-on {ident!r} names no revision; name a revision")
            out.append(found)
    return tuple(out)


async def heads(config: Config, *, resolve_dependencies: bool = False) -> HeadsResult:
    """The head revisions of the script directory.

    Args:
        config: the project configuration.
        resolve_dependencies: leave out heads that another revision depends on.

    Raises:
        WhimbrelError: the script directory or a revision file cannot be read.
    """
    scripts, graph = await _load(config)
    ids = graph.real_heads if resolve_dependencies else graph.heads
    return HeadsResult(
        heads=tuple(_info(scripts, graph, r) for r in ids),
        resolve_dependencies=resolve_dependencies,
    )


async def branches(config: Config) -> BranchesResult:
    """Every branch point, with the revisions that follow it.

    Raises:
        WhimbrelError: the script directory or a revision file cannot be read.
    """
    scripts, graph = await _load(config)
    points = tuple(
        BranchPoint(
            revision=_info(scripts, graph, node.revision),
            children=tuple(_info(scripts, graph, c) for c in graph.children(node.revision)),
        )
        for node in graph
        if graph.is_branch_point(node.revision)
    )
    return BranchesResult(branch_points=points)


async def history(
    config: Config,
    *,
    rev_range: str | None = None,
    indicate_current: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> HistoryResult:
    """Revisions from newest to oldest, optionally within ``[start]:[end]``.

    Args:
        config: the project configuration.
        rev_range: ``start:end``, ``start:`` or ``:end``; start is the older end.
            ``current`` and relative forms such as ``-2`` read the database.
        indicate_current: read the database and mark its current revisions.
        connection: run on this connection (see :func:`upgrade`).
        engine: run on this engine (see :func:`upgrade`).

    Raises:
        UsageError: a range without ``:``.
        RangeError: ``start`` is not an ancestor of ``end``.
        RevisionError: an identifier cannot be resolved.
    """
    lower, upper = "base", "heads"
    if rev_range is not None:
        if ":" not in rev_range:
            raise UsageError(
                f"history range {rev_range!r} needs a colon: start:end, start: or :end"
            )
        start, _, end = rev_range.partition(":")
        lower = start.strip() or "base"
        upper = end.strip() or "heads"
    scripts, graph = await _load(config)
    current_heads: tuple[str, ...] | None = None
    if indicate_current or _mentions_current(lower) or _mentions_current(upper):
        current_heads = await _read_current(config, graph, connection, engine)
    ids = graph.iterate(upper, lower, current=current_heads)
    return HistoryResult(
        revisions=tuple(_info(scripts, graph, r) for r in ids),
        lower=lower,
        upper=upper,
        current=current_heads,
    )


def _mentions_current(ident: str) -> bool:
    from whimbrel.script.graph import is_relative_to_current

    return ident.rpartition("@")[2] == "current" or is_relative_to_current(ident)


async def show(
    config: Config,
    rev: str | Sequence[str],
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> ShowResult:
    """Details of the revisions an identifier (or several) names.

    ``current`` (and relative forms like ``-1``) read the database.

    Raises:
        RevisionError: an identifier cannot be resolved.
        DatabaseError: the database is needed and cannot be reached.
    """
    scripts, graph = await _load(config)
    idents = _as_tuple(rev)
    current_heads: tuple[str, ...] | None = None
    if any(_mentions_current(i) for i in idents):
        current_heads = await _read_current(config, graph, connection, engine)
    ids: list[str] = []
    for ident in idents:
        ids.extend(r for r in graph.resolve(ident, current=current_heads) if r not in ids)
    if not ids:
        raise UsageError(f"{' '.join(_as_tuple(rev))} names no revision (it is base)")
    return ShowResult(revisions=tuple(_info(scripts, graph, r) for r in ids))


async def edit(config: Config, rev: str = "head", *, editor: str | None = None) -> EditResult:
    """Open a revision file in ``$VISUAL`` or ``$EDITOR``.

    Args:
        config: the project configuration.
        rev: the revision to edit.
        editor: the editor command; defaults to ``$VISUAL``, then ``$EDITOR``.

    Raises:
        CommandError: no editor is set, or it exits with an error.
        RevisionError: the identifier cannot be resolved to one revision.
    """
    scripts, graph = await _load(config)
    rev_id = graph.resolve_one(rev)
    if rev_id is None:
        raise UsageError("'base' is not a revision file; name a revision to edit")
    path = scripts.get_script(rev_id).path
    command = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise CommandError("no editor: set $EDITOR (or $VISUAL) and try again")
    argv = [*shlex.split(command), str(path)]
    try:
        done = await anyio.run_process(argv, stdin=None, stdout=None, stderr=None, check=False)
    except OSError as exc:
        raise CommandError(f"cannot start editor {argv[0]!r}: {exc.strerror}") from exc
    if done.returncode != 0:
        raise CommandError(f"editor {argv[0]!r} exited with code {done.returncode}")
    return EditResult(revision=rev_id, path=path, editor=command)


# -- commands that need the database -------------------------------------------------


async def upgrade(
    config: Config,
    revision: str = "heads",
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
    allow_changed: bool = False,
) -> MigrationResult:
    """Upgrade the database to ``revision``.

    Awaitable from any running asyncio loop (a FastAPI lifespan, a test): no event
    loop of its own. The database is reached through, in order: ``connection``,
    ``config.attributes["connection"]``, ``engine``, ``config.attributes["engine"]``,
    ``env.py``'s ``create_engine`` hook, or the configured URL. A connection that is
    already in a transaction is used inside it and never committed.

    Args:
        config: the project configuration.
        revision: the target: ``heads`` (default), ``head``, an id, ``label@head``,
            ``+N``...
        connection: run on this connection.
        engine: run on a connection from this engine.
        on_step: called (and awaited, if it returns an awaitable) when each step
            starts and ends, with a :class:`~whimbrel.results.StepEvent`.
        lock: take the migration lock first (see :mod:`whimbrel.runtime.lock`), so
            concurrent runs apply each revision once.
        allow_changed: run even if applied revision files were edited since they ran.

    Raises:
        MigrationStepError: a revision failed; see its message for what remains.
        LockTimeoutError: another run held the lock beyond ``migration_lock_timeout``.
        ChangedScriptError: applied revision files changed (see ``allow_changed``).
        RevisionError: the target cannot be resolved.
        DatabaseError: the database cannot be reached.
        ConfigError: no URL is configured, or it is invalid.
    """
    return await _migrate(
        config, "upgrade", revision, connection, engine, on_step, lock, allow_changed
    )


async def downgrade(
    config: Config,
    revision: str,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    on_step: StepListener | None = None,
    lock: bool = True,
) -> MigrationResult:
    """Downgrade the database to ``revision`` (``base``, an id, ``-N``, ``label@base``...).

    Takes out the applied revisions above the target, newest first, and whatever
    depends on them. Connection handling as in :func:`upgrade`.

    Raises:
        MigrationStepError: a revision failed; see its message for what remains.
        LockTimeoutError: another run held the lock beyond ``migration_lock_timeout``.
        RangeError: the target is not below the current revisions.
        RevisionError: the target cannot be resolved.
        DatabaseError: the database cannot be reached.
    """
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

    scripts, graph = await _load(config)
    started = time.perf_counter()
    async with connect(config, connection=connection, engine=engine) as conn:
        ctx = MigrationContext(conn.connection, config, shared=conn.shared)
        async with _locked(ctx, lock), _transaction(ctx):
            before = await ctx.read_heads()
            _check_known(graph, before)
            if kind == "upgrade":
                plan = graph.plan_upgrade(before, target)
            else:
                plan = graph.plan_downgrade(before, target)
            if plan.steps and not allow_changed:
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
    history records as applied that the version table no longer implies (their
    ``down_revision`` was edited, or the table was stamped by hand).

    Raises:
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.runtime.connection import connect
    from whimbrel.runtime.integrity import applied_by_history, changed_scripts
    from whimbrel.runtime.version_table import VersionTables

    scripts, graph = await _load(config)
    tables = VersionTables(config.version_table, config.history_table, config.version_table_schema)
    async with connect(config, connection=connection, engine=engine) as conn:
        _, heads = await _read_heads(config, conn.connection)
        recorded = await conn.connection.run_sync(applied_by_history, tables)
        database = conn.database
    known = [h for h in heads if h in graph]
    changed = await anyio.to_thread.run_sync(changed_scripts, graph, scripts, known, recorded)
    applied = graph.applied(known)
    unreachable = sorted(r for r in recorded if r not in applied)
    return VerifyResult(
        database=database,
        heads=heads,
        changed=tuple(changed),
        unknown=tuple(h for h in heads if h not in graph),
        unreachable=tuple(unreachable),
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

    async def __aexit__(self, *_: object) -> None:
        if self.lock is not None:
            await self.lock.release()


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


def _check_known(graph: RevisionGraph, heads: Sequence[str]) -> None:
    unknown = [h for h in heads if h not in graph]
    if unknown:
        raise UnknownRevisionError(
            unknown[0],
            hint=(
                "the database's version table names it but no revision file defines it; "
                "restore the file, or 'whimbrel stamp --purge <rev>' to reset the table"
            ),
        )


async def stamp(
    config: Config,
    revision: str | Sequence[str],
    *,
    purge: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    lock: bool = True,
) -> MigrationResult:
    """Set the version table to ``revision`` (one or several) without running anything.

    Args:
        config: the project configuration.
        revision: target(s); each replaces the current heads on its own line.
            ``base`` empties the table.
        purge: delete every row first (also rows no script defines).
        connection: run on this connection (see :func:`upgrade`).
        engine: run on this engine (see :func:`upgrade`).
        lock: take the migration lock first (see :func:`upgrade`).

    Raises:
        RevisionError: a target cannot be resolved, or the table names unknown
            revisions (use ``purge``).
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.runtime.connection import connect
    from whimbrel.runtime.context import MigrationContext
    from whimbrel.runtime.version_table import HistoryRecord, now

    targets = _as_tuple(revision)
    if not targets:
        raise UsageError("stamp needs at least one revision (or 'base')")
    _, graph = await _load(config)
    started = time.perf_counter()
    async with connect(config, connection=connection, engine=engine) as conn:
        ctx = MigrationContext(conn.connection, config, shared=conn.shared)
        async with _locked(ctx, lock), _transaction(ctx):
            before = await ctx.read_heads()
            if not purge:
                _check_known(graph, before)
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

    scripts, graph = await _load(config)
    async with connect(config, connection=connection, engine=engine) as conn:
        exists, heads = await _read_heads(config, conn.connection)
        database = conn.database
    known = [h for h in heads if h in graph]
    at_head = len(known) == len(heads) and len(graph.applied(known)) == len(graph)
    if check_heads and not at_head:
        raise NotAtHeadError(heads, graph.heads)
    return CurrentResult(
        database=database,
        heads=heads,
        revisions=tuple(_info(scripts, graph, h) for h in known),
        at_head=at_head,
        version_table_exists=exists,
    )


async def _read_heads(config: Config, connection: AsyncConnection) -> tuple[bool, tuple[str, ...]]:
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


async def _read_current(
    config: Config,
    graph: RevisionGraph,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
) -> tuple[str, ...]:
    from whimbrel.runtime.connection import connect

    async with connect(config, connection=connection, engine=engine) as conn:
        _, heads = await _read_heads(config, conn.connection)
    _check_known(graph, heads)
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


async def autogenerate(config: Config, **kwargs: Any) -> AutogenerateResult:
    """``revision --autogenerate``: write a revision that migrates the database to the models.

    See :func:`whimbrel.autogenerate.api.autogenerate_revision` for the options
    (``message``, ``renames``, ``allow_empty``, ``head``...).

    Raises:
        CommandError: the database is not at head, or nothing differs (without
            ``allow_empty``).
        UsageError: a rename is malformed or matches nothing.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.autogenerate.api import autogenerate_revision

    return await autogenerate_revision(config, **kwargs)


async def check(config: Config, **kwargs: Any) -> CheckResult:
    """Compare the models with the database; ``.ok`` when they match. Changes nothing.

    See :func:`whimbrel.autogenerate.api.check`.

    Raises:
        CommandError: the database is not at head.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.autogenerate.api import check as run_check

    return await run_check(config, **kwargs)


async def lint(
    config: Config,
    rev_range: str | None = None,
    *,
    disabled: Sequence[str] | None = None,
    **kwargs: Any,
) -> LintResult:
    """Lint pending (or the given) revisions for zero-downtime problems.

    The configuration's ``lint = { disable = [...] }`` applies unless ``disabled`` is
    given; the other options are :func:`whimbrel.lint.lint`'s.

    Raises:
        UsageError: an unknown rule id or dialect.
        RevisionError: the range cannot be resolved.
        ScriptError: a revision file cannot be read.
    """
    from whimbrel.lint import lint as run_lint

    off = config.lint_disable if disabled is None else tuple(disabled)
    return await run_lint(config, rev_range=rev_range, disabled=off, **kwargs)


async def plan(config: Config, revision: str = "heads", **kwargs: Any) -> PlanResult:
    """What ``upgrade`` would run against the live database; changes nothing.

    See :func:`whimbrel.lint.plan`.

    Raises:
        RevisionError: the target cannot be resolved.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.lint import plan as run_plan

    return await run_plan(config, revision, **kwargs)


async def adopt(config_dir: str | Path = ".", **kwargs: Any) -> AdoptResult:
    """Write a Whimbrel configuration for an Alembic project; see :func:`whimbrel.adopt.adopt`.

    Raises:
        ConfigError: there is no readable Alembic configuration.
        CommandError: a Whimbrel configuration exists already.
    """
    from whimbrel.adopt import adopt as run_adopt

    return await run_adopt(config_dir, **kwargs)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)
