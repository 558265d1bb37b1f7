"""Whimbrel's configuration, read from ``[tool.whimbrel]`` or a ``whimbrel.toml``.

Loading is strict about types and lenient about unknown keys: a value of the wrong type
is a :class:`~whimbrel.errors.ConfigError` naming the file and the key, while an unknown
key is a :class:`ConfigWarning` that suggests the closest valid key. Nothing here
prints, parses a command line or imports SQLAlchemy at import time.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import ConfigError

__all__ = (
    "AUTOGENERATE_KEYS",
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "FILE_TEMPLATE_TOKENS",
    "PYPROJECT_FILENAME",
    "REVISION_SCRIPT_FILENAME",
    "URL_ENV",
    "AutogenerateSettings",
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
# "package.module:attr", the attribute possibly dotted.
TARGET_METADATA_FORM = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
FILE_TEMPLATE_TOKENS = ("rev", "slug", "year", "month", "day", "hour", "minute", "second", "epoch")

HookType = Literal["exec", "console_scripts", "module"]
_T = TypeVar("_T")


AUTOGENERATE_KEYS = (
    "compare_type",
    "compare_server_default",
    "compare_comments",
    "include_schemas",
    "include_name",
    "include_object",
    "exclude_tables",
    "render_as_batch",
    "user_module_prefix",
    "detect_renames",
    "line_length",
)
"""The keys of the ``autogenerate`` table, as :class:`AutogenerateSettings` names them."""


class ConfigWarning(UserWarning):
    """A configuration that loads but is probably not what was meant (an unknown key...)."""


@dataclass(frozen=True, slots=True)
class PostWriteHook:
    """A program run on each newly written revision file (a formatter, a linter...).

    ``target`` is an executable (``exec``), a console-script entry point name
    (``console_scripts``) or a module run as ``python -m`` (``module``). ``options`` is
    split like a shell command line; the token ``REVISION_SCRIPT_FILENAME`` in it is
    replaced by the path of the new file. An ``optional`` hook whose program is not
    installed is skipped with a warning instead of failing the command.
    """

    name: str
    type: HookType
    target: str
    options: str = REVISION_SCRIPT_FILENAME
    cwd: Path | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.cwd is not None:
            object.__setattr__(self, "cwd", Path(self.cwd))


@dataclass(frozen=True, slots=True, kw_only=True)
class AutogenerateSettings:
    """The ``autogenerate`` table of the configuration, and the command line's flags.

    Each field is the :class:`~whimbrel.autogenerate.AutogenerateOptions` field of the
    same name. ``None`` leaves it to the next source down (command line, then file,
    then the default). The hooks are import paths, ``"package.module:function"``,
    imported only when autogenerate runs (:meth:`Config.resolve_object`).
    """

    compare_type: bool | str | None = None
    """``true``/``false``, or the import path of a ``TypeComparator``."""
    compare_server_default: bool | None = None
    compare_comments: bool | None = None
    include_schemas: bool | None = None
    include_name: str | None = None
    """The import path of an ``include_name(name, type_, parent_names)`` function."""
    include_object: str | None = None
    """The import path of an ``include_object(obj, name, type_, reflected, compare_to)``."""
    exclude_tables: tuple[str, ...] = ()
    """Table names or patterns (``"tmp_*"``, ``"audit.*"``) never compared."""
    render_as_batch: bool | None = None
    user_module_prefix: str | None = None
    detect_renames: bool | None = None
    line_length: int | None = None

    def __post_init__(self) -> None:
        tables = self.exclude_tables
        object.__setattr__(
            self, "exclude_tables", (tables,) if isinstance(tables, str) else tuple(tables)
        )

    def overridden_by(self, other: AutogenerateSettings) -> AutogenerateSettings:
        """These settings with each one ``other`` sets put over them.

        ``exclude_tables`` add up: ``other``'s are excluded as well as these.
        """
        return AutogenerateSettings(
            compare_type=(self.compare_type if other.compare_type is None else other.compare_type),
            compare_server_default=_first(
                other.compare_server_default, self.compare_server_default
            ),
            compare_comments=_first(other.compare_comments, self.compare_comments),
            include_schemas=_first(other.include_schemas, self.include_schemas),
            include_name=_first(other.include_name, self.include_name),
            include_object=_first(other.include_object, self.include_object),
            exclude_tables=tuple(dict.fromkeys((*self.exclude_tables, *other.exclude_tables))),
            render_as_batch=_first(other.render_as_batch, self.render_as_batch),
            user_module_prefix=_first(other.user_module_prefix, self.user_module_prefix),
            detect_renames=_first(other.detect_renames, self.detect_renames),
            line_length=_first(other.line_length, self.line_length),
        )


def _first(value: _T | None, fallback: _T | None) -> _T | None:
    return fallback if value is None else value


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
    lint_disable: tuple[str, ...] = ()
    prepend_sys_path: tuple[Path, ...] = ()
    post_write_hooks: tuple[PostWriteHook, ...] = ()
    autogenerate: AutogenerateSettings = field(default_factory=AutogenerateSettings)
    config_file: Path | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    x_args: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # A repr ends up in logs and tracebacks: the URLs' passwords are masked.
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "url" and value is not None:
                value = mask_url(value)
            elif f.name == "targets":
                value = tuple(mask_url(target) for target in value)
            shown.append(f"{f.name}={value!r}")
        return f"Config({', '.join(shown)})"

    def __post_init__(self) -> None:
        # Callers without a type checker pass str paths and lists; normalise them once.
        self.script_location = Path(self.script_location)
        self.version_locations = tuple(Path(p) for p in self.version_locations)
        self.prepend_sys_path = tuple(Path(p) for p in self.prepend_sys_path)
        self.post_write_hooks = tuple(self.post_write_hooks)
        self.targets = tuple(self.targets)
        self.tenant_schemas = tuple(self.tenant_schemas)
        self.lint_disable = tuple(self.lint_disable)
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
        from whimbrel.configfile import parse_x_args, read_config_file

        env = os.environ if environ is None else environ
        parsed_x_args = parse_x_args(x_args)
        base = (Path.cwd() if cwd is None else Path(cwd)).resolve()
        file, values, messages = read_config_file(path, base, env, url)
        for message in messages:
            warnings.warn(message, ConfigWarning, stacklevel=2)
        return cls(
            **values,
            config_file=file,
            x_args=parsed_x_args,
            warnings=tuple(messages),
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
        if added:
            sys.path[:0] = added
            # Modules written since a directory was last listed must be found too.
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
        if self.target_metadata is None:
            where = f" in {self.config_file}" if self.config_file is not None else ""
            raise ConfigError(
                f"target_metadata is not set{where}; set it to the import path of your "
                'MetaData, e.g. target_metadata = "myapp.models:Base.metadata"',
                path=self.config_file,
                key="target_metadata",
            )
        return self.resolve_object(
            self.target_metadata,
            key="target_metadata",
            example='target_metadata = "myapp.models:Base.metadata"',
        )

    def resolve_object(self, spec: str, *, key: str, example: str | None = None) -> Any:
        """Import and return the object the import path ``spec`` names.

        ``"pkg.module:attr"`` imports ``pkg.module`` inside :meth:`extended_sys_path`
        and returns its ``attr``, which may be dotted. Errors name ``key`` and the
        configuration file.

        Args:
            spec: The import path.
            key: The setting it comes from (``"autogenerate.include_object"``).
            example: A correct line for that setting, shown when ``spec`` is malformed.

        Raises:
            ConfigError: ``spec`` is malformed, the module cannot be imported (or
                raised while importing), or it lacks the attribute.
        """
        where = f" in {self.config_file}" if self.config_file is not None else ""
        if not TARGET_METADATA_FORM.fullmatch(spec):
            hint = f"; write e.g. {example}" if example else ""
            raise ConfigError(
                f"{key} {spec!r}{where} is not of the form 'package.module:attr'{hint}",
                path=self.config_file,
                key=key,
            )
        module_name, _, attr = spec.partition(":")
        with self.extended_sys_path():
            try:
                obj = importlib.import_module(module_name)
            except Exception as e:
                raise ConfigError(
                    self._import_failure(module_name, e, where, key),
                    path=self.config_file,
                    key=key,
                ) from e
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as e:
                raise ConfigError(
                    f"{key} {spec!r}{where}: module {module_name!r} has no "
                    f"attribute {attr!r}; check the name after the ':'",
                    path=self.config_file,
                    key=key,
                ) from e
        return obj

    def _import_failure(self, module_name: str, error: Exception, where: str, key: str) -> str:
        if isinstance(error, ModuleNotFoundError) and error.name is not None:
            if module_name == error.name or module_name.startswith(error.name + "."):
                searched = ", ".join(str(p) for p in self.prepend_sys_path) or "nothing"
                return (
                    f"cannot import module {module_name!r} named by {key}{where}: "
                    f"no module named {error.name!r}; prepend_sys_path adds {searched} "
                    "to sys.path, add the directory that holds the package"
                )
        return (
            f"importing module {module_name!r} named by {key}{where} failed: "
            f"{type(error).__name__}: {error}; fix the module or its imports"
        )


# ---------------------------------------------------------------------------- masking

# Only what SQLAlchemy's renderer leaves behind: passwords in the query string.
_PASSWORD_PARAM = re.compile(r"([?&](?:password|passwd|pwd)=)[^&#]*", re.IGNORECASE)


# A URL in a message: it does not end with the punctuation after it ("…/db: error").
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]*[^\s'\".,;:)\]]")


def mask_urls(text: str) -> str:
    """Return ``text`` with the password of every URL in it masked, and nothing else changed.

    For messages that may quote a URL (a driver's error): :func:`mask_url` reads
    its whole argument as one URL, and would hide the text between a ``:`` and an
    ``@`` anywhere in a sentence.
    """
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group()), text)


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
