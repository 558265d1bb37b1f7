"""The results of the commands that touch a database (re-exported by :mod:`whimbrel.results`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whimbrel.results import RevisionInfo

__all__ = (
    "ChangedScript",
    "CurrentResult",
    "EnsureVersionResult",
    "MigrationResult",
    "OfflineSQLResult",
    "StepEvent",
    "StepResult",
    "VerifyResult",
)


@dataclass(frozen=True, slots=True)
class EnsureVersionResult:
    """Whether ``ensure_version`` had to create the version and history tables."""

    database: str
    version_table: str
    created: bool


@dataclass(frozen=True, slots=True)
class StepEvent:
    """Emitted when a step starts (``phase="start"``) and when it ends."""

    revision: str
    direction: str
    phase: str
    message: str | None
    index: int
    total: int
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    """One revision that ran (or one stamp), with the head rows around it."""

    revision: str | None
    direction: str
    message: str | None
    duration_s: float
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What ``upgrade``, ``downgrade`` or ``stamp`` did."""

    command: str
    target: str
    database: str
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    steps: tuple[StepResult, ...]
    duration_s: float


@dataclass(frozen=True, slots=True)
class OfflineSQLResult:
    """The SQL script ``upgrade``, ``downgrade`` or ``stamp`` wrote with ``sql=True``.

    Attributes:
        command: ``upgrade``, ``downgrade`` or ``stamp``.
        target: the range or target as given (``a:b``, ``head``).
        dialect: the dialect the SQL is written for (from the configured URL).
        heads_before: the head rows the script starts from (empty: base).
        heads_after: the head rows it leaves.
        revisions: the revisions it runs (or, for ``stamp``, none), in order.
        sql: the whole script.
        notes: each step (or part of one) left out because it needs a live database;
            the script holds a marked comment at its place.
        output: where the script was also written (a path), if anywhere.
    """

    command: str
    target: str
    dialect: str
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    revisions: tuple[str, ...]
    sql: str
    notes: tuple[str, ...] = ()
    output: Path | None = None


@dataclass(frozen=True, slots=True)
class CurrentResult:
    """The revisions a database is at."""

    database: str
    heads: tuple[str, ...]
    revisions: tuple[RevisionInfo, ...]
    at_head: bool
    version_table_exists: bool


@dataclass(frozen=True, slots=True)
class ChangedScript:
    """An applied revision whose file changed since it ran."""

    revision: str
    path: Path
    recorded: str
    current: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What ``verify`` found; ``ok`` when nothing."""

    database: str
    heads: tuple[str, ...]
    changed: tuple[ChangedScript, ...]
    unknown: tuple[str, ...]
    unreachable: tuple[str, ...]
    unrecorded: tuple[str, ...] = ()
    """Revisions the version table implies that no recorded run or stamp applied."""

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not (self.changed or self.unknown or self.unreachable or self.unrecorded)
