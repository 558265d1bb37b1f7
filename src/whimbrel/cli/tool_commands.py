"""Subcommands for autogenerate, lint, plan and adopt."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from whimbrel import command
from whimbrel.cli import output
from whimbrel.cli.app import (
    _REVISION_ARGS,
    JsonOption,
    RevisionArg,
    RevisionCommand,
    _emit,
    _fail,
    _options,
    _run,
    app,
)
from whimbrel.cli.autogenerate_flags import (
    CompareCommentsFlag,
    CompareServerDefaultFlag,
    CompareTypeFlag,
    ExcludeTableFlag,
    IncludeSchemasFlag,
    settings_from_flags,
    with_settings,
)
from whimbrel.errors import UsageError, WhimbrelError


@app.command()
def check(
    ctx: typer.Context,
    all_targets: Annotated[
        bool, typer.Option("--all", help="Every configured target (targets, tenant_schemas).")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="With --all: targets checked at once.", min=1)
    ] = 8,
    include_schemas: IncludeSchemasFlag = None,
    compare_type: CompareTypeFlag = None,
    compare_server_default: CompareServerDefaultFlag = None,
    compare_comments: CompareCommentsFlag = None,
    exclude_table: ExcludeTableFlag = None,
    as_json: JsonOption = False,
) -> None:
    """Compare the models with the database; exit 1 and list the differences if any."""
    settings = settings_from_flags(
        include_schemas=include_schemas,
        compare_type=compare_type,
        compare_server_default=compare_server_default,
        compare_comments=compare_comments,
        exclude_tables=exclude_table,
    )
    if all_targets:
        many = _run(ctx, with_settings, command.check_many, settings, concurrency=concurrency)
        _emit(ctx, output.render(many, as_json=as_json))
        if not many.ok:
            raise typer.Exit(1)
        return
    result = _run(ctx, with_settings, command.check, settings)
    _emit(ctx, output.render(result, as_json=as_json))
    if not result.ok:
        raise typer.Exit(1)


@app.command(context_settings=_REVISION_ARGS, cls=RevisionCommand)
def lint(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None,
        typer.Argument(help="Revisions to lint (start:end); default: those not yet applied."),
    ] = None,
    dialect: Annotated[
        str | None,
        typer.Option("--dialect", help="Lint for this dialect (default: the database's)."),
    ] = None,
    server_version: Annotated[
        str | None,
        typer.Option("--server-version", help="Assume this server version, e.g. 11 or 15.4."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check revisions for statements that lock tables or break deploys; exit 1 on errors."""
    version = _version_tuple(server_version)
    result = _run(ctx, command.lint, rev_range, dialect=dialect, server_version=version)
    _emit(ctx, output.render(result, as_json=as_json))
    if not result.ok:
        raise typer.Exit(1)


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        raise UsageError(
            f"--server-version {text!r} is not a version such as 15 or 11.4"
        ) from None


@app.command(context_settings=_REVISION_ARGS, cls=RevisionCommand)
def plan(ctx: typer.Context, revision: RevisionArg = "heads", as_json: JsonOption = False) -> None:
    """Show what upgrade would run: each step's SQL, transaction and locks. Changes nothing."""
    result = _run(ctx, command.plan, revision)
    _emit(ctx, output.render(result, as_json=as_json))


@app.command()
def adopt(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="The Alembic project's directory (holding alembic.ini).")
    ] = Path(),
    alembic_ini: Annotated[
        Path | None, typer.Option("--alembic-ini", help="The Alembic ini file.", metavar="PATH")
    ] = None,
    name: Annotated[
        str, typer.Option("-n", "--name", help="The ini section (alembic -n).")
    ] = "alembic",
    into: Annotated[
        Path | None,
        typer.Option(
            "--into", help="Write here (a pyproject.toml gets [tool.whimbrel]).", metavar="PATH"
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the configuration; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a Whimbrel configuration for an Alembic project; change nothing else."""
    import anyio

    opts = _options(ctx)
    try:
        result = anyio.run(
            functools.partial(
                command.adopt,
                directory,
                alembic_ini=alembic_ini,
                ini_section=name,
                into=into,
                write=not dry_run,
            )
        )
    except WhimbrelError as exc:
        raise _fail(opts, exc, 2 if isinstance(exc, UsageError) else 1) from None
    _emit(ctx, output.render(result, as_json=as_json))
