"""The lint rules, in one explicit table (:data:`RULES`).

Each rule reads a :class:`~whimbrel.lint.view.RevisionView` and yields hits; the
engine ties them to the revision, drops the ones switched off, and sorts them.
``docs/lint.md`` shows every rule with a bad and a good migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from whimbrel.lint import rules_compat as c
from whimbrel.lint import rules_pg as p
from whimbrel.lint.results import Severity
from whimbrel.lint.view import Env, Hit, RevisionView

__all__ = ("RULES", "RULES_BY_ID", "Rule")

Check = Callable[[RevisionView, Env], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule.

    Attributes:
        id: what findings, ``disable`` lists and ``# whimbrel: ignore[...]`` call it.
        severity: the severity of its findings (a finding may lower it).
        summary: one line saying what it catches.
        alternative: the safe way, shown with each finding.
        dialects: the dialect families it applies to; empty for all.
        check: the function that finds the problems.
    """

    id: str
    severity: Severity
    summary: str
    alternative: str
    dialects: frozenset[str]
    check: Check

    def applies_to(self, dialect: str) -> bool:
        """Whether the rule runs for a dialect family."""
        return not self.dialects or dialect in self.dialects


_PG = frozenset({"postgresql"})

RULES: tuple[Rule, ...] = (
    Rule(
        "blocking-index",
        "error",
        "CREATE INDEX (or DROP INDEX) without CONCURRENTLY on an existing table",
        "op.create_index(..., postgresql_concurrently=True) inside "
        "`with op.autocommit_block():` (or in a revision with transactional = False)",
        _PG,
        p.blocking_index,
    ),
    Rule(
        "concurrently-in-transaction",
        "error",
        "a CONCURRENTLY index build or drop inside a transaction (it fails)",
        "wrap it in `with op.autocommit_block():`, or set transactional = False in the "
        "revision's header",
        _PG,
        p.concurrently_in_transaction,
    ),
    Rule(
        "constraint-without-not-valid",
        "error",
        "a foreign key or check constraint added without NOT VALID, or validated in the "
        "transaction that added it",
        "op.create_foreign_key(..., postgresql_not_valid=True), then "
        'op.execute("ALTER TABLE t VALIDATE CONSTRAINT name") in another transaction '
        "(inside `with op.autocommit_block():`, or in a later revision with "
        "transaction_per_migration = true)",
        _PG,
        p.constraint_without_not_valid,
    ),
    Rule(
        "constraint-builds-index",
        "error",
        "a UNIQUE or PRIMARY KEY constraint that builds its index under an ACCESS EXCLUSIVE lock",
        "build the index first with op.create_index(..., unique=True, "
        "postgresql_concurrently=True) in op.autocommit_block(), then "
        'op.execute("ALTER TABLE t ADD CONSTRAINT name UNIQUE USING INDEX ix")',
        _PG,
        p.constraint_builds_index,
    ),
    Rule(
        "not-null-without-default",
        "error",
        "a NOT NULL column added to an existing table without a server default",
        'add it with a server default (server_default=sa.text("0")), or add it nullable, '
        "backfill it, and make it NOT NULL in a later revision",
        frozenset(),
        c.not_null_without_default,
    ),
    Rule(
        "set-not-null",
        "error",
        "SET NOT NULL on an existing column: a full scan under an ACCESS EXCLUSIVE lock",
        "backfill in batches first; add CHECK (col IS NOT NULL) NOT VALID and VALIDATE it "
        "in another transaction; then SET NOT NULL (PostgreSQL 12+ trusts the check and "
        "skips the scan) and drop the check",
        _PG,
        p.set_not_null,
    ),
    Rule(
        "volatile-default",
        "error",
        "a column added with a volatile default (random(), gen_random_uuid()...) or as "
        "identity/serial: the table is rewritten",
        "add the column with no default (or a constant one), then set the default with "
        "alter_column(server_default=...) and backfill existing rows in batches",
        _PG,
        p.volatile_default,
    ),
    Rule(
        "column-type-rewrite",
        "error",
        "a column type change that rewrites (PostgreSQL) or copies (MySQL) the table",
        "expand and contract: add a column of the new type, write both, backfill in "
        "batches, move reads to it, then drop the old column in a later release",
        frozenset({"postgresql", "mysql"}),
        c.column_type_rewrite,
    ),
    Rule(
        "incompatible-rename",
        "error",
        "a table or column renamed under the running application",
        "expand and contract: add the new column (or table), write both, backfill, move "
        "reads, and drop the old one in a later release",
        frozenset(),
        c.incompatible_rename,
    ),
    Rule(
        "incompatible-drop",
        "error",
        "a table or column dropped while the models still use it",
        "release code that no longer uses it first (remove it from the models), then drop "
        "it in a later revision",
        frozenset(),
        c.incompatible_drop,
    ),
    Rule(
        "enum-value-in-transaction",
        "error",
        "ALTER TYPE ... ADD VALUE in a transaction before PostgreSQL 12, or the new value "
        "used in the transaction that added it",
        "add the value inside `with op.autocommit_block():` (or in a revision with "
        "transactional = False), before any statement that uses it",
        _PG,
        p.enum_value_in_transaction,
    ),
    Rule(
        "unbatched-update",
        "warning",
        "UPDATE or DELETE of every row of a table in one statement",
        "update in bounded batches: an async upgrade with `await op.update_in_batches("
        "table, values)`, or UPDATE ... WHERE id BETWEEN ... in a loop",
        frozenset(),
        c.unbatched_update,
    ),
    Rule(
        "no-lock-timeout",
        "warning",
        "a table lock taken with no lock_timeout (none configured, or outside a transaction)",
        "set lock_timeout in the configuration (lock_timeout = 2, in seconds: applied with "
        "SET LOCAL to each migration transaction), so a blocked migration fails fast "
        "instead of queueing the application behind it; outside a transaction "
        "(op.autocommit_block(), transactional = False) run "
        "op.execute(\"SET lock_timeout = '2s'\") first",
        _PG,
        p.no_lock_timeout,
    ),
    Rule(
        "missing-downgrade",
        "warning",
        "a revision with no downgrade(), or one that does nothing",
        "write downgrade() to undo upgrade(); if it truly cannot be undone, make it raise "
        "an error that says why",
        frozenset(),
        c.missing_downgrade,
    ),
    Rule(
        "incomplete-analysis",
        "warning",
        "upgrade() could not be followed without a database (it read from it)",
        "check the rest of this revision by hand; keep schema changes apart from code that "
        "reads the database, or move such reads into an async upgrade(op)",
        frozenset(),
        c.incomplete_analysis,
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
