"""Whimbrel's configuration, read from ``[tool.whimbrel]`` or a ``whimbrel.toml``.

Loading is strict about types and lenient about unknown keys: a value of the wrong type
is a :class:`~whimbrel.errors.ConfigError` naming the file and the key, while an unknown
key is a :class:`ConfigWarning` that suggests the closest valid key. Nothing here
prints, parses a command line or imports SQLAlchemy at import time.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import shlex
import sys
import tomllib
import warnings
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError, UsageError

__all__ = (
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "FILE_TEMPLATE_TOKENS",
    "PYPROJECT_FILENAME",
    "REVISION_SCRIPT_FILENAME",
    "URL_ENV",
    "Config",
    "ConfigWarning",
    "HookType",
    "PostWriteHook",
    "mask_url",
)

CONFIG_FILENAME = "whimbrel.toml"
PYPROJECT_FILENAME = "pyproject.toml"
CONFIG_ENV = "WHIMBREL_CONFIG"
URL_ENV = "WHIMBREL_URL"
REVISION_SCRIPT_FILENAME = "REVISION_SCRIPT_FILENAME"
FILE_TEMPLATE_TOKENS = ("rev", "slug", "year", "month", "day", "hour", "minute", "second", "epoch")

HookType = Literal["exec", "console_scripts", "module"]
_HOOK_TARGET_KEYS: dict[HookType, str] = {
    "exec": "executable",
    "console_scripts": "entrypoint",
    "module": "module",
}
_HOOK_KEYS = ("name", "type", "executable", "entrypoint", "module", "options", "cwd")
# Names an Alembic user is likely to carry over, and what they became here.
_RENAMED_KEYS = {"sqlalchemy": "url", "hooks": "post_write_hooks"}


class ConfigWarning(UserWarning):
    """A configuration that loads but is probably not what was meant (an unknown key...)."""


@dataclass(frozen=True, slots=True)
class PostWriteHook:
    """A program run on each newly written revision file (a formatter, a linter...).

    ``target`` is an executable (``exec``), a console-script entry point name
    (``console_scripts``) or a module run as ``python -m`` (``module``). ``options`` is
    split like a shell command line; the token ``REVISION_SCRIPT_FILENAME`` in it is
    replaced by the path of the new file.
    """

    name: str
    type: HookType
    target: str
    options: str = REVISION_SCRIPT_FILENAME
    cwd: Path | None = None

    def __post_init__(self) -> None:
        if self.cwd is not None:
            object.__setattr__(self, "cwd", Path(self.cwd))


@dataclass(slots=True)
class Config:
    """Everything a command needs to know, loaded from a file or built in Python.

    :meth:`load` reads a file and returns absolute, validated values. Built directly,
    a ``Config`` takes its values as given: relative paths stay relative to the
    process's working directory, and nothing is validated.

    ``attributes`` carries objects from the caller to the migration environment (an
    ``AsyncConnection`` under ``"connection"``, an ``AsyncEngine`` under ``"engine"``);
    ``x_args`` holds the ``-x key=value`` arguments of the command line.
    """

    script_location: Path = Path("migrations")
    version_locations: tuple[Path, ...] = ()
    recursive_version_locations: bool = False
    file_template: str = "%(rev)s_%(slug)s"
    truncate_slug_length: int = 40
    timezone: str | None = None
    url: str | None = None
    target_metadata: str | None = None
    version_table: str = "whimbrel_version"
    version_table_schema: str | None = None
    history_table: str = "whimbrel_history"
    transaction_per_migration: bool = False
    migration_lock_timeout: float = 300.0
    statement_timeout: float | None = None
    lock_timeout: float | None = None
    targets: tuple[str, ...] = ()
    tenant_schemas: tuple[str, ...] = ()
    targets_from: str | None = None
    prepend_sys_path: tuple[Path, ...] = ()
    post_write_hooks: tuple[PostWriteHook, ...] = ()
    config_file: Path | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    x_args: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers without a type checker pass str paths and lists; normalise them once.
        self.script_location = Path(self.script_location)
        self.version_locations = tuple(Path(p) for p in self.version_locations)
        self.prepend_sys_path = tuple(Path(p) for p in self.prepend_sys_path)
        self.post_write_hooks = tuple(self.post_write_hooks)
        self.targets = tuple(self.targets)
        self.tenant_schemas = tuple(self.tenant_schemas)
        self.warnings = tuple(self.warnings)
        if self.config_file is not None:
            self.config_file = Path(self.config_file)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        cwd: Path | None = None,
        url: str | None = None,
        x_args: Sequence[str] | Mapping[str, str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> Config:
        """Find, read and validate the configuration file.

        The file is ``path`` if given, else ``$WHIMBREL_CONFIG``, else the first
        ``whimbrel.toml``, or ``pyproject.toml`` holding a ``[tool.whimbrel]`` table,
        found walking up from ``cwd``. Relative paths in it are taken from the file's
        directory. The database URL is ``url`` if given, else ``$WHIMBREL_URL``, else
        the file's ``url`` with ``${VAR}`` and ``${VAR:-default}`` expanded.

        Args:
            path: A ``whimbrel.toml`` or ``pyproject.toml``; relative to ``cwd``.
            cwd: Where to start looking; defaults to the process's working directory.
            url: A database URL overriding every other source (the CLI's ``--url``).
            x_args: ``"key=value"`` strings (the CLI's ``-x``) or a mapping.
            environ: The environment to read; defaults to ``os.environ``.

        Returns:
            The loaded configuration. Unknown keys are reported by a
            :class:`ConfigWarning` each and kept in :attr:`warnings`.

        Raises:
            ConfigError: No file was found, it cannot be read or parsed, a
                ``pyproject.toml`` given explicitly lacks ``[tool.whimbrel]``, a value
                has the wrong type or is invalid, or ``url`` names an unset variable.
            UsageError: An ``x_args`` item is not of the form ``key=value``.
        """
        env = os.environ if environ is None else environ
        parsed_x_args = _parse_x_args(x_args)
        base = (Path.cwd() if cwd is None else Path(cwd)).resolve()
        file, table, where = _locate(path, base, env)
        source = _Source(path=file, where=where)
        values = _read_settings(table, source)
        # The default is relative too, and so taken from the file's directory.
        values.setdefault("script_location", source.resolve("migrations"))
        values["url"] = _choose_url(url, env, values.pop("url", None), source)
        if "targets" in values:
            values["targets"] = tuple(
                _expand(t, env, source, "targets") for t in values["targets"]
            )
        for message in source.messages:
            warnings.warn(message, ConfigWarning, stacklevel=2)
        return cls(
            **values,
            config_file=file,
            x_args=parsed_x_args,
            warnings=tuple(source.messages),
        )

    @property
    def version_paths(self) -> tuple[Path, ...]:
        """The revision directories: ``version_locations``, else ``<script_location>/versions``."""
        return self.version_locations or (self.script_location / "versions",)

    def get_x_argument(self, key: str, default: str | None = None) -> str | None:
        """Return the value of ``-x key=value``, or ``default`` when it was not given."""
        return self.x_args.get(key, default)

    def masked_url(self) -> str | None:
        """Return :attr:`url` with its password replaced by ``***``, for messages and logs."""
        return None if self.url is None else mask_url(self.url)

    @contextmanager
    def extended_sys_path(self) -> Iterator[None]:
        """Put ``prepend_sys_path`` at the front of ``sys.path`` for the ``with`` block.

        Entries already on ``sys.path`` are left where they are; the ones added are
        removed on exit, so two configurations in one process do not leak into each
        other. Wrap every import of project code (models, revision files) in it.
        """
        added = [str(p) for p in self.prepend_sys_path if str(p) not in sys.path]
        sys.path[:0] = added
        importlib.invalidate_caches()
        try:
            yield
        finally:
            for entry in added:
                with suppress(ValueError):
                    sys.path.remove(entry)

    def resolve_target_metadata(self) -> Any:
        """Import and return the object named by ``target_metadata``.

        ``"pkg.module:attr"`` imports ``pkg.module`` and returns its ``attr``, which may
        be dotted (``"app.models:Base.metadata"``). The import runs inside
        :meth:`extended_sys_path`: ``prepend_sys_path`` is on ``sys.path`` only for its
        duration, though the imported modules stay in ``sys.modules``.

        Returns:
            The object, usually a ``MetaData`` or a sequence of them.

        Raises:
            ConfigError: ``target_metadata`` is unset or malformed, the module cannot be
                imported (or raised while importing), or it lacks the attribute.
        """
        spec = self.target_metadata
        where = f" in {self.config_file}" if self.config_file is not None else ""
        if spec is None:
            raise ConfigError(
                f"target_metadata is not set{where}; set it to the import path of your "
                'MetaData, e.g. target_metadata = "myapp.models:Base.metadata"',
                path=self.config_file,
                key="target_metadata",
            )
        if not _TARGET_METADATA.fullmatch(spec):
            raise ConfigError(
                f"target_metadata {spec!r}{where} is not of the form 'package.module:attr'; "
                'write e.g. target_metadata = "myapp.models:Base.metadata"',
                path=self.config_file,
                key="target_metadata",
            )
        module_name, _, attr = spec.partition(":")
        with self.extended_sys_path():
            try:
                obj = importlib.import_module(module_name)
            except Exception as e:
                raise ConfigError(
                    self._import_failure(module_name, e, where),
                    path=self.config_file,
                    key="target_metadata",
                ) from e
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as e:
                raise ConfigError(
                    f"target_metadata {spec!r}{where}: module {module_name!r} has no "
                    f"attribute {attr!r}; check the name after the ':'",
                    path=self.config_file,
                    key="target_metadata",
                ) from e
        return obj

    def _import_failure(self, module_name: str, error: Exception, where: str) -> str:
        if isinstance(error, ModuleNotFoundError) and error.name is not None:
            if module_name == error.name or module_name.startswith(error.name + "."):
                searched = ", ".join(str(p) for p in self.prepend_sys_path) or "nothing"
                return (
                    f"cannot import module {module_name!r} named by target_metadata{where}: "
                    f"no module named {error.name!r}; prepend_sys_path adds {searched} "
                    "to sys.path, add the directory that holds the package"
                )
        return (
            f"importing module {module_name!r} named by target_metadata{where} failed: "
            f"{type(error).__name__}: {error}; fix the module or its imports"
        )


# ---------------------------------------------------------------------------- masking

# Only what SQLAlchemy's renderer leaves behind: passwords in the query string.
_PASSWORD_PARAM = re.compile(r"([?&](?:password|passwd|pwd)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``.

    Use it for every URL that reaches a message or a log. A URL that SQLAlchemy cannot
    parse is masked by hand: anything between the first ``:`` and the last ``@`` of
    its authority part is hidden, and so are ``password=`` query parameters.
    """
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        # Rendering re-quotes the database part; leave a URL with no password as written.
        rendered = url if parsed.password is None else parsed.render_as_string(hide_password=True)
    except Exception:
        # A bad port, no scheme, no SQLAlchemy: masking must never fail.
        rendered = url
    return _PASSWORD_PARAM.sub(r"\1***", _mask_userinfo(rendered))


def _mask_userinfo(url: str) -> str:
    scheme_end = url.find("://")
    start = scheme_end + 3 if scheme_end != -1 else 0
    first_at = url.find("@", start)
    if first_at == -1 or url.startswith("/", start):
        return url
    # A password may hold '/', '?' or a raw '@'; the authority ends after the host.
    ends = [i for i in (url.find(c, first_at) for c in "/?#") if i != -1]
    at = url.rfind("@", start, min(ends, default=len(url)))
    colon = url.find(":", start, at)
    if colon == -1:
        return url
    return f"{url[: colon + 1]}***{url[at:]}"


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

    def unknown_key(self, key: str, valid: Sequence[str], context: str = "") -> None:
        message = f"unknown key {key!r} in {context}{self.where}"
        suggestion = _RENAMED_KEYS.get(key) or next(
            iter(difflib.get_close_matches(key, valid, n=1)), None
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
            source.unknown_key(key, tuple(_PARSERS))
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


_TARGET_METADATA = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _target_metadata(source: _Source, key: str, value: object) -> str:
    spec = _str(source, key, value)
    if not _TARGET_METADATA.fullmatch(spec):
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
        if key not in _HOOK_KEYS:
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
    return PostWriteHook(name=name, type=kind, target=target, options=options, cwd=cwd)


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
    "prepend_sys_path": _paths,
    "post_write_hooks": _hooks,
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


def _parse_x_args(x_args: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
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
