"""Resolving identifiers over a revision graph.

Owns every identifier form a command accepts besides a bare lookup: ``head``,
``heads``, ``base``, ``current``, ``label@...`` and the relative steps ``+N``, ``-N``,
``<rev>+N``, ``<rev>-N``, ``label@+N``, ``label@-N``, with the branch-lineage checks
they share with planning. :class:`~whimbrel.script.graph.RevisionGraph` answers
``resolve`` and ``resolve_one`` with these functions. Exact ids, branch labels and
unique prefixes are looked up by ``RevisionGraph._lookup``, which building the graph
needs too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from whimbrel.errors import MultipleHeadsError, RangeError, RelativeStepError, UnknownRevisionError
from whimbrel.script.graph import _RELATIVE

if TYPE_CHECKING:
    from whimbrel.script.graph import RevisionGraph

__all__ = ("in_lineage", "label_root", "relative_start", "resolve", "resolve_one")


def label_root(graph: RevisionGraph, label: str) -> str:
    """The revision that anchors ``label@...``: a declared label or any revision."""
    try:
        return graph._lookup(label)
    except UnknownRevisionError:
        raise UnknownRevisionError(
            label, hint="no such branch label; run 'whimbrel branches' to list them"
        ) from None


def in_lineage(graph: RevisionGraph, rev_id: str, anchor: str) -> bool:
    return anchor in graph.ancestors([rev_id], include_dependencies=False) or (
        rev_id in graph.ancestors([anchor], include_dependencies=False)
    )


def _filter_lineage(
    graph: RevisionGraph, rev_ids: Iterable[str], label: str | None
) -> tuple[str, ...]:
    if label is None:
        return tuple(rev_ids)
    anchor = label_root(graph, label)
    line = graph.ancestors([anchor], include_dependencies=False) | graph.descendants(
        [anchor], include_dependencies=False
    )
    return tuple(r for r in rev_ids if r in line)


def resolve(
    graph: RevisionGraph, identifier: str, *, current: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Resolve an identifier to revision ids (``()`` means base).

    The forms accepted and the errors raised are those of ``RevisionGraph.resolve``.
    """
    match = _RELATIVE.match(identifier)
    if match:
        return _resolve_relative(graph, identifier, match, current)
    label, _, symbol = identifier.rpartition("@")
    label_or_none = label or None
    if symbol == "heads":
        return _filter_lineage(graph, graph.heads, label_or_none)
    if symbol == "head":
        heads = _filter_lineage(graph, graph.heads, label_or_none)
        if len(heads) > 1:
            raise MultipleHeadsError(heads, identifier)
        return heads
    if symbol == "base":
        if label_or_none is not None:
            label_root(graph, label_or_none)
        return ()
    if symbol == "current":
        if current is None:
            raise RelativeStepError(identifier, "it needs the database's current revision")
        for rev_id in current:
            # A database row no revision file declares: say so, as the walks do.
            graph.get(rev_id)
        return _filter_lineage(graph, current, label_or_none)
    if not symbol:
        raise UnknownRevisionError(identifier)
    rev_id = graph._lookup(symbol)
    if label_or_none is not None and not in_lineage(
        graph, rev_id, label_root(graph, label_or_none)
    ):
        raise RangeError(
            f"revision {rev_id} is not on branch {label_or_none!r}; "
            "run 'whimbrel history' to see which branch it is on",
            identifier=identifier,
        )
    return (rev_id,)


def resolve_one(
    graph: RevisionGraph, identifier: str, *, current: Sequence[str] | None = None
) -> str | None:
    """Resolve to a single revision id, or ``None`` for base.

    The errors raised are those of ``RevisionGraph.resolve_one``.
    """
    found = resolve(graph, identifier, current=current)
    if len(found) > 1:
        raise MultipleHeadsError(found, identifier)
    return found[0] if found else None


def _resolve_relative(
    graph: RevisionGraph, identifier: str, match: re.Match[str], current: Sequence[str] | None
) -> tuple[str, ...]:
    label: str | None = match["label"]
    symbol: str | None = match["symbol"]
    steps = int(match["steps"])
    if symbol is None:
        if current is None:
            raise RelativeStepError(
                identifier, "a step relative to the current revision needs the database"
            )
        start = relative_start(graph, identifier, current, label, steps)
    else:
        if label is None and symbol in graph._labels:
            label = symbol
        anchor = f"{label}@{symbol}" if label is not None and symbol != label else symbol
        start = resolve_one(graph, anchor, current=current)
    target = _walk(graph, identifier, start, steps, label)
    return () if target is None else (target,)


def relative_start(
    graph: RevisionGraph, identifier: str, current: Sequence[str], label: str | None, steps: int
) -> str | None:
    heads = graph._heads_of(current)
    if label is not None:
        on_branch = _filter_lineage(graph, heads, label)
        if not on_branch:
            # The database is on another line: start from the highest applied
            # revision on this one (a branch point, typically).
            applied = graph.ancestors(heads)
            on_branch = graph._maximal(_filter_lineage(graph, applied, label))
        heads = on_branch
    if not heads:
        if steps < 0:
            raise RelativeStepError(identifier, "nothing is applied, so there is nothing below")
        return None
    if len(heads) > 1:
        raise MultipleHeadsError(heads, identifier)
    return heads[0]


def _walk(
    graph: RevisionGraph, identifier: str, start: str | None, steps: int, label: str | None
) -> str | None:
    node = start
    for taken in range(abs(steps)):
        if steps > 0:
            options = graph.bases if node is None else graph.children(node)
            options = _filter_lineage(graph, options, label)
            if not options:
                raise RelativeStepError(
                    identifier, f"only {taken} revision(s) above, not {abs(steps)}"
                )
        else:
            if node is None:
                raise RelativeStepError(identifier, f"it walks past base after {taken} step(s)")
            options = graph._nodes[node].down_revisions
            if not options:
                node = None
                continue
        if len(options) > 1:
            kind = "branches" if steps > 0 else "merges"
            raise RelativeStepError(
                identifier,
                f"{node or 'base'} {kind} into {', '.join(options)}; "
                "name the branch with 'label@' or start from a revision id",
            )
        node = options[0]
    return node
