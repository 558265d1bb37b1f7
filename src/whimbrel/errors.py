"""The one exception tree of Whimbrel.

Every error a user can cause derives from :class:`WhimbrelError`; the CLI maps the
tree to exit codes in one place (``whimbrel.cli.app``). Each leaf carries the data
needed to act on it, and its message is one line: what, where, what to do.

    WhimbrelError
    ├── ConfigError                    bad or missing configuration (.path, .key)
    ├── CommandError                   a command cannot do what was asked
    │   ├── UsageError                 arguments that do not fit (exit code 2)
    │   └── OfflineSQLError            offline SQL (--sql) cannot be generated as asked
    ├── ScriptError                    a revision file cannot be read (.path, .lineno)
    ├── DatabaseError                  the database cannot be reached or used (.url)
    ├── MigrationStepError             a revision's upgrade/downgrade failed
    │                                  (.revision, .direction, .statement, .completed)
    ├── NotAtHeadError                 current --check-heads: not at head (.current, .heads)
    ├── LockTimeoutError               another run held the migration lock too long (.holder)
    ├── ChangedScriptError             upgrade over applied scripts edited since (.changed)
    ├── RevisionError                  the revision graph or an identifier
    │   ├── UnknownRevisionError       no revision or label by that name (.identifier)
    │   ├── AmbiguousRevisionError     a prefix matching several (.candidates)
    │   ├── MultipleHeadsError         one head needed, several found (.heads)
    │   ├── CycleError                 the graph loops (.cycle)
    │   ├── DuplicateRevisionError     one id in two files (.revision, .paths)
    │   ├── DuplicateBranchLabelError  one label on two revisions (.label, .revisions)
    │   ├── MissingReferenceError      down_revision/depends_on naming nothing
    │   ├── RelativeStepError          +N/-N past head or base (.identifier)
    │   └── RangeError                 a target outside the current lineage
    └── OperationError                 an ``op.*`` call that cannot be carried out
        ├── IrreversibleOperationError  ``reverse()`` lacks what it needs (.operation)
        ├── UnsupportedOperationError   the dialect cannot do it (.dialect, .operation)
        │   └── ConnectionRequiredError  it must read the database, and there is none
        ├── TransactionStateError       must run outside a transaction (.statement)
        └── BatchError                  batch mode cannot rebuild a table (.table)
            └── ForeignKeyViolationError  rows break a foreign key after a rebuild

Warnings (``warnings.warn``) have their own small tree, rooted in ``UserWarning``:

    WhimbrelWarning
    ├── BatchConstraintWarning         batch mode could not carry a constraint or index
    └── OfflineSQLWarning              offline SQL left out a step that needs a database
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = (
    "AmbiguousRevisionError",
    "BatchConstraintWarning",
    "BatchError",
    "ChangedScriptError",
    "CommandError",
    "ConfigError",
    "ConnectionRequiredError",
    "CycleError",
    "DatabaseError",
    "DuplicateBranchLabelError",
    "DuplicateRevisionError",
    "ForeignKeyViolationError",
    "IrreversibleOperationError",
    "LockTimeoutError",
    "MigrationStepError",
    "MissingReferenceError",
    "MultipleHeadsError",
    "NotAtHeadError",
    "OfflineSQLError",
    "OfflineSQLWarning",
    "OperationError",
    "RangeError",
    "RelativeStepError",
    "RevisionError",
    "ScriptError",
    "TransactionStateError",
    "UnknownRevisionError",
    "UnsupportedOperationError",
    "UsageError",
    "WhimbrelError",
    "WhimbrelWarning",
)


class WhimbrelError(Exception):
    """Root of every error Whimbrel raises on purpose."""


class ConfigError(WhimbrelError):
    """The configuration is missing, unreadable or holds a bad value."""

    def __init__(self, message: str, *, path: Path | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key


class CommandError(WhimbrelError):
    """A command cannot do what was asked (a file exists, a template is unknown...)."""


class UsageError(CommandError):
    """Arguments that do not fit together; the CLI exits with code 2."""


class OfflineSQLError(CommandError):
    """Offline SQL (``--sql``) cannot be generated as asked.

    A downgrade without a start revision, a ``start:end`` range without ``--sql``, a
    statement whose values cannot be written as literals...
    """


class ScriptError(WhimbrelError):
    """A revision file that cannot be read: syntax error, missing ``revision``..."""

    def __init__(self, message: str, *, path: Path, lineno: int | None = None):
        where = f"{path}:{lineno}" if lineno is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.lineno = lineno
        self.reason = message


class DatabaseError(WhimbrelError):
    """The database cannot be reached, or refuses what Whimbrel itself asks of it."""

    def __init__(self, message: str, *, url: str | None = None):
        super().__init__(message)
        self.url = url


class MigrationStepError(WhimbrelError):
    """A revision's ``upgrade()`` or ``downgrade()`` raised."""

    def __init__(
        self,
        message: str,
        *,
        revision: str,
        direction: str,
        statement: str | None = None,
        completed: Sequence[str] = (),
        heads: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.revision = revision
        self.direction = direction
        self.statement = statement
        self.completed = tuple(completed)
        self.heads = tuple(heads)


class ChangedScriptError(WhimbrelError):
    """Applied revision files were edited after they ran."""

    def __init__(self, changed: Sequence[object]):
        first = changed[0]
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        super().__init__(
            f"revision {getattr(first, 'revision', first)} ({getattr(first, 'path', '?')}) "
            f"was edited after it was applied{more}; restore the file, or pass "
            "--allow-changed to upgrade anyway ('whimbrel verify' lists every change)"
        )
        self.changed = tuple(changed)


class LockTimeoutError(WhimbrelError):
    """Another run held the migration lock for longer than ``migration_lock_timeout``."""

    def __init__(self, message: str, *, holder: str | None = None):
        super().__init__(message)
        self.holder = holder


class NotAtHeadError(WhimbrelError):
    """The database is not at the head revision(s) (``current --check-heads``)."""

    def __init__(self, current: Sequence[str], heads: Sequence[str]):
        cur = ", ".join(current) or "base (empty)"
        super().__init__(
            f"database is at {cur}, not at head ({', '.join(heads)}); run 'whimbrel upgrade heads'"
        )
        self.current = tuple(current)
        self.heads = tuple(heads)


class RevisionError(WhimbrelError):
    """Root of the errors about the revision graph and revision identifiers."""


class UnknownRevisionError(RevisionError):
    """No revision, prefix or branch label matches the identifier."""

    def __init__(self, identifier: str, *, hint: str | None = None):
        message = f"no revision or branch label matches {identifier!r}"
        message += f"; {hint}" if hint else "; run 'whimbrel history' to list revisions"
        super().__init__(message)
        self.identifier = identifier


class AmbiguousRevisionError(RevisionError):
    """A prefix matches several revisions."""

    def __init__(self, identifier: str, candidates: Sequence[str]):
        shown = ", ".join(sorted(candidates))
        super().__init__(
            f"revision prefix {identifier!r} is ambiguous: it matches {shown}; "
            "give more characters"
        )
        self.identifier = identifier
        self.candidates = tuple(sorted(candidates))


class MultipleHeadsError(RevisionError):
    """One head was needed where the graph (or a branch) has several."""

    def __init__(self, heads: Sequence[str], identifier: str = "head"):
        shown = ", ".join(heads)
        # Where 'heads' itself was refused (one revision was needed), do not suggest it.
        for_all = "" if identifier.rpartition("@")[2] == "heads" else "use 'heads' for all, "
        super().__init__(
            f"{identifier!r} is ambiguous: there are {len(heads)} heads ({shown}); "
            f"name one with 'label@head' or a revision id, {for_all}"
            "or 'whimbrel merge heads' to join them"
        )
        self.heads = tuple(heads)
        self.identifier = identifier


class CycleError(RevisionError):
    """The revisions form a cycle."""

    def __init__(self, cycle: Sequence[str], *, kind: str = "down_revision"):
        shown = " -> ".join([*cycle, cycle[0]]) if cycle else "?"
        super().__init__(
            f"revision graph has a cycle through {kind}: {shown}; "
            f"fix the {kind} of one of these files"
        )
        self.cycle = tuple(cycle)


class DuplicateRevisionError(RevisionError):
    """Two files declare the same revision id."""

    def __init__(self, revision: str, paths: Sequence[str | Path]):
        shown = " and ".join(str(p) for p in paths)
        super().__init__(f"revision {revision!r} is defined twice, in {shown}; give one a new id")
        self.revision = revision
        self.paths = tuple(paths)


class DuplicateBranchLabelError(RevisionError):
    """Two revisions declare the same branch label."""

    def __init__(self, label: str, revisions: Sequence[str]):
        super().__init__(
            f"branch label {label!r} is declared by both {revisions[0]} and {revisions[1]}; "
            "branch labels must be unique"
        )
        self.label = label
        self.revisions = tuple(revisions)


class MissingReferenceError(RevisionError):
    """A ``down_revision`` or ``depends_on`` names no known revision."""

    def __init__(
        self, revision: str, missing: str, *, kind: str, path: str | Path | None = None
    ) -> None:
        where = f" ({path})" if path is not None else ""
        super().__init__(
            f"revision {revision}{where} has {kind} {missing!r}, which names no revision; "
            "restore the missing file or correct the reference"
        )
        self.revision = revision
        self.missing = missing
        self.kind = kind
        self.path = path


class RelativeStepError(RevisionError):
    """A relative identifier (``+N``, ``-N``, ``rev+N``) walks past head or base."""

    def __init__(self, identifier: str, reason: str):
        super().__init__(f"cannot resolve {identifier!r}: {reason}")
        self.identifier = identifier
        self.reason = reason


class RangeError(RevisionError):
    """A target that is not reachable from the current revisions."""

    def __init__(self, message: str, *, identifier: str | None = None):
        super().__init__(message)
        self.identifier = identifier


class OperationError(WhimbrelError):
    """An ``op.*`` call that cannot be carried out as asked."""


class IrreversibleOperationError(OperationError):
    """``reverse()`` of an operation that does not carry what its reverse needs."""

    def __init__(self, operation: str, reason: str):
        super().__init__(f"cannot reverse {operation}: {reason}")
        self.operation = operation
        self.reason = reason


class UnsupportedOperationError(OperationError):
    """The database (dialect) cannot perform the operation as asked."""

    def __init__(self, message: str, *, dialect: str, operation: str):
        super().__init__(message)
        self.dialect = dialect
        self.operation = operation


class ConnectionRequiredError(UnsupportedOperationError):
    """The operation must read the database, and there is no connection (offline SQL)."""


class TransactionStateError(OperationError):
    """A statement that cannot run inside a transaction was asked to run in one."""

    def __init__(self, statement: str):
        super().__init__(
            f"{statement} cannot run inside a transaction; mark the revision script "
            "'transactional = False' or wrap the call in 'with op.autocommit_block():'"
        )
        self.statement = statement


class BatchError(OperationError):
    """``batch_alter_table`` cannot rebuild (or alter) the table."""

    def __init__(self, message: str, *, table: str):
        super().__init__(message)
        self.table = table


class ForeignKeyViolationError(BatchError):
    """After a batch rebuild, rows break foreign keys (``PRAGMA foreign_key_check``)."""

    def __init__(self, table: str, violations: Sequence[tuple[str, int | None, str]]):
        shown = ", ".join(f"{t} rowid {r} -> {p}" for t, r, p in violations[:5])
        more = f" and {len(violations) - 5} more" if len(violations) > 5 else ""
        super().__init__(
            f"rebuilding table {table!r} leaves rows that break foreign keys: "
            f"{shown}{more}; fix the data or the foreign keys and run again",
            table=table,
        )
        self.violations = tuple(violations)


class WhimbrelWarning(UserWarning):
    """Root of the warnings Whimbrel issues."""


class BatchConstraintWarning(WhimbrelWarning):
    """Batch mode rebuilt a table without a constraint or index it could not carry."""


class OfflineSQLWarning(WhimbrelWarning):
    """Offline SQL left out a step (or the rest of one) that needs a live database.

    The script carries a marked comment (``-- WHIMBREL: LIVE CONNECTION NEEDED``) at
    that place; the warning says the same, for whoever does not read the script.
    """
