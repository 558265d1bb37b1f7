"""Adopt an existing Alembic project: write the equivalent Whimbrel configuration.

:func:`adopt` reads ``alembic.ini`` and/or ``[tool.alembic]`` in ``pyproject.toml`` as
Alembic does, reads ``env.py`` statically, and writes ``[tool.whimbrel]`` (appended to
``pyproject.toml``) or a ``whimbrel.toml`` with ``version_table = "alembic_version"``,
so Whimbrel continues the databases Alembic migrated, and a revision template
``script.py.tmpl`` beside ``script.py.mako`` whose files import ``from alembic import
op``, so both tools run the revisions Whimbrel writes. It changes no revision file, no
``env.py`` and no database; Alembic keeps working as before.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread

from whimbrel.config import CONFIG_FILENAME, PYPROJECT_FILENAME, mask_url
from whimbrel.errors import ConfigError

from .result import AdoptedSettings, AdoptNote, AdoptResult, NoteKind

if TYPE_CHECKING:
    from .alembic_config import AlembicSettings
    from .env_script import EnvFindings

__all__ = ("AdoptNote", "AdoptResult", "AdoptedSettings", "NoteKind", "adopt", "adopt_sync")

ALEMBIC_INI = "alembic.ini"


async def adopt(
    config_dir: str | Path,
    *,
    alembic_ini: str | Path | None = None,
    ini_section: str = "alembic",
    pyproject: str | Path | None = None,
    into: str | Path | None = None,
    write: bool = True,
) -> AdoptResult:
    """Write the Whimbrel configuration equivalent to an Alembic project's.

    Relative paths in the Alembic configuration are taken from ``config_dir``, the
    directory Alembic is run from. Unless the script directory already has one, a
    ``script.py.tmpl`` is written there too: ``script.py.mako`` translated, or
    Whimbrel's default template, importing ``from alembic import op`` either way. The
    file work runs in a worker thread.

    Args:
        config_dir: the project directory: where ``alembic.ini`` usually is and the
            Whimbrel configuration is written.
        alembic_ini: the Alembic ini file; default ``<config_dir>/alembic.ini`` if it
            exists. ``%(here)s`` in it is its own directory.
        ini_section: the ini file's main section (``alembic -n NAME``).
        pyproject: the ``pyproject.toml`` whose ``[tool.alembic]`` is read; default
            ``<config_dir>/pyproject.toml`` if it exists.
        into: the file to write: a ``pyproject.toml`` gets a ``[tool.whimbrel]`` table
            appended, any other name is created as a ``whimbrel.toml``. Default: the
            ``pyproject.toml`` of ``config_dir`` if there is one, else
            ``<config_dir>/whimbrel.toml``.
        write: ``False`` to change nothing and only return what would be written.

    Returns:
        The file, the settings, the TOML text (password masked), the revision template
        written (if any) and the notes: what was converted, what to do by hand, and
        what was not carried over with its Whimbrel equivalent.

    Raises:
        ConfigError: no Alembic configuration is found, or it cannot be read (a value
            that does not interpolate, a bad ``path_separator``, no
            ``script_location``...).
        CommandError: the target already holds a Whimbrel configuration (an existing
            ``[tool.whimbrel]`` table or ``whimbrel.toml`` is never overwritten), or it
            or the revision template cannot be written.
    """
    call = functools.partial(
        adopt_sync,
        config_dir,
        alembic_ini=alembic_ini,
        ini_section=ini_section,
        pyproject=pyproject,
        into=into,
        write=write,
    )
    return await anyio.to_thread.run_sync(call)


def adopt_sync(
    config_dir: str | Path,
    *,
    alembic_ini: str | Path | None = None,
    ini_section: str = "alembic",
    pyproject: str | Path | None = None,
    into: str | Path | None = None,
    write: bool = True,
) -> AdoptResult:
    """:func:`adopt`, blocking: for code that is not async.

    Raises:
        ConfigError: as :func:`adopt`.
        CommandError: as :func:`adopt`.
    """
    from .alembic_config import read_alembic_config
    from .convert import convert, locate
    from .template import plan_template, write_template
    from .writer import check_target, render
    from .writer import write as write_file

    base = Path(config_dir).resolve()
    if not base.is_dir():
        raise ConfigError(f"{base} is not a directory", path=base)
    ini = _optional(base, alembic_ini, ALEMBIC_INI, "alembic_ini")
    toml = _optional(base, pyproject, PYPROJECT_FILENAME, "pyproject")
    if ini is None and toml is None:
        raise ConfigError(
            f"no Alembic configuration in {base}: neither {ALEMBIC_INI} nor a "
            f"{PYPROJECT_FILENAME}; pass alembic_ini=",
            path=base,
        )
    settings = read_alembic_config(ini, toml, ini_section=ini_section)
    if into is not None:
        target = Path(into) if Path(into).is_absolute() else base / into
    elif (base / PYPROJECT_FILENAME).is_file():
        target = base / PYPROJECT_FILENAME
    else:
        target = base / CONFIG_FILENAME
    target = target.resolve()
    existing = check_target(target)
    script_dir, roots = locate(settings, base)
    env, env_note = _read_env(script_dir, roots, settings)
    conversion = convert(settings, env, config_dir=base, out_dir=target.parent)
    notes = list(conversion.notes)
    if env_note is not None:
        notes.append(env_note)
    template = None if script_dir is None else plan_template(script_dir)
    if template is not None:
        notes += template.notes
    pyproject_target = target.name == PYPROJECT_FILENAME
    sources = ", ".join(p.name for p in settings.sources)
    header = f"Whimbrel's configuration, written by `whimbrel adopt` from {sources}."
    text = render(
        conversion.settings, url=conversion.url, pyproject=pyproject_target, header=header
    )
    shown = text
    if conversion.url is not None:
        shown = render(
            conversion.settings,
            url=mask_url(conversion.url),
            pyproject=pyproject_target,
            header=header,
        )
    if write:
        created = template is not None and write_template(template)
        try:
            write_file(target, existing, text)
        except BaseException:
            if created and template is not None:
                template.path.unlink(missing_ok=True)
            raise
    used = [*settings.sources, *([env.path] if env is not None else [])]
    return AdoptResult(
        config_file=target,
        written=write,
        settings=conversion.settings,
        toml=shown,
        sources=tuple(used),
        notes=tuple(notes),
        revision_template=None if template is None or template.text is None else template.path,
    )


def _optional(base: Path, given: str | Path | None, default: str, name: str) -> Path | None:
    if given is None:
        candidate = base / default
        return candidate if candidate.is_file() else None
    path = Path(given) if Path(given).is_absolute() else base / given
    if not path.is_file():
        raise ConfigError(f"{name}: {path} does not exist", path=path)
    return path.resolve()


def _read_env(
    script_dir: Path | None, roots: list[Path], settings: AlembicSettings
) -> tuple[EnvFindings | None, AdoptNote | None]:
    from .env_script import read_env

    if script_dir is None:
        return None, None
    path = script_dir / "env.py"
    if not path.is_file():
        return None, AdoptNote("info", "env.py", f"{path} does not exist; nothing read from it")
    try:
        return read_env(path, search_roots=roots, main_options=settings.extra), None
    except SyntaxError as e:
        message = f"cannot be parsed ({e.msg}); nothing was read from it"
        return None, AdoptNote("manual", "env.py", message, path, e.lineno)
    except (OSError, UnicodeDecodeError) as e:
        return None, AdoptNote("manual", "env.py", f"cannot be read ({e})", path)
