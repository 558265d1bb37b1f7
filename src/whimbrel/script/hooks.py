"""Post-write hooks: programs run on each newly written revision file.

A hook is ``exec`` (an executable found on ``PATH``), ``console_scripts`` (an installed
entry point, run with this interpreter) or ``module`` (``python -m module``). Its
``options`` are split like a shell command line and the token
``REVISION_SCRIPT_FILENAME`` in them is replaced by the path of the new file. An
``optional`` hook whose program is not installed is skipped with a
:class:`PostWriteHookWarning` instead of failing the command: the revision is written
either way.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from whimbrel.errors import CommandError

__all__ = (
    "REVISION_SCRIPT_FILENAME",
    "HookResult",
    "HookSpec",
    "PostWriteHookLike",
    "PostWriteHookWarning",
    "default_post_write_hooks",
    "hook_command",
    "run_post_write_hooks",
)

REVISION_SCRIPT_FILENAME = "REVISION_SCRIPT_FILENAME"
HOOK_TYPES = ("exec", "console_scripts", "module")

# Runs an entry point in a child interpreter; names come in as arguments, never as code.
_RUN_ENTRY_POINT = """\
import importlib, sys
name, module, attr = sys.argv[1:4]
del sys.argv[1:4]
sys.argv[0] = name
obj = importlib.import_module(module)
for part in attr.split("."):
    obj = getattr(obj, part)
sys.exit(obj())
"""


class PostWriteHookWarning(UserWarning):
    """An optional post-write hook was skipped: its program is not installed."""


class _Missing(CommandError):
    """The hook's program cannot be found (as opposed to failing when run)."""


class PostWriteHookLike(Protocol):
    """What a hook must provide; ``whimbrel.config.PostWriteHook`` is one."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def options(self) -> str: ...
    @property
    def cwd(self) -> Path | None: ...
    @property
    def optional(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class HookSpec:
    """A post-write hook built in code (the defaults a new project is offered)."""

    name: str
    type: str
    target: str
    options: str = REVISION_SCRIPT_FILENAME
    cwd: Path | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class HookResult:
    """What one hook did: the command line it ran and what the program said."""

    name: str
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def default_post_write_hooks() -> tuple[HookSpec, ...]:
    """Return the hooks ``whimbrel init`` sets up: ``ruff check --fix``, ``ruff format``.

    Both are optional: the ``ruff`` installed next to the interpreter or found on
    ``PATH`` runs, and without one the revision is written unformatted, with a warning.
    """
    return (
        HookSpec(
            name="ruff_check",
            type="console_scripts",
            target="ruff",
            # A lint finding the fixer cannot fix must not fail writing the revision.
            options=f"check --fix --exit-zero {REVISION_SCRIPT_FILENAME}",
            optional=True,
        ),
        HookSpec(
            name="ruff_format",
            type="console_scripts",
            target="ruff",
            options=f"format {REVISION_SCRIPT_FILENAME}",
            optional=True,
        ),
    )


def hook_command(hook: PostWriteHookLike, path: Path) -> list[str]:
    """Return the command line that runs ``hook`` on the file at ``path``.

    Raises:
        CommandError: The hook's type is unknown, its options cannot be split, or
            its executable or console script cannot be found.
    """
    try:
        options = shlex.split(hook.options)
    except ValueError as e:
        raise CommandError(
            f"post-write hook {hook.name!r}: options {hook.options!r} cannot be split "
            f"into arguments: {e}"
        ) from e
    args = [opt.replace(REVISION_SCRIPT_FILENAME, str(path)) for opt in options]
    if hook.type == "module":
        return [sys.executable, "-m", hook.target, *args]
    if hook.type == "exec":
        found = shutil.which(hook.target)
        if found is None:
            raise _Missing(
                f"post-write hook {hook.name!r}: executable {hook.target!r} not found; "
                "install it or give its full path"
            )
        return [found, *args]
    if hook.type == "console_scripts":
        return [*_console_script(hook), *args]
    kinds = ", ".join(HOOK_TYPES)
    raise CommandError(
        f"post-write hook {hook.name!r} has unknown type {hook.type!r}; use one of {kinds}"
    )


def _console_script(hook: PostWriteHookLike) -> list[str]:
    # The script installed next to this interpreter is exactly what the user would run.
    bin_dir = str(Path(sys.executable).parent)
    found = shutil.which(hook.target, path=bin_dir)
    if found is not None:
        return [found]
    from importlib.metadata import entry_points

    for ep in entry_points(group="console_scripts", name=hook.target):
        return [sys.executable, "-c", _RUN_ENTRY_POINT, hook.target, ep.module, ep.attr]
    found = shutil.which(hook.target)
    if found is not None:
        return [found]
    raise _Missing(
        f"post-write hook {hook.name!r}: no console script named {hook.target!r} is "
        "installed; install the package that provides it"
    )


def run_post_write_hooks(path: Path, hooks: Sequence[PostWriteHookLike]) -> list[HookResult]:
    """Run each hook, in order, on the file at ``path``.

    Args:
        path: The revision file just written.
        hooks: The hooks to run; an empty sequence does nothing.

    Returns:
        One result per hook, in the order run (a skipped optional hook has none).

    Warns:
        PostWriteHookWarning: an optional hook's program is not installed; the
            hook is skipped and the others run.

    Raises:
        CommandError: A hook cannot be started or exits with a non-zero code; the
            message names the hook, its exit code and the first line it wrote to
            stderr. Later hooks are not run.
    """
    results: list[HookResult] = []
    for hook in hooks:
        try:
            args = hook_command(hook, path)
        except _Missing as e:
            if not hook.optional:
                raise
            _skipped(e.args[0].split("; ")[0], path)
            continue
        try:
            done = subprocess.run(
                args,
                cwd=hook.cwd,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
            )
        except OSError as e:
            raise CommandError(f"post-write hook {hook.name!r} could not be run: {e}") from e
        result = HookResult(hook.name, tuple(args), done.returncode, done.stdout, done.stderr)
        if hook.optional and hook.type == "module" and _no_module(done, hook.target):
            # Only the child knows its sys.path (cwd, PYTHONPATH): ask it, then tell.
            _skipped(
                f"post-write hook {hook.name!r}: module {hook.target!r} is not installed", path
            )
            continue
        if done.returncode != 0:
            said = _first_line(done.stderr) or _first_line(done.stdout) or "no output"
            raise CommandError(
                f"post-write hook {hook.name!r} failed with exit code {done.returncode} "
                f"on {path}: {said}"
            )
        results.append(result)
    return results


def _no_module(done: subprocess.CompletedProcess[str], module: str) -> bool:
    said = _first_line(done.stderr)
    return done.returncode == 1 and "No module named" in said and module.split(".")[0] in said


def _skipped(problem: str, path: Path) -> None:
    warnings.warn(
        f"{problem}; skipped it, {path.name} is written as generated (install it, or "
        "remove the hook from the configuration)",
        PostWriteHookWarning,
        stacklevel=3,
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
