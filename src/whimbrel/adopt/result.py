"""What :func:`whimbrel.adopt.adopt` returns: frozen, JSON-ready with ``to_data``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from whimbrel.config import PostWriteHook

__all__ = ("AdoptNote", "AdoptResult", "AdoptedSettings", "NoteKind")

NoteKind = Literal["converted", "manual", "not-carried", "info"]
"""``converted``: a value was changed on the way (a sync URL made async...);
``manual``: something to do by hand, the note says what; ``not-carried``: an Alembic
setting or ``env.py`` logic with no automatic translation, the note names Whimbrel's
equivalent; ``info``: nothing to do."""


@dataclass(frozen=True, slots=True)
class AdoptNote:
    """One thing ``adopt`` did, or could not do, with what it means in Whimbrel.

    ``topic`` names the Alembic side (``sqlalchemy.url``, ``env.py: include_object``);
    ``source`` and ``line`` say where it was read, when known.
    """

    kind: NoteKind
    topic: str
    message: str
    source: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        return f"{where}{self.topic}: {self.message}"


@dataclass(frozen=True, slots=True)
class AdoptedSettings:
    """The Whimbrel settings written, as they appear in the file (``None``: not written).

    Paths are as written, relative to the configuration file when they are inside its
    directory. ``url`` has its password masked.
    """

    script_location: str
    version_table: str
    version_locations: tuple[str, ...] | None = None
    recursive_version_locations: bool | None = None
    file_template: str | None = None
    truncate_slug_length: int | None = None
    timezone: str | None = None
    url: str | None = None
    target_metadata: str | None = None
    version_table_schema: str | None = None
    transaction_per_migration: bool | None = None
    prepend_sys_path: tuple[str, ...] | None = None
    post_write_hooks: tuple[PostWriteHook, ...] = ()


@dataclass(frozen=True, slots=True)
class AdoptResult:
    """The Whimbrel configuration made from an Alembic one.

    ``config_file`` is the file written (or, with ``write=False``, the one that would
    be); ``toml`` is the text added to it, with any password in the URL shown as
    ``***``. ``sources`` are the Alembic files read. ``revision_template`` is the
    ``script.py.tmpl`` written (or that would be) in the script directory, ``None``
    when the project's own is kept. Nothing else is changed: no revision file, no
    ``env.py``, no database.
    """

    config_file: Path
    written: bool
    settings: AdoptedSettings
    toml: str
    sources: tuple[Path, ...]
    notes: tuple[AdoptNote, ...]
    revision_template: Path | None = None

    @property
    def needs_attention(self) -> tuple[AdoptNote, ...]:
        """The notes asking for something to be done by hand, or not carried over."""
        return tuple(n for n in self.notes if n.kind in ("manual", "not-carried"))
