"""What the rules look at: a revision's recorded operations, with their SQL read.

A :class:`RevisionView` lists the operations of one revision as :class:`Event` s, each
with its statements classified (:mod:`whimbrel.lint.sqltext`), the transaction it
runs in, and which tables the revision created before it (work on a table created
moments ago, empty, blocks nobody).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whimbrel.lint.sqltext import Statement, classify, split_statements
from whimbrel.operations.table_ops import CreateTableOp

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from whimbrel.lint.recorder import Recording
    from whimbrel.lint.results import Severity
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("Env", "Event", "Hit", "Models", "RangeState", "RevisionView", "family", "table_key")


def table_key(name: str, schema: str | None = None) -> str:
    """How a table is named in findings and compared: ``schema.name`` or ``name``."""
    return f"{schema}.{name}" if schema else name


def family(dialect_name: str) -> str:
    """The dialect family rules are written for (``mariadb`` is ``mysql``)."""
    return "mysql" if dialect_name in ("mysql", "mariadb") else dialect_name


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded operation and what its SQL does.

    Attributes:
        index: its position in the revision.
        op: the operation object.
        line: the line of the revision file.
        statements: its SQL, one classified statement each.
        autocommit: it runs outside a transaction.
        batched: a data change made in bounded batches.
        txn: the transaction it runs in (numbered within the revision), ``-1`` outside.
    """

    index: int
    op: MigrateOperation
    line: int | None
    statements: tuple[Statement, ...]
    autocommit: bool
    batched: bool
    txn: int


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's finding before it is tied to a revision; ``None`` fields take the rule's."""

    line: int | None
    message: str
    statement: str | None = None
    severity: Severity | None = None
    alternative: str | None = None


class Models:
    """The application's tables as ``target_metadata`` describes them."""

    def __init__(self, metadata: Any) -> None:
        from sqlalchemy import MetaData

        items = [metadata] if isinstance(metadata, MetaData) else list(metadata)
        self.tables: dict[str, Any] = {}
        for md in items:
            for key, table in md.tables.items():
                self.tables[key] = table
                if table.schema is not None and table.schema == md.schema:
                    self.tables.setdefault(table.name, table)

    def table(self, key: str) -> Any | None:
        """The model ``Table`` for ``schema.name`` or ``name``, if any."""
        return self.tables.get(key)

    def has_column(self, key: str, column: str) -> bool:
        """Whether the models define ``column`` on table ``key``."""
        table = self.table(key)
        return table is not None and column in table.c


@dataclass
class RangeState:
    """What the rules carry from one revision to the next, in the order they run."""

    new_tables: set[str] = field(default_factory=set)
    carry_new_tables: bool = False
    not_null_checks: dict[str, tuple[str, str]] = field(default_factory=dict)
    validated_not_null: set[tuple[str, str]] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Env:
    """What the rules know beyond the revision itself.

    Attributes:
        dialect: the dialect family (``postgresql``, ``mysql``, ``sqlite``...).
        dialect_impl: the SQLAlchemy dialect (to compile types).
        server_version: the server's version, ``None`` for a current one.
        models: the application's tables, when ``target_metadata`` is set.
        lock_timeout: the configured ``lock_timeout``.
        state: what earlier revisions of the range left.
    """

    dialect: str
    dialect_impl: Dialect
    server_version: tuple[int, ...] | None
    models: Models | None
    lock_timeout: float | None
    state: RangeState

    def older_than(self, *version: int) -> bool:
        """Whether the server is known to be older than ``version``."""
        return self.server_version is not None and self.server_version < version


class RevisionView:
    """One revision's operations, ready for the rules.

    Args:
        recording: what its ``upgrade()`` did.
        source: the revision file's text.
        state: carried between revisions (tables created by earlier pending ones).
    """

    def __init__(self, recording: Recording, source: str, state: RangeState) -> None:
        self.recording = recording
        self.source = source
        self.revision = recording.script.id
        try:
            self.tree: ast.Module | None = ast.parse(source)
        except SyntaxError:
            self.tree = None
        self.events = tuple(self._events())
        self._created: dict[str, tuple[int, int]] = {}
        for event in self.events:
            if isinstance(event.op, CreateTableOp):
                key = table_key(event.op.table_name, event.op.schema)
                self._created.setdefault(key, (event.index, -1))
            for j, st in enumerate(event.statements):
                if st.kind == "create_table" and st.table:
                    self._created.setdefault(st.table, (event.index, j))
        self._earlier: Collection[str] = frozenset(state.new_tables)
        if state.carry_new_tables:
            state.new_tables.update(self._created)

    def _events(self) -> Iterator[Event]:
        txn = 0
        in_txn = False
        for index, op in enumerate(self.recording.ops):
            statements = tuple(
                classify(piece) for sql in op.sql for piece in split_statements(sql)
            )
            if op.autocommit:
                number = -1
                if in_txn:
                    txn += 1
                    in_txn = False
            else:
                number = txn
                in_txn = True
            yield Event(
                index, op.operation, op.line, statements, op.autocommit, op.batched, number
            )

    def is_new(self, table: str | None, event: int, statement: int = 1 << 30) -> bool:
        """Whether ``table`` was created by this revision before that point.

        In pending mode, tables created by earlier pending revisions count too: they
        are created by the same ``upgrade`` run, and are empty.
        """
        if table is None:
            return False
        if table in self._earlier:
            return True
        created = self._created.get(table)
        return created is not None and created < (event, statement)

    def statements(self) -> Iterator[tuple[Event, int, Statement]]:
        """Every statement of the revision with its event and position."""
        for event in self.events:
            for j, st in enumerate(event.statements):
                yield event, j, st
