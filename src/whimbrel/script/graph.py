"""The revision graph: pure, synchronous, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Revision:
    """One node of the revision graph, as declared by its file's header.

    ``depends_on`` holds the identifiers as written (ids, unique prefixes or branch
    labels); the graph resolves them.
    """

    revision: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str | None = None
    path: Path | None = field(default=None, compare=False)
