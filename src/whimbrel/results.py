"""Frozen result objects returned by the commands; the CLI renders them.

Every result serialises to plain JSON data with :func:`to_data` (``--json``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

__all__ = (
    "BranchPoint",
    "BranchesResult",
    "ChangedScript",
    "CurrentResult",
    "EditResult",
    "EnsureVersionResult",
    "HeadsResult",
    "HistoryResult",
    "InitResult",
    "MigrationResult",
    "OfflineSQLResult",
    "RevisionInfo",
    "ShowResult",
    "StepEvent",
    "StepResult",
    "TemplateInfo",
    "VerifyResult",
    "to_data",
)


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """What the script directory knows about one revision, without running it."""

    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    message: str | None
    file: str
    """The revision file's absolute path as text; :attr:`path` as a :class:`~pathlib.Path`."""
    doc: str | None
    create_date: str | None
    is_head: bool
    is_base: bool
    is_branch_point: bool
    is_merge_point: bool
    children: tuple[str, ...]

    # --json shows ``file`` under the name ``path``.
    _json_names: ClassVar[dict[str, str]] = {"file": "path"}

    @property
    def path(self) -> Path:
        """The revision file (built on access: ``history`` lists thousands of these)."""
        return Path(self.file)


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """A project template for ``init``."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``init`` created."""

    directory: Path
    config_file: Path
    template: str
    created: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class HeadsResult:
    """The head revisions of the script directory."""

    heads: tuple[RevisionInfo, ...]
    resolve_dependencies: bool


@dataclass(frozen=True, slots=True)
class BranchPoint:
    """A revision that two or more revisions follow."""

    revision: RevisionInfo
    children: tuple[RevisionInfo, ...]


@dataclass(frozen=True, slots=True)
class BranchesResult:
    """Every branch point of the script directory."""

    branch_points: tuple[BranchPoint, ...]


@dataclass(frozen=True, slots=True)
class HistoryResult:
    """Revisions of a range, newest first; ``current`` is set when the database was read."""

    revisions: tuple[RevisionInfo, ...]
    lower: str
    upper: str
    current: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ShowResult:
    """Full details of the revisions named."""

    revisions: tuple[RevisionInfo, ...]


@dataclass(frozen=True, slots=True)
class EnsureVersionResult:
    """Whether ``ensure_version`` had to create the version and history tables."""

    database: str
    version_table: str
    created: bool


@dataclass(frozen=True, slots=True)
class EditResult:
    """The revision file opened in the editor."""

    revision: str
    path: Path
    editor: str


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

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not (self.changed or self.unknown or self.unreachable)


def to_data(result: object) -> Any:
    """Turn a result (or a list or tuple of them) into JSON-ready data."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        names: dict[str, str] = getattr(result, "_json_names", {})
        return {
            names.get(f.name, f.name): to_data(getattr(result, f.name))
            for f in dataclasses.fields(result)
        }
    if isinstance(result, list | tuple):
        return [to_data(item) for item in result]
    if isinstance(result, dict):
        return {str(k): to_data(v) for k, v in result.items()}
    if isinstance(result, Path):
        return str(result)
    return result
