"""CHECK constraints of a table both sides have.

Matched by name, or by condition when the model's has no name. SQLite and MariaDB
give the condition back nearly as written, so a changed condition under the same name
is detected there. PostgreSQL rewrites conditions (``IN`` becomes ``= ANY (ARRAY
[...])``, casts appear), so there only added and removed constraints are: give a
changed constraint a new name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint

from whimbrel.autogenerate.build import check_op
from whimbrel.autogenerate.compare.indexes import constraint_name
from whimbrel.autogenerate.ops import NoteOp
from whimbrel.autogenerate.sqlnorm import normalize_sql
from whimbrel.operations.constraint_ops import CreateCheckConstraintOp, DropConstraintOp

if TYPE_CHECKING:
    from sqlalchemy import Table

    from whimbrel.autogenerate.compare.context import CompareContext, TableChanges
    from whimbrel.autogenerate.reflect import DbCheck, DbTable
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("compare_checks", "model_check_op", "model_checks")


def model_checks(table: Table) -> list[CheckConstraint]:
    """The table's check constraints, without those a type makes by itself."""
    return [
        c
        for c in table.constraints
        if isinstance(c, CheckConstraint) and not getattr(c, "_type_bound", False)
    ]


def _condition(ctx: CompareContext, check: CheckConstraint) -> str:
    sqltext: Any = check.sqltext
    return ctx.compile_expression(sqltext)


def model_check_op(ctx: CompareContext, check: CheckConstraint) -> CreateCheckConstraintOp:
    """The ``CreateCheckConstraintOp`` for a model check constraint."""
    table = check.table
    return CreateCheckConstraintOp(
        constraint_name(check),
        table.name,
        _condition(ctx, check),
        schema=ctx.unqualified(table.schema),
        deferrable=check.deferrable,
        initially=check.initially,
    )


def compare_checks(
    ctx: CompareContext, table: Table, db_table: DbTable, changes: TableChanges
) -> None:
    """Add to ``changes`` the check constraint differences of one table."""
    parents = {"table_name": table.name, "schema_name": db_table.schema}
    type_bound = [
        normalize_sql(_condition(ctx, c))
        for c in table.constraints
        if isinstance(c, CheckConstraint) and getattr(c, "_type_bound", False)
    ]
    db_checks = [
        ck
        for ck in db_table.checks
        if ctx.include_name(ck.name, "check_constraint", parents)
        and normalize_sql(ck.sqltext) not in type_bound
    ]
    compare_text = ctx.dialect_name != "postgresql"
    claimed: set[int] = set()
    unnamed: list[CheckConstraint] = []
    for check in model_checks(table):
        name = constraint_name(check)
        if not ctx.include_name(name, "check_constraint", parents):
            continue
        condition = normalize_sql(_condition(ctx, check))
        if name is None:
            found = next(
                (
                    ck
                    for ck in db_checks
                    if id(ck) not in claimed and normalize_sql(ck.sqltext) == condition
                ),
                None,
            )
            if found is None:
                unnamed.append(check)
                continue
        else:
            found = next(
                (ck for ck in db_checks if id(ck) not in claimed and ck.name == name), None
            )
        if found is not None:
            claimed.add(id(found))
        if not ctx.include_object(check, name, "check_constraint", False, found):
            continue
        if found is None:
            changes.create_items.append(model_check_op(ctx, check))
        elif compare_text and normalize_sql(found.sqltext) != condition:
            changes.drop_items.append(_drop(db_table, found))
            changes.create_items.append(model_check_op(ctx, check))
    for check in unnamed:
        # PostgreSQL names unnamed checks <table>_<column>_check and rewrites them:
        # take such a check as this one rather than drop and re-add it on every run.
        found = None
        if not compare_text:
            found = next(
                (
                    ck
                    for ck in db_checks
                    if id(ck) not in claimed and (ck.name or "").endswith("_check")
                ),
                None,
            )
        if found is not None:
            claimed.add(id(found))
        elif ctx.include_object(check, None, "check_constraint", False, None):
            changes.create_items.append(model_check_op(ctx, check))
    for ck in db_checks:
        if id(ck) in claimed:
            continue
        if ctx.include_db_item(
            db_table,
            ck.name,
            "check_constraint",
            lambda t, c=ck: next(
                (x for x in model_checks(t) if constraint_name(x) == c.name), None
            ),
            None,
        ):
            changes.drop_items.append(_drop(db_table, ck))


def _drop(db_table: DbTable, check: DbCheck) -> MigrateOperation:
    if check.name is None:
        return NoteOp(
            f"the unnamed check constraint ({check.sqltext}) on {db_table.name} cannot be "
            "dropped by name: drop it by hand",
            manual=True,
            kind="unnamed_constraint",
            table=db_table.name,
            schema=db_table.schema,
        )
    return DropConstraintOp(
        check.name,
        db_table.name,
        type_="check",
        schema=db_table.schema,
        create_op=check_op(db_table, check),
    )
