"""What ``lint`` and ``plan`` return: frozen dataclasses, JSON-ready with ``to_data``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

__all__ = (
    "Finding",
    "LintResult",
    "PlanResult",
    "PlanStatement",
    "PlanStep",
    "Severity",
    "TableLock",
)

Severity: TypeAlias = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one revision.

    Attributes:
        rule: the rule's id (``blocking-index``...); see ``docs/lint.md``.
        severity: ``error`` (``whimbrel lint`` exits 1) or ``warning``.
        revision: the revision id.
        path: the revision file.
        line: the line of the ``op.*`` call (``None`` when it is not known).
        message: what is wrong, and why it matters while the application runs.
        alternative: the safe way to do the same.
        statement: the SQL concerned, when there is one.
    """

    rule: str
    severity: Severity
    revision: str
    path: Path
    line: int | None
    message: str
    alternative: str
    statement: str | None = None


@dataclass(frozen=True, slots=True)
class LintResult:
    """The findings of ``lint`` over some revisions, in the order they run.

    Attributes:
        findings: every finding, by revision (oldest first), then line.
        revisions: the revisions inspected, oldest first.
        scope: ``pending`` (what ``upgrade`` would run on the database) or ``range``.
        rev_range: the range asked for, if any.
        dialect: the dialect the SQL was compiled for.
        server_version: the server version the rules assumed (``None``: a current one).
        database: the database read for pending revisions (password masked).
        disabled: the rules switched off.
    """

    findings: tuple[Finding, ...]
    revisions: tuple[str, ...]
    scope: Literal["pending", "range"]
    rev_range: str | None
    dialect: str
    server_version: tuple[int, ...] | None
    database: str | None
    disabled: tuple[str, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity ``error``."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity ``warning``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """Whether there is no error (warnings allowed)."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class TableLock:
    """A lock a statement takes on a table, and how big the table is now.

    ``mode`` is PostgreSQL's lock mode; ``None`` on other databases, whose locks are
    not modelled (the table is listed for its size). ``rows`` is PostgreSQL's
    estimate (``pg_class.reltuples``; ``None`` until the table was first analysed) or
    MySQL's ``TABLE_ROWS``; ``total_bytes`` includes indexes and TOAST. Both are
    ``None`` for a table that does not exist yet.
    """

    table: str
    mode: str | None
    rows: int | None = None
    total_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class PlanStatement:
    """One statement a step would run.

    Attributes:
        sql: the statement, compiled for the database's dialect.
        operation: what the revision asked for (``create_index 'ix' on 't'``).
        line: the line of the revision file.
        autocommit: it runs outside a transaction (``transactional = False`` or
            ``op.autocommit_block()``).
        locks: the tables it touches, with the lock it takes on each (PostgreSQL).
    """

    sql: str
    operation: str
    line: int | None
    autocommit: bool
    locks: tuple[TableLock, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One revision ``upgrade`` would run.

    Attributes:
        revision: its id.
        message: its message.
        path: its file.
        transactional: its header's ``transactional`` (``False``: no transaction).
        heads_before: the version rows before it.
        heads_after: the version rows after it.
        statements: its SQL, statement by statement.
        notes: what could not be compiled without running it (SQL that depends on
            what the database holds; ``upgrade()`` reading the database).
    """

    revision: str
    message: str | None
    path: Path
    transactional: bool
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    statements: tuple[PlanStatement, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What ``upgrade`` to ``target`` would do on the database; nothing was changed.

    Attributes:
        database: the database (password masked).
        dialect: its dialect.
        server_version: its server version.
        target: the target asked for.
        heads_before: the version rows now.
        heads_after: the version rows after the upgrade.
        transactional_ddl: the database rolls DDL back (PostgreSQL, SQLite); on
            MySQL/MariaDB each DDL statement commits.
        transaction_per_migration: each step commits on its own (configuration);
            otherwise transactional steps share one transaction.
        lock_timeout: seconds a statement may wait for a lock (configuration).
        statement_timeout: seconds a statement may run (configuration).
        steps: the revisions to run, in order.
    """

    database: str
    dialect: str
    server_version: tuple[int, ...] | None
    target: str
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    transactional_ddl: bool
    transaction_per_migration: bool
    lock_timeout: float | None
    statement_timeout: float | None
    steps: tuple[PlanStep, ...]
