"""Post-write hooks: programs run on each newly written revision file.

A hook is ``exec`` (an executable found on ``PATH``), ``console_scripts`` (an installed
entry point, run with this interpreter) or ``module`` (``python -m module``). Its
``options`` are split like a shell command line and the token
``REVISION_SCRIPT_FILENAME`` in them is replaced by the path of the new file.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
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


@dataclass(frozen=True, slots=True)
class HookSpec:
    """A post-write hook built in code (the defaults a new project is offered)."""

    name: str
    type: str
    target: str
    options: str = REVISION_SCRIPT_FILENAME
    cwd: Path | None = None


@dataclass(frozen=True, slots=True)
class HookResult:
    """What one hook did: the command line it ran and what the program said."""

    name: str
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def default_post_write_hooks() -> tuple[HookSpec, ...]:
    """Return the hooks ``whimbrel init`` offers: ``ruff check --fix``, ``ruff format``."""
    return (
        HookSpec(
            name="ruff_check",
            type="module",
            target="ruff",
            # A lint finding the fixer cannot fix must not fail writing the revision.
            options=f"check --fix --exit-zero {REVISION_SCRIPT_FILENAME}",
        ),
        HookSpec(
            name="ruff_format",
            type="module",
            target="ruff",
            options=f"format {REVISION_SCRIPT_FILENAME}",
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
            raise CommandError(
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
    raise CommandError(
        f"post-write hook {hook.name!r}: no console script named {hook.target!r} is "
        "installed; install the package that provides it"
    )


def run_post_write_hooks(path: Path, hooks: Sequence[PostWriteHookLike]) -> list[HookResult]:
    """Run each hook, in order, on the file at ``path``.

    Args:
        path: The revision file just written.
        hooks: The hooks to run; an empty sequence does nothing.

    Returns:
        One result per hook, in the order run.

    Raises:
        CommandError: A hook cannot be started or exits with a non-zero code; the
            message names the hook, its exit code and the first line it wrote to
            stderr. Later hooks are not run.
    """
    results: list[HookResult] = []
    for hook in hooks:
        args = hook_command(hook, path)
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
        if done.returncode != 0:
            said = _first_line(done.stderr) or _first_line(done.stdout) or "no output"
            raise CommandError(
                f"post-write hook {hook.name!r} failed with exit code {done.returncode} "
                f"on {path}: {said}"
            )
        results.append(result)
    return results


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
