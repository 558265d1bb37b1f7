"""Frozen result objects returned by the commands; the CLI renders them.

Every result serialises to plain JSON data with :func:`to_data` (``--json``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from whimbrel._run_results import ChangedScript as ChangedScript
    from whimbrel._run_results import CurrentResult as CurrentResult
    from whimbrel._run_results import EnsureVersionResult as EnsureVersionResult
    from whimbrel._run_results import MigrationResult as MigrationResult
    from whimbrel._run_results import OfflineSQLResult as OfflineSQLResult
    from whimbrel._run_results import StepEvent as StepEvent
    from whimbrel._run_results import StepResult as StepResult
    from whimbrel._run_results import VerifyResult as VerifyResult
    from whimbrel._script_results import BranchesResult as BranchesResult
    from whimbrel._script_results import BranchPoint as BranchPoint
    from whimbrel._script_results import EditResult as EditResult
    from whimbrel._script_results import InitResult as InitResult
    from whimbrel._script_results import ShowResult as ShowResult
    from whimbrel._script_results import TemplateInfo as TemplateInfo

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
class HeadsResult:
    """The head revisions of the script directory."""

    heads: tuple[RevisionInfo, ...]
    resolve_dependencies: bool


@dataclass(frozen=True, slots=True)
class HistoryResult:
    """Revisions of a range, newest first; ``current`` is set when the database was read."""

    revisions: tuple[RevisionInfo, ...]
    lower: str
    upper: str
    current: tuple[str, ...] | None = None


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


# The other results live in whimbrel._run_results (the database commands) and
# whimbrel._script_results, imported on first use: `whimbrel heads` and `history`
# never need them, and each frozen dataclass costs about 0.4 ms to create.
_LAZY = {
    **dict.fromkeys(
        (
            "EnsureVersionResult",
            "StepEvent",
            "StepResult",
            "MigrationResult",
            "OfflineSQLResult",
            "CurrentResult",
            "ChangedScript",
            "VerifyResult",
        ),
        "whimbrel._run_results",
    ),
    **dict.fromkeys(
        (
            "TemplateInfo",
            "InitResult",
            "BranchPoint",
            "BranchesResult",
            "ShowResult",
            "EditResult",
        ),
        "whimbrel._script_results",
    ),
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
