"""Subcommands that read and write revision files."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from whimbrel import command
from whimbrel.cli import output
from whimbrel.cli.app import (
    _REVISION_ARGS,
    JsonOption,
    RevisionCommand,
    VerboseOption,
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
    DetectRenamesFlag,
    ExcludeTableFlag,
    IncludeSchemasFlag,
    RenderAsBatchFlag,
    settings_from_flags,
    with_settings,
)
from whimbrel.config import AutogenerateSettings, Config
from whimbrel.errors import UsageError, WhimbrelError

T = TypeVar("T")


def _run_writing(
    ctx: typer.Context, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
) -> T:
    """``_run`` for a command that writes a revision: hook warnings become one line each."""
    from whimbrel.script.hooks import PostWriteHookWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PostWriteHookWarning)
        try:
            return _run(ctx, fn, *args, **kwargs)
        finally:
            for warning in caught:
                if not issubclass(warning.category, PostWriteHookWarning):
                    warnings.showwarning(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )
                elif not _options(ctx).quiet:
                    print(f"whimbrel: warning: {warning.message}", file=sys.stderr)


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[str, typer.Argument(help="The script directory to create.")],
    template: Annotated[
        str, typer.Option("-t", "--template", help="Project template (see list-templates).")
    ] = "default",
    package: Annotated[
        bool, typer.Option("--package", help="Write __init__.py files in the new directories.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a new migration environment: configuration, template and versions directory."""
    import anyio

    opts = _options(ctx)
    cfg = Config(config_file=opts.config.resolve()) if opts.config else None
    try:
        result = anyio.run(
            functools.partial(command.init, cfg, directory, template=template, package=package)
        )
    except WhimbrelError as exc:
        raise _fail(opts, exc, 2 if isinstance(exc, UsageError) else 1) from None
    _emit(ctx, output.render(result, as_json=as_json))


def list_templates(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the project templates that init can use."""
    import anyio

    result = anyio.run(command.list_templates, None)
    _emit(ctx, output.render(result, as_json=as_json))


app.command("list-templates")(list_templates)
app.command("list_templates", hidden=True)(list_templates)


@app.command()
def revision(
    ctx: typer.Context,
    message: Annotated[
        str | None, typer.Option("-m", "--message", help="Message (docstring and file slug).")
    ] = None,
    head: Annotated[
        str, typer.Option("--head", help="Revision the new one follows: head, base, label@head.")
    ] = "head",
    splice: Annotated[
        bool, typer.Option("--splice", help="Allow --head to name a non-head (new branch).")
    ] = False,
    branch_label: Annotated[
        list[str] | None, typer.Option("--branch-label", help="Branch label; repeatable.")
    ] = None,
    depends_on: Annotated[
        list[str] | None,
        typer.Option("--depends-on", help="Revision or label this one depends on; repeatable."),
    ] = None,
    version_path: Annotated[
        Path | None, typer.Option("--version-path", help="Version location to write into.")
    ] = None,
    rev_id: Annotated[
        str | None, typer.Option("--rev-id", help="Use this revision id instead of a new one.")
    ] = None,
    autogenerate: Annotated[
        bool,
        typer.Option(
            "--autogenerate", help="Write the changes that bring the database to the models."
        ),
    ] = False,
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename",
            help="With --autogenerate: old:new (table or table.column); repeatable.",
            metavar="OLD:NEW",
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="With --autogenerate: write even if nothing differs."),
    ] = False,
    include_schemas: IncludeSchemasFlag = None,
    compare_type: CompareTypeFlag = None,
    compare_server_default: CompareServerDefaultFlag = None,
    compare_comments: CompareCommentsFlag = None,
    exclude_table: ExcludeTableFlag = None,
    render_as_batch: RenderAsBatchFlag = None,
    detect_renames: DetectRenamesFlag = None,
    as_json: JsonOption = False,
) -> None:
    """Create a new revision file (with --autogenerate: from the models' differences)."""
    settings = settings_from_flags(
        include_schemas=include_schemas,
        compare_type=compare_type,
        compare_server_default=compare_server_default,
        compare_comments=compare_comments,
        exclude_tables=exclude_table,
        render_as_batch=render_as_batch,
        detect_renames=detect_renames,
    )
    if autogenerate:
        generated = _run_writing(
            ctx,
            with_settings,
            command.autogenerate,
            settings,
            message=message,
            head=head,
            splice=splice,
            branch_label=branch_label,
            depends_on=depends_on,
            version_path=version_path,
            rev_id=rev_id,
            renames=rename or (),
            allow_empty=allow_empty,
        )
        _emit(ctx, output.render(generated, as_json=as_json))
        return
    if rename or allow_empty or settings != AutogenerateSettings():
        raise _fail(
            _options(ctx),
            UsageError("--rename, --allow-empty and the comparison flags need --autogenerate"),
            2,
        )
    result = _run_writing(
        ctx,
        command.revision,
        message=message,
        head=head,
        splice=splice,
        branch_label=branch_label,
        depends_on=depends_on,
        version_path=version_path,
        rev_id=rev_id,
    )
    _emit(ctx, output.render_generated(result, as_json=as_json))


@app.command()
def merge(
    ctx: typer.Context,
    revisions: Annotated[
        list[str] | None, typer.Argument(help="Revisions to merge (default: heads).")
    ] = None,
    message: Annotated[str | None, typer.Option("-m", "--message", help="Message.")] = None,
    branch_label: Annotated[
        list[str] | None, typer.Option("--branch-label", help="Branch label; repeatable.")
    ] = None,
    rev_id: Annotated[str | None, typer.Option("--rev-id", help="Revision id to use.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a merge revision joining two or more revisions."""
    result = _run_writing(
        ctx,
        command.merge,
        revisions or ["heads"],
        message=message,
        branch_label=branch_label,
        rev_id=rev_id,
    )
    _emit(ctx, output.render_generated(result, as_json=as_json))


@app.command()
def heads(
    ctx: typer.Context,
    verbose: VerboseOption = False,
    resolve_dependencies: Annotated[
        bool,
        typer.Option("--resolve-dependencies", help="Leave out heads others depend on."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the head revisions of the script directory."""
    result = _run(ctx, command.heads, resolve_dependencies=resolve_dependencies)
    _emit(ctx, output.render(result, as_json=as_json, verbose=verbose))


@app.command()
def branches(
    ctx: typer.Context, verbose: VerboseOption = False, as_json: JsonOption = False
) -> None:
    """Show the branch points of the script directory."""
    result = _run(ctx, command.branches)
    _emit(ctx, output.render(result, as_json=as_json, verbose=verbose))


@app.command()
def history(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None, typer.Option("-r", "--rev-range", help="Range start:end (start older).")
    ] = None,
    verbose: VerboseOption = False,
    indicate_current: Annotated[
        bool,
        typer.Option("-i", "--indicate-current", help="Mark the database's current revisions."),
    ] = False,
    graph: Annotated[
        bool, typer.Option("--graph", "-g", help="Draw the branches and merges.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show revisions, newest first."""
    result = _run(ctx, command.history, rev_range=rev_range, indicate_current=indicate_current)
    if graph and not as_json and not verbose:
        _emit(ctx, output.render_graph(result))
        return
    _emit(ctx, output.render(result, as_json=as_json, verbose=verbose))


@app.command(context_settings=_REVISION_ARGS, cls=RevisionCommand)
def show(
    ctx: typer.Context,
    rev: Annotated[list[str], typer.Argument(help="Revision identifier(s), e.g. head.")],
    as_json: JsonOption = False,
) -> None:
    """Show the details of a revision."""
    result = _run(ctx, command.show, rev)
    _emit(ctx, output.render(result, as_json=as_json, verbose=True))


@app.command()
def edit(
    ctx: typer.Context,
    rev: Annotated[str, typer.Argument(help="Revision to edit.")] = "head",
    as_json: JsonOption = False,
) -> None:
    """Open a revision file in $VISUAL or $EDITOR."""
    result = _run(ctx, command.edit, rev)
    _emit(ctx, output.render(result, as_json=as_json))
