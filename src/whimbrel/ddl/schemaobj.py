"""Building the SQLAlchemy schema objects that DDL constructs compile from.

SQLAlchemy's DDL constructs need their elements attached to tables: an index or a
constraint to the table it belongs to, a foreign key to a table it can resolve. A
migration names tables it does not describe, so these helpers attach elements to
stand-in tables holding only the columns that are needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table
from sqlalchemy.schema import Constraint, SchemaItem
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import NULLTYPE

__all__ = ("UNKNOWN_TABLE", "column_names", "copy_item", "ensure_fk_targets", "stand_in_table")

UNKNOWN_TABLE = "_whimbrel_unknown_table_"
"""The stand-in table name of an index dropped without naming its table."""


def stand_in_table(
    table_name: str,
    *items: SchemaItem,
    schema: str | None = None,
    metadata: MetaData | None = None,
    column_names: Iterable[str] = (),
    **kw: Any,
) -> Table:
    """A ``Table`` named ``table_name`` with ``items``, plus type-less ``column_names``.

    Columns named by constraints or indexes but absent from ``items`` are added with
    no type: they only need to be named in the DDL.
    """
    metadata = metadata if metadata is not None else MetaData()
    present = {item.name for item in items if isinstance(item, Column)}
    extra = [Column(name, NULLTYPE) for name in dict.fromkeys(column_names) if name not in present]
    table = Table(table_name, metadata, *items, *extra, schema=schema, **kw)
    ensure_fk_targets(table)
    return table


def ensure_fk_targets(table: Table) -> None:
    """Give each foreign key of ``table`` a stand-in target table to resolve against.

    Without one, compiling ``REFERENCES other (id)`` raises ``NoReferencedTableError``.
    """
    metadata = table.metadata
    for fk in list(table.foreign_keys):
        target = fk._column_tokens
        schema = target.schema
        key = f"{schema}.{target.table_name}" if schema else target.table_name
        remote = metadata.tables.get(key)
        if remote is None:
            remote = Table(target.table_name, metadata, schema=schema)
        column_name = target.column_name or "id"
        if column_name not in remote.c:
            remote.append_column(Column(column_name, NULLTYPE))


def copy_item(item: SchemaItem) -> SchemaItem:
    """A copy of a column, constraint or index, so the caller's object stays unattached.

    Constraints and indexes not yet attached to a table are returned as they are:
    SQLAlchemy can only copy attached ones, and attaching them once is harmless.
    """
    if isinstance(item, Column):
        return item._copy()
    if isinstance(item, Constraint) and getattr(item, "parent", None) is not None:
        return item._copy()
    if isinstance(item, Index) and item.table is not None:
        elements = [e.name if isinstance(e, Column) else e for e in item.expressions]
        return Index(item.name, *elements, unique=item.unique, **item.dialect_kwargs)
    return item


def column_names(columns: Iterable[Any]) -> list[str]:
    """The plain column names among ``columns`` (strings and column clauses)."""
    names: list[str] = []
    for column in columns:
        if isinstance(column, str):
            names.append(column)
        elif isinstance(column, ColumnClause) and not column.is_literal:
            names.append(column.name)
    return names
