"""What ``check`` and ``revision --autogenerate`` return (JSON-ready with ``to_data``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from whimbrel.autogenerate.diffs import Diff
from whimbrel.autogenerate.rename import Rename
from whimbrel.results import RevisionInfo

__all__ = ("AutogenerateResult", "CheckResult")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """How the database differs from the models.

    Attributes:
        database: the database compared (password masked).
        ok: no differences.
        messages: each difference in one line.
        diffs: each difference as data.
        destructive: the messages of differences whose migration can lose data.
        manual: the messages of differences that must be migrated by hand.
    """

    database: str
    ok: bool
    messages: tuple[str, ...]
    diffs: tuple[Diff, ...]
    destructive: tuple[str, ...] = ()
    manual: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AutogenerateResult:
    """The revision autogenerate wrote, and what it found.

    Attributes:
        revision: the new revision.
        path: its file.
        database: the database compared (password masked).
        messages: each difference in one line.
        diffs: each difference as data.
        destructive: differences whose migration can lose data (drops, narrowing
            type changes): review them before upgrading.
        manual: differences the script leaves to be written by hand (``TODO``).
        renames: renames written as renames (confirmed or given).
        suspected_renames: drops and adds that may be renames; written as a drop
            and an add, under a warning.
    """

    revision: RevisionInfo
    path: Path
    database: str
    messages: tuple[str, ...]
    diffs: tuple[Diff, ...]
    destructive: tuple[str, ...]
    manual: tuple[str, ...]
    renames: tuple[Rename, ...]
    suspected_renames: tuple[Rename, ...]
