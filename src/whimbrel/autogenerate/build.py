"""SQLAlchemy objects built from what was reflected.

Operations that remove something carry its definition, so that their reverse can
put it back (the downgrade): a dropped table its columns, constraints and indexes, a
dropped column its ``Column``. These functions make those objects from the
reflected records, without another query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    ForeignKeyConstraint,
    Identity,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    text,
)

from whimbrel.operations.constraint_ops import (
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreateUniqueConstraintOp,
)
from whimbrel.operations.opbase import frozen_kwargs

if TYPE_CHECKING:
    from sqlalchemy.schema import SchemaItem

    from whimbrel.autogenerate.compare.context import CompareContext
    from whimbrel.autogenerate.reflect import (
        DbCheck,
        DbColumn,
        DbForeignKey,
        DbIndex,
        DbTable,
        DbUnique,
    )
    from whimbrel.operations.constraint_ops import IndexColumn

__all__ = (
    "build_column",
    "build_table",
    "check_op",
    "foreign_key_op",
    "index_op",
    "table_items",
    "unique_op",
)

_IDENTITY_KEYS = ("always", "on_null", "start", "increment", "minvalue", "maxvalue", "cycle")


def is_serial_default(column: DbColumn) -> bool:
    """A ``nextval(...)`` default that comes with an autoincrementing column."""
    default = column.default or ""
    return bool(column.autoincrement) and default.lower().startswith("nextval(")


def build_column(column: DbColumn, *, primary_key: bool = False) -> Column[Any]:
    """A ``Column`` like the reflected one (its default as ``sa.text``)."""
    items: list[Any] = []
    if column.computed is not None:
        sqltext, persisted = column.computed
        items.append(Computed(sqltext, persisted=persisted))
    if column.identity is not None:
        identity = {k: column.identity[k] for k in _IDENTITY_KEYS if k in column.identity}
        items.append(Identity(**identity))
    default = None
    if column.default is not None and not is_serial_default(column) and column.computed is None:
        default = text(column.default)
    kw: dict[str, Any] = {}
    if primary_key and column.autoincrement is not None:
        kw["autoincrement"] = column.autoincrement
    return Column(
        column.name,
        column.type,
        *items,
        nullable=column.nullable,
        server_default=default,
        comment=column.comment,
        **kw,
    )


def _referent(fk: DbForeignKey) -> str:
    return f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table


def build_foreign_key(fk: DbForeignKey) -> ForeignKeyConstraint:
    """A ``ForeignKeyConstraint`` like the reflected one."""
    target = _referent(fk)
    return ForeignKeyConstraint(
        list(fk.columns),
        [f"{target}.{c}" for c in fk.referred_columns],
        name=fk.name,
        ondelete=fk.ondelete,
        onupdate=fk.onupdate,
        deferrable=fk.deferrable,
        initially=fk.initially,
        match=fk.match,
    )


def index_kwargs(index: DbIndex, dialect_name: str) -> dict[str, Any]:
    """The dialect options of a reflected index."""
    kw: dict[str, Any] = {}
    if index.where is not None:
        kw[f"{'sqlite' if dialect_name == 'sqlite' else 'postgresql'}_where"] = text(index.where)
    if index.using is not None and dialect_name == "postgresql":
        kw["postgresql_using"] = index.using
    if index.include and dialect_name == "postgresql":
        kw["postgresql_include"] = list(index.include)
    return kw


def index_elements(index: DbIndex) -> tuple[IndexColumn, ...]:
    """Column names, and ``sa.text`` for expressions."""
    return tuple(
        text(e) if is_expr else e
        for e, is_expr in zip(index.elements, index.expressions, strict=True)
    )


def table_items(
    db_table: DbTable, ctx: CompareContext, *, indexes: bool = True
) -> list[SchemaItem]:
    """Columns, constraints and (optionally) indexes of a reflected table."""
    single_pk = len(db_table.pk_columns) == 1
    items: list[SchemaItem] = [
        build_column(c, primary_key=single_pk and c.name in db_table.pk_columns)
        for c in db_table.columns.values()
    ]
    if db_table.pk_columns:
        items.append(PrimaryKeyConstraint(*db_table.pk_columns, name=db_table.pk_name))
    items.extend(build_foreign_key(fk) for fk in db_table.foreign_keys)
    items.extend(UniqueConstraint(*uq.columns, name=uq.name) for uq in db_table.uniques)
    items.extend(CheckConstraint(text(ck.sqltext), name=ck.name) for ck in db_table.checks)
    if indexes:
        for ix in db_table.indexes:
            if ix.duplicates_constraint is not None:
                continue
            if ctx.is_mysql and ix.unique and any(uq.name == ix.name for uq in db_table.uniques):
                continue
            items.append(
                Index(
                    ix.name,
                    *index_elements(ix),
                    unique=ix.unique,
                    **index_kwargs(ix, ctx.dialect_name),
                )
            )
    return items


def build_table(db_table: DbTable, metadata: MetaData, ctx: CompareContext) -> Table:
    """A ``Table`` like the reflected one, in ``metadata``."""
    table = Table(
        db_table.name,
        metadata,
        *table_items(db_table, ctx),
        schema=db_table.schema,
        comment=db_table.comment,
    )
    from whimbrel.ddl.schemaobj import ensure_fk_targets

    ensure_fk_targets(table)
    return table


# -- operations that create what was reflected (for the reverse of a drop) -------------


def index_op(db_table: DbTable, index: DbIndex, dialect_name: str) -> CreateIndexOp:
    """The ``CreateIndexOp`` that makes the reflected index."""
    return CreateIndexOp(
        index.name,
        db_table.name,
        index_elements(index),
        schema=db_table.schema,
        unique=index.unique,
        dialect_kwargs=frozen_kwargs(index_kwargs(index, dialect_name)),
    )


def unique_op(db_table: DbTable, unique: DbUnique) -> CreateUniqueConstraintOp:
    """The ``CreateUniqueConstraintOp`` that makes the reflected constraint."""
    return CreateUniqueConstraintOp(
        unique.name, db_table.name, unique.columns, schema=db_table.schema
    )


def check_op(db_table: DbTable, check: DbCheck) -> CreateCheckConstraintOp:
    """The ``CreateCheckConstraintOp`` that makes the reflected constraint."""
    return CreateCheckConstraintOp(
        check.name, db_table.name, check.sqltext, schema=db_table.schema
    )


def foreign_key_op(db_table: DbTable, fk: DbForeignKey) -> CreateForeignKeyOp:
    """The ``CreateForeignKeyOp`` that makes the reflected foreign key."""
    return CreateForeignKeyOp(
        fk.name,
        db_table.name,
        fk.referred_table,
        fk.columns,
        fk.referred_columns,
        onupdate=fk.onupdate,
        ondelete=fk.ondelete,
        deferrable=fk.deferrable,
        initially=fk.initially,
        match=fk.match,
        source_schema=db_table.schema,
        referent_schema=fk.referred_schema,
    )
