"""Rules about PostgreSQL's locks: what makes the application's queries wait."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from whimbrel.lint.locks import blocks_writes, pg_locks, waits_for
from whimbrel.lint.sqltext import tokenize
from whimbrel.lint.view import Env, Event, Hit, RevisionView, table_key
from whimbrel.operations.constraint_ops import DropIndexOp
from whimbrel.operations.table_ops import AlterColumnOp

__all__ = (
    "blocking_index",
    "concurrently_in_transaction",
    "constraint_builds_index",
    "constraint_without_not_valid",
    "enum_value_in_transaction",
    "no_lock_timeout",
    "set_not_null",
    "volatile_default",
)

DROP_INDEX_ALTERNATIVE = (
    "op.drop_index(..., postgresql_concurrently=True) inside `with op.autocommit_block():`"
)


def _a(mode: str) -> str:
    return f"an {mode}" if mode[0] in "AEIOU" else f"a {mode}"


def _named(name: str | None) -> str:
    return f" {name}" if name else ""


def _index_table(event: Event) -> str | None:
    if isinstance(event.op, DropIndexOp) and event.op.table_name:
        return table_key(event.op.table_name, event.op.schema)
    return None


def blocking_index(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, j, st in view.statements():
        if st.kind == "create_index" and not st.concurrently:
            if view.is_new(st.table, event.index, j):
                continue
            yield Hit(
                event.line,
                f"CREATE INDEX{_named(st.index)} on {st.table} without CONCURRENTLY holds a "
                f"SHARE lock on {st.table} for the whole build: every INSERT, UPDATE and "
                "DELETE on it waits until the index is built",
                st.text,
            )
        elif st.kind == "drop_index" and not st.concurrently:
            table = st.table or _index_table(event)
            if view.is_new(table, event.index, j):
                continue
            yield Hit(
                event.line,
                f"DROP INDEX{_named(st.index)} without CONCURRENTLY takes an ACCESS EXCLUSIVE "
                f"lock on {table or 'its table'}: it waits for running queries, and every "
                "query on the table waits behind it",
                st.text,
                severity="warning",
                alternative=DROP_INDEX_ALTERNATIVE,
            )


def concurrently_in_transaction(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, _, st in view.statements():
        if st.concurrently and st.kind in ("create_index", "drop_index", "reindex"):
            if not event.autocommit:
                verb = {"create_index": "CREATE INDEX", "drop_index": "DROP INDEX"}.get(
                    st.kind, "REINDEX"
                )
                yield Hit(
                    event.line,
                    f"{verb} CONCURRENTLY cannot run inside a transaction block, and this "
                    "revision runs it in one: the upgrade fails",
                    st.text,
                )


def constraint_without_not_valid(view: RevisionView, env: Env) -> Iterator[Hit]:
    added_not_valid: dict[str, int] = {}
    for event, j, st in view.statements():
        if st.kind != "alter_table":
            continue
        table = st.table
        for action in st.actions:
            if action.kind == "add_constraint" and action.constraint_kind in (
                "foreign_key",
                "check",
            ):
                if action.not_valid:
                    if action.constraint:
                        added_not_valid[action.constraint] = event.txn
                    continue
                if view.is_new(table, event.index, j):
                    continue
                yield _unvalidated(event, st.text, table, action.constraint, action.references)
            elif action.kind == "add_column" and action.references:
                if not view.is_new(table, event.index, j):
                    yield _unvalidated(event, st.text, table, None, action.references)
            elif action.kind == "validate_constraint" and action.constraint in added_not_valid:
                txn = added_not_valid[action.constraint]
                if txn >= 0 and txn == event.txn:
                    yield Hit(
                        event.line,
                        f"VALIDATE CONSTRAINT {action.constraint} runs in the transaction that "
                        f"added it NOT VALID: the lock taken to add it is still held on {table} "
                        "while every row is checked, so NOT VALID gains nothing",
                        st.text,
                    )


def _unvalidated(
    event: Event, text: str, table: str | None, name: str | None, ref: str | None
) -> Hit:
    if ref is not None:
        return Hit(
            event.line,
            f"adds foreign key{_named(name)} on {table} without NOT VALID: PostgreSQL checks "
            f"every row while holding SHARE ROW EXCLUSIVE locks on {table} and {ref}, "
            "blocking writes to both",
            text,
        )
    return Hit(
        event.line,
        f"adds check constraint{_named(name)} on {table} without NOT VALID: PostgreSQL checks "
        f"every row while holding an ACCESS EXCLUSIVE lock on {table}; reads and writes wait",
        text,
        alternative=(
            "op.create_check_constraint(..., postgresql_not_valid=True), then "
            'op.execute("ALTER TABLE t VALIDATE CONSTRAINT name") in another transaction '
            "(inside `with op.autocommit_block():`, or in a later revision with "
            "transaction_per_migration = true)"
        ),
    )


def constraint_builds_index(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, j, st in view.statements():
        if st.kind != "alter_table" or view.is_new(st.table, event.index, j):
            continue
        for action in st.actions:
            kind = None
            if action.kind == "add_constraint" and not action.using_index:
                if action.constraint_kind in ("unique", "primary_key"):
                    kind = action.constraint_kind
            elif action.kind == "add_column":
                kind = next((k for k in action.inline if k in ("unique", "primary_key")), None)
            if kind is None:
                continue
            what = "UNIQUE" if kind == "unique" else "PRIMARY KEY"
            yield Hit(
                event.line,
                f"adding a {what} constraint{_named(action.constraint)} builds its index under "
                f"an ACCESS EXCLUSIVE lock on {st.table}: reads and writes wait for the "
                "whole build",
                st.text,
            )


_VOLATILE = frozenset(
    {
        "random",
        "random_normal",
        "gen_random_uuid",
        "gen_random_bytes",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
    }
)


def volatile_calls(expression: str) -> list[str]:
    """The volatile functions an SQL expression calls (outside string literals)."""
    tokens = tokenize(expression)
    found: list[str] = []
    for token, nxt in itertools.pairwise(tokens):
        if token.kind == "word" and nxt.text == "(" and token.name in _VOLATILE:
            found.append(token.name)
    return found


def volatile_default(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, j, st in view.statements():
        if st.kind != "alter_table" or view.is_new(st.table, event.index, j):
            continue
        for action in st.actions:
            if action.kind != "add_column":
                continue
            where = f"{st.table}.{action.column}"
            if action.generated:
                why = f"adding {where} as a generated (identity, serial or stored) column"
            elif action.default is not None and volatile_calls(action.default):
                calls = ", ".join(f"{c}()" for c in volatile_calls(action.default))
                why = f"the default of {where} calls {calls}, which is volatile: adding it"
            elif (
                action.default is not None
                and action.default.upper() != "NULL"
                and env.older_than(11)
            ):
                why = f"before PostgreSQL 11 any default does: adding {where}"
            else:
                continue
            yield Hit(
                event.line,
                f"{why} rewrites the whole table under an ACCESS EXCLUSIVE lock; reads and "
                "writes wait until every row is written",
                st.text,
            )


_NOT_NULL_CHECK = re.compile(r'CHECK\s*\(\s*"?(\w+)"?\s+IS\s+NOT\s+NULL\s*\)', re.IGNORECASE)


def set_not_null(view: RevisionView, env: Env) -> Iterator[Hit]:
    state = env.state
    for event, j, st in view.statements():
        if st.kind != "alter_table" or not st.table:
            continue
        for action in st.actions:
            if action.kind == "add_constraint" and action.constraint_kind == "check":
                found = _NOT_NULL_CHECK.search(action.text)
                if found and action.constraint:
                    state.not_null_checks[action.constraint] = (st.table, found.group(1).lower())
                    if not action.not_valid:
                        state.validated_not_null.add((st.table, found.group(1).lower()))
            elif action.kind == "validate_constraint" and action.constraint:
                pair = state.not_null_checks.get(action.constraint)
                if pair is not None:
                    state.validated_not_null.add(pair)
            elif action.kind == "set_not_null" and action.column:
                if view.is_new(st.table, event.index, j):
                    continue
                if isinstance(event.op, AlterColumnOp) and event.op.existing_nullable is False:
                    continue
                checked = (st.table, action.column.lower()) in state.validated_not_null
                if checked and not env.older_than(12):
                    continue
                yield Hit(
                    event.line,
                    f"SET NOT NULL on {st.table}.{action.column} reads the whole table under "
                    "an ACCESS EXCLUSIVE lock (reads and writes wait), and fails if a NULL "
                    "is left",
                    st.text,
                )


def enum_value_in_transaction(view: RevisionView, env: Env) -> Iterator[Hit]:
    statements = list(view.statements())
    for k, (event, _, st) in enumerate(statements):
        if st.kind != "add_enum_value" or event.autocommit:
            continue
        if env.older_than(12):
            yield Hit(
                event.line,
                f"ALTER TYPE {st.type_name} ADD VALUE cannot run inside a transaction block "
                "before PostgreSQL 12, and this revision runs it in one: the upgrade fails",
                st.text,
            )
            continue
        if st.value is None:
            continue
        literal = "'" + st.value.replace("'", "''") + "'"
        for later, _, use in statements[k + 1 :]:
            if later.txn == event.txn and later.index != event.index and literal in use.text:
                yield Hit(
                    event.line,
                    f"the new value {literal} of {st.type_name} is used at line {later.line} "
                    "in the transaction that added it: PostgreSQL refuses (unsafe use of new "
                    "value) until that transaction commits",
                    st.text,
                )
                break


def no_lock_timeout(view: RevisionView, env: Env) -> Iterator[Hit]:
    # The configured lock_timeout is applied with SET LOCAL to each migration
    # transaction: it does not reach statements run outside one.
    session = False
    local_txn = -1
    for event, j, st in view.statements():
        if st.kind == "set" and "lock_timeout" in st.text.lower():
            if re.match(r"\s*SET\s+LOCAL\b", st.text, re.IGNORECASE):
                local_txn = event.txn
            else:
                session = True
            continue
        covered = (
            session
            or (env.lock_timeout is not None and not event.autocommit)
            or (local_txn >= 0 and local_txn == event.txn)
        )
        if covered:
            continue
        for table, mode in pg_locks(st, index_table=_index_table(event)):
            if waits_for(mode) and not view.is_new(table, event.index, j):
                if event.autocommit and env.lock_timeout is not None:
                    why = (
                        "runs outside a transaction, where the configured lock_timeout "
                        "(SET LOCAL in each migration transaction) does not apply"
                    )
                else:
                    why = "has no lock_timeout"
                yield Hit(
                    event.line,
                    f"takes {_a(mode)} lock on {table} and {why}: if a long query holds the "
                    "table, it waits without limit"
                    + (
                        ", and every query on the table queues behind it"
                        if blocks_writes(mode)
                        else ""
                    ),
                    st.text,
                )
                return
