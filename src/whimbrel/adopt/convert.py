"""Turn what Alembic reads into Whimbrel settings, with a note for each difference."""

from __future__ import annotations

import importlib.util
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from whimbrel.config import FILE_TEMPLATE_TOKENS, REVISION_SCRIPT_FILENAME, PostWriteHook, mask_url

from .alembic_config import AlembicHook, AlembicSettings
from .env_script import OPTION_EQUIVALENTS, EnvFindings
from .result import AdoptedSettings, AdoptNote, NoteKind
from .urls import async_url

__all__ = ("Conversion", "convert", "locate")

DEFAULT_FILE_TEMPLATE = "%(rev)s_%(slug)s"
# adopt writes no history_table, so Whimbrel uses Config's default (a test keeps them equal).
HISTORY_TABLE = "whimbrel_history"

_HOOK_TARGETS = {"exec": "executable", "console_scripts": "entrypoint", "module": "module"}

_ENV_FEATURES: dict[str, tuple[NoteKind, str]] = {
    "async": (
        "info",
        "Whimbrel needs none of it: every command is a coroutine awaited on your own "
        "event loop, and the engine is made from url (now an async driver)",
    ),
    "logging": (
        "info",
        "Whimbrel never configures logging; the CLI reports each step itself. The "
        "logging sections of alembic.ini stay for Alembic",
    ),
    "-x arguments": (
        "info",
        "-x key=value works the same: config.get_x_argument('key') in Whimbrel's env.py "
        "hooks and revision files, context.get_x_argument() in Alembic-style revisions",
    ),
    "multidb": (
        "not-carried",
        "Whimbrel migrates one database per configuration: write one configuration per "
        "database (each with its own url); multidb revision files' upgrade_<name>() "
        "functions are not called",
    ),
    "sys.path": (
        "manual",
        "put those directories in prepend_sys_path = [...] instead (relative to the "
        "configuration file)",
    ),
    "custom write hook": (
        "not-carried",
        "hook types registered in env.py do not exist in Whimbrel; run the same code as a "
        'post_write_hooks entry of type "exec" or "module"',
    ),
    "engine options": (
        "not-carried",
        "build the engine in an env.py hook `async def create_engine(config)` returning "
        "an AsyncEngine (see docs/running.md)",
    ),
    "SQL on connect": (
        "not-carried",
        "run it in an env.py hook `async def on_connect(connection, config)`",
    ),
    "config.attributes": (
        "info",
        "pass your AsyncConnection as connection= to whimbrel.command.upgrade() (or put it "
        "in Config.attributes['connection'])",
    ),
    "sqlalchemy.url set in code": (
        "manual",
        'set url = "${VARIABLE}" (or WHIMBREL_URL, or --url) to the same value, with an '
        "async driver",
    ),
    "relative import": ("info", "Whimbrel does not import Alembic's env.py"),
}


@dataclass
class Conversion:
    """The settings, the URL as it is to be written, and the notes."""

    settings: AdoptedSettings
    url: str | None
    notes: list[AdoptNote] = field(default_factory=list)


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _resource_dir(value: str, roots: Sequence[Path]) -> Path | None:
    """Where Alembic's ``package:dir`` resource form points, without importing anything."""
    package, _, sub = value.partition(":")
    parts = package.split(".")
    for root in roots:
        candidate = root.joinpath(*parts)
        if candidate.is_dir():
            return candidate / sub
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts[1:], sub)


def _is_resource(value: str) -> bool:
    if ":" not in value or PurePath(value).is_absolute():
        return False
    head = value.partition(":")[0]
    return len(head) > 1 and all(p.isidentifier() for p in head.split("."))


@dataclass
class _Converter:
    alembic: AlembicSettings
    env: EnvFindings | None
    config_dir: Path
    out_dir: Path
    notes: list[AdoptNote] = field(default_factory=list)

    def note(self, kind: NoteKind, topic: str, message: str, key: str | None = None) -> None:
        source = self.alembic.origin.get(key) if key else None
        self.notes.append(AdoptNote(kind, topic, message, source))

    def env_note(self, kind: NoteKind, topic: str, message: str, line: int | None) -> None:
        path = self.env.path if self.env else None
        self.notes.append(AdoptNote(kind, topic, message, path, line))

    def path(self, value: str, key: str, roots: Sequence[Path] = ()) -> Path:
        if _is_resource(value):
            found = _resource_dir(value, roots)
            if found is not None:
                self.note(
                    "converted",
                    key,
                    f"the package resource {value!r} is the directory {found}",
                    key,
                )
                return found
        path = Path(value)
        return path if path.is_absolute() else (self.config_dir / path)

    def written(self, path: Path) -> str:
        return _relative(path.resolve(), self.out_dir)

    def run(self) -> Conversion:
        a = self.alembic
        prepend = [self.path(p, "prepend_sys_path") for p in a.get("prepend_sys_path") or ()]
        roots = [*prepend, self.config_dir]
        location = a.get("script_location")
        if not isinstance(location, str) or not location:
            raise _missing_script_location(a)
        script_location = self.path(location, "script_location", roots)
        if not script_location.is_dir():
            self.note(
                "manual",
                "script_location",
                f"{script_location} does not exist (Alembic would not find it either); "
                "fix script_location in the written configuration",
                "script_location",
            )
        values: dict[str, Any] = {"script_location": self.written(script_location)}
        version_dirs = [script_location / "versions"]
        if a.get("version_locations"):
            version_dirs = [
                self.path(p, "version_locations", roots) for p in a.get("version_locations")
            ]
            values["version_locations"] = tuple(self.written(p) for p in version_dirs)
        if a.get("recursive_version_locations"):
            values["recursive_version_locations"] = True
        self.file_template(values)
        self.slug_length(values)
        self.timezone(values)
        if prepend:
            values["prepend_sys_path"] = tuple(self.written(p) for p in prepend)
        values["post_write_hooks"] = tuple(
            h for h in (self.hook(h) for h in a.hooks) if h is not None
        )
        self.leftovers()
        url = self.url()
        values["url"] = None if url is None else mask_url(url)
        self.from_env(values)
        values.setdefault("version_table", "alembic_version")
        self.note(
            "info",
            "version table",
            f"version_table = {values['version_table']!r}: Whimbrel continues the database "
            "where Alembic left it, with no re-stamp, and Alembic can still read it; "
            f"Whimbrel adds a {HISTORY_TABLE} table beside it, which Alembic's migrations "
            "ignore (its autogenerate does not: see the env.py: whimbrel_history note)",
        )
        return Conversion(AdoptedSettings(**values), url, self.notes)

    def file_template(self, values: dict[str, Any]) -> None:
        template = self.alembic.get("file_template")
        if not isinstance(template, str) or template == DEFAULT_FILE_TEMPLATE:
            return
        sample: dict[str, object] = dict.fromkeys(FILE_TEMPLATE_TOKENS, 1)
        sample.update(rev="ae1027a6acf", slug="add_users")
        try:
            template % sample
        except (KeyError, TypeError, ValueError) as e:
            self.note(
                "not-carried",
                "file_template",
                f"{template!r} does not fill from Whimbrel's tokens "
                f"({', '.join(FILE_TEMPLATE_TOKENS)}): {e!r}; set file_template by hand",
                "file_template",
            )
            return
        values["file_template"] = template

    def slug_length(self, values: dict[str, Any]) -> None:
        raw = self.alembic.get("truncate_slug_length")
        if raw is None:
            return
        try:
            length = int(raw)
        except (TypeError, ValueError):
            length = 0
        if length < 1 or isinstance(raw, bool):
            self.note(
                "not-carried",
                "truncate_slug_length",
                f"{raw!r} is not a positive integer; Whimbrel's default is 40",
                "truncate_slug_length",
            )
            return
        values["truncate_slug_length"] = length

    def timezone(self, values: dict[str, Any]) -> None:
        name = self.alembic.get("timezone")
        if not isinstance(name, str) or not name.strip():
            return
        try:
            zoneinfo.ZoneInfo(name.strip())
        except (KeyError, ValueError, OSError):
            self.note(
                "not-carried",
                "timezone",
                f"{name!r} is not an IANA time zone name; set timezone by hand "
                '(e.g. timezone = "UTC")',
                "timezone",
            )
            return
        values["timezone"] = name.strip()

    def hook(self, hook: AlembicHook) -> PostWriteHook | None:
        opts = hook.options
        kind = opts.get("type")
        topic = f"post_write_hooks: {hook.name or '(unnamed)'}"
        if not hook.name or kind is None:
            self.notes.append(
                AdoptNote("not-carried", topic, "has no name or no type", hook.source)
            )
            return None
        if kind not in _HOOK_TARGETS:
            self.notes.append(
                AdoptNote(
                    "not-carried",
                    topic,
                    f"type {kind!r} is not built in (registered in env.py?); Whimbrel runs "
                    'hooks of type "exec", "console_scripts" and "module"',
                    hook.source,
                )
            )
            return None
        target_key = _HOOK_TARGETS[kind]
        target = opts.get(target_key)
        if not target:
            self.notes.append(AdoptNote("not-carried", topic, f"has no {target_key}", hook.source))
            return None
        options = opts.get("options", "")
        if REVISION_SCRIPT_FILENAME not in options:
            # Alembic puts the file first when the options do not place it.
            options = f"{REVISION_SCRIPT_FILENAME} {options}".strip()
        cwd = opts.get("cwd")
        self.notes.append(
            AdoptNote(
                "info",
                topic,
                f"carried over as Alembic runs it, required: where {target!r} is not "
                "installed, `whimbrel revision` writes the file and then fails (exit 1), as "
                "`alembic revision` does; add optional = true to the hook to skip it with a "
                "warning instead. Unlike Alembic, Whimbrel also fails when the program exits "
                "non-zero (`ruff check` without --exit-zero, for one)",
                hook.source,
            )
        )
        return PostWriteHook(
            name=hook.name,
            type=kind,  # type: ignore[arg-type]  # checked against _HOOK_TARGETS
            target=target,
            options=options,
            cwd=None if cwd is None else Path(self.written(self.path(cwd, topic))),
        )

    def leftovers(self) -> None:
        a = self.alembic
        dropped = {
            "sourceless": "Whimbrel runs .py revision files only",
            "output_encoding": "Whimbrel writes revision files in UTF-8",
            "revision_environment": "Whimbrel's revision command never runs env.py",
        }
        for key, equivalent in dropped.items():
            if a.get(key):
                self.note("not-carried", key, equivalent, key)
        if a.get("databases"):
            self.note("not-carried", "databases (multidb)", _ENV_FEATURES["multidb"][1])
        engine_keys = sorted(k for k in a.extra if k.startswith("sqlalchemy."))
        if engine_keys:
            self.note(
                "not-carried",
                ", ".join(engine_keys),
                "engine options; build the engine in an env.py hook "
                "`async def create_engine(config)` (see docs/running.md)",
            )
        others = sorted(k for k in a.extra if not k.startswith("sqlalchemy."))
        if others:
            self.note(
                "info",
                ", ".join(others),
                "read by env.py only (config.get_main_option); Whimbrel has no such keys: "
                "pass values with -x key=value or keep them in your own settings",
            )

    def url(self) -> str | None:
        env_url = self.env.url_env if self.env else None
        raw = self.alembic.get("sqlalchemy.url")
        if env_url is not None:
            variable, default, line = env_url
            text = f"${{{variable}}}"
            if default is not None:
                converted = self.convert_url(default, "env.py default URL")
                text = f"${{{variable}:-{converted}}}" if converted else text
            self.env_note(
                "converted",
                "sqlalchemy.url",
                f"env.py takes the URL from ${variable}; url = {text!r} reads the same "
                f"variable, which must now name an async driver (e.g. postgresql+asyncpg://)",
                line,
            )
            return text
        if not isinstance(raw, str) or not raw.strip():
            self.note(
                "manual",
                "sqlalchemy.url",
                'no URL found; set url = "${DATABASE_URL}" in the configuration, or '
                "WHIMBREL_URL, or pass --url",
            )
            return None
        return self.convert_url(raw.strip(), "sqlalchemy.url")

    def convert_url(self, raw: str, topic: str) -> str | None:
        if raw.startswith("driver://"):
            self.note(
                "manual",
                topic,
                "alembic.ini still holds the template's placeholder URL; set url to your "
                'database (e.g. url = "${DATABASE_URL}"), WHIMBREL_URL or --url',
                "sqlalchemy.url",
            )
            return None
        try:
            new, change = async_url(raw)
        except ValueError as e:
            self.note(
                "manual",
                topic,
                f"{mask_url(raw)} {e}; carried over unchanged, give it an async driver",
                "sqlalchemy.url",
            )
            return raw
        if change is not None:
            self.note("converted", topic, change, "sqlalchemy.url")
        if "?" in new:
            query = new.partition("?")[2]
            names = sorted({p.partition("=")[0] for p in query.split("&") if p})
            self.note(
                "manual",
                topic,
                f"check that the async driver accepts the query parameters "
                f"{', '.join(names)} (asyncpg takes ssl=, not sslmode=, for instance)",
                "sqlalchemy.url",
            )
        from sqlalchemy.engine import make_url

        if make_url(new).password:
            self.note(
                "info",
                topic,
                "the URL holds a password, now written in the configuration too; consider "
                'url = "${DATABASE_URL}" and the environment instead',
                "sqlalchemy.url",
            )
        return new

    def from_env(self, values: dict[str, Any]) -> None:
        env = self.env
        if env is None:
            self.note(
                "manual",
                "target_metadata",
                "no env.py was read; if you use autogenerate, add "
                'target_metadata = "myapp.models:Base.metadata" to the configuration',
            )
            return
        if env.target_metadata is not None:
            values["target_metadata"] = env.target_metadata
            self.env_note(
                "info",
                "target_metadata",
                f"carried over as {env.target_metadata!r}",
                env.target_metadata_line,
            )
        else:
            self.env_note(
                "manual",
                "target_metadata",
                f"{env.target_metadata_problem}; if you use autogenerate, add a line such as "
                'target_metadata = "myapp.models:Base.metadata" (module:attribute) to the '
                "configuration",
                env.target_metadata_line,
            )
        for key in ("version_table", "version_table_schema"):
            value = env.options.get(key)
            if isinstance(value, str) and value:
                values[key] = value
                self.env_note(
                    "info", key, f"carried over from env.py: {value!r}", env.option_lines[key]
                )
        if env.options.get("transaction_per_migration") is True:
            values["transaction_per_migration"] = True
            self.env_note(
                "info",
                "transaction_per_migration",
                "carried over from env.py: true",
                env.option_lines["transaction_per_migration"],
            )
        for item in env.unresolved_options:
            self.env_note(
                "manual",
                item.topic,
                f"env.py computes it ({item.detail}); set {item.topic} in the configuration "
                "by hand",
                item.line,
            )
        for feature in env.features:
            if feature.topic in _ENV_FEATURES:
                kind, equivalent = _ENV_FEATURES[feature.topic]
            else:
                kind, equivalent = "not-carried", OPTION_EQUIVALENTS.get(feature.topic, "")
            self.env_note(
                kind, f"env.py: {feature.topic}", f"{feature.detail}; {equivalent}", feature.line
            )
        self.history_table_hook(env)
        self.env_note(
            "info",
            "env.py",
            "stays Alembic's, for Alembic; Whimbrel's own env.py is optional and holds only "
            "`async def create_engine(config)` and `async def on_connect(connection, "
            "config)` hooks",
            None,
        )

    def history_table_hook(self, env: EnvFindings) -> None:
        # Alembic's autogenerate proposes to drop every table the models lack, Whimbrel's
        # history table included; only env.py can tell it otherwise.
        existing = next((f for f in env.features if f.topic == "include_name"), None)
        if existing is not None:
            what = (
                f"env.py passes include_name already (line {existing.line}): make it "
                f'return False for type_ == "table" and name == "{HISTORY_TABLE}"'
            )
        else:
            what = (
                "in env.py, define `def include_name(name, type_, parent_names): return not "
                f'(type_ == "table" and name == "{HISTORY_TABLE}")` and pass '
                "include_name=include_name to each context.configure() call"
            )
        self.env_note(
            "info" if env.target_metadata_unset else "manual",
            "env.py: whimbrel_history",
            f"alembic check and alembic revision --autogenerate see Whimbrel's "
            f"{HISTORY_TABLE} table and propose to drop it; {what} (see "
            "docs/migrating-from-alembic.md). Whimbrel's own autogenerate needs no such hook",
            existing.line if existing is not None else None,
        )


def _missing_script_location(a: AlembicSettings) -> Exception:
    from whimbrel.errors import ConfigError

    where = " or ".join(str(p) for p in a.sources)
    return ConfigError(
        f"no script_location in {where}; Alembic needs it too",
        path=a.ini_file,
        key="script_location",
    )


def convert(
    alembic: AlembicSettings, env: EnvFindings | None, *, config_dir: Path, out_dir: Path
) -> Conversion:
    """Whimbrel settings equivalent to ``alembic`` and ``env``, with notes.

    Relative Alembic paths are taken from ``config_dir`` (the directory Alembic is run
    from); written paths are relative to ``out_dir`` when inside it.

    Raises:
        ConfigError: the Alembic configuration has no ``script_location``.
    """
    return _Converter(alembic, env, config_dir, out_dir).run()


def locate(alembic: AlembicSettings, config_dir: Path) -> tuple[Path | None, list[Path]]:
    """The script directory and the import roots (``prepend_sys_path``, ``config_dir``)."""
    probe = _Converter(alembic, None, config_dir, config_dir)
    roots = [probe.path(p, "prepend_sys_path") for p in alembic.get("prepend_sys_path") or ()]
    roots.append(config_dir)
    location = alembic.get("script_location")
    if not isinstance(location, str) or not location:
        return None, roots
    return probe.path(location, "script_location", roots), roots
