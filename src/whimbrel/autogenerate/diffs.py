"""Differences in words and plain data, read off the upgrade operations.

A :class:`Diff` is what ``check`` reports and ``compare_metadata`` returns: a kind
(``add_column``, ``modify_type``...), where it is, a one-line message, the old and new
values as text, and two flags: ``destructive`` (data can be lost: a drop, a narrowing
type change) and ``manual`` (Whimbrel cannot write this change; a person must).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whimbrel.autogenerate.compare.types import is_narrowing, type_key
from whimbrel.autogenerate.ops import NoteOp, ReversibleAddEnumValueOp, ReversibleSQLOp
from whimbrel.operations.constraint_ops import (
    AddConstraintOp,
    CreateIndexOp,
    DropConstraintOp,
    DropIndexOp,
)
from whimbrel.operations.misc_ops import BatchAlterTableOp, ModifyTableOps
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    CreateTableOp,
    DropColumnOp,
    DropTableCommentOp,
    DropTableOp,
    RenameTableOp,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("Diff", "diffs_of")

_CONSTRAINT_KINDS = {
    "unique": "unique",
    "foreignkey": "foreign_key",
    "check": "check",
    "primary": "primary_key",
    "exclude": "exclude",
}


@dataclass(frozen=True, slots=True)
class Diff:
    """One difference between the models and the database.

    Attributes:
        kind: ``add_table``, ``remove_table``, ``rename_table``, ``add_column``,
            ``remove_column``, ``rename_column``, ``modify_type``,
            ``modify_nullable``, ``modify_default``, ``modify_comment``,
            ``add_index``, ``remove_index``, ``add_unique``, ``remove_unique``,
            ``add_foreign_key``, ``remove_foreign_key``, ``add_check``,
            ``remove_check``, ``modify_table_comment``, ``add_enum``,
            ``remove_enum``, ``add_enum_value``, ``enum_values``, ``identity``,
            ``primary_key``...
        message: the difference in one line.
        schema: the schema (``None``: the default one).
        table: the table, when the difference is in one.
        name: the column, index, constraint or type concerned.
        old: what the database has, as text.
        new: what the models want, as text.
        destructive: applying it can lose data.
        manual: it must be written by hand.
    """

    kind: str
    message: str
    schema: str | None = None
    table: str | None = None
    name: str | None = None
    old: str | None = None
    new: str | None = None
    destructive: bool = False
    manual: bool = False


def _where(schema: str | None, table: str | None, name: str | None = None) -> str:
    return ".".join(p for p in (schema, table, name) if p)


def _flatten(ops: Iterable[MigrateOperation]) -> Iterator[MigrateOperation]:
    for op in ops:
        if isinstance(op, ModifyTableOps | BatchAlterTableOp):
            yield from _flatten(op.ops)
        else:
            yield op


def _show(value: Any, dialect: Dialect | None) -> str | None:
    if value is None or value is False:
        return None
    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "compile") and dialect is not None:
        try:
            return str(value.compile(dialect=dialect))
        except Exception:
            return str(value)
    return str(getattr(value, "text", value))


def diffs_of(ops: Iterable[MigrateOperation], dialect: Dialect | None = None) -> list[Diff]:
    """The differences the upgrade operations ``ops`` resolve."""
    out: list[Diff] = []
    for op in _flatten(ops):
        out.extend(_diffs(op, dialect))
    return out


def _diffs(op: MigrateOperation, dialect: Dialect | None) -> list[Diff]:
    if isinstance(op, CreateTableOp):
        where = _where(op.schema, op.table_name)
        return [Diff("add_table", f"add table {where}", op.schema, op.table_name)]
    if isinstance(op, DropTableOp):
        where = _where(op.schema, op.table_name)
        return [
            Diff(
                "remove_table", f"remove table {where}", op.schema, op.table_name, destructive=True
            )
        ]
    if isinstance(op, RenameTableOp):
        return [
            Diff(
                "rename_table",
                f"rename table {_where(op.schema, op.old_table_name)} to {op.new_table_name}",
                op.schema,
                op.old_table_name,
                old=op.old_table_name,
                new=op.new_table_name,
            )
        ]
    if isinstance(op, AddColumnOp):
        where = _where(op.schema, op.table_name, op.column.name)
        return [
            Diff("add_column", f"add column {where}", op.schema, op.table_name, op.column.name)
        ]
    if isinstance(op, DropColumnOp):
        where = _where(op.schema, op.table_name, op.column_name)
        return [
            Diff(
                "remove_column",
                f"remove column {where}",
                op.schema,
                op.table_name,
                op.column_name,
                destructive=True,
            )
        ]
    if isinstance(op, AlterColumnOp):
        return _alter_diffs(op, dialect)
    if isinstance(op, CreateIndexOp | DropIndexOp):
        adding = isinstance(op, CreateIndexOp)
        kind = "add_index" if adding else "remove_index"
        table = op.table_name
        where = _where(op.schema, table)
        return [
            Diff(
                kind,
                f"{'add' if adding else 'remove'} index {op.index_name} on {where}",
                op.schema,
                table,
                op.index_name,
            )
        ]
    if isinstance(op, AddConstraintOp):
        kind = _CONSTRAINT_KINDS[op.constraint_type]
        where = _where(op.target_schema, op.target_table)
        what = kind.replace("_", " ")
        name = op.constraint_name
        shown = f" {name}" if name else ""
        return [
            Diff(
                f"add_{kind}",
                f"add {what}{shown} on {where}",
                op.target_schema,
                op.target_table,
                name,
            )
        ]
    if isinstance(op, DropConstraintOp):
        kind = _CONSTRAINT_KINDS.get(op.type_ or "", "constraint")
        what = kind.replace("_", " ")
        where = _where(op.schema, op.table_name)
        return [
            Diff(
                f"remove_{kind}",
                f"remove {what} {op.constraint_name} on {where}",
                op.schema,
                op.table_name,
                op.constraint_name,
            )
        ]
    if isinstance(op, CreateTableCommentOp | DropTableCommentOp):
        new = op.comment if isinstance(op, CreateTableCommentOp) else None
        where = _where(op.schema, op.table_name)
        return [
            Diff(
                "modify_table_comment",
                f"modify comment of table {where}: {op.existing_comment!r} → {new!r}",
                op.schema,
                op.table_name,
                old=op.existing_comment,
                new=new,
            )
        ]
    if isinstance(op, ReversibleAddEnumValueOp):
        where = _where(op.schema, op.enum_name)
        return [
            Diff(
                "add_enum_value",
                f"add value {op.value!r} to enum type {where}",
                op.schema,
                None,
                op.enum_name,
                new=op.value,
            )
        ]
    if isinstance(op, ReversibleSQLOp):
        verb = {"add_enum": "add enum type", "remove_enum": "remove enum type"}.get(
            op.kind, f"{op.kind.replace('_', ' ')} of"
        )
        return [Diff(op.kind, f"{verb} {op.subject}", name=op.subject, new=str(op.sqltext))]
    if isinstance(op, NoteOp) and op.manual:
        return [Diff(op.kind, op.text, op.schema, op.table, manual=True, destructive=False)]
    return []


def _alter_diffs(op: AlterColumnOp, dialect: Dialect | None) -> list[Diff]:
    where = _where(op.schema, op.table_name, op.column_name)
    common: dict[str, Any] = {"schema": op.schema, "table": op.table_name, "name": op.column_name}
    out: list[Diff] = []
    if op.new_column_name is not None:
        out.append(
            Diff(
                "rename_column",
                f"rename column {where} to {op.new_column_name}",
                old=op.column_name,
                new=op.new_column_name,
                **common,
            )
        )
    if op.type_ is not None:
        old = _show(op.existing_type, dialect)
        new = _show(op.type_, dialect)
        narrowing = True
        if dialect is not None and op.existing_type is not None:
            narrowing = is_narrowing(
                type_key(op.existing_type, dialect), type_key(op.type_, dialect)
            )
        out.append(
            Diff(
                "modify_type",
                f"modify type of {where}: {old} → {new}"
                + (" (may lose data)" if narrowing else ""),
                old=old,
                new=new,
                destructive=narrowing,
                **common,
            )
        )
    if op.nullable is not None:
        out.append(
            Diff(
                "modify_nullable",
                f"modify nullable of {where}: {op.existing_nullable} → {op.nullable}",
                old=str(op.existing_nullable),
                new=str(op.nullable),
                **common,
            )
        )
    if op.server_default is not False:
        old = _show(op.existing_server_default, dialect)
        new = _show(op.server_default, dialect)
        out.append(
            Diff(
                "modify_default",
                f"modify server default of {where}: {old} → {new}",
                old=old,
                new=new,
                **common,
            )
        )
    if op.comment is not False:
        new_comment = op.comment if isinstance(op.comment, str) else None
        out.append(
            Diff(
                "modify_comment",
                f"modify comment of {where}: {op.existing_comment!r} → {new_comment!r}",
                old=op.existing_comment,
                new=new_comment,
                **common,
            )
        )
    return out
