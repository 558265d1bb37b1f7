"""The ``whimbrel`` command line: a typer app over :mod:`whimbrel.command`.

Each subcommand loads the configuration, runs its coroutine with ``anyio.run`` and
renders the result. Errors become exit codes here and only here: a
:class:`~whimbrel.errors.WhimbrelError` prints one line and exits 1 (2 for bad
usage); ``--traceback`` shows the whole story instead.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
import warnings
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import typer
from typer.core import TyperCommand

from whimbrel._version import __version__
from whimbrel.config import Config, ConfigWarning, mask_urls
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


def _fail(opts: GlobalOptions, exc: BaseException, code: int) -> typer.Exit:
    if opts.traceback:
        raise exc
    print(f"whimbrel: error: {mask_urls(str(exc))}", file=sys.stderr)
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


class _Box(Generic[T]):
    """Holds a command's result with a cheap ``repr``.

    ``asyncio.run`` formats the repr of its main task (result included) while it
    restores the SIGINT handler; for ``history`` over 5,000 revisions that repr
    alone took 0.12 s. A plain class: a dataclass costs 0.4 ms to create at start-up.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{type(self.value).__name__}>"


def _boxed(
    fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
) -> Callable[[], Awaitable[_Box[T]]]:
    async def call() -> _Box[T]:
        return _Box(await fn(*args, **kwargs))

    return call


@contextlib.contextmanager
def library_warnings(*, quiet: bool) -> Iterator[None]:
    """Show the warnings of Python and of the libraries a command uses as one line each.

    A ``SAWarning`` would otherwise print its source line, and a driver's logged
    warning (MariaDB's, through asyncmy's logger) a bare line of its own. With
    ``-q`` ("print only errors") neither is shown. Logging that the project set up
    (a handler on the root logger, from ``env.py`` say) is left alone.
    """
    # Imported here: --help does not need logging (asyncio imports it for a command).
    import logging

    class OneLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            text = text.splitlines()[0] if text else ""
            print(f"whimbrel: warning: {record.name}: {mask_urls(text)}", file=sys.stderr)

    root = logging.getLogger()
    handler: logging.Handler | None = None
    if not root.handlers:
        handler = OneLine(logging.CRITICAL if quiet else logging.WARNING)
        root.addHandler(handler)
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        else:

            def show(
                message: Warning | str,
                category: type[Warning],
                filename: str,
                lineno: int,
                file: Any = None,
                line: str | None = None,
            ) -> None:
                text = str(message).splitlines()[0] if str(message) else category.__name__
                print(f"whimbrel: warning: {mask_urls(text)}", file=sys.stderr)

            warnings.showwarning = show
        try:
            yield
        finally:
            if handler is not None:
                root.removeHandler(handler)


def _run(ctx: typer.Context, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Load the configuration, await ``fn(config, *args, **kwargs)``, map errors."""
    import anyio

    opts = _options(ctx)
    try:
        _check_identifiers(args, ctx.info_name)
        cfg = _load_config(opts)
        with library_warnings(quiet=opts.quiet):
            return anyio.run(_boxed(fn, cfg, *args, **kwargs)).value
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


class RevisionCommand(TyperCommand):
    """A subcommand whose arguments may start with '-' (``-1``, ``label@-2``).

    Such commands let click pass unknown options through as arguments, so that an
    option the command does not have (``downgrade -1 --allow-changed``) would be
    reported as "unexpected extra argument", or taken for the revision. This says
    "no such option" instead.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        known = {"--"}
        for param in self.get_params(ctx):
            known.update(getattr(param, "opts", ()))
            known.update(getattr(param, "secondary_opts", ()))
        for arg in args:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if arg.startswith("-") and arg != "-" and not _RELATIVE_ARG.match(arg):
                if name not in known:
                    options = ", ".join(
                        sorted(o for o in known if o.startswith("--") and o != "--")
                    )
                    ctx.fail(f"No such option: {name} (options: {options})")
        return super().parse_args(ctx, args)


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
RevisionArg = Annotated[
    str, typer.Argument(help="Target revision (heads, head, id, label@head, +N).")
]
VerboseOption = Annotated[bool, typer.Option("-v", "--verbose", help="Show full details.")]


_GLOBAL_FLAGS = frozenset({"-q", "--quiet", "--traceback"})
_GLOBAL_VALUED = frozenset({"-c", "--config", "--url", "-x"})
# Set by the shell when it asks for completions (typer: _<PROG>_COMPLETE).
_COMPLETE_VAR = "_WHIMBREL_COMPLETE"


def _command_index(argv: list[str], names: Collection[str]) -> int | None:
    """Where the subcommand is in ``argv``, skipping global options and their values."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return None
        if arg in _GLOBAL_VALUED:
            i += 2
        elif arg.startswith("-"):
            i += 1
        else:
            return i if arg in names else None
    return None


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options written after the subcommand to before it.

    ``whimbrel upgrade heads -q`` then means ``whimbrel -q upgrade heads``, instead
    of treating ``-q`` as a revision identifier.
    """
    at = _command_index(argv, set(app_command_names()))
    if at is None:
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


@contextlib.contextmanager
def only_invoked_command(argv: list[str]) -> Iterator[None]:
    """Let typer build the click command of the subcommand being run, and no other.

    typer turns every registered function's signature into a click command on each
    call (about 20 ms for all of them, 1 ms for one). When ``argv`` names a
    subcommand, the others cannot be reached, so they are left out while the app
    runs. ``--help`` without a subcommand, an unknown name and shell completion
    still see them all.
    """
    names = app_command_names()
    at = _command_index(argv, names)
    if at is None or _COMPLETE_VAR in os.environ:
        yield
        return
    registered = app.registered_commands
    name = argv[at]
    app.registered_commands = [
        c for c in registered if c.callback and (c.name or c.callback.__name__) == name
    ]
    try:
        yield
    finally:
        app.registered_commands = registered


def main() -> None:
    """Entry point of the ``whimbrel`` console script."""
    # What the imports created lives until the process exits: move it out of the
    # collector's reach, so reading thousands of revision headers does not walk it
    # again in every full collection (20 ms of `history` at 5,000 revisions).
    gc.freeze()
    argv = hoist_global_options(sys.argv[1:])
    with only_invoked_command(argv):
        app(args=argv, prog_name="whimbrel")


# The subcommands register themselves on ``app``, in this order in ``--help``.
# isort: off
from whimbrel.cli import script_commands  # noqa: E402
from whimbrel.cli import database_commands  # noqa: E402
from whimbrel.cli import tool_commands  # noqa: E402

# isort: on

__all__ = ("app", "database_commands", "main", "script_commands", "tool_commands")
