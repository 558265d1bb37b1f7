"""Reading a configuration file: find it, parse it, check every key, expand the URL.

The half of :mod:`whimbrel.config` that only ``Config.load`` needs; imported when a
file is read.
"""

from __future__ import annotations

import difflib
import re
import shlex
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whimbrel.config import (
    AUTOGENERATE_KEYS,
    CONFIG_ENV,
    CONFIG_FILENAME,
    FILE_TEMPLATE_TOKENS,
    PYPROJECT_FILENAME,
    REVISION_SCRIPT_FILENAME,
    TARGET_METADATA_FORM,
    URL_ENV,
    AutogenerateSettings,
    HookType,
    PostWriteHook,
)
from whimbrel.errors import ConfigError, UsageError

__all__ = ("parse_x_args", "read_config_file")


def read_config_file(
    path: str | Path | None, base: Path, environ: Mapping[str, str], url: str | None
) -> tuple[Path, dict[str, Any], list[str]]:
    """Locate and read the file; return it, its checked values and its warnings.

    Raises:
        ConfigError: see :meth:`whimbrel.config.Config.load`.
    """
    file, table, where = _locate(path, base, environ)
    source = _Source(path=file, where=where)
    values = _read_settings(table, source)
    # The default is relative too, and so taken from the file's directory.
    values.setdefault("script_location", source.resolve("migrations"))
    values["url"] = _choose_url(url, environ, values.pop("url", None), source)
    if "lint" in values:
        values["lint_disable"] = values.pop("lint")["disable"]
    if "targets" in values:
        values["targets"] = tuple(
            _expand(t, environ, source, "targets") for t in values["targets"]
        )
    return file, values, source.messages


# Names an Alembic user is likely to carry over, and what they became here.
_RENAMED_KEYS = {"sqlalchemy": "url", "hooks": "post_write_hooks"}

_HOOK_KEYS = (
    "name",
    "type",
    "executable",
    "entrypoint",
    "module",
    "options",
    "cwd",
    "optional",
)

_HOOK_TARGET_KEYS: dict[HookType, str] = {
    "exec": "executable",
    "console_scripts": "entrypoint",
    "module": "module",
}

# ---------------------------------------------------------------------- finding files


def _locate(
    path: str | Path | None, cwd: Path, environ: Mapping[str, str]
) -> tuple[Path, Mapping[str, Any], str]:
    origin = ""
    if path is None and environ.get(CONFIG_ENV):
        path = environ[CONFIG_ENV]
        origin = f" (from ${CONFIG_ENV})"
    if path is not None:
        file = (cwd / Path(path)).resolve()
        found = _whimbrel_table(file, _read_toml(file, origin))
        if found is None:
            raise ConfigError(
                f"{file}{origin} has no [tool.whimbrel] table; add one, "
                f"or put the settings at the top level of a {CONFIG_FILENAME}",
                path=file,
            )
        return (file, *found)
    for directory in (cwd, *cwd.parents):
        for name in (CONFIG_FILENAME, PYPROJECT_FILENAME):
            candidate = directory / name
            if candidate.is_file():
                found = _whimbrel_table(candidate, _read_toml(candidate, origin))
                if found is not None:
                    return (candidate, *found)
    raise ConfigError(
        f"no Whimbrel configuration found in {cwd} or its parents; "
        "run 'whimbrel init' or pass -c PATH"
    )


def _read_toml(path: Path, origin: str) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(
            f"configuration file {path}{origin} does not exist; "
            "check the path or run 'whimbrel init'",
            path=path,
        ) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}", path=path) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read configuration file {path}{origin}: {e}", path=path) from e


def _whimbrel_table(path: Path, data: dict[str, Any]) -> tuple[Mapping[str, Any], str] | None:
    """The settings table of a parsed file and how to name it, or None if it has none.

    A file is read as a pyproject when it is named so, or when its top level holds no
    Whimbrel key but a ``[tool.whimbrel]`` table (``pyproject.prod.toml``...).
    """
    tool = data.get("tool")
    looks_like_pyproject = (
        isinstance(tool, dict) and "whimbrel" in tool and not data.keys() & _PARSERS.keys()
    )
    if path.name != PYPROJECT_FILENAME and not looks_like_pyproject:
        return data, str(path)
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table, got {_show(tool)}", path=path)
    table = tool.get("whimbrel")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(
            f"{path}: 'tool.whimbrel' must be a table ([tool.whimbrel]), got {_show(table)}",
            path=path,
        )
    return table, f"{path} [tool.whimbrel]"


# ----------------------------------------------------------------- reading settings


@dataclass(slots=True)
class _Source:
    path: Path
    where: str
    messages: list[str] = field(default_factory=list)

    def error(self, key: str, problem: str, *, example: str | None = None) -> ConfigError:
        hint = f" (e.g. {example})" if example else ""
        return ConfigError(f"{self.where}: {key!r} {problem}{hint}", path=self.path, key=key)

    def resolve(self, value: str) -> Path:
        return (self.path.parent / value).resolve()

    def unknown_key(
        self, key: str, valid: Sequence[str], context: str = "", suggestion: str | None = None
    ) -> None:
        message = f"unknown key {key!r} in {context}{self.where}"
        suggestion = (
            suggestion
            or _RENAMED_KEYS.get(key)
            or next(iter(difflib.get_close_matches(key, valid, n=1)), None)
        )
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        elif key == "tool":
            message += (
                f"; [tool.whimbrel] belongs in {PYPROJECT_FILENAME}, "
                "write the keys here at the top level"
            )
        else:
            message += "; it is ignored"
        self.messages.append(message)


def _read_settings(table: Mapping[str, Any], source: _Source) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        parser = _PARSERS.get(key)
        if parser is None:
            # An autogenerate option written at the top level belongs in its table.
            moved = f"autogenerate.{key}" if key in AUTOGENERATE_KEYS else None
            source.unknown_key(key, tuple(_PARSERS), suggestion=moved)
        else:
            values[key] = parser(source, key, value)
    return values


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _example(key: str) -> str | None:
    return _EXAMPLES.get(key.rpartition(".")[2])


def _str(source: _Source, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise source.error(key, f"must be a string, got {_show(value)}", example=_example(key))
    return value


def _name(source: _Source, key: str, value: object) -> str:
    text = _str(source, key, value)
    if not text.strip():
        raise source.error(key, "must not be empty", example=_example(key))
    return text


def _bool(source: _Source, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise source.error(
            key, f"must be true or false, got {_show(value)}", example=_example(key)
        )
    return value


def _path(source: _Source, key: str, value: object) -> Path:
    return source.resolve(_name(source, key, value))


def _paths(source: _Source, key: str, value: object) -> tuple[Path, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise source.error(
            key, f"must be a list of strings, got {_show(value)}", example=_example(key)
        )
    return tuple(source.resolve(v) for v in value)


def _slug_length(source: _Source, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise source.error(key, f"must be an integer, got {_show(value)}", example=_example(key))
    if value < 1:
        raise source.error(key, f"must be at least 1, got {value}", example=_example(key))
    return value


def _strings(source: _Source, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise source.error(key, f"must be a list of non-empty strings, got {_show(value)}")
    return tuple(value)


def _lint(source: _Source, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise source.error(
            key, f"must be a table such as {{ disable = [...] }}, got {_show(value)}"
        )
    for name in value:
        if name != "disable":
            source.unknown_key(name, ("disable",), context="lint of ")
    return {"disable": _strings(source, f"{key}.disable", value.get("disable", []))}


def _import_path(source: _Source, key: str, value: object) -> str:
    spec = _str(source, key, value)
    if not TARGET_METADATA_FORM.fullmatch(spec):
        raise source.error(
            key,
            f"must be an import path 'package.module:function', got {spec!r}",
            example=_example(key),
        )
    return spec


def _bool_or_import_path(source: _Source, key: str, value: object) -> bool | str:
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise source.error(
            key,
            f"must be true, false or an import path 'package.module:function', got {_show(value)}",
            example=_example(key),
        )
    return _import_path(source, key, value)


def _line_length(source: _Source, key: str, value: object) -> int:
    length = _slug_length(source, key, value)
    if length < 40:
        raise source.error(key, f"must be at least 40, got {length}", example=_example(key))
    return length


_AUTOGENERATE_PARSERS: dict[str, Callable[[_Source, str, object], object]] = {
    "compare_type": _bool_or_import_path,
    "compare_server_default": _bool,
    "compare_comments": _bool,
    "include_schemas": _bool,
    "include_name": _import_path,
    "include_object": _import_path,
    "exclude_tables": _strings,
    "render_as_batch": _bool,
    "user_module_prefix": _name,
    "detect_renames": _bool,
    "line_length": _line_length,
}


def _autogenerate(source: _Source, key: str, value: object) -> AutogenerateSettings:
    if not isinstance(value, dict):
        raise source.error(
            key,
            f"must be a table such as {{ include_schemas = true }}, got {_show(value)}",
            example=_example(key),
        )
    settings: dict[str, Any] = {}
    for name, item in value.items():
        parser = _AUTOGENERATE_PARSERS.get(name)
        if parser is None:
            source.unknown_key(name, AUTOGENERATE_KEYS, context=f"{key} of ")
        else:
            settings[name] = parser(source, f"{key}.{name}", item)
    return AutogenerateSettings(**settings)


def _seconds(source: _Source, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise source.error(key, f"must be a number of seconds, got {_show(value)}")
    if value <= 0:
        raise source.error(key, f"must be more than 0 seconds, got {value}")
    return float(value)


def _file_template(source: _Source, key: str, value: object) -> str:
    template = _name(source, key, value)
    sample: dict[str, object] = dict.fromkeys(FILE_TEMPLATE_TOKENS, 1)
    sample.update(rev="ae1027a6acf", slug="add_users")
    try:
        template % sample
    except KeyError as e:
        tokens = ", ".join(FILE_TEMPLATE_TOKENS)
        raise source.error(
            key, f"uses unknown token {e.args[0]!r}; the tokens are {tokens}"
        ) from e
    except (TypeError, ValueError) as e:
        raise source.error(
            key, f"is not a valid %-format template: {e}", example=_example(key)
        ) from e
    return template


def _timezone(source: _Source, key: str, value: object) -> str:
    import zoneinfo  # only when a timezone is configured: it loads sysconfig

    name = _name(source, key, value)
    try:
        zoneinfo.ZoneInfo(name)
    except (KeyError, ValueError, OSError) as e:
        raise source.error(
            key,
            f"names no known time zone: {name!r}; use an IANA name",
            example=_example(key),
        ) from e
    return name


def _target_metadata(source: _Source, key: str, value: object) -> str:
    spec = _str(source, key, value)
    if not TARGET_METADATA_FORM.fullmatch(spec):
        raise source.error(
            key,
            f"must be an import path 'package.module:attr', got {spec!r}",
            example=_example(key),
        )
    return spec


def _hooks(source: _Source, key: str, value: object) -> tuple[PostWriteHook, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise source.error(
            key,
            f"must be an array of tables ([[post_write_hooks]] sections), got {_show(value)}",
        )
    hooks = tuple(_hook(source, f"{key}[{i}]", item) for i, item in enumerate(value))
    names = [hook.name for hook in hooks]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise source.error(f"{key}[{i}].name", f"repeats the hook name {name!r}")
    return hooks


def _hook(source: _Source, label: str, item: Mapping[str, object]) -> PostWriteHook:
    for key in item:
        if key in _PARSERS:
            # TOML puts every key after a [[post_write_hooks]] header in that table.
            source.messages.append(
                f"key {key!r} in {label} of {source.where} is a top-level setting, "
                "ignored here; move it above the first [[post_write_hooks]] table"
            )
        elif key not in _HOOK_KEYS:
            source.unknown_key(key, _HOOK_KEYS, context=f"{label} of ")
    for required in ("name", "type"):
        if required not in item:
            raise source.error(label, f"has no {required!r}", example=_example(required))
    name = _name(source, f"{label}.name", item["name"])
    kind = next((k for k in _HOOK_TARGET_KEYS if k == item["type"]), None)
    if kind is None:
        kinds = ", ".join(repr(k) for k in _HOOK_TARGET_KEYS)
        raise source.error(f"{label}.type", f"must be one of {kinds}, got {_show(item['type'])}")
    target_key = _HOOK_TARGET_KEYS[kind]
    for other in _HOOK_TARGET_KEYS.values():
        if other != target_key and other in item:
            raise source.error(
                label, f"is of type {kind!r}, which takes {target_key!r}, not {other!r}"
            )
    if target_key not in item:
        raise source.error(
            label, f"is of type {kind!r} and needs {target_key!r}", example=_example(target_key)
        )
    target = _name(source, f"{label}.{target_key}", item[target_key])
    options = REVISION_SCRIPT_FILENAME
    if "options" in item:
        options = _str(source, f"{label}.options", item["options"])
        try:
            shlex.split(options)
        except ValueError as e:
            raise source.error(f"{label}.options", f"cannot be split into arguments: {e}") from e
    cwd = _path(source, f"{label}.cwd", item["cwd"]) if "cwd" in item else None
    optional = _bool(source, f"{label}.optional", item.get("optional", False))
    return PostWriteHook(
        name=name, type=kind, target=target, options=options, cwd=cwd, optional=optional
    )


_PARSERS: dict[str, Callable[[_Source, str, object], object]] = {
    "script_location": _path,
    "version_locations": _paths,
    "recursive_version_locations": _bool,
    "file_template": _file_template,
    "truncate_slug_length": _slug_length,
    "timezone": _timezone,
    "url": _str,
    "target_metadata": _target_metadata,
    "version_table": _name,
    "version_table_schema": _name,
    "history_table": _name,
    "transaction_per_migration": _bool,
    "migration_lock_timeout": _seconds,
    "statement_timeout": _seconds,
    "lock_timeout": _seconds,
    "targets": _strings,
    "tenant_schemas": _strings,
    "targets_from": _target_metadata,
    "lint": _lint,
    "prepend_sys_path": _paths,
    "post_write_hooks": _hooks,
    "autogenerate": _autogenerate,
}

_EXAMPLES = {
    "script_location": 'script_location = "migrations"',
    "version_locations": 'version_locations = ["migrations/versions"]',
    "recursive_version_locations": "recursive_version_locations = true",
    "file_template": 'file_template = "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"',
    "truncate_slug_length": "truncate_slug_length = 40",
    "timezone": 'timezone = "Europe/Paris"',
    "url": 'url = "${DATABASE_URL}"',
    "target_metadata": 'target_metadata = "myapp.models:Base.metadata"',
    "version_table": 'version_table = "whimbrel_version"',
    "version_table_schema": 'version_table_schema = "public"',
    "history_table": 'history_table = "whimbrel_history"',
    "transaction_per_migration": "transaction_per_migration = true",
    "prepend_sys_path": 'prepend_sys_path = ["src"]',
    "name": 'name = "ruff_format"',
    "type": 'type = "console_scripts"',
    "executable": 'executable = "ruff"',
    "entrypoint": 'entrypoint = "ruff"',
    "module": 'module = "black"',
    "options": 'options = "format REVISION_SCRIPT_FILENAME"',
    "cwd": 'cwd = "."',
    "optional": "optional = true",
    "autogenerate": "autogenerate = { include_schemas = true, compare_type = true }",
    "compare_type": "compare_type = true",
    "compare_server_default": "compare_server_default = true",
    "compare_comments": "compare_comments = true",
    "include_schemas": "include_schemas = true",
    "include_name": 'include_name = "myapp.migrate_hooks:include_name"',
    "include_object": 'include_object = "myapp.migrate_hooks:include_object"',
    "exclude_tables": 'exclude_tables = ["tmp_*", "audit.*"]',
    "render_as_batch": "render_as_batch = true",
    "user_module_prefix": 'user_module_prefix = "myapp.types."',
    "detect_renames": "detect_renames = false",
    "line_length": "line_length = 100",
}


# ------------------------------------------------------------------- url and -x args

_ENV_REFERENCE = re.compile(
    r"\$\{(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bad>))"
)


def _choose_url(
    override: str | None, environ: Mapping[str, str], from_file: str | None, source: _Source
) -> str | None:
    if override is not None:
        return override
    if environ.get(URL_ENV):
        return environ[URL_ENV]
    if from_file is None:
        return None
    return _expand(from_file, environ, source, "url")


def _expand(text: str, environ: Mapping[str, str], source: _Source, key: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name is None:
            raise source.error(
                key,
                f"has a malformed ${{...}} reference at character {match.start() + 1}; "
                "write ${NAME} or ${NAME:-default}",
            )
        value = environ.get(name)
        if default is not None and not value:
            return default
        if value is None:
            raise source.error(
                key,
                f"refers to ${{{name}}}, but the environment variable {name} is not set; "
                f"set it, or give a default with ${{{name}:-default}}",
            )
        return value

    return _ENV_REFERENCE.sub(substitute, text)


def parse_x_args(x_args: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(x_args, Mapping):
        return dict(x_args)
    items = [x_args] if isinstance(x_args, str) else x_args
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"-x argument {item!r} is not of the form key=value; write e.g. -x data=true"
            )
        parsed[key.strip()] = value
    return parsed
