"""Read an Alembic configuration the way Alembic 1.16+ reads it.

``alembic.ini`` is parsed by :class:`configparser.ConfigParser` with ``here`` (the
file's directory) as a default, so ``%(here)s`` and every other ``%(name)s`` are
interpolated and ``%%`` is a literal ``%``. ``[tool.alembic]`` in ``pyproject.toml``
is read for the keys the ini file does not set, each string passed through
``value % {"here": ...}`` as Alembic does. Lists of paths in the ini file are split
by ``path_separator`` (or the deprecated ``version_path_separator`` for
``version_locations``), and without either by Alembic's legacy rules.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whimbrel.errors import ConfigError

__all__ = ("AlembicHook", "AlembicSettings", "read_alembic_config")

# The keys Alembic itself reads from the main section (all else is for env.py).
ALEMBIC_KEYS = frozenset(
    {
        "script_location",
        "prepend_sys_path",
        "path_separator",
        "version_path_separator",
        "version_locations",
        "file_template",
        "truncate_slug_length",
        "timezone",
        "revision_environment",
        "sourceless",
        "output_encoding",
        "recursive_version_locations",
        "sqlalchemy.url",
        "databases",
    }
)
_TOML_TYPES: dict[str, type] = {
    "version_locations": list,
    "prepend_sys_path": list,
    "recursive_version_locations": bool,
    "sourceless": bool,
    "revision_environment": bool,
    "truncate_slug_length": int,
}
_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
_LEGACY_SPLIT = re.compile(r", *|(?: +)")
_LEGACY_SPLIT_SYS_PATH = re.compile(r", *|(?: +)|\:")


@dataclass(frozen=True, slots=True)
class AlembicHook:
    """One post-write hook as Alembic reads it: its name and its ``name.key`` options."""

    name: str
    options: Mapping[str, str]
    source: Path


@dataclass(frozen=True, slots=True)
class AlembicSettings:
    """An Alembic configuration after Alembic's own interpolation and splitting.

    ``values`` maps each key found to its value (a string, list of strings, int or
    bool) and ``origin`` maps it to the file it came from. ``extra`` holds the other
    options of the main ini section (read by ``env.py``), ``sections`` the names of
    the ini file's other sections.
    """

    ini_file: Path | None
    toml_file: Path | None
    values: Mapping[str, Any]
    origin: Mapping[str, Path]
    hooks: tuple[AlembicHook, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    sections: tuple[str, ...] = ()
    ini_section: str = "alembic"

    def get(self, key: str) -> Any:
        return self.values.get(key)

    @property
    def sources(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.ini_file, self.toml_file) if p is not None)

    def section(self, name: str) -> Mapping[str, str]:
        """An ini section other than the main one (e.g. a multidb engine's)."""
        if self.ini_file is None:
            return {}
        parser = _parser(self.ini_file)
        if not parser.has_section(name):
            return {}
        return {k: v for k, v in parser.items(name) if k != "here"}


def _parser(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser({"here": path.absolute().parent.as_posix()})
    try:
        # Alembic reads with the locale's encoding; so do we, to see what it sees.
        with path.open(encoding="locale") as f:
            parser.read_file(f)
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}", path=path) from e
    except configparser.Error as e:
        raise ConfigError(f"{path}: not a valid ini file: {e}", path=path) from e
    return parser


def _toml_alembic(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}", path=path) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}", path=path) from e
    tool = data.get("tool")
    table = tool.get("alembic") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'tool.alembic' must be a table", path=path)
    return table


def _interpolate(value: Any, args: Mapping[str, str], key: str, path: Path) -> Any:
    """Alembic's ``value % toml_args`` on a TOML value, over lists and tables too."""
    try:
        if isinstance(value, str):
            return value % args
        if isinstance(value, list):
            return [_interpolate(v, args, key, path) for v in value]
        if isinstance(value, dict):
            return {k: _interpolate(v, args, key, path) for k, v in value.items()}
    except (KeyError, ValueError, TypeError) as e:
        raise ConfigError(
            f"{path} [tool.alembic]: {key!r} cannot be interpolated as Alembic does "
            f"(value % {{'here': ...}}): {e!r}; write a literal '%' as '%%'",
            path=path,
            key=key,
        ) from e
    return value


def _split(text: str, separator: str | None, legacy: re.Pattern[str]) -> list[str]:
    if separator is None:
        return legacy.split(text)
    return [x.strip() for x in text.split(separator) if x]


def read_alembic_config(
    ini_file: Path | None, toml_file: Path | None, *, ini_section: str = "alembic"
) -> AlembicSettings:
    """Read ``ini_file`` and/or the ``[tool.alembic]`` table of ``toml_file``.

    Raises:
        ConfigError: neither holds an Alembic configuration, a file cannot be read or
            parsed, a value cannot be interpolated, or ``path_separator`` is invalid.
    """
    parser = _parser(ini_file) if ini_file is not None else None
    table = _toml_alembic(toml_file) if toml_file is not None else None
    has_main = parser is not None and parser.has_section(ini_section)
    if not has_main and table is None:
        where = " or ".join(str(p) for p in (ini_file, toml_file) if p is not None)
        hint = f" (no [{ini_section}] section, no [tool.alembic] table)" if where else ""
        raise ConfigError(
            f"no Alembic configuration found{' in ' + where if where else ''}{hint}",
            path=ini_file or toml_file,
        )
    reader = _Reader(ini_file if has_main else None, parser, ini_section, toml_file, table)
    values = reader.values
    for key in ("script_location", "file_template", "timezone", "output_encoding"):
        reader.take(key, reader.main(key))
    for key in ("recursive_version_locations", "sourceless", "revision_environment"):
        text = reader.main(key)
        # Alembic: exactly "true" is true.
        reader.take(key, None if text is None else text == "true")
    reader.take("truncate_slug_length", reader.main("truncate_slug_length"))
    text = reader.main("version_locations")
    if text:
        sep = reader.separator("path_separator", "version_path_separator")
        reader.take("version_locations", _split(text, sep, _LEGACY_SPLIT))
    else:
        reader.take("version_locations", None)
    text = reader.main("prepend_sys_path")
    if text:
        sep = reader.separator("path_separator")
        reader.take("prepend_sys_path", _split(text, sep, _LEGACY_SPLIT_SYS_PATH))
    else:
        reader.take("prepend_sys_path", None)
    for key in ("sqlalchemy.url", "databases", "path_separator", "version_path_separator"):
        reader.take(key, reader.main(key), toml=False)
    extra: dict[str, str] = {}
    if reader.ini_file is not None and parser is not None:
        for key in parser.options(ini_section):
            if key != "here" and key not in ALEMBIC_KEYS:
                extra[key] = reader.main(key) or ""
    return AlembicSettings(
        ini_file=ini_file,
        toml_file=toml_file if table is not None else None,
        values=values,
        origin=reader.origin,
        hooks=reader.hooks(),
        extra=extra,
        sections=tuple(s for s in (parser.sections() if parser else ()) if s != ini_section),
        ini_section=ini_section,
    )


@dataclass
class _Reader:
    ini_file: Path | None  # None when the ini file has no main section
    parser: configparser.ConfigParser | None
    ini_section: str
    toml_file: Path | None
    table: dict[str, Any] | None
    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Path] = field(default_factory=dict)

    def main(self, key: str) -> str | None:
        """An option of the main ini section, interpolated; None when absent."""
        if self.ini_file is None or self.parser is None or key == "here":
            return None
        if not self.parser.has_option(self.ini_section, key):
            return None
        try:
            return self.parser.get(self.ini_section, key)
        except configparser.Error as e:
            raise ConfigError(
                f"{self.ini_file} [{self.ini_section}]: {key!r} cannot be interpolated: "
                f"{e}; write a literal '%' as '%%'",
                path=self.ini_file,
                key=key,
            ) from e

    def take(self, key: str, from_ini: Any, *, toml: bool = True) -> None:
        """Record the ini value, or else (as Alembic does) the TOML one."""
        if from_ini is not None and self.ini_file is not None:
            self.values[key], self.origin[key] = from_ini, self.ini_file
        elif toml and self.table is not None and self.toml_file is not None and key in self.table:
            value = self.table[key]
            expected = _TOML_TYPES.get(key, str)
            if expected is list:
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            else:
                ok = isinstance(value, expected) and not (
                    expected is int and isinstance(value, bool)
                )
            if not ok:
                kind = {list: "a list of strings", bool: "true or false", int: "an integer"}
                raise ConfigError(
                    f"{self.toml_file} [tool.alembic]: {key!r} must be "
                    f"{kind.get(expected, 'a string')}, got {value!r}",
                    path=self.toml_file,
                    key=key,
                )
            toml_args = {"here": self.toml_file.absolute().parent.as_posix()}
            self.values[key] = _interpolate(value, toml_args, key, self.toml_file)
            self.origin[key] = self.toml_file

    def separator(self, *names: str) -> str | None:
        for name in names:
            sep = self.main(name)
            if sep is None:
                continue
            if sep not in _SEPARATORS:
                raise ConfigError(
                    f"{self.ini_file}: {sep!r} is not a valid value for {name}; "
                    "expected 'space', 'newline', 'os', ':', ';'",
                    path=self.ini_file,
                    key=name,
                )
            return _SEPARATORS[sep]
        return None

    def hooks(self) -> tuple[AlembicHook, ...]:
        # The ini file's [post_write_hooks] wins over TOML's, as in Alembic.
        if self.parser is not None and self.parser.has_section("post_write_hooks"):
            source = self.ini_file or self.toml_file or Path()
            section = {k: v for k, v in self.parser.items("post_write_hooks") if k != "here"}
            found: list[AlembicHook] = []
            for name in _LEGACY_SPLIT.split(section.get("hooks", "")):
                if name:
                    prefix = name + "."
                    opts = {
                        k[len(prefix) :]: v for k, v in section.items() if k.startswith(prefix)
                    }
                    found.append(AlembicHook(name, opts, source))
            return tuple(found)
        if self.table is None or self.toml_file is None or "post_write_hooks" not in self.table:
            return ()
        toml_args = {"here": self.toml_file.absolute().parent.as_posix()}
        listed = self.table["post_write_hooks"]
        if not isinstance(listed, list) or not all(isinstance(h, dict) for h in listed):
            raise ConfigError(
                f"{self.toml_file} [tool.alembic]: post_write_hooks must be an array of "
                "tables ([[tool.alembic.post_write_hooks]])",
                path=self.toml_file,
                key="post_write_hooks",
            )
        hooks = []
        for item in listed:
            opts = {
                str(k): str(_interpolate(v, toml_args, "post_write_hooks", self.toml_file))
                for k, v in item.items()
                if k != "name"
            }
            hooks.append(AlembicHook(str(item.get("name", "")), opts, self.toml_file))
        return tuple(hooks)
