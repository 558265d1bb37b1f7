"""The table locks a PostgreSQL statement takes, from its text.

Modes follow PostgreSQL's documentation ("Explicit Locking", and each command's page):
most ``ALTER TABLE`` forms take ``ACCESS EXCLUSIVE``; ``CREATE INDEX`` takes
``SHARE``; the ``CONCURRENTLY`` forms, ``VALIDATE CONSTRAINT`` and ``SET STATISTICS``
take ``SHARE UPDATE EXCLUSIVE``; a foreign key takes ``SHARE ROW EXCLUSIVE`` on both
tables; DML takes ``ROW EXCLUSIVE``.
"""

from __future__ import annotations

from whimbrel.lint.sqltext import Action, Statement

__all__ = ("MODES", "blocks_writes", "pg_locks", "strongest", "waits_for")

MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
"""Table lock modes, weakest first."""

_RANK = {mode: rank for rank, mode in enumerate(MODES)}


def strongest(modes: list[str]) -> str:
    """The strongest of several lock modes."""
    return max(modes, key=lambda m: _RANK.get(m, len(MODES)))


def blocks_writes(mode: str) -> bool:
    """Whether ``mode`` makes INSERT, UPDATE and DELETE on the table wait."""
    return _RANK.get(mode, len(MODES)) >= _RANK["SHARE"]


def waits_for(mode: str) -> bool:
    """Whether ``mode`` is stronger than what DML takes: it can wait behind DML or DDL."""
    return _RANK.get(mode, len(MODES)) >= _RANK["SHARE UPDATE EXCLUSIVE"]


def _action_mode(action: Action) -> str:
    if action.kind == "validate_constraint" or action.kind == "light":
        return "SHARE UPDATE EXCLUSIVE"
    if action.kind == "add_constraint" and action.constraint_kind == "foreign_key":
        return "SHARE ROW EXCLUSIVE"
    return "ACCESS EXCLUSIVE"


def pg_locks(
    statement: Statement, *, index_table: str | None = None
) -> tuple[tuple[str, str], ...]:
    """``(table, mode)`` for each table ``statement`` locks on PostgreSQL.

    Args:
        statement: the classified statement.
        index_table: the table of the index a ``DROP INDEX`` names (its text does not).
    """
    kind = statement.kind
    out: dict[str, str] = {}

    def take(table: str | None, mode: str) -> None:
        if table:
            out[table] = strongest([out.get(table, mode), mode])

    if kind == "create_index":
        take(statement.table, "SHARE UPDATE EXCLUSIVE" if statement.concurrently else "SHARE")
    elif kind == "drop_index":
        mode = "SHARE UPDATE EXCLUSIVE" if statement.concurrently else "ACCESS EXCLUSIVE"
        take(statement.table or index_table, mode)
    elif kind == "alter_table" and statement.actions:
        take(statement.table, strongest([_action_mode(a) for a in statement.actions]))
        for action in statement.actions:
            if action.references:
                # Adding a foreign key locks the referenced table too.
                take(action.references, "SHARE ROW EXCLUSIVE")
    elif kind in ("update", "delete", "insert"):
        take(statement.table, "ROW EXCLUSIVE")
    elif kind == "select":
        take(statement.table, "ACCESS SHARE")
    elif kind == "create_table":
        for ref in statement.references:
            take(ref, "SHARE ROW EXCLUSIVE")
    elif kind in ("drop_table", "truncate", "cluster"):
        for table in statement.tables:
            take(table, "ACCESS EXCLUSIVE")
    elif kind == "comment":
        take(statement.table, "SHARE UPDATE EXCLUSIVE")
    elif kind == "lock":
        for table in statement.tables:
            take(table, statement.lock_mode or "ACCESS EXCLUSIVE")
    elif kind == "reindex":
        mode = "SHARE UPDATE EXCLUSIVE" if statement.concurrently else "SHARE"
        take(statement.table or index_table, mode)
    elif kind == "vacuum":
        for table in statement.tables:
            take(table, "ACCESS EXCLUSIVE" if statement.full else "SHARE UPDATE EXCLUSIVE")
    elif kind == "refresh":
        take(statement.table, "EXCLUSIVE" if statement.concurrently else "ACCESS EXCLUSIVE")
    return tuple(out.items())
