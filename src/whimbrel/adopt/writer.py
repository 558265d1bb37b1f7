"""Render the adopted settings as TOML and write them, refusing to overwrite."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from whimbrel.config import PYPROJECT_FILENAME
from whimbrel.errors import CommandError

from .result import AdoptedSettings

__all__ = ("check_target", "render", "write")

_ORDER = (
    "script_location",
    "version_locations",
    "recursive_version_locations",
    "file_template",
    "truncate_slug_length",
    "timezone",
    "url",
    "target_metadata",
    "version_table",
    "version_table_schema",
    "transaction_per_migration",
    "prepend_sys_path",
)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def render(settings: AdoptedSettings, *, url: str | None, pyproject: bool, header: str) -> str:
    """The TOML text: a ``[tool.whimbrel]`` table, or a whole ``whimbrel.toml``."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if pyproject:
        lines.append("[tool.whimbrel]")
    for key in _ORDER:
        value = url if key == "url" else getattr(settings, key)
        if value is not None:
            lines.append(f"{key} = {_value(value)}")
    table = "[[tool.whimbrel.post_write_hooks]]" if pyproject else "[[post_write_hooks]]"
    for hook in settings.post_write_hooks:
        target_key = {"exec": "executable", "console_scripts": "entrypoint"}.get(
            hook.type, "module"
        )
        lines += ["", table, f"name = {_value(hook.name)}", f"type = {_value(hook.type)}"]
        lines.append(f"{target_key} = {_value(hook.target)}")
        lines.append(f"options = {_value(hook.options)}")
        if hook.cwd is not None:
            lines.append(f"cwd = {_value(hook.cwd.as_posix())}")
    return "\n".join(lines) + "\n"


def check_target(target: Path) -> str | None:
    """The current text of a pyproject ``target`` (``None`` for a new ``whimbrel.toml``).

    Raises:
        CommandError: the file already holds a Whimbrel configuration, or cannot be read.
    """
    if target.name != PYPROJECT_FILENAME:
        if target.exists():
            raise CommandError(f"{target} already exists; remove it, or adopt into another file")
        return None
    try:
        text = ""
        if target.exists():
            # newline="": keep the file's own line endings to append in kind.
            with target.open(encoding="utf-8", newline="") as f:
                text = f.read()
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise CommandError(f"cannot read {target}: {e}") from e
    tool = data.get("tool")
    if isinstance(tool, dict) and "whimbrel" in tool:
        raise CommandError(
            f"{target} already has a [tool.whimbrel] table; adopt changes nothing that "
            "exists: remove the table first, or adopt into a whimbrel.toml"
        )
    return text


def write(target: Path, existing: str | None, text: str) -> None:
    """Append ``text`` to ``existing`` (or create the file) atomically.

    Raises:
        CommandError: the result would not be valid TOML, or the file cannot be written.
    """
    if existing and "\r\n" in existing:
        text = text.replace("\n", "\r\n")
    if existing:
        newline = "\r\n" if "\r\n" in existing else "\n"
        if existing.endswith(newline * 2):
            glue = ""
        elif existing.endswith(newline):
            glue = newline
        else:
            glue = newline * 2
        content = existing + glue + text
    else:
        content = text
    try:
        tomllib.loads(content)
    except tomllib.TOMLDecodeError as e:
        raise CommandError(
            f"appending [tool.whimbrel] to {target} would not be valid TOML ({e}); "
            "adopt into a whimbrel.toml instead"
        ) from e
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(content)
            mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise CommandError(f"cannot write {target}: {e}") from e
