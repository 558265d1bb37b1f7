"""The revision graph: pure, synchronous, no I/O.

A :class:`RevisionGraph` is built from the :class:`Revision` nodes declared by the
revision files. It validates them (duplicates, dangling references, cycles), resolves
every identifier form (``head``, ``heads``, ``base``, ids and prefixes, branch labels,
relative steps; :mod:`whimbrel.script.identifiers`) and plans upgrade and downgrade
walks with the same semantics as Alembic (:mod:`whimbrel.script.planning`): which
revisions run, in which order, and how the head rows change.

The database state is always a set of *head rows*; the revisions applied are those
rows and all their ancestors, ``depends_on`` included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from whimbrel.errors import (
    AmbiguousRevisionError,
    CycleError,
    DuplicateBranchLabelError,
    DuplicateRevisionError,
    MissingReferenceError,
    RangeError,
    RevisionError,
    UnknownRevisionError,
)

if TYPE_CHECKING:
    from whimbrel.script.planning import Plan as Plan
    from whimbrel.script.planning import Step as Step

__all__ = ("Plan", "Revision", "RevisionGraph", "Step", "is_relative_to_current")

# ``[label@][symbol](+|-)N``: the relative identifier forms.
_RELATIVE = re.compile(r"^(?:(?P<label>.+?)@)?(?P<symbol>\w+)?(?P<steps>[+-]\d+)$")
_ILLEGAL_ID_CHARS = ("@", "-", "+", ":")
_MIN_PREFIX = 4

Direction = Literal["up", "down"]


def __getattr__(name: str) -> object:
    # Plan and Step live with the planning functions, loaded when a walk is planned.
    if name in ("Plan", "Step"):
        from whimbrel.script import planning

        return getattr(planning, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_relative_to_current(identifier: str) -> bool:
    """Whether an identifier (``+N``, ``-N``, ``label@-N``) is relative to the database."""
    match = _RELATIVE.match(identifier)
    return bool(match) and match is not None and match["symbol"] is None


class Revision(NamedTuple):
    """One node of the revision graph, as declared by its file's header.

    ``depends_on`` holds the identifiers as written (ids, unique prefixes or branch
    labels); the graph resolves them. Two nodes are equal when they declare the same
    things, wherever their files are (``path`` is not compared). An immutable tuple:
    a project of 5,000 revisions builds 5,000 of these on every command, and a tuple
    is several times cheaper to make than a frozen dataclass.
    """

    revision: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str | None = None
    path: str | Path | None = None

    def __eq__(self, other: object) -> bool:
        # Never equal to a plain tuple: a node is not its fields.
        return isinstance(other, Revision) and self[:5] == other[:5]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self[:5])


class RevisionGraph:
    """Every revision of a project, validated and indexed.

    Args:
        revisions: the nodes, in a stable order (file order); ties in ordering
            (which branch runs first) follow it.

    Raises:
        DuplicateRevisionError: two nodes share an id.
        DuplicateBranchLabelError: two nodes declare one label, or a label is an id.
        MissingReferenceError: a ``down_revision`` or ``depends_on`` names nothing.
        CycleError: the revisions form a cycle.
        RevisionError: an id contains a character reserved for identifiers.
    """

    def __init__(self, revisions: Iterable[Revision]) -> None:
        self._nodes: dict[str, Revision] = {}
        for rev in revisions:
            if rev.revision in self._nodes:
                first = self._nodes[rev.revision]
                paths = [p for p in (first.path, rev.path) if p is not None]
                raise DuplicateRevisionError(rev.revision, paths)
            bad = [c for c in _ILLEGAL_ID_CHARS if c in rev.revision]
            if bad or not rev.revision:
                where = f" in {rev.path}" if rev.path else ""
                raise RevisionError(
                    f"revision id {rev.revision!r}{where} is not valid: ids must be non-empty "
                    f"and may not contain {' '.join(_ILLEGAL_ID_CHARS)}"
                )
            self._nodes[rev.revision] = rev
        self._order = {rev_id: i for i, rev_id in enumerate(self._nodes)}

        self._labels: dict[str, str] = {}
        for rev in self._nodes.values():
            for label in rev.branch_labels:
                owner = self._labels.get(label)
                if owner is not None:
                    raise DuplicateBranchLabelError(label, [owner, rev.revision])
                if label in self._nodes:
                    raise DuplicateBranchLabelError(label, [label, rev.revision])
                self._labels[label] = rev.revision

        children: dict[str, list[str]] = {r: [] for r in self._nodes}
        dependents: dict[str, list[str]] = {r: [] for r in self._nodes}
        self._children: Mapping[str, Sequence[str]] = children
        self._dependents: Mapping[str, Sequence[str]] = dependents
        self._deps: dict[str, tuple[str, ...]] = {}
        for rev in self._nodes.values():
            for down in rev.down_revisions:
                if down not in self._nodes:
                    raise MissingReferenceError(
                        rev.revision, down, kind="down_revision", path=rev.path
                    )
                children[down].append(rev.revision)
            deps: list[str] = []
            for dep in rev.depends_on:
                try:
                    target = self._lookup(dep)
                except (UnknownRevisionError, AmbiguousRevisionError) as exc:
                    raise MissingReferenceError(
                        rev.revision, dep, kind="depends_on", path=rev.path
                    ) from exc
                if target not in deps and target not in rev.down_revisions:
                    deps.append(target)
                    dependents[target].append(rev.revision)
            self._deps[rev.revision] = tuple(deps)

        self._check_cycles()
        self._finish()

    _SNAPSHOT_FORMAT = "graph/2"

    def snapshot(self) -> tuple[object, ...]:
        """What validating, indexing and ordering the revisions computed, as plain data.

        :meth:`from_snapshot` rebuilds an equal graph from the same revisions and
        this value without checking or walking them again; the script directory
        keeps it in its header cache, next to the headers it was built from.
        """
        ids = list(self._nodes)
        return (
            self._SNAPSHOT_FORMAT,
            [self._deps[r] for r in ids],
            [tuple(self._children[r]) for r in ids],
            [tuple(self._dependents[r]) for r in ids],
            self._all_topological(),
            dict(self._labels),
            self.heads,
            self.bases,
            self.real_heads,
        )

    @classmethod
    def from_snapshot(
        cls, revisions: Sequence[Revision], snapshot: object
    ) -> RevisionGraph | None:
        """The graph of ``revisions``, whose :meth:`snapshot` is ``snapshot``.

        The caller vouches that ``snapshot`` was taken from a graph of exactly these
        revisions, in this order (the header cache keys it on every file's size and
        mtime). Returns None when ``snapshot`` is not one this version wrote.
        """
        n = len(revisions)
        if not (
            isinstance(snapshot, tuple)
            and len(snapshot) == 9
            and snapshot[0] == cls._SNAPSHOT_FORMAT
            and all(isinstance(column, list) and len(column) == n for column in snapshot[1:5])
            and isinstance(snapshot[5], dict)
            and all(isinstance(ids, tuple) for ids in snapshot[6:])
        ):
            return None
        _, deps, children, dependents, topological, labels, heads, bases, real_heads = snapshot
        ids = [rev.revision for rev in revisions]
        graph = cls.__new__(cls)
        graph._nodes = dict(zip(ids, revisions, strict=True))
        graph._order = dict(zip(ids, range(n), strict=True))
        graph._labels = labels
        # Tuples, not lists: nothing appends to a finished graph's indexes.
        graph._children = dict(zip(ids, children, strict=True))
        graph._dependents = dict(zip(ids, dependents, strict=True))
        graph._deps = dict(zip(ids, deps, strict=True))
        graph.heads = heads
        graph.bases = bases
        graph.real_heads = real_heads
        graph._label_index = None
        graph._topological_all = topological
        return graph

    def _finish(self) -> None:
        self.heads: tuple[str, ...] = tuple(r for r, kids in self._children.items() if not kids)
        """Revisions that no other revision names as its ``down_revision``."""
        self.bases: tuple[str, ...] = tuple(
            r for r, node in self._nodes.items() if not node.down_revisions
        )
        """Revisions with no ``down_revision``."""
        self.real_heads: tuple[str, ...] = tuple(r for r in self.heads if not self._dependents[r])
        """Heads that no other revision depends on either."""
        self._label_index: dict[str, frozenset[str]] | None = None
        self._topological_all: list[str] | None = None

    def _all_topological(self) -> list[str]:
        if self._topological_all is None:
            self._topological_all = self.topological(self._nodes)
        return self._topological_all

    # -- basic access ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, rev_id: object) -> bool:
        return rev_id in self._nodes

    def __iter__(self) -> Iterator[Revision]:
        """Iterate the revisions, bases first, in a topological order."""
        for rev_id in self._all_topological():
            yield self._nodes[rev_id]

    def get(self, rev_id: str) -> Revision:
        """Return the revision with exactly this id.

        Raises:
            UnknownRevisionError: no revision has this id.
        """
        try:
            return self._nodes[rev_id]
        except KeyError:
            raise UnknownRevisionError(rev_id) from None

    def children(self, rev_id: str) -> tuple[str, ...]:
        """Revisions whose ``down_revision`` names ``rev_id``."""
        return tuple(self._children[rev_id])

    def dependencies(self, rev_id: str) -> tuple[str, ...]:
        """The resolved ``depends_on`` ids of a revision."""
        return self._deps[rev_id]

    def is_branch_point(self, rev_id: str) -> bool:
        """Whether two or more revisions name ``rev_id`` as their ``down_revision``."""
        return len(self._children[rev_id]) > 1

    def is_merge_point(self, rev_id: str) -> bool:
        """Whether the revision has several ``down_revision`` entries."""
        return len(self._nodes[rev_id].down_revisions) > 1

    def label_owner(self, label: str) -> str | None:
        """The revision that declares a branch label, if any."""
        return self._labels.get(label)

    def branch_labels(self, rev_id: str) -> frozenset[str]:
        """Branch labels a revision belongs to.

        A label covers the revision that declares it, every descendant, and the
        unbranched line of ancestors below it.
        """
        if not self._labels:
            return frozenset()
        if self._label_index is None:
            index: dict[str, set[str]] = {r: set() for r in self._nodes}
            for label, owner in self._labels.items():
                for rev in self.descendants([owner], include_dependencies=False):
                    index[rev].add(label)
                node = owner
                while len(self._nodes[node].down_revisions) == 1:
                    node = self._nodes[node].down_revisions[0]
                    if self.is_branch_point(node):
                        break
                    index[node].add(label)
            self._label_index = {r: frozenset(labels) for r, labels in index.items()}
        return self._label_index[rev_id]

    # -- traversal ---------------------------------------------------------------------

    def _downs(self, rev_id: str, include_dependencies: bool) -> Sequence[str]:
        node = self._nodes[rev_id]
        if include_dependencies and self._deps[rev_id]:
            return (*self._deps[rev_id], *node.down_revisions)
        return node.down_revisions

    def _ups(self, rev_id: str, include_dependencies: bool) -> Sequence[str]:
        if include_dependencies and self._dependents[rev_id]:
            return (*self._children[rev_id], *self._dependents[rev_id])
        return self._children[rev_id]

    def ancestors(self, rev_ids: Iterable[str], *, include_dependencies: bool = True) -> set[str]:
        """The given revisions and everything below them."""
        return self._closure(rev_ids, lambda r: self._downs(r, include_dependencies))

    def descendants(
        self, rev_ids: Iterable[str], *, include_dependencies: bool = True
    ) -> set[str]:
        """The given revisions and everything above them."""
        return self._closure(rev_ids, lambda r: self._ups(r, include_dependencies))

    @staticmethod
    def _closure(start: Iterable[str], edges: Callable[[str], Sequence[str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(start)
        while todo:
            rev_id = todo.pop()
            if rev_id in seen:
                continue
            seen.add(rev_id)
            todo.extend(edges(rev_id))
        return seen

    def topological(self, rev_ids: Collection[str]) -> list[str]:
        """Order revisions so every one comes after its down revisions and dependencies.

        Branches stay contiguous: a depth-first walk from the newest revisions,
        following down revisions in declared order.
        """
        wanted = set(rev_ids)
        tops = [
            r
            for r in sorted(wanted, key=self._order.__getitem__)
            if not any(u in wanted for u in self._ups(r, True))
        ]
        out: list[str] = []
        done: set[str] = set()
        for top in tops:
            stack: list[tuple[str, Iterator[str]]] = [(top, iter(self._downs(top, True)))]
            while stack:
                node, downs = stack[-1]
                for down in downs:
                    if down in wanted and down not in done:
                        stack.append((down, iter(self._downs(down, True))))
                        break
                else:
                    stack.pop()
                    if node not in done:
                        done.add(node)
                        out.append(node)
        return out

    def _check_cycles(self) -> None:
        white, grey = 0, 1
        color = dict.fromkeys(self._nodes, white)
        black = 2
        for root in self._nodes:
            if color[root] != white:
                continue
            path: list[str] = [root]
            stack: list[Iterator[str]] = [iter(self._downs(root, True))]
            color[root] = grey
            while stack:
                for nxt in stack[-1]:
                    if color[nxt] == grey:
                        cycle = path[path.index(nxt) :]
                        cycle.reverse()
                        kind = "down_revision"
                        for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
                            if a not in self._nodes[b].down_revisions:
                                kind = "down_revision/depends_on"
                        raise CycleError(cycle, kind=kind)
                    if color[nxt] == white:
                        color[nxt] = grey
                        path.append(nxt)
                        stack.append(iter(self._downs(nxt, True)))
                        break
                else:
                    stack.pop()
                    color[path.pop()] = black

    # -- identifiers (whimbrel.script.identifiers) -------------------------------------

    def _lookup(self, ident: str) -> str:
        """An exact id, a branch label (its declaring revision) or a unique prefix."""
        if ident in self._nodes:
            return ident
        owner = self._labels.get(ident)
        if owner is not None:
            return owner
        if len(ident) < _MIN_PREFIX:
            raise UnknownRevisionError(
                ident,
                hint=f"a partial id needs at least {_MIN_PREFIX} characters",
            )
        matches = [r for r in self._nodes if r.startswith(ident)]
        if not matches:
            raise UnknownRevisionError(ident)
        if len(matches) > 1:
            raise AmbiguousRevisionError(ident, matches)
        return matches[0]

    def resolve(self, identifier: str, *, current: Sequence[str] | None = None) -> tuple[str, ...]:
        """Resolve an identifier to revision ids (``()`` means base).

        Accepts ``head``, ``heads``, ``base``, ``current``, ids, unique prefixes (at
        least four characters), branch labels, ``label@head``, ``label@heads``,
        ``label@base``, ``label@<rev>``, and the relative forms ``+N``, ``-N``,
        ``<rev>+N``, ``<rev>-N``, ``label@+N``, ``label@-N``. ``current`` is the
        database's head rows; forms relative to it need it.

        Raises:
            UnknownRevisionError: nothing matches.
            AmbiguousRevisionError: a prefix matches several revisions.
            MultipleHeadsError: ``head`` where there are several heads.
            RelativeStepError: a relative step past head or base, or an ambiguous walk.
            RangeError: ``label@<rev>`` where the revision is not on that branch.
        """
        from whimbrel.script.identifiers import resolve

        return resolve(self, identifier, current=current)

    def resolve_one(self, identifier: str, *, current: Sequence[str] | None = None) -> str | None:
        """Resolve to a single revision id, or ``None`` for base.

        Raises:
            MultipleHeadsError: the identifier names several revisions.
            UnknownRevisionError: see :meth:`resolve`.
        """
        from whimbrel.script.identifiers import resolve_one

        return resolve_one(self, identifier, current=current)

    # -- state -------------------------------------------------------------------------

    def _heads_of(self, current: Iterable[str]) -> tuple[str, ...]:
        rows = list(current)
        for rev_id in rows:
            self.get(rev_id)
        return self._maximal(rows)

    def _maximal(self, rev_ids: Iterable[str]) -> tuple[str, ...]:
        """The revisions of a set that are no ancestor of another in it."""
        ids = sorted(set(rev_ids), key=self._order.__getitem__)
        below = self._closure(
            [d for r in ids for d in self._downs(r, True)], lambda r: self._downs(r, True)
        )
        return tuple(r for r in ids if r not in below)

    def applied(self, current: Iterable[str]) -> set[str]:
        """Every revision applied in a database whose head rows are ``current``."""
        return self.ancestors(self._heads_of(current))

    # -- planning (whimbrel.script.planning) ----------------------------------------------

    def plan_upgrade(self, current: Sequence[str], target: str) -> Plan:
        """Plan an upgrade from the head rows ``current`` to ``target``.

        Raises:
            RevisionError: the target cannot be resolved (see :meth:`resolve`).
        """
        from whimbrel.script.planning import plan_upgrade

        return plan_upgrade(self, current, target)

    def plan_downgrade(self, current: Sequence[str], target: str) -> Plan:
        """Plan a downgrade from the head rows ``current`` to ``target``.

        Removes the target's descendants that are applied (and whatever depends on
        them), newest first.

        Raises:
            RangeError: the target is above the current revisions.
            RevisionError: the target cannot be resolved (see :meth:`resolve`).
        """
        from whimbrel.script.planning import plan_downgrade

        return plan_downgrade(self, current, target)

    def plan_stamp(
        self, current: Sequence[str], targets: Sequence[str], *, purge: bool = False
    ) -> tuple[str, ...]:
        """The head rows after stamping ``targets`` over ``current`` (nothing runs).

        Each target replaces the current heads on its line (its ancestors and
        descendants); heads on other lines stay. ``base`` clears every row and
        ``label@base`` the rows of that branch. ``purge`` starts from no rows.

        Raises:
            RevisionError: a target cannot be resolved (see :meth:`resolve`).
        """
        from whimbrel.script.planning import plan_stamp

        return plan_stamp(self, current, targets, purge=purge)

    def iterate(
        self,
        upper: str = "heads",
        lower: str = "base",
        *,
        current: Sequence[str] | None = None,
    ) -> list[str]:
        """Revisions from ``upper`` down to ``lower``, both included, newest first.

        Raises:
            RangeError: ``lower`` is not an ancestor of ``upper``.
            RevisionError: an identifier cannot be resolved (see :meth:`resolve`).
        """
        uppers = self.resolve(upper, current=current)
        lowers = self.resolve(lower, current=current)
        if not lowers and set(uppers) >= set(self.heads):
            # The whole graph: skip the walk.
            return list(reversed(self._all_topological()))
        wanted = self.ancestors(uppers)
        missing = [r for r in lowers if r not in wanted]
        if missing:
            raise RangeError(
                f"{lower!r} ({', '.join(missing)}) is not an ancestor of {upper!r}; "
                "write the range as older:newer",
                identifier=lower,
            )
        if lowers:
            wanted &= self.descendants(lowers, include_dependencies=False)
        return list(reversed(self.topological(wanted)))
