"""Subcommands that migrate or read a database."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from whimbrel import command
from whimbrel.cli import output
from whimbrel.cli.app import (
    _REVISION_ARGS,
    JsonOption,
    RevisionArg,
    RevisionCommand,
    VerboseOption,
    _emit,
    _options,
    _run,
    app,
)
from whimbrel.errors import OfflineSQLError, OfflineSQLWarning

if TYPE_CHECKING:
    from whimbrel.config import Config
    from whimbrel.results import OfflineSQLResult


def _progress(ctx: typer.Context) -> Callable[[Any], None] | None:
    """A step listener: a progress bar on a terminal, one line per step otherwise."""
    if _options(ctx).quiet:
        return None
    if sys.stderr.isatty():

        def bar(event: Any) -> None:
            line = output.render_progress(event, done=event.phase == "end")
            end = "\n" if event.phase == "end" and event.index == event.total else ""
            print(f"\r\x1b[2K{line}", end=end, file=sys.stderr, flush=True)

        return bar

    def show(event: Any) -> None:
        if event.phase == "end":
            print(output.render_step(event), file=sys.stderr)

    return show


NoLockOption = Annotated[
    bool,
    typer.Option("--no-lock", help="Do not take the migration lock (one runner only!)."),
]

AllOption = Annotated[
    bool,
    typer.Option("--all", help="Every configured target (targets, tenant_schemas)."),
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", help="With --all: targets run at once.", min=1)
]


def _target_progress(ctx: typer.Context) -> Callable[[Any], None] | None:
    """A target listener printing one line per finished target to stderr."""
    if _options(ctx).quiet:
        return None

    def show(outcome: Any) -> None:
        print(output.render_target(outcome), file=sys.stderr)

    return show


SqlOption = Annotated[
    bool,
    typer.Option(
        "--sql",
        help="Print the SQL script instead of running it (offline SQL: connects to "
        "nothing; the dialect comes from the URL). Takes a range FROM:TO.",
    ),
]


async def _upgrade_sql(cfg: Config, revision: str) -> OfflineSQLResult:
    return await command.upgrade(cfg, revision, sql=True)


async def _downgrade_sql(cfg: Config, revision: str) -> OfflineSQLResult:
    return await command.downgrade(cfg, revision, sql=True)


async def _stamp_sql(cfg: Config, revisions: Sequence[str], purge: bool) -> OfflineSQLResult:
    return await command.stamp(cfg, revisions, purge=purge, sql=True)


def _offline(
    ctx: typer.Context,
    fn: Callable[..., Awaitable[OfflineSQLResult]],
    *args: Any,
    as_json: bool,
) -> None:
    """Print the SQL on stdout (pipe it to psql), each left-out step on stderr."""
    with warnings.catch_warnings():
        # The notes are printed below, one line each, instead of Python's format.
        warnings.simplefilter("ignore", OfflineSQLWarning)
        result = _run(ctx, fn, *args)
    if not _options(ctx).quiet:
        for note in result.notes:
            print(f"whimbrel: warning: {note}", file=sys.stderr)
    if as_json:
        print(output.render(result, as_json=True))
    else:
        sys.stdout.write(result.sql)


async def _refuse(cfg: Config, *, message: str) -> None:
    raise OfflineSQLError(message)


def _finish_many(ctx: typer.Context, many: Any, as_json: bool) -> None:
    _emit(ctx, output.render(many, as_json=as_json))
    if not many.ok:
        raise typer.Exit(1)


@app.command(context_settings=_REVISION_ARGS, cls=RevisionCommand)
def upgrade(
    ctx: typer.Context,
    revision: RevisionArg = "heads",
    no_lock: NoLockOption = False,
    allow_changed: Annotated[
        bool,
        typer.Option("--allow-changed", help="Run even if applied revision files were edited."),
    ] = False,
    all_targets: AllOption = False,
    concurrency: ConcurrencyOption = 8,
    stop_on_error: Annotated[
        bool, typer.Option("--stop-on-error", help="With --all: stop at the first failure.")
    ] = False,
    sql: SqlOption = False,
    as_json: JsonOption = False,
) -> None:
    """Upgrade the database to a later revision (default: every head)."""
    if sql:
        if all_targets:
            _run(ctx, _refuse, message="--sql writes the script of one database; leave out --all")
        _offline(ctx, _upgrade_sql, revision, as_json=as_json)
        return
    if all_targets:
        many = _run(
            ctx,
            command.upgrade_many,
            revision,
            concurrency=concurrency,
            stop_on_error=stop_on_error,
            on_target=_target_progress(ctx),
            lock=not no_lock,
            allow_changed=allow_changed,
        )
        _finish_many(ctx, many, as_json)
        return
    result = _run(
        ctx,
        command.upgrade,
        revision,
        on_step=_progress(ctx),
        lock=not no_lock,
        allow_changed=allow_changed,
    )
    _emit(ctx, output.render(result, as_json=as_json))


@app.command(context_settings=_REVISION_ARGS, cls=RevisionCommand)
def downgrade(
    ctx: typer.Context,
    revision: Annotated[
        str,
        typer.Argument(help="Target revision (base, id, -N, label@base); FROM:TO with --sql."),
    ],
    no_lock: NoLockOption = False,
    sql: SqlOption = False,
    as_json: JsonOption = False,
) -> None:
    """Revert the database to an earlier revision."""
    if sql:
        _offline(ctx, _downgrade_sql, revision, as_json=as_json)
        return
    result = _run(ctx, command.downgrade, revision, on_step=_progress(ctx), lock=not no_lock)
    _emit(ctx, output.render(result, as_json=as_json))


@app.command(context_settings=_REVISION_ARGS, cls=RevisionCommand)
def stamp(
    ctx: typer.Context,
    revisions: Annotated[list[str], typer.Argument(help="Revision(s) to record, or base.")],
    purge: Annotated[
        bool, typer.Option("--purge", help="Delete every version row first.")
    ] = False,
    no_lock: NoLockOption = False,
    sql: SqlOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set the version table to the given revision(s) without running migrations."""
    if sql:
        _offline(ctx, _stamp_sql, revisions, purge, as_json=as_json)
        return
    result = _run(ctx, command.stamp, revisions, purge=purge, lock=not no_lock)
    _emit(ctx, output.render(result, as_json=as_json))


@app.command()
def current(
    ctx: typer.Context,
    verbose: VerboseOption = False,
    check_heads: Annotated[
        bool,
        typer.Option("--check-heads", help="Exit with code 1 unless the database is at head."),
    ] = False,
    all_targets: AllOption = False,
    concurrency: ConcurrencyOption = 8,
    as_json: JsonOption = False,
) -> None:
    """Show the revision(s) the database is at."""
    if all_targets:
        many = _run(ctx, command.current_many, concurrency=concurrency, check_heads=check_heads)
        _finish_many(ctx, many, as_json)
        return
    result = _run(ctx, command.current, check_heads=check_heads)
    _emit(ctx, output.render(result, as_json=as_json, verbose=verbose))


@app.command()
def verify(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check applied revision files against their checksums; exit 1 on any finding."""
    result = _run(ctx, command.verify)
    _emit(ctx, output.render(result, as_json=as_json))
    if not result.ok:
        raise typer.Exit(1)


@app.command("ensure-version")
def ensure_version(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Create the version and history tables if they do not exist."""
    result = _run(ctx, command.ensure_version)
    _emit(ctx, output.render(result, as_json=as_json))
