"""The few operation objects autogenerate adds to Whimbrel's own.

* :class:`NoteOp` — a comment in the script: a warning (data will be lost) or a step
  to write by hand. It renders as comments and does nothing; running it through
  ``Operations.invoke`` fails, so leave notes out when invoking operations directly
  (:meth:`MigrationScript.executable_upgrade_ops`).
* :class:`ReversibleSQLOp` — ``op.execute()`` of one SQL statement whose undoing is
  known (enum types, identity columns). It runs as an ``ExecuteSQLOp``.
* :class:`ReversibleAddEnumValueOp` — ``op.add_enum_value()`` whose reverse rebuilds
  the type without the value (PostgreSQL cannot drop an enum value).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from whimbrel.operations.misc_ops import AddEnumValueOp, ExecuteSQLOp, ModifyTableOps
from whimbrel.operations.opbase import MigrateOperation
from whimbrel.operations.table_ops import AlterColumnOp

__all__ = ("CastingAlterColumnOp", "NoteOp", "ReversibleAddEnumValueOp", "ReversibleSQLOp")


@dataclass(frozen=True, eq=False)
class NoteOp(MigrateOperation):
    """A comment for the script's reader; ``manual`` marks work left to do by hand.

    Attributes:
        text: the comment, one paragraph.
        reverse_text: the comment in the other direction (default: the same).
        manual: the script cannot do this change; the reader must.
        kind: what it is about (``"data_loss"``, ``"enum_values"``...).
        table: the table concerned, if any.
        schema: its schema.
    """

    text: str
    reverse_text: str | None = None
    manual: bool = False
    kind: str = "note"
    table: str | None = None
    schema: str | None = None

    def describe(self) -> str:
        return self.text

    def reverse(self) -> NoteOp:
        return NoteOp(
            self.reverse_text or self.text,
            self.text,
            manual=self.manual,
            kind=self.kind,
            table=self.table,
            schema=self.schema,
        )


@dataclass(frozen=True, eq=False)
class ReversibleSQLOp(ExecuteSQLOp):
    """One SQL statement (``sqltext``, a string) with the statement that undoes it.

    Attributes:
        reverse_sql: the statement undoing this one; ``None`` when unknown.
        description: a comment rendered above the statement.
        reverse_description: the comment above the reverse statement.
        kind: what it changes (``"create_enum"``, ``"drop_enum"``, ``"identity"``...).
        subject: the name of what it changes (an enum type, ``table.column``).
        reverse_kind: ``kind`` of the reverse statement.
    """

    reverse_sql: str | None = None
    description: str = ""
    reverse_description: str = ""
    kind: str = "execute"
    subject: str = ""
    reverse_kind: str = "execute"

    def describe(self) -> str:
        return self.description or "execute"

    def reverse(self) -> MigrateOperation:
        if self.reverse_sql is None:
            return super().reverse()
        return ReversibleSQLOp(
            self.reverse_sql,
            reverse_sql=str(self.sqltext),
            description=self.reverse_description,
            reverse_description=self.description,
            kind=self.reverse_kind,
            subject=self.subject,
            reverse_kind=self.kind,
        )


@dataclass(frozen=True, eq=False)
class ReversibleAddEnumValueOp(AddEnumValueOp):
    """``ALTER TYPE ... ADD VALUE`` with the statements that take the value out again.

    When several values are added to one type, the first one's reverse rebuilds the
    type without all of them; the others' reverse is empty.
    """

    restore_statements: tuple[str, ...] = ()
    added_values: tuple[str, ...] = ()

    def reverse(self) -> MigrateOperation:
        if not self.restore_statements:
            return ModifyTableOps(self.enum_name, (), schema=self.schema)
        values = ", ".join(repr(v) for v in self.added_values or (self.value,))
        note = (
            f"PostgreSQL cannot drop a value from an enum type: {self.enum_name!r} is "
            f"rebuilt without {values} (this fails if rows still use them)"
        )
        steps = tuple(
            ReversibleSQLOp(
                sql,
                description=note if i == 0 else "",
                kind="remove_enum_value",
                subject=self.enum_name,
            )
            for i, sql in enumerate(self.restore_statements)
        )
        return ModifyTableOps(self.enum_name, steps, schema=self.schema)


@dataclass(frozen=True, eq=False)
class CastingAlterColumnOp(AlterColumnOp):
    """``alter_column`` whose type change needs ``USING`` both ways (PostgreSQL).

    Attributes:
        reverse_using: the ``postgresql_using`` of the reverse type change.
    """

    reverse_using: str | None = None

    def reverse(self) -> AlterColumnOp:
        reversed_op = super().reverse()
        values = {f.name: getattr(reversed_op, f.name) for f in fields(AlterColumnOp)}
        values["postgresql_using"] = self.reverse_using
        return CastingAlterColumnOp(**values, reverse_using=self.postgresql_using)
