"""Integrity checks of a database against its revision files.

Applied scripts that changed, version rows nobody defines, and revisions recorded as
applied that the version table no longer implies.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from whimbrel.results import ChangedScript

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from whimbrel.runtime.version_table import VersionTables
    from whimbrel.script.directory import ScriptDirectory
    from whimbrel.script.graph import RevisionGraph

__all__ = ("applied_by_history", "changed_scripts", "script_checksum")


def script_checksum(path: Path) -> str:
    """SHA-256 of a revision file's bytes, as recorded in the history table."""
    from whimbrel.script.headers import file_checksum

    return file_checksum(str(path))


def applied_by_history(conn: Connection, tables: VersionTables) -> dict[str, str | None]:
    """Revisions whose last successful run was an upgrade, with that run's checksum.

    Empty when there is no history table (a database stamped or migrated by Alembic).
    """
    from sqlalchemy import inspect

    history = tables.history
    if not inspect(conn).has_table(history.name, schema=tables.schema):
        return {}
    rows = conn.execute(
        select(history.c.revision, history.c.direction, history.c.checksum)
        .where(history.c.status == "ok", history.c.direction.in_(("up", "down")))
        .order_by(history.c.id)
    )
    state: dict[str, str | None] = {}
    for revision, direction, checksum in rows:
        if direction == "up":
            state[revision] = checksum
        else:
            state.pop(revision, None)
    return state


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
