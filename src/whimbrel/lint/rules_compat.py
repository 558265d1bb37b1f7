"""Rules about the running application and the data.

Schema changes the running application does not survive, table rewrites, data
changes made in one statement, and revisions that cannot be taken back.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from whimbrel.lint.view import Env, Event, Hit, RevisionView, table_key
from whimbrel.operations.misc_ops import ExecuteSQLOp
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    DropColumnOp,
    DropTableOp,
    RenameTableOp,
)

__all__ = (
    "column_type_rewrite",
    "incompatible_drop",
    "incompatible_rename",
    "incomplete_analysis",
    "missing_downgrade",
    "not_null_without_default",
    "type_change_rewrites",
    "unbatched_update",
)


def _sql(event: Event) -> str | None:
    if len(event.statements) == 1:
        return event.statements[0].text
    return None


def not_null_without_default(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event in view.events:
        op = event.op
        if isinstance(op, AddColumnOp):
            column = op.column
            key = table_key(op.table_name, op.schema)
            required = (
                column.nullable is False
                and not column.primary_key
                and column.server_default is None
                and column.identity is None
                and column.computed is None
            )
            if required and not view.is_new(key, event.index):
                yield _required(event, key, column.name, _sql(event))
        elif isinstance(op, ExecuteSQLOp):
            for j, st in enumerate(event.statements):
                if st.kind != "alter_table" or view.is_new(st.table, event.index, j):
                    continue
                for action in st.actions:
                    if (
                        action.kind == "add_column"
                        and action.not_null
                        and action.default is None
                        and not action.generated
                        and "primary_key" not in action.inline
                    ):
                        yield _required(event, st.table or "?", action.column or "?", st.text)


def _required(event: Event, table: str, column: str, sql: str | None) -> Hit:
    return Hit(
        event.line,
        f"adds NOT NULL column {table}.{column} with no server default: it fails on a table "
        "with rows, and the running application's INSERTs, which do not know the column, "
        "fail once it exists",
        sql,
    )


def _compile_type(type_: Any, env: Env) -> str:
    return " ".join(str(type_.compile(dialect=env.dialect_impl)).upper().split())


_TYPE = re.compile(r"^(?P<base>[A-Z][A-Z0-9_ ]*)(?:\((?P<args>[^)]*)\))?(?P<rest>.*)$")
_VARCHAR = {"VARCHAR", "CHARACTER VARYING"}


def _split_type(text: str) -> tuple[str, tuple[int, ...] | None, str]:
    found = _TYPE.match(text)
    if found is None:
        return text, None, ""
    args = found["args"]
    numbers: tuple[int, ...] | None = None
    if args is not None:
        try:
            numbers = tuple(int(a) for a in args.split(","))
        except ValueError:
            numbers = None
    return found["base"].strip(), numbers, found["rest"].strip()


def type_change_rewrites(old: str, new: str, dialect: str) -> bool:
    """Whether changing a column from type ``old`` to ``new`` (compiled SQL) rewrites it.

    PostgreSQL keeps the data when the change is binary-compatible: ``VARCHAR``
    widened or made ``TEXT``, ``NUMERIC`` given more precision at the same scale,
    ``CIDR`` to ``INET``. MySQL/MariaDB change ``VARCHAR`` in place while the length
    stays on the same side of 255 bytes (4 bytes a character with utf8mb4).
    """
    if old == new:
        return False
    ob, oa, orest = _split_type(old)
    nb, na, nrest = _split_type(new)
    if orest != nrest:
        return True
    if dialect == "mysql":
        if ob == nb == "VARCHAR" and oa and na and na[0] >= oa[0]:
            return (oa[0] * 4 > 255) != (na[0] * 4 > 255)
        return True
    if ob in _VARCHAR and (
        nb == "TEXT" or (nb in _VARCHAR and (na is None or (oa and na[0] >= oa[0])))
    ):
        return False
    if ob == "TEXT" and nb in _VARCHAR and na is None:
        return False
    if ob in ("NUMERIC", "DECIMAL") and nb in ("NUMERIC", "DECIMAL"):
        if na is None:
            return False
        if oa is not None and len(oa) == len(na) == 2:
            return not (na[0] >= oa[0] and na[1] == oa[1])
        return True
    return not (ob == "CIDR" and nb == "INET")


def column_type_rewrite(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event in view.events:
        op = event.op
        if isinstance(op, AlterColumnOp) and op.type_ is not None:
            key = table_key(op.table_name, op.schema)
            if view.is_new(key, event.index):
                continue
            where = f"{key}.{op.column_name}"
            new = _compile_type(op.type_, env)
            if env.dialect == "postgresql" and op.postgresql_using:
                yield _rewrite(event, where, f"to {new} USING {op.postgresql_using}", env)
            elif op.existing_type is None:
                yield Hit(
                    event.line,
                    f"changes the type of {where} to {new} without existing_type=: unless "
                    "the change only widens it, the table is rewritten under a lock that "
                    "stops writes; pass existing_type= so lint can tell",
                    severity="warning",
                )
            else:
                old = _compile_type(op.existing_type, env)
                if type_change_rewrites(old, new, env.dialect):
                    yield _rewrite(event, where, f"from {old} to {new}", env)
        elif isinstance(op, ExecuteSQLOp) and env.dialect == "postgresql":
            for j, st in enumerate(event.statements):
                if st.kind != "alter_table" or view.is_new(st.table, event.index, j):
                    continue
                for action in st.actions:
                    if action.kind == "alter_type":
                        yield Hit(
                            event.line,
                            f"changes the type of {st.table}.{action.column} to "
                            f"{action.type_text}: unless the change only widens it, "
                            "PostgreSQL rewrites the table under an ACCESS EXCLUSIVE lock",
                            st.text,
                            severity="warning",
                        )


def _rewrite(event: Event, where: str, change: str, env: Env) -> Hit:
    if env.dialect == "mysql":
        how = "copies the table (ALGORITHM=COPY): writes wait until every row is copied"
    else:
        how = "rewrites the table under an ACCESS EXCLUSIVE lock: reads and writes wait"
    return Hit(event.line, f"changing {where} {change} {how}", _sql(event))


def _renames(view: RevisionView) -> Iterator[tuple[Event, str, str | None, str, str | None]]:
    """``(event, table, column or None, new name, sql)`` for each rename."""
    for event in view.events:
        op = event.op
        if isinstance(op, RenameTableOp):
            key = table_key(op.old_table_name, op.schema)
            yield event, key, None, op.new_table_name, _sql(event)
        elif isinstance(op, AlterColumnOp) and op.new_column_name not in (None, op.column_name):
            assert op.new_column_name is not None
            key = table_key(op.table_name, op.schema)
            yield event, key, op.column_name, op.new_column_name, _sql(event)
        elif isinstance(op, ExecuteSQLOp):
            for st in event.statements:
                for action in st.actions:
                    if action.kind == "rename_table" and st.table and action.new_name:
                        yield event, st.table, None, action.new_name, st.text
                    elif action.kind == "rename_column" and st.table and action.column:
                        yield event, st.table, action.column, action.new_name or "?", st.text


def incompatible_rename(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, table, column, new, sql in _renames(view):
        if view.is_new(table, event.index):
            continue
        old = f"{table}.{column}" if column else table
        models = env.models
        in_use = models is not None and (
            models.has_column(table, column) if column else models.table(table) is not None
        )
        if in_use:
            yield Hit(
                event.line,
                f"renames {old} to {new} while the models still use {old}: the application "
                "deployed with this migration breaks",
                sql,
            )
        else:
            yield Hit(
                event.line,
                f"renames {old} to {new}: instances of the previous release still use {old} "
                "while the new one rolls out, and fail",
                sql,
                severity="warning",
            )


def _drops(view: RevisionView) -> Iterator[tuple[Event, str, str | None, str | None]]:
    for event in view.events:
        op = event.op
        if isinstance(op, DropColumnOp):
            yield event, table_key(op.table_name, op.schema), op.column_name, _sql(event)
        elif isinstance(op, DropTableOp):
            yield event, table_key(op.table_name, op.schema), None, _sql(event)
        elif isinstance(op, ExecuteSQLOp):
            for st in event.statements:
                if st.kind == "drop_table":
                    for table in st.tables:
                        yield event, table, None, st.text
                for action in st.actions:
                    if action.kind == "drop_column" and st.table and action.column:
                        yield event, st.table, action.column, st.text


def incompatible_drop(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, table, column, sql in _drops(view):
        if view.is_new(table, event.index):
            continue
        what = f"column {table}.{column}" if column else f"table {table}"
        models = env.models
        if models is None:
            yield Hit(
                event.line,
                f"drops {what}; set target_metadata so lint can check that the application "
                "no longer uses it",
                sql,
                severity="warning",
            )
            continue
        if models.has_column(table, column) if column else models.table(table) is not None:
            yield Hit(
                event.line,
                f"drops {what}, which the models still define: the application deployed "
                "with this migration still reads and writes it",
                sql,
            )


def unbatched_update(view: RevisionView, env: Env) -> Iterator[Hit]:
    for event, j, st in view.statements():
        if event.batched or st.kind not in ("update", "delete") or st.has_where:
            continue
        if view.is_new(st.table, event.index, j):
            continue
        verb = st.kind.upper()
        yield Hit(
            event.line,
            f"{verb} of every row of {st.table} in one statement: on a large table it holds "
            "row locks on all of it until the migration commits, and runs as one long "
            "transaction",
            st.text,
        )


def missing_downgrade(view: RevisionView, env: Env) -> Iterator[Hit]:
    tree = view.tree
    recording = view.recording
    if tree is None or (not recording.ops and recording.stopped is None):
        return  # an upgrade that does nothing (a merge point) has nothing to undo
    downgrade = None
    revision_line = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "downgrade":
            downgrade = node
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "revision" for t in node.targets
        ):
            revision_line = node.lineno
    if downgrade is None:
        yield Hit(revision_line, "the revision has no downgrade(): it cannot be rolled back")
        return
    body = list(downgrade.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    empty = all(
        isinstance(stmt, ast.Pass)
        or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in body
    )
    if empty:
        yield Hit(downgrade.lineno, "downgrade() does nothing: the revision cannot be rolled back")


def incomplete_analysis(view: RevisionView, env: Env) -> Iterator[Hit]:
    recording = view.recording
    if recording.stopped is not None:
        where = f" at line {recording.stopped_line}" if recording.stopped_line else ""
        yield Hit(
            recording.stopped_line,
            f"upgrade() stopped{where} when run without a database ({recording.stopped}); "
            "the operations after it were not checked",
        )
