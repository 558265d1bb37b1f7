"""SQLite: native ``ADD``/``DROP``/``RENAME COLUMN`` (3.35+); the rest needs batch mode.

SQLite's ``ALTER TABLE`` cannot change a column's type, nullability or default, nor
add or drop a constraint. Those operations raise an error pointing at
``op.batch_alter_table()``, which rebuilds the table (see ``docs/batch.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import ForeignKeyConstraint, UniqueConstraint

from whimbrel.ddl.elements import DropColumn, RenameColumn
from whimbrel.ddl.impl import DefaultImpl

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.schema import Constraint

    from whimbrel.ddl.elements import ColumnAlteration

__all__ = ("SQLiteImpl",)

_BATCH_HINT = "use 'with op.batch_alter_table(...) as batch_op:' to rebuild the table"


class SQLiteImpl(DefaultImpl):
    """SQLite: transactional DDL; constraint changes only through a table rebuild."""

    transactional_ddl = True

    def _has_column(self, table_name: str, column_name: str, schema: str | None) -> bool:
        columns = self.inspector("check a column").get_columns(table_name, schema=schema)
        return any(c["name"] == column_name for c in columns)

    def add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
    ) -> None:
        if column.primary_key or column.unique:
            raise self.unsupported(
                "add a PRIMARY KEY or UNIQUE column with ALTER TABLE", _BATCH_HINT
            )
        if (
            if_not_exists
            and self.connection is not None
            and self._has_column(table_name, column.name, schema)
        ):
            return
        super().add_column(table_name, column, schema=schema)

    def column_constraints(self, table: Table) -> list[Constraint]:
        constraints = super().column_constraints(table)
        # Single-column foreign keys travel inline in the ADD COLUMN clause.
        kept = [
            c
            for c in constraints
            if not (isinstance(c, ForeignKeyConstraint) and len(c.elements) == 1)
        ]
        if any(isinstance(c, UniqueConstraint | ForeignKeyConstraint) for c in kept):
            raise self.unsupported("add a constraint with ALTER TABLE", _BATCH_HINT)
        return kept

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> None:
        if (
            if_exists
            and self.connection is not None
            and not self._has_column(table_name, column_name, schema)
        ):
            return
        try:
            self._exec(DropColumn(table_name, column_name, schema=schema))
        except OperationalError as exc:
            raise self.unsupported(
                f"drop column {column_name!r} of {table_name!r} in place ({exc.orig})",
                _BATCH_HINT,
            ) from exc

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        alteration: ColumnAlteration,
        *,
        schema: str | None = None,
    ) -> None:
        a = alteration
        # SQLite has no comments, so a comment change alone is nothing to do.
        if a.nullable is not None or a.type_ is not None or a.server_default is not False:
            raise self.unsupported("ALTER a column's type, nullability or default", _BATCH_HINT)
        if a.autoincrement is not None:
            raise self.unsupported("ALTER a column's autoincrement", _BATCH_HINT)
        if a.new_column_name is not None and a.new_column_name != column_name:
            self._exec(RenameColumn(table_name, column_name, a.new_column_name, schema=schema))

    def add_constraint(self, constraint: Constraint) -> None:
        raise self.unsupported("add a constraint with ALTER TABLE", _BATCH_HINT)

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        raise self.unsupported("drop a constraint with ALTER TABLE", _BATCH_HINT)

    def requires_recreate(self, kind: str, column: Column[Any] | None = None) -> bool:
        if kind in ("create_index", "drop_index", "execute", "rename_column"):
            return False
        if kind == "add_column" and column is not None:
            from sqlalchemy.schema import DefaultClause

            default = column.server_default
            constant = default is None or (
                isinstance(default, DefaultClause) and isinstance(default.arg, str)
            )
            # SQLite cannot ADD COLUMN ... NOT NULL without a default.
            not_null_bare = not column.nullable and default is None
            return not constant or column.primary_key or bool(column.unique) or not_null_bare
        return True
