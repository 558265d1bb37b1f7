"""Planning walks over a revision graph, with Alembic's semantics.

Which revisions run, in which order, and how the head rows change:
:class:`~whimbrel.script.graph.RevisionGraph` answers ``plan_upgrade``,
``plan_downgrade`` and ``plan_stamp`` with these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whimbrel.errors import RangeError, RelativeStepError
from whimbrel.script.graph import _RELATIVE, Direction
from whimbrel.script.identifiers import in_lineage, label_root, relative_start

if TYPE_CHECKING:
    from whimbrel.script.graph import RevisionGraph

__all__ = ("Plan", "Step", "plan_downgrade", "plan_stamp", "plan_upgrade")


@dataclass(frozen=True, slots=True)
class Step:
    """One revision to run, and the head rows before and after it."""

    revision: str
    direction: Direction
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps that take the database from ``heads_before`` to ``heads_after``."""

    direction: Direction
    steps: tuple[Step, ...]
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]

    @property
    def revisions(self) -> tuple[str, ...]:
        """The revision ids in the order they run."""
        return tuple(step.revision for step in self.steps)


def plan_upgrade(graph: RevisionGraph, current: Sequence[str], target: str) -> Plan:
    """Plan an upgrade from the head rows ``current`` to ``target``.

    Raises:
        RevisionError: the target cannot be resolved (see ``RevisionGraph.resolve``).
    """
    heads = graph._heads_of(current)
    targets = graph.resolve(target, current=heads)
    needed = graph.ancestors(targets) - graph.ancestors(heads)
    steps: list[Step] = []
    state = list(heads)
    for rev_id in graph.topological(needed):
        before = tuple(state)
        downs = set(graph._downs(rev_id, True))
        state = [h for h in state if h not in downs]
        state.append(rev_id)
        steps.append(Step(rev_id, "up", before, tuple(state)))
    return Plan("up", tuple(steps), heads, tuple(state))


def plan_downgrade(graph: RevisionGraph, current: Sequence[str], target: str) -> Plan:
    """Plan a downgrade from the head rows ``current`` to ``target``.

    Removes the target's descendants that are applied (and whatever depends on
    them), newest first.

    Raises:
        RangeError: the target is above the current revisions.
        RevisionError: the target cannot be resolved (see ``RevisionGraph.resolve``).
    """
    heads = graph._heads_of(current)
    applied = graph.ancestors(heads)
    remove = _to_remove(graph, target, heads, applied)
    steps: list[Step] = []
    state = list(heads)
    remaining = set(applied)
    for rev_id in reversed(graph.topological(remove)):
        before = tuple(state)
        remaining.discard(rev_id)
        state = [h for h in state if h != rev_id]
        candidates = [d for d in graph._downs(rev_id, True) if d in remaining]
        if candidates:
            # A down revision becomes a head row unless another head implies it.
            others = graph.ancestors(state) if state else set()
            state.extend(d for d in candidates if d not in others)
        steps.append(Step(rev_id, "down", before, tuple(state)))
    return Plan("down", tuple(steps), heads, tuple(state))


def _to_remove(
    graph: RevisionGraph, target: str, heads: Sequence[str], applied: set[str]
) -> set[str]:
    """The applied revisions a downgrade to ``target`` takes out."""
    match = _RELATIVE.match(target)
    if match and match["symbol"] is None:
        steps = int(match["steps"])
        if steps >= 0:
            raise RelativeStepError(
                target, "a downgrade target cannot be above the current; use -N"
            )
        # Walk down from the current head, taking out each revision passed.
        node = relative_start(graph, target, heads, match["label"], steps)
        walked: list[str] = []
        for taken in range(-steps):
            if node is None:
                raise RelativeStepError(target, f"it walks past base after {taken} step(s)")
            walked.append(node)
            downs = graph._nodes[node].down_revisions
            if len(downs) > 1 and taken + 1 < -steps:
                raise RelativeStepError(
                    target,
                    f"{node} merges {', '.join(downs)}; downgrade to one of them by id",
                )
            node = downs[0] if downs else None
        return graph.descendants(walked) & applied
    label = target.rpartition("@")[0] or None
    target_rev = graph.resolve_one(target, current=heads)
    if target_rev is None:
        if label is None:
            return set(applied)
        label_root(graph, label)
        roots: Iterable[str] = [
            r
            for r in graph._nodes
            if label in graph.branch_labels(r)
            and not any(label in graph.branch_labels(d) for d in graph._downs(r, False))
        ]
    else:
        roots = graph.children(target_rev)
        if label is not None and len(roots) > 1:
            anchor = label_root(graph, label)
            roots = [r for r in roots if in_lineage(graph, r, anchor)]
    remove = graph.descendants(roots) & applied
    if target_rev is not None and not remove and target_rev not in applied:
        raise RangeError(
            f"cannot downgrade to {target_rev}: it is not applied "
            f"(current: {', '.join(heads) or 'base'}); use 'upgrade' to go forward",
            identifier=target,
        )
    return remove


def plan_stamp(
    graph: RevisionGraph, current: Sequence[str], targets: Sequence[str], *, purge: bool = False
) -> tuple[str, ...]:
    """The head rows after stamping ``targets`` over ``current`` (nothing runs).

    Each target replaces the current heads on its line (its ancestors and
    descendants); heads on other lines stay. ``base`` clears every row and
    ``label@base`` the rows of that branch. ``purge`` starts from no rows.

    Raises:
        RevisionError: a target cannot be resolved (see ``RevisionGraph.resolve``).
    """
    state = [] if purge else list(graph._heads_of(current))
    for ident in targets:
        resolved = graph.resolve(ident, current=tuple(state))
        if not resolved:
            label = ident.rpartition("@")[0] or None
            if label is None:
                state = []
            else:
                anchor = label_root(graph, label)
                state = [h for h in state if not in_lineage(graph, h, anchor)]
            continue
        for rev_id in resolved:
            state = [h for h in state if not in_lineage(graph, h, rev_id)]
            state.append(rev_id)
    return graph._maximal(state)
