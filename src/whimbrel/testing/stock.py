"""The stock checks, as coroutines any test can await.

Each takes the project's :class:`~whimbrel.config.Config` or a
:class:`~whimbrel.testing.Migrator` on an empty database, and raises
:class:`CheckFailed` with a one-paragraph message naming the revision and what went
wrong, or ``pytest.skip`` when it has nothing to check. ``whimbrel.testing.checks``
wraps them as tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from whimbrel import command
from whimbrel.errors import WhimbrelError
from whimbrel.testing.schema import SchemaSnapshot, differences

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from whimbrel.config import Config
    from whimbrel.results import RevisionInfo
    from whimbrel.script.graph import RevisionGraph
    from whimbrel.testing.migrator import Migrator

__all__ = (
    "CheckFailed",
    "check_downgrade_to_base",
    "check_models_match",
    "check_single_head",
    "check_stairway",
    "check_upgrade",
)

_MAX_REASON = 800
_MAX_ITEMS = 8


class CheckFailed(AssertionError):
    """A stock check found a problem; the message names the revision and what is wrong.

    Attributes:
        check: the check's name (``single head``, ``stairway``...).
        revision: the revision at fault, when one is.
    """

    def __init__(self, check: str, message: str, *, revision: str | None = None) -> None:
        super().__init__(f"whimbrel {check} check: {_one_paragraph(message)}")
        self.check = check
        self.revision = revision


@dataclass(frozen=True, slots=True)
class _Project:
    """The revision graph and what to call each revision in a message."""

    graph: RevisionGraph
    infos: dict[str, RevisionInfo]
    base: Path

    def describe(self, rev: str) -> str:
        info = self.infos.get(rev)
        if info is None:
            return f"revision {rev}"
        try:
            path = str(info.path.relative_to(self.base))
        except ValueError:
            path = str(info.path)
        message = f"{info.message!r}, " if info.message else ""
        return f"revision {rev} ({message}{path})"

    def describe_all(self, revs: Sequence[str]) -> str:
        return ", ".join(self.describe(r) for r in revs) or "base"


async def _project(config: Config, check: str) -> _Project:
    try:
        history = await command.history(config)
        graph = await _graph(config)
    except WhimbrelError as exc:
        raise CheckFailed(
            check, f"the revision files cannot be read: {_reason(exc)}; fix them first"
        ) from exc
    if not len(graph):
        pytest.skip(f"whimbrel {check} check: the project has no revisions yet")
    base = config.config_file.parent if config.config_file is not None else Path.cwd()
    return _Project(graph, {info.revision: info for info in history.revisions}, base)


async def _graph(config: Config) -> RevisionGraph:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(command.script_directory(config).graph)


# -- the checks --------------------------------------------------------------------------


async def check_single_head(config: Config) -> str:
    """Check that the revisions lead to exactly one head; return it.

    Raises:
        CheckFailed: several heads, or the revision files cannot be read.
    """
    project = await _project(config, "single head")
    heads = project.graph.heads
    if len(heads) != 1:
        raise CheckFailed(
            "single head",
            f"the project has {len(heads)} heads, {project.describe_all(heads)}; with more "
            "than one, 'upgrade head' is ambiguous and each deployment may apply the branches "
            "in another order. Join them with a merge revision: whimbrel merge heads -m "
            '"merge heads"',
            revision=heads[-1],
        )
    return heads[0]


async def check_upgrade(migrator: Migrator) -> None:
    """Upgrade an empty database from base to every head.

    Raises:
        CheckFailed: a revision's upgrade failed, or the database did not end at the heads.
    """
    project = await _project(migrator.config, "upgrade")
    await _upgrade_to_heads(migrator, project, "upgrade")


async def check_models_match(migrator: Migrator) -> None:
    """Upgrade an empty database to head and compare it with ``target_metadata``.

    Skips when ``target_metadata`` is not configured or autogenerate is unavailable.

    Raises:
        CheckFailed: the models and the database differ, or the upgrade failed.
    """
    config = migrator.config
    if config.target_metadata is None:
        pytest.skip(
            "whimbrel models check: target_metadata is not set in the configuration, so "
            "there are no models to compare the database with"
        )
    try:
        from whimbrel.autogenerate.api import check as compare
    except ImportError as exc:
        pytest.skip(
            "whimbrel models check: this build of Whimbrel has no autogenerate "
            f"(importing whimbrel.autogenerate.api failed: {exc})"
        )
    project = await _project(config, "models")
    await _upgrade_to_heads(migrator, project, "models")
    try:
        found = await compare(config, engine=migrator.engine)
    except WhimbrelError as exc:
        raise CheckFailed("models", f"comparing the models failed: {_reason(exc)}") from exc
    if not found.ok:
        heads = project.graph.heads
        raise CheckFailed(
            "models",
            f"at head ({project.describe_all(heads)}) the database differs from the models "
            f"({config.target_metadata}): {_listing(found.messages)}. Write a revision for "
            "the change (whimbrel revision --autogenerate -m ...) or fix the models",
            revision=heads[0] if len(heads) == 1 else None,
        )


async def check_stairway(migrator: Migrator) -> None:
    """Upgrade, downgrade and upgrade again each revision in turn, from base to head.

    After each downgrade the schema must be what it was before that revision's
    upgrade, and the version table must be back where it was.

    Raises:
        CheckFailed: naming the revision and the step that failed, or what its
            downgrade left behind or took away.
    """
    project = await _project(migrator.config, "stairway")
    graph = project.graph
    await _bookkeeping(migrator, "stairway")
    # Each step starts where the last one ended, so its snapshot serves as "before".
    # A snapshot after each step is cheap: the migrator reflects only tables whose DDL
    # it has not seen (SQLite), or everything in one bulk query per kind (elsewhere).
    before = await migrator.snapshot()
    for step in graph.plan_upgrade((), "heads").steps:
        rev = step.revision
        what = project.describe(rev)
        await _step(migrator.upgrade(rev), "stairway", f"upgrading {what}", rev)
        await _expect_heads(
            migrator, project, step.heads_after, "stairway", f"upgrading {what}", rev
        )
        upgraded = await migrator.snapshot()
        await _step(
            migrator.downgrade(_downgrade_target(graph, rev)),
            "stairway",
            f"downgrading {what} (after its upgrade succeeded)",
            rev,
        )
        current = await migrator.current()
        if set(current) != set(step.heads_before):
            # Only when the target had to take more than this revision out (a second
            # base): bring the others back so the comparison is with the same revisions.
            for head in step.heads_before:
                await _step(migrator.upgrade(head), "stairway", f"restoring {head}", head)
        _expect_same(before, await migrator.snapshot(), "stairway", rev, f"downgrading {what}")
        await _step(
            migrator.upgrade(rev), "stairway", f"upgrading {what} again after its downgrade", rev
        )
        await _expect_heads(
            migrator, project, step.heads_after, "stairway", f"upgrading {what} again", rev
        )
        before = await migrator.snapshot()
        _expect_same(
            upgraded,
            before,
            "stairway",
            rev,
            f"upgrading {what} a second time, after its downgrade,",
            compared_with="after its first upgrade",
        )


async def check_downgrade_to_base(migrator: Migrator) -> None:
    """Upgrade an empty database to head, downgrade to base, and find nothing left.

    Tables other than the version and history tables, columns, indexes, views,
    sequences and PostgreSQL enum types must all be gone, and the version table empty.

    Raises:
        CheckFailed: naming what is left and the revision that created it, or the
            revision whose downgrade failed.
    """
    project = await _project(migrator.config, "downgrade to base")
    check = "downgrade to base"
    await _bookkeeping(migrator, check)
    empty = await migrator.snapshot()
    # Upgrade one revision at a time, to know which one created what is left behind.
    # On an empty database that can only be a whole table, view, sequence or enum type,
    # so the names after each step are enough; the shapes are compared once, at base.
    created: list[tuple[str, list[str]]] = []
    previous = await migrator.outline()
    for step in project.graph.plan_upgrade((), "heads").steps:
        rev = step.revision
        await _step(migrator.upgrade(rev), check, f"upgrading {project.describe(rev)}", rev)
        now = await migrator.outline()
        created.append((rev, differences(previous, now)))
        previous = now
    await _step(migrator.downgrade("base"), check, "downgrading from head to base", None, project)
    left = await migrator.current()
    if left:
        raise CheckFailed(
            check,
            f"after 'downgrade base' the version table still names {', '.join(left)}",
            revision=left[0],
        )
    diffs = differences(empty, await migrator.snapshot())
    if diffs:
        culprits: dict[str, list[str]] = {}
        for diff in diffs:
            maker = next((r for r, added in created if diff in added), None)
            who = project.describe(maker) if maker else "no single revision"
            culprits.setdefault(who, []).append(diff)
        blame = "; ".join(f"{_listing(items)} (created by {w})" for w, items in culprits.items())
        raise CheckFailed(
            check,
            f"after upgrading to head and downgrading to base, the database is not empty: "
            f"{blame}. Each revision's downgrade() should drop what its upgrade() created",
            revision=next((r for r, added in created if diffs[0] in added), None),
        )


# -- helpers -----------------------------------------------------------------------------


async def _bookkeeping(migrator: Migrator, check: str) -> None:
    # The version and history tables come with objects of their own (a PostgreSQL
    # sequence...): create them first so "before" has them too.
    await _step(
        command.ensure_version(migrator.config, engine=migrator.engine),
        check,
        "creating the version table",
        None,
    )


async def _upgrade_to_heads(migrator: Migrator, project: _Project, check: str) -> None:
    await _step(
        migrator.upgrade("heads"), check, "upgrading an empty database to head", None, project
    )
    await _expect_heads(
        migrator, project, project.graph.heads, check, "upgrading an empty database to head", None
    )


async def _step(
    work: Awaitable[object],
    check: str,
    doing: str,
    rev: str | None,
    project: _Project | None = None,
) -> None:
    try:
        await work
    except Exception as exc:
        failed = getattr(exc, "revision", None)
        where = ""
        if failed and failed != rev and project is not None:
            where = f" at {project.describe(failed)}"
        raise CheckFailed(
            check, f"{doing} failed{where}: {_reason(exc)}", revision=failed or rev
        ) from exc


async def _expect_heads(
    migrator: Migrator,
    project: _Project,
    heads: Sequence[str],
    check: str,
    doing: str,
    rev: str | None,
) -> None:
    current = await migrator.current()
    if set(current) != set(heads):
        raise CheckFailed(
            check,
            f"after {doing} the database is at {', '.join(current) or 'base'}, not at "
            f"{project.describe_all(heads)}",
            revision=rev,
        )


def _expect_same(
    expected: SchemaSnapshot,
    actual: SchemaSnapshot,
    check: str,
    rev: str,
    doing: str,
    *,
    compared_with: str = "before its upgrade",
) -> None:
    diffs = differences(expected, actual)
    if diffs:
        raise CheckFailed(
            check,
            f"{doing} did not give the schema back as it was {compared_with}: "
            f"{_listing(diffs)}. Make downgrade() undo exactly what upgrade() does",
            revision=rev,
        )


def _downgrade_target(graph: RevisionGraph, rev: str) -> str:
    """A target that takes out ``rev`` and nothing else, where the graph allows it."""
    downs = graph.get(rev).down_revisions
    if not downs:
        return "base"
    # "<rev>@<down>": the down revision, restricted to rev's line, so a sibling branch
    # that is applied too stays.
    return f"{rev}@{downs[0]}"


def _listing(items: Sequence[str]) -> str:
    shown = list(items[:_MAX_ITEMS])
    if len(items) > _MAX_ITEMS:
        shown.append(f"and {len(items) - _MAX_ITEMS} more")
    return "; ".join(shown)


_BACKGROUND = re.compile(r"\(Background on this error at: [^)]*\)")


def _reason(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, WhimbrelError) else f"{type(exc).__name__}: {exc}"
    text = _one_paragraph(_BACKGROUND.sub("", text))
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 3] + "..."
    return text


def _one_paragraph(text: str) -> str:
    return " ".join(text.split())
