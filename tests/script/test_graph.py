"""The revision graph, in memory and table-driven.

The graphs follow Alembic's branching documentation: a linear history, a branch
point and a merge, independent bases with branch labels, and ``depends_on``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from whimbrel.errors import (
    AmbiguousRevisionError,
    CycleError,
    DuplicateBranchLabelError,
    DuplicateRevisionError,
    MissingReferenceError,
    MultipleHeadsError,
    RangeError,
    RelativeStepError,
    RevisionError,
    UnknownRevisionError,
)
from whimbrel.script.graph import Revision, RevisionGraph, Step


def rev(
    rev_id: str,
    down: str | Sequence[str] | None = None,
    *,
    labels: Sequence[str] = (),
    deps: Sequence[str] = (),
) -> Revision:
    downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
    return Revision(rev_id, downs, tuple(labels), tuple(deps), path=Path(f"{rev_id}.py"))


# a1 -> b2 -> c3 -> d4
LINEAR = RevisionGraph(
    [rev("a1a1"), rev("b2b2", "a1a1"), rev("c3c3", "b2b2"), rev("d4d4", "c3c3")]
)

# base -> {left1 -> left2, right1} -> merge -> top
#
#            / left1 -- left2 \
#   base1 --<                  >-- merge -- top
#            \ right1 --------/
BRANCHY = RevisionGraph(
    [
        rev("base1"),
        rev("left1", "base1", labels=["left"]),
        rev("left2", "left1"),
        rev("right1", "base1", labels=["right"]),
        rev("merge", ["left2", "right1"]),
        rev("top1", "merge"),
    ]
)

# Two independent bases with labels; networking's second revision depends on
# the shop's first (Alembic's "multiple bases" + depends_on example).
MULTIBASE = RevisionGraph(
    [
        rev("shop1", labels=["shop"]),
        rev("shop2", "shop1"),
        rev("net1", labels=["networking"]),
        rev("net2", "net1", deps=["shop1"]),
        rev("net3", "net2"),
    ]
)

# An unmerged branch point: two heads.
FORKED = RevisionGraph(
    [
        rev("root"),
        rev("aaaa1", "root", labels=["alpha"]),
        rev("aaaa2", "aaaa1"),
        rev("bbbb1", "root", labels=["beta"]),
    ]
)


def test_heads_and_bases() -> None:
    assert LINEAR.heads == ("d4d4",)
    assert LINEAR.bases == ("a1a1",)
    assert BRANCHY.heads == ("top1",)
    assert BRANCHY.is_branch_point("base1")
    assert BRANCHY.is_merge_point("merge")
    assert MULTIBASE.heads == ("shop2", "net3")
    assert MULTIBASE.bases == ("shop1", "net1")
    # shop2 is a head; nothing depends on it, so it is a real head too.
    assert MULTIBASE.real_heads == ("shop2", "net3")
    assert FORKED.heads == ("aaaa2", "bbbb1")


def test_real_heads_exclude_dependencies() -> None:
    graph = RevisionGraph([rev("x1"), rev("y1", deps=["x1"])])
    assert graph.heads == ("x1", "y1")
    assert graph.real_heads == ("y1",)


def test_iteration_is_topological() -> None:
    order = [r.revision for r in BRANCHY]
    assert order.index("base1") < order.index("left1") < order.index("left2")
    assert order.index("left2") < order.index("merge")
    assert order.index("right1") < order.index("merge") < order.index("top1")
    multi = [r.revision for r in MULTIBASE]
    assert multi.index("shop1") < multi.index("net2")


def test_branch_labels_propagate() -> None:
    assert BRANCHY.branch_labels("left2") == {"left"}
    assert BRANCHY.branch_labels("merge") == {"left", "right"}
    assert BRANCHY.branch_labels("base1") == set()
    assert MULTIBASE.branch_labels("net3") == {"networking"}
    assert MULTIBASE.branch_labels("shop2") == {"shop"}


@pytest.mark.parametrize(
    ("graph", "identifier", "current", "expected"),
    [
        (LINEAR, "head", None, ("d4d4",)),
        (LINEAR, "heads", None, ("d4d4",)),
        (LINEAR, "base", None, ()),
        (LINEAR, "b2b2", None, ("b2b2",)),
        (LINEAR, "c3c3", None, ("c3c3",)),
        (LINEAR, "d4d4", None, ("d4d4",)),
        (FORKED, "heads", None, ("aaaa2", "bbbb1")),
        (FORKED, "alpha@head", None, ("aaaa2",)),
        (FORKED, "beta@head", None, ("bbbb1",)),
        (FORKED, "alpha@heads", None, ("aaaa2",)),
        (FORKED, "alpha@base", None, ()),
        (FORKED, "alpha@aaaa1", None, ("aaaa1",)),
        (FORKED, "alpha", None, ("aaaa1",)),
        (FORKED, "aaaa2", None, ("aaaa2",)),
        (FORKED, "bbbb", None, ("bbbb1",)),
        (MULTIBASE, "shop@head", None, ("shop2",)),
        (MULTIBASE, "networking@head", None, ("net3",)),
        (MULTIBASE, "networking@heads", None, ("net3",)),
        # relative to a revision
        (LINEAR, "b2b2+2", None, ("d4d4",)),
        (LINEAR, "d4d4-2", None, ("b2b2",)),
        (LINEAR, "a1a1-1", None, ()),
        (LINEAR, "head-1", None, ("c3c3",)),
        (FORKED, "alpha+1", None, ("aaaa2",)),
        (BRANCHY, "left@left1+1", None, ("left2",)),
        (BRANCHY, "left2+1", None, ("merge",)),
        # relative to the current heads
        (LINEAR, "+1", ("b2b2",), ("c3c3",)),
        (LINEAR, "+2", ("b2b2",), ("d4d4",)),
        (LINEAR, "+1", (), ("a1a1",)),
        (LINEAR, "-1", ("c3c3",), ("b2b2",)),
        (LINEAR, "-3", ("c3c3",), ()),
        (FORKED, "alpha@+1", ("aaaa1", "bbbb1"), ("aaaa2",)),
        (FORKED, "beta@-1", ("aaaa1", "bbbb1"), ("root",)),
        (MULTIBASE, "networking@+1", ("shop2",), ("net1",)),
        (LINEAR, "current", ("c3c3",), ("c3c3",)),
        (FORKED, "alpha@current", ("aaaa1", "bbbb1"), ("aaaa1",)),
    ],
)
def test_resolve(
    graph: RevisionGraph,
    identifier: str,
    current: tuple[str, ...] | None,
    expected: tuple[str, ...],
) -> None:
    assert graph.resolve(identifier, current=current) == expected


@pytest.mark.parametrize(
    ("graph", "identifier", "current", "error", "fragment"),
    [
        (LINEAR, "zzzzzz", None, UnknownRevisionError, "no revision or branch label"),
        (LINEAR, "zz", None, UnknownRevisionError, "at least 4 characters"),
        (LINEAR, "nolabel@head", None, UnknownRevisionError, "branch label"),
        (
            RevisionGraph([rev("abcd1"), rev("abcd2", "abcd1")]),
            "abcd",
            None,
            AmbiguousRevisionError,
            "abcd1, abcd2",
        ),
        (FORKED, "head", None, MultipleHeadsError, "aaaa2, bbbb1"),
        (FORKED, "root+1", None, RelativeStepError, "branches into"),
        (FORKED, "+1", ("aaaa1", "bbbb1"), MultipleHeadsError, "heads"),
        (BRANCHY, "merge-1", None, RelativeStepError, "merges into"),
        (LINEAR, "+5", ("b2b2",), RelativeStepError, "only 2 revision(s) above"),
        (LINEAR, "-5", ("b2b2",), RelativeStepError, "past base"),
        (LINEAR, "d4d4+1", None, RelativeStepError, "only 0"),
        (LINEAR, "-1", (), RelativeStepError, "nothing is applied"),
        (LINEAR, "+1", None, RelativeStepError, "needs the database"),
        (LINEAR, "current", None, RelativeStepError, "current revision"),
        (FORKED, "beta@aaaa2", None, RangeError, "not on branch 'beta'"),
    ],
)
def test_resolve_errors(
    graph: RevisionGraph,
    identifier: str,
    current: tuple[str, ...] | None,
    error: type[Exception],
    fragment: str,
) -> None:
    with pytest.raises(error) as info:
        graph.resolve(identifier, current=current)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_error_data() -> None:
    with pytest.raises(MultipleHeadsError) as heads:
        FORKED.resolve_one("heads")
    assert heads.value.heads == ("aaaa2", "bbbb1")
    assert "label@head" in str(heads.value)
    graph = RevisionGraph([rev("abcd1"), rev("abcd2", "abcd1")])
    with pytest.raises(AmbiguousRevisionError) as amb:
        graph.resolve("abcd")
    assert amb.value.candidates == ("abcd1", "abcd2")


@pytest.mark.parametrize(
    ("revisions", "error", "fragment"),
    [
        ([rev("a1"), rev("a1")], DuplicateRevisionError, "a1.py and a1.py"),
        ([rev("a1"), rev("b1", "zz")], MissingReferenceError, "down_revision 'zz'"),
        ([rev("a1"), rev("b1", "a1", deps=["nope"])], MissingReferenceError, "depends_on"),
        (
            [rev("a1", labels=["x"]), rev("b1", "a1", labels=["x"])],
            DuplicateBranchLabelError,
            "'x'",
        ),
        ([rev("a1", labels=["b1"]), rev("b1", "a1")], DuplicateBranchLabelError, "'b1'"),
        ([rev("a1", "c1"), rev("b1", "a1"), rev("c1", "b1")], CycleError, "a1"),
        ([rev("a1", "a1")], CycleError, "a1 -> a1"),
        (
            [rev("a1"), rev("b1", "a1", deps=["c1"]), rev("c1", "b1")],
            CycleError,
            "depends_on",
        ),
        ([rev("a-1")], RevisionError, "may not contain"),
    ],
)
def test_graph_errors(revisions: list[Revision], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        RevisionGraph(revisions)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_duplicate_error_names_both_files() -> None:
    with pytest.raises(DuplicateRevisionError) as info:
        RevisionGraph(
            [
                Revision("a1", path=Path("v/one.py")),
                Revision("a1", path=Path("v/two.py")),
            ]
        )
    assert info.value.paths == (Path("v/one.py"), Path("v/two.py"))


def test_cycle_error_shows_cycle() -> None:
    with pytest.raises(CycleError) as info:
        RevisionGraph([rev("a1", "c1"), rev("b1", "a1"), rev("c1", "b1")])
    assert set(info.value.cycle) == {"a1", "b1", "c1"}
    assert " -> " in str(info.value)


# -- planning -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("graph", "current", "target", "runs", "heads_after"),
    [
        (LINEAR, (), "head", ["a1a1", "b2b2", "c3c3", "d4d4"], ("d4d4",)),
        (LINEAR, ("b2b2",), "head", ["c3c3", "d4d4"], ("d4d4",)),
        (LINEAR, ("b2b2",), "+1", ["c3c3"], ("c3c3",)),
        (LINEAR, ("d4d4",), "head", [], ("d4d4",)),
        (LINEAR, ("d4d4",), "b2b2", [], ("d4d4",)),
        (LINEAR, (), "c3c3", ["a1a1", "b2b2", "c3c3"], ("c3c3",)),
        (FORKED, (), "heads", ["root", "aaaa1", "aaaa2", "bbbb1"], ("aaaa2", "bbbb1")),
        (FORKED, (), "alpha@head", ["root", "aaaa1", "aaaa2"], ("aaaa2",)),
        (FORKED, ("aaaa2",), "beta@head", ["bbbb1"], ("aaaa2", "bbbb1")),
        (FORKED, ("aaaa1", "bbbb1"), "alpha@+1", ["aaaa2"], ("bbbb1", "aaaa2")),
        (BRANCHY, ("left1", "right1"), "head", ["left2", "merge", "top1"], ("top1",)),
        (BRANCHY, ("left2",), "merge", ["right1", "merge"], ("merge",)),
        # depends_on pulls the dependency (and its ancestors) in on upgrade.
        (MULTIBASE, (), "networking@net2", ["shop1", "net1", "net2"], ("net2",)),
        (MULTIBASE, ("shop2",), "networking@head", ["net1", "net2", "net3"], ("shop2", "net3")),
    ],
)
def test_plan_upgrade(
    graph: RevisionGraph,
    current: tuple[str, ...],
    target: str,
    runs: list[str],
    heads_after: tuple[str, ...],
) -> None:
    plan = graph.plan_upgrade(current, target)
    assert list(plan.revisions) == runs
    assert plan.heads_after == heads_after
    assert plan.direction == "up"
    _check_steps_chain(graph, plan.heads_before, plan.steps, heads_after)


def test_upgrade_step_head_rows_at_branch_and_merge() -> None:
    plan = BRANCHY.plan_upgrade((), "head")
    rows = {s.revision: s.heads_after for s in plan.steps}
    assert rows["base1"] == ("base1",)
    assert rows["left1"] == ("left1",)
    # right1 starts a second row: its parent is no longer a head.
    assert set(rows["right1"]) == {"left2", "right1"}
    # the merge collapses the two rows into one.
    assert rows["merge"] == ("merge",)


def test_dependency_collapses_rows() -> None:
    plan = MULTIBASE.plan_upgrade(("shop1", "net1"), "net2")
    assert plan.revisions == ("net2",)
    # shop1 is implied by net2 (a dependency), as Alembic records it.
    assert plan.heads_after == ("net2",)
    # ... and shop stays applied: upgrading shop goes from shop1.
    assert MULTIBASE.plan_upgrade(plan.heads_after, "shop@head").revisions == ("shop2",)


@pytest.mark.parametrize(
    ("graph", "current", "target", "runs", "heads_after"),
    [
        (LINEAR, ("d4d4",), "base", ["d4d4", "c3c3", "b2b2", "a1a1"], ()),
        (LINEAR, ("d4d4",), "b2b2", ["d4d4", "c3c3"], ("b2b2",)),
        (LINEAR, ("d4d4",), "-1", ["d4d4"], ("c3c3",)),
        (LINEAR, ("d4d4",), "-4", ["d4d4", "c3c3", "b2b2", "a1a1"], ()),
        (LINEAR, ("d4d4",), "d4d4", [], ("d4d4",)),
        (LINEAR, ("c3c3",), "c3c3-1", ["c3c3"], ("b2b2",)),
        (FORKED, ("aaaa2", "bbbb1"), "alpha@base", ["aaaa2", "aaaa1"], ("bbbb1",)),
        (FORKED, ("aaaa2", "bbbb1"), "alpha@-1", ["aaaa2"], ("aaaa1", "bbbb1")),
        (FORKED, ("aaaa2", "bbbb1"), "beta@-1", ["bbbb1"], ("aaaa2",)),
        (FORKED, ("aaaa2", "bbbb1"), "root", ["bbbb1", "aaaa2", "aaaa1"], ("root",)),
        (FORKED, ("aaaa2", "bbbb1"), "base", ["bbbb1", "aaaa2", "aaaa1", "root"], ()),
        # un-merging splits the row back into the merged parents.
        (BRANCHY, ("top1",), "-2", ["top1", "merge"], ("left2", "right1")),
        (BRANCHY, ("top1",), "left1", ["top1", "merge", "left2"], ("right1", "left1")),
        # depends_on pulls dependents out on downgrade.
        (MULTIBASE, ("shop2", "net3"), "shop@base", ["net3", "net2", "shop2", "shop1"], ("net1",)),
        (MULTIBASE, ("shop2", "net3"), "networking@net1", ["net3", "net2"], ("shop2", "net1")),
    ],
)
def test_plan_downgrade(
    graph: RevisionGraph,
    current: tuple[str, ...],
    target: str,
    runs: list[str],
    heads_after: tuple[str, ...],
) -> None:
    plan = graph.plan_downgrade(current, target)
    assert list(plan.revisions) == runs
    assert set(plan.heads_after) == set(heads_after)
    assert plan.direction == "down"
    _check_steps_chain(graph, plan.heads_before, plan.steps, plan.heads_after)


@pytest.mark.parametrize(
    ("graph", "current", "target", "error", "fragment"),
    [
        (LINEAR, ("b2b2",), "d4d4", RangeError, "not applied"),
        (LINEAR, ("b2b2",), "+1", RelativeStepError, "above the current"),
        (LINEAR, ("b2b2",), "-3", RelativeStepError, "past base"),
        (BRANCHY, ("top1",), "-3", RelativeStepError, "merges left2, right1"),
        (LINEAR, ("zzzz9",), "base", UnknownRevisionError, "zzzz9"),
        (FORKED, ("aaaa2", "bbbb1"), "-1", MultipleHeadsError, "aaaa2, bbbb1"),
    ],
)
def test_plan_downgrade_errors(
    graph: RevisionGraph,
    current: tuple[str, ...],
    target: str,
    error: type[Exception],
    fragment: str,
) -> None:
    with pytest.raises(error) as info:
        graph.plan_downgrade(current, target)
    assert fragment in str(info.value)


def test_round_trip_returns_to_start() -> None:
    for graph in (LINEAR, BRANCHY, MULTIBASE, FORKED):
        up = graph.plan_upgrade((), "heads")
        assert set(up.heads_after) <= set(graph.heads)
        assert len(up.steps) == len(graph)
        down = graph.plan_downgrade(up.heads_after, "base")
        assert down.heads_after == ()
        assert sorted(down.revisions) == sorted(up.revisions)


def _check_steps_chain(
    graph: RevisionGraph,
    start: tuple[str, ...],
    steps: Sequence[Step],
    end: tuple[str, ...],
) -> None:
    """Each step starts from the previous one's rows; rows are never redundant."""
    rows = start
    for step in steps:
        assert step.heads_before == rows
        rows = step.heads_after
        applied_by_others = {a for h in rows for a in graph.ancestors([h]) if a != h}
        assert not applied_by_others & set(rows), "a head row is implied by another"
    assert rows == end


# -- history ranges -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("graph", "upper", "lower", "current", "expected"),
    [
        (LINEAR, "heads", "base", None, ["d4d4", "c3c3", "b2b2", "a1a1"]),
        (LINEAR, "c3c3", "b2b2", None, ["c3c3", "b2b2"]),
        (LINEAR, "heads", "current", ("b2b2",), ["d4d4", "c3c3", "b2b2"]),
        (LINEAR, "current", "base", ("b2b2",), ["b2b2", "a1a1"]),
        (BRANCHY, "merge", "left1", None, ["merge", "left2", "left1"]),
        (FORKED, "alpha@head", "base", None, ["aaaa2", "aaaa1", "root"]),
    ],
)
def test_iterate(
    graph: RevisionGraph,
    upper: str,
    lower: str,
    current: tuple[str, ...] | None,
    expected: list[str],
) -> None:
    assert graph.iterate(upper, lower, current=current) == expected


def test_iterate_range_error() -> None:
    with pytest.raises(RangeError) as info:
        LINEAR.iterate("b2b2", "d4d4")
    assert "older:newer" in str(info.value)


def test_large_linear_graph_is_fast_enough_to_build_and_plan() -> None:
    n = 5000
    revisions = [rev(f"r{i:05d}", None if i == 0 else f"r{i - 1:05d}") for i in range(n)]
    graph = RevisionGraph(revisions)
    assert graph.heads == (f"r{n - 1:05d}",)
    plan = graph.plan_upgrade((), "head")
    assert len(plan.steps) == n
    down = graph.plan_downgrade(plan.heads_after, "base")
    assert len(down.steps) == n
    assert len(graph.iterate()) == n


@pytest.mark.parametrize(
    ("graph", "current", "targets", "purge", "expected"),
    [
        (LINEAR, (), ["head"], False, ("d4d4",)),
        (LINEAR, ("d4d4",), ["b2b2"], False, ("b2b2",)),
        (LINEAR, ("d4d4",), ["base"], False, ()),
        (FORKED, ("aaaa2", "bbbb1"), ["alpha@aaaa1"], False, ("aaaa1", "bbbb1")),
        (FORKED, ("aaaa2", "bbbb1"), ["alpha@base"], False, ("bbbb1",)),
        (FORKED, ("aaaa1",), ["beta@head"], False, ("aaaa1", "bbbb1")),
        (FORKED, ("aaaa2", "bbbb1"), ["heads"], False, ("aaaa2", "bbbb1")),
        (FORKED, ("aaaa2", "bbbb1"), ["aaaa1"], True, ("aaaa1",)),
        (FORKED, (), ["aaaa2", "bbbb1"], False, ("aaaa2", "bbbb1")),
        (BRANCHY, ("left2", "right1"), ["merge"], False, ("merge",)),
    ],
)
def test_plan_stamp(
    graph: RevisionGraph,
    current: tuple[str, ...],
    targets: list[str],
    purge: bool,
    expected: tuple[str, ...],
) -> None:
    assert set(graph.plan_stamp(current, targets, purge=purge)) == set(expected)


def test_label_relative_step_from_another_line() -> None:
    # The database is on alpha's line; beta@+1 starts from the highest applied
    # revision on beta's line (the shared root), not from base.
    assert FORKED.resolve("beta@+1", current=("aaaa2",)) == ("bbbb1",)
    assert FORKED.plan_upgrade(("aaaa2",), "beta@+1").revisions == ("bbbb1",)


def test_revision_equality_ignores_the_file() -> None:
    here = Revision("a1", ("a0",), path="versions/a1.py")
    there = Revision("a1", ("a0",), path=Path("elsewhere/a1.py"))
    assert here == there
    assert not (here != there)
    assert hash(here) == hash(there)
    assert here != Revision("a1", ("b0",), path="versions/a1.py")
    assert here != ("a1", ("a0",), (), (), None, "versions/a1.py")  # not a plain tuple


def test_current_naming_an_unknown_revision_is_a_revision_error() -> None:
    """Found by hypothesis: iterate('current') with a database row no file declares."""
    graph = RevisionGraph([Revision("a1b3")])
    with pytest.raises(UnknownRevisionError, match="a1b2"):
        graph.iterate("current", "base", current=["a1b2"])
    with pytest.raises(UnknownRevisionError, match="a1b2"):
        graph.resolve("current", current=["a1b2"])
    assert graph.resolve("current", current=["a1b3"]) == ("a1b3",)


def test_several_heads_message_does_not_suggest_what_was_refused() -> None:
    """Found by QA: 'edit heads' answered "'heads' is ambiguous ... use 'heads' for all"."""
    from whimbrel.errors import MultipleHeadsError

    refused_heads = str(MultipleHeadsError(["a1", "b2"], "heads"))
    assert "use 'heads'" not in refused_heads
    assert "name one with 'label@head' or a revision id" in refused_heads
    assert "use 'heads' for all" in str(MultipleHeadsError(["a1", "b2"], "head"))
