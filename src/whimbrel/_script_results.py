"""The results of ``init``, ``branches``, ``show``, ``edit`` and ``list_templates``.

Re-exported by :mod:`whimbrel.results` and imported on first use: ``heads`` and
``history``, the commands run most, never build these classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whimbrel.results import RevisionInfo

__all__ = (
    "BranchPoint",
    "BranchesResult",
    "EditResult",
    "InitResult",
    "ShowResult",
    "TemplateInfo",
)


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
class BranchPoint:
    """A revision that two or more revisions follow."""

    revision: RevisionInfo
    children: tuple[RevisionInfo, ...]


@dataclass(frozen=True, slots=True)
class BranchesResult:
    """Every branch point of the script directory."""

    branch_points: tuple[BranchPoint, ...]


@dataclass(frozen=True, slots=True)
class ShowResult:
    """Full details of the revisions named."""

    revisions: tuple[RevisionInfo, ...]


@dataclass(frozen=True, slots=True)
class EditResult:
    """The revision file opened in the editor."""

    revision: str
    path: Path
    editor: str
