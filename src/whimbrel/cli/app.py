"""The ``whimbrel`` command line: a typer app over :mod:`whimbrel.command`.

Each subcommand loads the configuration, runs its coroutine with ``anyio.run`` and
renders the result. Errors become exit codes here and only here: a
:class:`~whimbrel.errors.WhimbrelError` prints one line and exits 1 (2 for bad
usage); ``--traceback`` shows the whole story instead.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from whimbrel import command
from whimbrel._version import __version__
from whimbrel.cli import output
from whimbrel.config import Config, ConfigWarning, mask_url
from whimbrel.errors import UsageError, WhimbrelError

T = TypeVar("T")

app = typer.Typer(
    name="whimbrel",
    help="Async-first database migrations for SQLAlchemy.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    config: Path | None
    url: str | None
    x_args: tuple[str, ...]
    quiet: bool
    traceback: bool


def _version(value: bool) -> None:
    if value:
        print(f"whimbrel {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "-c",
            "--config",
            help="Configuration file (whimbrel.toml or pyproject.toml). "
            "Default: $WHIMBREL_CONFIG, else found by walking up from the current directory.",
            show_default=False,
            metavar="PATH",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="Database URL; overrides $WHIMBREL_URL and the config.", metavar="URL"
        ),
    ] = None,
    x: Annotated[
        list[str] | None,
        typer.Option(
            "-x", help="key=value argument for env.py hooks; repeatable.", metavar="KEY=VALUE"
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only errors.")] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full traceback on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Async-first database migrations for SQLAlchemy."""
    ctx.obj = GlobalOptions(
        config=config, url=url, x_args=tuple(x or ()), quiet=quiet, traceback=traceback
    )


def _options(ctx: typer.Context) -> GlobalOptions:
    opts = ctx.find_root().obj
    assert isinstance(opts, GlobalOptions)  # set by main_options before any subcommand
    return opts


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


def _mask_urls(message: str) -> str:
    """Hide the password of every URL in a message, and touch nothing else."""
    return _URL.sub(lambda m: mask_url(m.group()), message)


def _fail(opts: GlobalOptions, exc: BaseException, code: int) -> typer.Exit:
    if opts.traceback:
        raise exc
    print(f"whimbrel: error: {_mask_urls(str(exc))}", file=sys.stderr)
    return typer.Exit(code)


def _load_config(opts: GlobalOptions) -> Config:
    with warnings.catch_warnings():
        # The CLI prints the configuration's warnings itself, as one line each.
        warnings.simplefilter("ignore", ConfigWarning)
        cfg = Config.load(opts.config, url=opts.url, x_args=opts.x_args)
    if not opts.quiet:
        for message in cfg.warnings:
            print(f"whimbrel: warning: {message}", file=sys.stderr)
    return cfg


_RELATIVE_ARG = re.compile(r"^-\d+$")


def _check_identifiers(args: tuple[Any, ...], command_name: str | None) -> None:
    """Identifiers may start with '-' (-1), options may not pass as identifiers."""
    for arg in args:
        for item in arg if isinstance(arg, list) else [arg]:
            if isinstance(item, str) and item.startswith("-") and not _RELATIVE_ARG.match(item):
                raise UsageError(
                    f"no such option: {item}; see 'whimbrel {command_name or 'COMMAND'} --help'"
                )


def _run(ctx: typer.Context, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Load the configuration, await ``fn(config, *args, **kwargs)``, map errors."""
    import anyio

    opts = _options(ctx)
    try:
        _check_identifiers(args, ctx.info_name)
        cfg = _load_config(opts)
        return anyio.run(functools.partial(fn, cfg, *args, **kwargs))
    except UsageError as exc:
        raise _fail(opts, exc, 2) from None
    except WhimbrelError as exc:
        raise _fail(opts, exc, 1) from None
    except KeyboardInterrupt:
        raise _fail(opts, KeyboardInterrupt("interrupted"), 130) from None


def _emit(ctx: typer.Context, text: str) -> None:
    if not _options(ctx).quiet and text:
        print(text)


# Relative identifiers such as -1 are arguments, not options.
_REVISION_ARGS = {"ignore_unknown_options": True}

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
VerboseOption = Annotated[bool, typer.Option("-v", "--verbose", help="Show full details.")]


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
    as_json: JsonOption = False,
) -> None:
    """Create a new revision file (with --autogenerate: from the models' differences)."""
    if autogenerate:
        generated = _run(
            ctx,
            command.autogenerate,
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
    if rename or allow_empty:
        raise _fail(_options(ctx), UsageError("--rename and --allow-empty need --autogenerate"), 2)
    result = _run(
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
    result = _run(
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


@app.command(context_settings=_REVISION_ARGS)
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


def _finish_many(ctx: typer.Context, many: Any, as_json: bool) -> None:
    _emit(ctx, output.render(many, as_json=as_json))
    if not many.ok:
        raise typer.Exit(1)


RevisionArg = Annotated[
    str, typer.Argument(help="Target revision (heads, head, id, label@head, +N).")
]


@app.command(context_settings=_REVISION_ARGS)
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
    as_json: JsonOption = False,
) -> None:
    """Upgrade the database to a later revision (default: every head)."""
    if all_targets:
        many = _run(
            ctx,
            command.upgrade_many,
            revision,
            concurrency=concurrency,
            stop_on_error=stop_on_error,
            on_target=_target_progress(ctx),
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


@app.command(context_settings=_REVISION_ARGS)
def downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision (base, id, -N, label@base).")],
    no_lock: NoLockOption = False,
    as_json: JsonOption = False,
) -> None:
    """Revert the database to an earlier revision."""
    result = _run(ctx, command.downgrade, revision, on_step=_progress(ctx), lock=not no_lock)
    _emit(ctx, output.render(result, as_json=as_json))


@app.command(context_settings=_REVISION_ARGS)
def stamp(
    ctx: typer.Context,
    revisions: Annotated[list[str], typer.Argument(help="Revision(s) to record, or base.")],
    purge: Annotated[
        bool, typer.Option("--purge", help="Delete every version row first.")
    ] = False,
    no_lock: NoLockOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set the version table to the given revision(s) without running migrations."""
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
        many = _run(ctx, command.current_many, concurrency=concurrency)
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


@app.command()
def check(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Compare the models with the database; exit 1 and list the differences if any."""
    result = _run(ctx, command.check)
    _emit(ctx, output.render(result, as_json=as_json))
    if not result.ok:
        raise typer.Exit(1)


@app.command(context_settings=_REVISION_ARGS)
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


@app.command(context_settings=_REVISION_ARGS)
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


@app.command("ensure-version")
def ensure_version(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Create the version and history tables if they do not exist."""
    result = _run(ctx, command.ensure_version)
    _emit(ctx, output.render(result, as_json=as_json))


_GLOBAL_FLAGS = frozenset({"-q", "--quiet", "--traceback"})
_GLOBAL_VALUED = frozenset({"-c", "--config", "--url", "-x"})


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options written after the subcommand to before it.

    ``whimbrel upgrade heads -q`` then means ``whimbrel -q upgrade heads``, instead
    of treating ``-q`` as a revision identifier.
    """
    names = set(app_command_names())
    try:
        at = next(i for i, arg in enumerate(argv) if arg in names)
    except StopIteration:
        return argv
    head, rest, moved = argv[:at], argv[at:], []
    kept: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            kept.extend(rest[i:])
            break
        name = arg.split("=", 1)[0]
        if arg in _GLOBAL_FLAGS:
            moved.append(arg)
        elif name in _GLOBAL_VALUED and "=" in arg:
            moved.append(arg)
        elif arg in _GLOBAL_VALUED and i + 1 < len(rest):
            moved.extend(rest[i : i + 2])
            i += 1
        else:
            kept.append(arg)
        i += 1
    return [*head, *moved, *kept]


def app_command_names() -> list[str]:
    """The names of every subcommand."""
    return [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]


def main() -> None:
    """Entry point of the ``whimbrel`` console script."""
    app(args=hoist_global_options(sys.argv[1:]), prog_name="whimbrel")
