"""Autogenerate's entry points.

Synchronous, for a SQLAlchemy ``Connection`` (inside ``AsyncConnection.run_sync``):

* :func:`compare_metadata` — the differences, as :class:`~whimbrel.autogenerate.Diff`.
* :func:`produce_migrations` — a :class:`MigrationScript`: upgrade and downgrade
  operations, ready to render or to run.

Asynchronous, taking a :class:`~whimbrel.config.Config` like every command:

* :func:`autogenerate_revision` — write a revision file with the changes.
* :func:`check` — report the differences (``ok`` when there are none).
"""

from __future__ import annotations

import gc
import inspect as pyinspect
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData

from whimbrel.autogenerate.arrange import executable, reverse_ops, tidy, to_batch
from whimbrel.autogenerate.compare.context import CompareContext
from whimbrel.autogenerate.compare.schema import compare_schema, model_tables
from whimbrel.autogenerate.diffs import Diff, diffs_of
from whimbrel.autogenerate.options import AutogenerateOptions, options_from_config
from whimbrel.autogenerate.reflect import DbSchema, reflect_schema
from whimbrel.autogenerate.rename import (
    Rename,
    RenamePrompt,
    RenameResolver,
    parse_renames,
    terminal_prompt,
)
from whimbrel.autogenerate.render import RenderedMigration, render_migration
from whimbrel.autogenerate.results import AutogenerateResult, CheckResult
from whimbrel.errors import CommandError, ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config
    from whimbrel.operations.opbase import MigrateOperation
    from whimbrel.script.graph import RevisionGraph

__all__ = (
    "AsyncRenamePrompt",
    "MigrationScript",
    "autogenerate_revision",
    "check",
    "compare_metadata",
    "produce_migrations",
)

AsyncRenamePrompt = Callable[[str], Awaitable[bool]]
"""An ``async`` :data:`~whimbrel.autogenerate.rename.RenamePrompt`."""

NOT_UP_TO_DATE = "database is not up to date; run whimbrel upgrade first"


@dataclass(frozen=True, eq=False)
class MigrationScript:
    """What autogenerate would write: the operations of both directions.

    Attributes:
        upgrade_ops: the upgrade, in order. May hold
            :class:`~whimbrel.autogenerate.ops.NoteOp` comments; run
            :meth:`executable_upgrade_ops` instead when invoking them directly.
        downgrade_ops: the downgrade: the upgrade reversed.
        diffs: the differences the upgrade resolves.
        renames: renames written as renames.
        suspected_renames: drops and adds that may be renames.
        dialect: the dialect the comparison was made for.
    """

    upgrade_ops: tuple[MigrateOperation, ...]
    downgrade_ops: tuple[MigrateOperation, ...]
    diffs: tuple[Diff, ...]
    renames: tuple[Rename, ...]
    suspected_renames: tuple[Rename, ...]
    dialect: Dialect

    @property
    def is_empty(self) -> bool:
        """No differences were found."""
        return not self.diffs

    def executable_upgrade_ops(self) -> list[MigrateOperation]:
        """The upgrade without notes, for ``Operations.invoke``."""
        return executable(self.upgrade_ops)

    def executable_downgrade_ops(self) -> list[MigrateOperation]:
        """The downgrade without notes, for ``Operations.invoke``."""
        return executable(self.downgrade_ops)

    def render(self, *, options: AutogenerateOptions | None = None) -> RenderedMigration:
        """Both directions as Python source (see :func:`render_migration`)."""
        options = options or AutogenerateOptions()
        return render_migration(
            self.upgrade_ops,
            self.downgrade_ops,
            dialect=self.dialect,
            line_length=options.line_length,
            user_module_prefix=options.user_module_prefix,
        )


# -- synchronous API -----------------------------------------------------------------


def _metadatas(metadata: object) -> list[MetaData]:
    if isinstance(metadata, MetaData):
        items: list[object] = [metadata]
    elif isinstance(metadata, list | tuple):
        items = list(metadata)
    else:
        items = [metadata]
    bad = [m for m in items if not isinstance(m, MetaData)]
    if bad or not items:
        shown = type(bad[0]).__name__ if bad else "nothing"
        raise ConfigError(
            f"target_metadata must be a MetaData or a list of them, got {shown}; point it "
            'at your models\' MetaData, e.g. target_metadata = "myapp.models:Base.metadata"',
            key="target_metadata",
        )
    return [m for m in items if isinstance(m, MetaData)]


def _reflect(connection: Connection, options: AutogenerateOptions) -> DbSchema:
    hook = options.include_name
    default_schema = connection.dialect.default_schema_name

    def keep_schema(name: str) -> bool:
        return hook is None or bool(hook(name, "schema", {}))

    def keep_table(name: str, schema: str | None) -> bool:
        if options.skips_table(name, schema, default_schema):
            return False
        return hook is None or bool(hook(name, "table", {"schema_name": schema}))

    return reflect_schema(
        connection,
        include_schemas=options.include_schemas,
        keep_schema=keep_schema,
        keep_table=keep_table,
    )


def _build(
    dialect: Dialect,
    db: DbSchema,
    metadatas: list[MetaData],
    options: AutogenerateOptions,
    resolver: RenameResolver,
) -> MigrationScript:
    ctx = CompareContext(dialect, options, db)
    tables = model_tables(ctx, (t for m in metadatas for t in m.sorted_tables))
    upgrade = compare_schema(ctx, tables, resolver)
    resolver.check_all_used()
    diffs = diffs_of(upgrade, dialect)
    upgrade = to_batch(
        upgrade, dialect_name=dialect.name, render_as_batch=options.render_as_batch, db=db
    )
    downgrade = tidy(reverse_ops(upgrade))
    return MigrationScript(
        upgrade_ops=tuple(tidy(upgrade)),
        downgrade_ops=tuple(downgrade),
        diffs=tuple(diffs),
        renames=tuple(resolver.accepted),
        suspected_renames=tuple(_unique(resolver.suspected, resolver.accepted)),
        dialect=dialect,
    )


def _unique(suspected: list[Rename], accepted: list[Rename]) -> list[Rename]:
    done = {(r.kind, r.schema, r.old) for r in accepted}
    out: list[Rename] = []
    for r in suspected:
        if (r.kind, r.schema, r.old) not in done and r not in out:
            out.append(r)
    return out


def produce_migrations(
    connection: Connection,
    metadata: MetaData | Sequence[MetaData],
    *,
    options: AutogenerateOptions | None = None,
    renames: Sequence[str] = (),
    prompt: RenamePrompt | None = None,
) -> MigrationScript:
    """Compare ``metadata`` with the database and return the migration that joins them.

    Synchronous: call it with a ``Connection``, or through
    ``await async_connection.run_sync(produce_migrations, metadata, ...)``.

    Args:
        connection: the database to compare.
        metadata: the models: one ``MetaData`` or several.
        options: what to compare and how (:class:`AutogenerateOptions`).
        renames: renames given in advance, ``"old:new"`` each.
        prompt: asked about each possible rename not given in advance
            (``"Rename users.fullname → users.full_name?"``); ``None`` asks nothing.

    Raises:
        ConfigError: ``metadata`` is not a ``MetaData`` or a sequence of them.
        UsageError: a rename is malformed or matches no dropped and added pair.
    """
    options = options or AutogenerateOptions()
    metadatas = _metadatas(metadata)
    resolver = RenameResolver(parse_renames(renames), prompt)
    with _collector_paused():
        db = _reflect(connection, options)
        return _build(connection.dialect, db, metadatas, options, resolver)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector off while a comparison runs.

    Reflecting and comparing 1,000 tables makes hundreds of thousands of small
    containers that live until the comparison ends; each full collection meanwhile
    walks every object of the application too (the models, SQLAlchemy's caches):
    about 0.3 s apiece with a 1,000-table model loaded, for nothing to free. Reference
    counting still frees everything as usual; the collector resumes afterwards (if it
    was on), as Mercurial does around its bulk parsing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compare_metadata(
    connection: Connection,
    metadata: MetaData | Sequence[MetaData],
    *,
    options: AutogenerateOptions | None = None,
) -> list[Diff]:
    """The differences between ``metadata`` and the database (no renames assumed).

    Raises:
        ConfigError: ``metadata`` is not a ``MetaData`` or a sequence of them.
    """
    return list(produce_migrations(connection, metadata, options=options).diffs)


# -- asynchronous API: the commands --------------------------------------------------


def _options(config: Config, options: AutogenerateOptions | None) -> AutogenerateOptions:
    # Python's options win as a whole; else the configuration's (file and CLI).
    if options is None:
        found = config.attributes.get("autogenerate_options")
        options = found if isinstance(found, AutogenerateOptions) else options_from_config(config)
    own = (*options.skip_tables, config.version_table, config.history_table)
    return replace(options, skip_tables=tuple(dict.fromkeys(own)))


def _target(config: Config, metadata: MetaData | Sequence[MetaData] | None) -> list[MetaData]:
    if metadata is None:
        metadata = config.attributes.get("target_metadata")
    if metadata is None:
        metadata = config.resolve_target_metadata()
    return _metadatas(metadata)


async def _compare(
    config: Config,
    *,
    metadata: MetaData | Sequence[MetaData] | None,
    options: AutogenerateOptions | None,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
    graph: RevisionGraph,
    require_head: bool,
    renames: Sequence[str],
    prompt: RenamePrompt | AsyncRenamePrompt | None,
) -> tuple[MigrationScript, str]:
    import anyio.to_thread

    from whimbrel.commands.database import read_heads as _read_heads
    from whimbrel.runtime.connection import connect

    opts = _options(config, options)
    metadatas = _target(config, metadata)
    resolver_specs = parse_renames(renames)
    async with connect(config, connection=connection, engine=engine, read_only=True) as conn:
        if require_head:
            _, heads = await _read_heads(config, conn.connection)
            known = [h for h in heads if h in graph]
            if len(known) != len(heads) or len(graph.applied(known)) != len(graph):
                current = ", ".join(heads) or "base (empty)"
                raise CommandError(
                    f"{NOT_UP_TO_DATE} (it is at {current}; the scripts' heads are "
                    f"{', '.join(graph.heads) or 'none'})"
                )
        db = await conn.connection.run_sync(_reflect, opts)
        dialect = conn.connection.dialect
        database = conn.database
        if not conn.shared and conn.connection.in_transaction():
            await conn.connection.rollback()
    sync_prompt = _sync_prompt(prompt)
    resolver = RenameResolver(resolver_specs, sync_prompt)
    if sync_prompt is None:
        script = _build(dialect, db, metadatas, opts, resolver)
    else:
        # The prompt blocks on a person: keep it off the event loop.
        script = await anyio.to_thread.run_sync(_build, dialect, db, metadatas, opts, resolver)
    return script, database


def _sync_prompt(prompt: RenamePrompt | AsyncRenamePrompt | None) -> RenamePrompt | None:
    if prompt is None or not pyinspect.iscoroutinefunction(prompt):
        return prompt  # type: ignore[return-value]
    import anyio.from_thread

    async_prompt: AsyncRenamePrompt = prompt

    async def asked(question: str) -> bool:
        return bool(await async_prompt(question))

    def ask(question: str) -> bool:
        return anyio.from_thread.run(asked, question)

    return ask


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


async def check(
    config: Config,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    metadata: MetaData | Sequence[MetaData] | None = None,
    options: AutogenerateOptions | None = None,
    require_head: bool = True,
) -> CheckResult:
    """Compare the models (``target_metadata``) with the database. Changes nothing.

    Args:
        config: the project configuration.
        connection: run on this connection (see :func:`whimbrel.command.upgrade`).
        engine: run on this engine.
        metadata: the models, instead of ``config.attributes["target_metadata"]`` or
            the configured ``target_metadata``.
        options: instead of ``config.attributes["autogenerate_options"]``.
        require_head: refuse a database that is not at the head revisions.

    Raises:
        CommandError: the database is not up to date (``require_head``).
        ConfigError: ``target_metadata`` is not set or cannot be imported.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.commands.scripts import load_scripts as _load

    _, graph = await _load(config)
    script, database = await _compare(
        config,
        metadata=metadata,
        options=options,
        connection=connection,
        engine=engine,
        graph=graph,
        require_head=require_head,
        renames=(),
        prompt=None,
    )
    diffs = script.diffs
    return CheckResult(
        database=database,
        ok=not diffs,
        messages=tuple(d.message for d in diffs),
        diffs=diffs,
        destructive=tuple(d.message for d in diffs if d.destructive),
        manual=tuple(d.message for d in diffs if d.manual),
    )


async def autogenerate_revision(
    config: Config,
    *,
    message: str | None = None,
    renames: Sequence[str] = (),
    prompt: RenamePrompt | AsyncRenamePrompt | None = None,
    interactive: bool | None = None,
    allow_empty: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    head: str = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    version_path: str | Path | None = None,
    rev_id: str | None = None,
    depends_on: str | Sequence[str] | None = None,
    metadata: MetaData | Sequence[MetaData] | None = None,
    options: AutogenerateOptions | None = None,
) -> AutogenerateResult:
    """Write a revision file that migrates the database to the models.

    Compares ``target_metadata`` with the database (which must be at head), writes
    the upgrade and its reverse as the downgrade, and returns what it found.

    Args:
        config: the project configuration.
        message: the revision's message.
        renames: renames given in advance, ``"old:new"`` each (``users:people``,
            ``users.fullname:users.full_name``).
        prompt: asked about each possible rename not given in advance; returns
            ``True`` for a rename. May be ``async``.
        interactive: without ``prompt``, ask on the terminal (``[y/N]``);
            ``None`` (default) asks when stdin and stdout are terminals.
        allow_empty: write a revision even when nothing differs.
        connection: run on this connection (see :func:`whimbrel.command.upgrade`).
        engine: run on this engine.
        head: the revision the new one follows (as for ``revision``).
        splice: allow ``head`` to be a non-head revision.
        branch_label: label(s) for the new revision.
        version_path: the version location to write into.
        rev_id: use this id instead of a generated one.
        depends_on: revisions or labels the new revision depends on.
        metadata: the models, instead of the configured ``target_metadata``.
        options: instead of ``config.attributes["autogenerate_options"]``.

    Raises:
        CommandError: the database is not up to date ("database is not up to date;
            run whimbrel upgrade first"), nothing differs and ``allow_empty`` is
            off, or ``head``/``rev_id``/labels are unusable (as for ``revision``).
        UsageError: a rename is malformed or matches nothing.
        MultipleHeadsError: ``head`` where several heads exist.
        ConfigError: ``target_metadata`` is not set or cannot be imported.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.commands.scripts import as_tuple as _as_tuple
    from whimbrel.commands.scripts import load_scripts as _load
    from whimbrel.commands.scripts import parents_of_new_revision
    from whimbrel.commands.scripts import resolve_depends_on as _resolve_depends_on
    from whimbrel.commands.scripts import revision_info as _info

    scripts, graph = await _load(config)
    downs = parents_of_new_revision(graph, head, splice=splice)
    labels = _as_tuple(branch_label)
    for label_ in labels:
        owner = graph.label_owner(label_)
        if owner is not None or label_ in graph:
            raise CommandError(
                f"branch label {label_!r} is already used by revision {owner or label_}"
            )
    if rev_id is not None and rev_id in graph:
        raise CommandError(f"revision id {rev_id!r} already exists; choose another")
    depends = _resolve_depends_on(graph, _as_tuple(depends_on))
    if prompt is None and (interactive if interactive is not None else _interactive()):
        prompt = terminal_prompt
    script, database = await _compare(
        config,
        metadata=metadata,
        options=options,
        connection=connection,
        engine=engine,
        graph=graph,
        require_head=True,
        renames=renames,
        prompt=prompt,
    )
    if script.is_empty and not allow_empty:
        raise CommandError(
            "no changes detected: the database matches the models, so no revision was "
            "written (pass --allow-empty to write an empty one)"
        )
    opts = _options(config, options)
    rendered = script.render(options=opts)
    path = None
    if version_path is not None:
        path = Path(version_path)
        if not path.is_absolute():
            base = config.config_file.parent if config.config_file else Path.cwd()
            path = (base / path).resolve()
    written = scripts.generate_revision(
        rev_id=rev_id,
        message=message,
        down_revisions=downs,
        branch_labels=labels,
        depends_on=depends,
        version_path=path,
        upgrade_body=rendered.upgrade_body,
        downgrade_body=rendered.downgrade_body,
        imports=rendered.imports,
    )
    scripts.invalidate()
    _, new_graph = await _load(config)
    info = _info(scripts, new_graph, written.revision.revision)
    diffs = script.diffs
    return AutogenerateResult(
        revision=info,
        path=info.path,
        database=database,
        messages=tuple(d.message for d in diffs),
        diffs=diffs,
        destructive=tuple(d.message for d in diffs if d.destructive),
        manual=tuple(d.message for d in diffs if d.manual),
        renames=script.renames,
        suspected_renames=script.suspected_renames,
    )
