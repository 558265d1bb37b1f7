"""Templates: the revision file template and the project layouts ``whimbrel init`` writes.

The template files live in the ``templates/`` directory next to this module and are
read with :mod:`importlib.resources`, so they work from a wheel or a zip as well.
"""

from __future__ import annotations

import os
import re
import string
import textwrap
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from importlib.resources import files
from pathlib import Path

from whimbrel.errors import CommandError, ConfigError
from whimbrel.script.hooks import PostWriteHookLike, default_post_write_hooks

__all__ = (
    "DEFAULT_URL",
    "FILE_TEMPLATE_TOKENS",
    "REVISION_TEMPLATE",
    "CreatedProject",
    "init_project",
    "list_templates",
    "make_slug",
    "render_revision",
    "revision_file_name",
    "revision_template",
    "revision_time",
)

REVISION_TEMPLATE = "script.py.tmpl"
DEFAULT_URL = "sqlite+aiosqlite:///app.db"
_HOOK_TARGET_KEYS = {"exec": "executable", "console_scripts": "entrypoint", "module": "module"}
_IMPORTS_LINE = re.compile(r"^[ \t]*\$\{imports\}[ \t]*\n", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _resource(name: str) -> str:
    return files("whimbrel.script").joinpath("templates", name).read_text(encoding="utf-8")


# ------------------------------------------------------------------ revision files


def revision_template(script_location: Path) -> tuple[str, str]:
    """Return the text and the origin of the template new revisions are made from.

    The project's own ``<script_location>/script.py.tmpl`` wins; without one the
    packaged default is used.

    Raises:
        CommandError: The project's template exists but cannot be read.
    """
    own = script_location / REVISION_TEMPLATE
    try:
        return own.read_text(encoding="utf-8"), str(own)
    except FileNotFoundError:
        return _resource(REVISION_TEMPLATE), f"the default {REVISION_TEMPLATE}"
    except (OSError, UnicodeDecodeError) as e:
        raise CommandError(f"cannot read the revision template {own}: {e}") from e


def render_revision(
    template: str,
    *,
    rev_id: str,
    message: str | None,
    down_revisions: Sequence[str],
    branch_labels: Sequence[str] = (),
    depends_on: Sequence[str] = (),
    create_date: str,
    upgrade_body: str = "pass",
    downgrade_body: str = "pass",
    imports: Sequence[str] = (),
    template_name: str = REVISION_TEMPLATE,
) -> str:
    """Fill a revision template (:class:`string.Template` syntax) and return the text.

    The placeholders are ``${message}`` (escaped for a docstring), ``${up_revision}``,
    ``${down_revision}``, ``${branch_labels}`` and ``${depends_on}`` (Python literals:
    ``None``, a string or a tuple), ``${revises}`` (parent ids separated by commas),
    ``${create_date}``, ``${imports}`` (one import per line; a line holding only
    this placeholder is dropped when there are none) and ``${upgrades}`` and
    ``${downgrades}`` (function bodies; put them after a four-space indent).

    Raises:
        CommandError: The template uses an unknown or malformed placeholder.
    """
    down_revisions, branch_labels, depends_on = (
        (ids,) if isinstance(ids, str) else tuple(ids)
        for ids in (down_revisions, branch_labels, depends_on)
    )
    values = {
        "message": _docstring_text((message or "").strip() or "empty message"),
        "up_revision": rev_id,
        "down_revision": _ids_literal(down_revisions),
        "revises": ", ".join(down_revisions) or "None",
        "branch_labels": _ids_literal(branch_labels),
        "depends_on": _ids_literal(depends_on),
        "create_date": create_date,
        "imports": "\n".join(line.strip() for line in imports if line.strip()),
        "upgrades": _body(upgrade_body),
        "downgrades": _body(downgrade_body),
    }
    if not values["imports"]:
        # A line holding only ${imports} goes away rather than leave a blank line.
        template = _IMPORTS_LINE.sub("", template)
    try:
        return string.Template(template).substitute(values)
    except KeyError as e:
        known = ", ".join(f"${{{name}}}" for name in values)
        raise CommandError(
            f"revision template {template_name} uses unknown placeholder ${{{e.args[0]}}}; "
            f"the placeholders are {known} (write $$ for a literal $)"
        ) from e
    except ValueError as e:
        raise CommandError(
            f"revision template {template_name} has a malformed placeholder: {e}; "
            "write $$ for a literal $"
        ) from e


def _docstring_text(text: str) -> str:
    # Keep the docstring's value equal to the message, whatever quotes it holds.
    text = text.replace("\\", "\\\\")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if text.endswith(('"', "'")):
        text = text[:-1] + "\\" + text[-1]
    return text.replace('"""', '""\\"').replace("'''", "''\\'")


def _str_literal(value: str) -> str:
    literal = repr(value)
    if literal.startswith("'") and '"' not in value:
        literal = f'"{literal[1:-1]}"'
    return literal


def _ids_literal(ids: Sequence[str]) -> str:
    if not ids:
        return "None"
    if len(ids) == 1:
        return _str_literal(ids[0])
    return "(" + ", ".join(_str_literal(i) for i in ids) + ")"


def _body(body: str) -> str:
    body = textwrap.dedent(body).strip("\n") or "pass"
    # The template indents the first line; indent the rest to match.
    return textwrap.indent(body, "    ").removeprefix("    ")


# ------------------------------------------------------------- revision file names

FILE_TEMPLATE_TOKENS = (
    "rev",
    "slug",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "epoch",
)


def revision_time(timezone: str | None, now: datetime | None = None) -> datetime:
    """Return the creation time of a new revision.

    It is ``now`` (the current time if None) in ``timezone`` when one is given, with
    a naive ``now`` taken to be in that zone; otherwise naive local time.

    Raises:
        ConfigError: ``timezone`` names no known time zone.
    """
    zone: tzinfo | None = None
    if timezone is not None:
        from zoneinfo import ZoneInfo

        try:
            zone = ZoneInfo(timezone)
        except (KeyError, ValueError, OSError) as e:
            raise ConfigError(
                f"timezone {timezone!r} names no known time zone; use an IANA "
                'name such as "UTC" or "Europe/Paris"',
                key="timezone",
            ) from e
    if now is None:
        return datetime.now(zone)
    if zone is not None:
        return now.astimezone(zone) if now.tzinfo is not None else now.replace(tzinfo=zone)
    return now


def revision_file_name(
    file_template: str,
    *,
    rev_id: str,
    message: str | None,
    when: datetime,
    truncate_slug_length: int = 40,
) -> str:
    """Return the file name (with ``.py``) ``file_template`` gives a new revision.

    The tokens are those of :data:`FILE_TEMPLATE_TOKENS`: ``rev`` and ``slug`` are
    strings, the others integers (``%(month).2d`` pads). With an empty slug the
    separators it leaves at either end are dropped.

    Raises:
        ConfigError: The template uses an unknown token, is malformed, or gives
            something that is not a plain file name.
    """
    slug = make_slug(message, truncate_slug_length)
    tokens: dict[str, object] = {
        "rev": rev_id,
        "slug": slug,
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "hour": when.hour,
        "minute": when.minute,
        "second": when.second,
        "epoch": int(when.timestamp()),
    }
    try:
        stem = file_template % tokens
    except KeyError as e:
        raise ConfigError(
            f"file_template {file_template!r} uses unknown token {e.args[0]!r}; "
            f"the tokens are {', '.join(FILE_TEMPLATE_TOKENS)}",
            key="file_template",
        ) from e
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"file_template {file_template!r} is not a valid %-format template: {e}",
            key="file_template",
        ) from e
    if not slug:
        stem = stem.strip("_- ")
    if not stem or "/" in stem or os.sep in stem or stem.startswith("."):
        raise ConfigError(
            f"file_template {file_template!r} gives {stem!r}, which is not a file name",
            key="file_template",
        )
    return stem + ".py"


def make_slug(message: str | None, length: int) -> str:
    """Turn a message into a file-name slug: lower case words joined by ``_``.

    The slug is cut at a word boundary to at most ``length`` characters; a first word
    longer than that is cut mid-word.
    """
    words = re.findall(r"[^\W_]+", (message or "").lower())
    slug = ""
    for word in words:
        candidate = f"{slug}_{word}" if slug else word
        if len(candidate) > length:
            return slug or word[: max(length, 0)]
        slug = candidate
    return slug


# ------------------------------------------------------------------ whimbrel init


@dataclass(frozen=True, slots=True)
class CreatedProject:
    """What ``whimbrel init`` did: the paths it created and the configuration file."""

    created: list[Path]
    config_file: Path


@dataclass(frozen=True, slots=True)
class _ProjectTemplate:
    name: str
    description: str
    config_name: str
    config_template: str


_TEMPLATES = {
    t.name: t
    for t in (
        _ProjectTemplate(
            "default",
            "Async SQLite project configured in whimbrel.toml",
            "whimbrel.toml",
            "init/whimbrel.toml.tmpl",
        ),
        _ProjectTemplate(
            "pyproject",
            "Async SQLite project configured in pyproject.toml [tool.whimbrel]",
            "pyproject.toml",
            "init/pyproject.toml.tmpl",
        ),
    )
}


def list_templates() -> list[tuple[str, str]]:
    """The project templates ``whimbrel init`` knows: (name, description), by name."""
    return [(name, _TEMPLATES[name].description) for name in sorted(_TEMPLATES)]


def init_project(
    *, directory: Path, template: str = "default", config_dir: Path | None = None
) -> CreatedProject:
    """Create a migrations directory and its configuration.

    Writes ``<directory>/script.py.tmpl``, ``<directory>/versions/``, a README, and
    the configuration: ``whimbrel.toml`` (template ``default``) or a
    ``[tool.whimbrel]`` table appended to ``pyproject.toml`` (template ``pyproject``),
    in ``config_dir``. Nothing is written unless every check passes.

    Args:
        directory: The migrations directory; it must not exist or be empty.
        template: A name from :func:`list_templates`.
        config_dir: Where the configuration goes; ``directory``'s parent by default.

    Returns:
        The paths created, and the configuration file written or extended.

    Raises:
        CommandError: The template is unknown, ``directory`` is not empty, the
            configuration file already exists (``whimbrel.toml``), already holds a
            ``[tool.whimbrel]`` table or is not valid TOML (``pyproject.toml``).
    """
    chosen = _TEMPLATES.get(template)
    if chosen is None:
        valid = ", ".join(sorted(_TEMPLATES))
        raise CommandError(f"unknown template {template!r}; the templates are {valid}")
    directory = Path(os.path.abspath(directory))
    config_dir = directory.parent if config_dir is None else Path(os.path.abspath(config_dir))
    if directory.exists():
        if not directory.is_dir():
            raise CommandError(f"{directory} exists and is not a directory")
        if any(directory.iterdir()):
            raise CommandError(
                f"directory {directory} already exists and is not empty; "
                "choose another directory or empty it"
            )
    config_file = config_dir / chosen.config_name
    settings = string.Template(_resource(chosen.config_template)).substitute(
        script_location=_toml_escape(_relative(directory, config_dir)),
        url=_toml_escape(DEFAULT_URL),
        hooks=_hooks_toml(default_post_write_hooks()),
    )
    config_text = _config_text(config_file, settings, pyproject=chosen.name == "pyproject")

    created: list[Path] = []
    if not directory.exists():
        directory.mkdir(parents=True)
        created.append(directory)
    versions = directory / "versions"
    versions.mkdir()
    gitkeep = versions / ".gitkeep"
    gitkeep.touch()
    script_template = directory / REVISION_TEMPLATE
    script_template.write_text(_resource(REVISION_TEMPLATE), encoding="utf-8")
    readme = directory / "README.md"
    readme.write_text(
        string.Template(_resource("init/README.md.tmpl")).substitute(
            config_name=chosen.config_name
        ),
        encoding="utf-8",
    )
    created += [script_template, versions, gitkeep, readme]
    config_dir.mkdir(parents=True, exist_ok=True)
    if not config_file.exists():
        created.append(config_file)
    config_file.write_text(config_text, encoding="utf-8")
    return CreatedProject(created=created, config_file=config_file)


def _config_text(config_file: Path, settings: str, *, pyproject: bool) -> str:
    if not config_file.exists():
        return settings
    if not pyproject:
        raise CommandError(
            f"{config_file} already exists; remove it or pass another configuration directory"
        )
    try:
        existing = config_file.read_text(encoding="utf-8")
        data = tomllib.loads(existing)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise CommandError(f"cannot read {config_file}: {e}; fix it first") from e
    tool = data.get("tool")
    if isinstance(tool, dict) and "whimbrel" in tool:
        raise CommandError(
            f"{config_file} already has a [tool.whimbrel] table; Whimbrel is set up already"
        )
    combined = existing.rstrip("\n") + "\n\n" + settings if existing.strip() else settings
    try:
        tomllib.loads(combined)
    except tomllib.TOMLDecodeError as e:
        raise CommandError(
            f"cannot add [tool.whimbrel] to {config_file} ({e}); its 'tool' key is not "
            "a plain table"
        ) from e
    return combined


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _toml_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .translate({i: f"\\u{i:04x}" for i in (*range(0x20), 0x7F)})
    )


def _hooks_toml(hooks: Sequence[PostWriteHookLike]) -> str:
    # An array of inline tables, not [[...]] sections: a key added at the end of the
    # file later must not land inside the last hook's table.
    lines = [
        "# Programs run on each new revision file, in order: ruff fixes and formats it.",
        "# optional = true: without ruff installed (next to Python or on PATH) a hook is",
        "# skipped with a warning and the revision is written as generated.",
        "post_write_hooks = [",
    ]
    for hook in hooks:
        fields = [
            f'name = "{_toml_escape(hook.name)}"',
            f'type = "{_toml_escape(hook.type)}"',
            f'{_HOOK_TARGET_KEYS[hook.type]} = "{_toml_escape(hook.target)}"',
            f'options = "{_toml_escape(hook.options)}"',
        ]
        if hook.optional:
            fields.append("optional = true")
        lines.append(f"    {{ {', '.join(fields)} }},")
    lines.append("]")
    return "\n".join(lines)
