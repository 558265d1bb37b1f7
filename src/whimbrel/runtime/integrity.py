"""Integrity checks of a database against its revision files.

Applied scripts that changed, version rows nobody defines, and revisions recorded as
applied that the version table no longer implies. What is "recorded as applied" comes
from replaying the history table: upgrades, downgrades and stamps, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from whimbrel.results import ChangedScript

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from whimbrel.runtime.version_table import VersionTables
    from whimbrel.script.directory import ScriptDirectory
    from whimbrel.script.graph import RevisionGraph

__all__ = (
    "HistoryRow",
    "applied_by_history",
    "changed_scripts",
    "checksums",
    "read_history",
    "replay",
    "script_checksum",
)


def script_checksum(path: Path) -> str:
    """SHA-256 of a revision file's bytes, as recorded in the history table."""
    from whimbrel.script.headers import file_checksum

    return file_checksum(str(path))


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One successful row of the history table, as :func:`replay` reads it."""

    revision: str | None
    direction: str
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    checksum: str | None


def read_history(conn: Connection, tables: VersionTables) -> list[HistoryRow]:
    """The successful rows of the history table, oldest first.

    Empty when there is no history table (a database stamped or migrated by Alembic).
    """
    from sqlalchemy import inspect

    history = tables.history
    if not inspect(conn).has_table(history.name, schema=tables.schema):
        return []
    rows = conn.execute(
        select(
            history.c.revision,
            history.c.direction,
            history.c.heads_before,
            history.c.heads_after,
            history.c.checksum,
        )
        .where(history.c.status == "ok")
        .order_by(history.c.id)
    )
    return [
        HistoryRow(revision, direction, tuple(before.split()), tuple(after.split()), checksum)
        for revision, direction, before, after, checksum in rows
    ]


def applied_by_history(conn: Connection, tables: VersionTables) -> dict[str, str | None]:
    """Revisions whose last successful run was an upgrade, with that run's checksum.

    Empty when there is no history table (a database stamped or migrated by Alembic).
    """
    return checksums(read_history(conn, tables))


def checksums(rows: Sequence[HistoryRow]) -> dict[str, str | None]:
    """Revisions whose last run (upgrade or downgrade) was an upgrade, with its checksum.

    Stamps run nothing, so they neither give nor take a checksum: the schema a
    revision's file made is still the one its last upgrade made.
    """
    state: dict[str, str | None] = {}
    for row in rows:
        if row.revision is None:
            continue
        if row.direction == "up":
            state[row.revision] = row.checksum
        elif row.direction == "down":
            state.pop(row.revision, None)
    return state


def replay(rows: Sequence[HistoryRow], graph: RevisionGraph) -> set[str]:
    """The revisions the history says are applied, replaying its rows in order.

    The replay starts from what the first row found (``heads_before``: a database
    adopted from Alembic starts with its revisions applied); an upgrade adds its
    revision, a downgrade removes it, and a stamp sets the applied set to what its
    new heads imply. After any sequence of upgrades, downgrades and stamps that
    Whimbrel ran (and recorded), this is what the version table implies; a
    difference is a change Whimbrel did not record, or an edited ``down_revision``.
    """
    if not rows:
        return set()
    applied = _implied(graph, rows[0].heads_before)
    for row in rows:
        if row.direction == "stamp":
            applied = _implied(graph, row.heads_after)
        elif row.revision is None:
            continue
        elif row.direction == "up":
            applied.add(row.revision)
        elif row.direction == "down":
            applied.discard(row.revision)
    return applied


def _implied(graph: RevisionGraph, heads: Sequence[str]) -> set[str]:
    # A head no revision file defines any more still counts as itself.
    return graph.applied([h for h in heads if h in graph]) | {h for h in heads if h not in graph}


def changed_scripts(
    graph: RevisionGraph,
    scripts: ScriptDirectory,
    heads: Sequence[str],
    recorded: dict[str, str | None],
) -> list[ChangedScript]:
    """Applied revisions whose file no longer has the checksum recorded when it ran."""
    applied = graph.applied([h for h in heads if h in graph])
    changed = []
    for rev_id in graph.topological(applied):
        before = recorded.get(rev_id)
        if before is None:
            continue
        path = scripts.get_script(rev_id).path
        now = script_checksum(path)
        if now != before:
            changed.append(ChangedScript(revision=rev_id, path=path, recorded=before, current=now))
    return changed
