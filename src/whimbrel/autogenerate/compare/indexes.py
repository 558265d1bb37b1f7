"""Indexes and unique constraints of a table both sides have.

Matched by name; a model constraint without a name (no naming convention) is
matched by its columns. What each database reports differs:

* PostgreSQL reports the index behind each unique constraint among the indexes
  (``duplicates_constraint``): those are left to the constraint.
* MySQL and MariaDB have unique *indexes* only, reported both ways: a model
  ``UniqueConstraint`` and a model ``Index(unique=True)`` may match either. InnoDB
  also creates an index for each foreign key lacking one, named after the key; such
  an index is not reported as missing from the models.
* SQLite reports unnamed unique constraints with no name; they match by columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlalchemy.exc import CompileError

from whimbrel.autogenerate.build import index_op, unique_op
from whimbrel.autogenerate.compare.index_sql import (
    SqlForm,
    column_form,
    expression_form,
    forms_match,
)
from whimbrel.autogenerate.compare.sql_tree import canonical_type
from whimbrel.autogenerate.ops import NoteOp
from whimbrel.operations.constraint_ops import (
    CreateIndexOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
    DropIndexOp,
)
from whimbrel.operations.opbase import frozen_kwargs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Table

    from whimbrel.autogenerate.compare.context import CompareContext, TableChanges
    from whimbrel.autogenerate.reflect import DbIndex, DbTable, DbUnique
    from whimbrel.operations.constraint_ops import IndexColumn

__all__ = (
    "column_types",
    "compare_indexes",
    "constraint_name",
    "fk_implied_indexes",
    "model_index_op",
)


def constraint_name(item: Any) -> str | None:
    """The name of a model constraint or index (``None`` when it has none)."""
    name = getattr(item, "name", None)
    return str(name) if isinstance(name, str) else None


@dataclass(frozen=True, slots=True)
class _Sig:
    elements: tuple[SqlForm, ...]
    unique: bool
    where: SqlForm | None
    using: str | None
    include: tuple[str, ...]

    def matches(self, model: _Sig) -> bool:
        """Whether this reflected index is the ``model`` index."""
        if (self.unique, self.using, self.include) != (model.unique, model.using, model.include):
            return False
        if len(self.elements) != len(model.elements):
            return False
        if not all(map(forms_match, self.elements, model.elements)):
            return False
        if self.where is None or model.where is None:
            return self.where is model.where
        return forms_match(self.where, model.where)


def _model_element(ctx: CompareContext, element: Any, types: Mapping[str, str]) -> SqlForm:
    if isinstance(element, Column):
        return column_form(element.name)
    sql = ctx.compile_expression(element)
    return expression_form(sql, element=True, column_types=types)


def model_index_sig(
    ctx: CompareContext, index: Index, column_types: Mapping[str, str] | None = None
) -> _Sig:
    """What is compared of a model index.

    ``column_types``: the canonical types of the table's columns in the database
    (:func:`column_types`), to know which casts the database dropped.
    """
    types = column_types or {}
    elements = tuple(_model_element(ctx, e, types) for e in index.expressions)
    where = None
    using = None
    include: tuple[str, ...] = ()
    if ctx.dialect_name in ("postgresql", "sqlite"):
        where_expr = index.dialect_options[ctx.dialect_name]["where"]
        if where_expr is not None:
            where = expression_form(
                where_expr if isinstance(where_expr, str) else ctx.compile_expression(where_expr),
                column_types=types,
            )
    if ctx.dialect_name == "postgresql":
        options = index.dialect_options["postgresql"]
        using = options["using"] or None
        include = tuple(str(getattr(c, "name", c)) for c in options["include"] or ())
    return _Sig(elements, bool(index.unique), where, _using(using), include)


def column_types(ctx: CompareContext, db_table: DbTable) -> dict[str, str]:
    """The canonical type of each column of ``db_table`` the dialect can compile."""
    out: dict[str, str] = {}
    for column in db_table.columns.values():
        try:
            sql = column.type.compile(dialect=ctx.dialect)
        except CompileError:
            continue
        canonical = canonical_type(sql)
        if canonical is not None:
            out[column.name] = canonical
    return out


def _using(using: str | None) -> str | None:
    return None if using is None or using.lower() == "btree" else using.lower()


def db_index_sig(index: DbIndex) -> _Sig:
    """What is compared of a reflected index."""
    return _Sig(
        tuple(
            expression_form(e, element=True) if x else column_form(e)
            for e, x in zip(index.elements, index.expressions, strict=True)
        ),
        index.unique,
        expression_form(index.where) if index.where is not None else None,
        _using(index.using),
        index.include,
    )


def model_index_op(ctx: CompareContext, index: Index) -> CreateIndexOp:
    """The ``CreateIndexOp`` for a model index."""
    table = index.table
    assert table is not None
    columns: list[IndexColumn] = []
    for element in index.expressions:
        if isinstance(element, Column):
            columns.append(element.name)
        elif isinstance(element, str):
            columns.append(element)
        else:
            from sqlalchemy import text

            # Grouped as SQLAlchemy groups it in CREATE INDEX: PostgreSQL wants
            # (price * qty) in parentheses of its own, lower(email) as it is.
            columns.append(text(ctx.compile_expression(element.self_group())))
    kw: dict[str, Any] = {}
    for dialect in ("postgresql", "sqlite"):
        where = index.dialect_options[dialect]["where"]
        if where is not None and ctx.dialect_name == dialect:
            from sqlalchemy import text

            sql = where if isinstance(where, str) else ctx.compile_expression(where)
            kw[f"{dialect}_where"] = text(sql)
    if ctx.dialect_name == "postgresql":
        options = index.dialect_options["postgresql"]
        if options["using"]:
            kw["postgresql_using"] = options["using"]
        if options["include"]:
            kw["postgresql_include"] = [str(getattr(c, "name", c)) for c in options["include"]]
    if ctx.is_mysql:
        length = index.dialect_options["mysql"]["length"]
        if length:
            kw["mysql_length"] = length
    return CreateIndexOp(
        constraint_name(index),
        table.name,
        tuple(columns),
        schema=ctx.unqualified(table.schema),
        unique=bool(index.unique),
        dialect_kwargs=frozen_kwargs(kw),
    )


def model_unique_op(ctx: CompareContext, unique: UniqueConstraint) -> CreateUniqueConstraintOp:
    """The ``CreateUniqueConstraintOp`` for a model unique constraint."""
    table = unique.table
    return CreateUniqueConstraintOp(
        constraint_name(unique),
        table.name,
        tuple(c.name for c in unique.columns),
        schema=ctx.unqualified(table.schema),
        deferrable=unique.deferrable,
        initially=unique.initially,
    )


def fk_implied_indexes(ctx: CompareContext, table: Table, db_table: DbTable) -> set[str]:
    """Names of the indexes InnoDB made for foreign keys (MySQL/MariaDB only)."""
    if not ctx.is_mysql:
        return set()
    keys: dict[str, tuple[str, ...]] = {}
    for fk in db_table.foreign_keys:
        if fk.name:
            keys[fk.name] = fk.columns
        keys.setdefault(fk.columns[0], fk.columns)
    for fkc in table.foreign_key_constraints:
        name = constraint_name(fkc)
        if name:
            keys[name] = tuple(c.name for c in fkc.columns)
    model_names = {constraint_name(ix) for ix in table.indexes}
    return {
        ix.name
        for ix in db_table.indexes
        if ix.name is not None
        and not ix.unique
        and ix.name not in model_names
        and ix.name in keys
        and ix.elements[: len(keys[ix.name])] == keys[ix.name]
    }


def compare_indexes(
    ctx: CompareContext, table: Table, db_table: DbTable, changes: TableChanges
) -> None:
    """Add to ``changes`` the index and unique constraint differences of one table."""
    parents = {"table_name": table.name, "schema_name": db_table.schema}
    db_uniques = [
        uq for uq in db_table.uniques if ctx.include_name(uq.name, "unique_constraint", parents)
    ]
    unique_names = {uq.name for uq in db_uniques}
    implied = fk_implied_indexes(ctx, table, db_table)
    db_indexes = [
        ix
        for ix in db_table.indexes
        if ix.duplicates_constraint is None
        and not (ctx.is_mysql and ix.unique and ix.name in unique_names)
        and ix.name not in implied
        and ctx.include_name(ix.name, "index", parents)
    ]
    model_uniques = [
        c
        for c in table.constraints
        if isinstance(c, UniqueConstraint)
        and ctx.include_name(constraint_name(c), "unique_constraint", parents)
    ]
    model_indexes = [
        ix for ix in table.indexes if ctx.include_name(constraint_name(ix), "index", parents)
    ]
    claimed_uniques: set[int] = set()
    claimed_indexes: set[int] = set()
    # Only PostgreSQL drops a cast to the type a column has; the others keep the text.
    types = None
    if ctx.dialect_name == "postgresql" and any(map(_has_expression, model_indexes)):
        types = column_types(ctx, db_table)

    for uq in model_uniques:
        found = _find_unique(uq, db_uniques, claimed_uniques)
        if found is not None:
            claimed_uniques.add(id(found))
            if not ctx.include_object(uq, constraint_name(uq), "unique_constraint", False, found):
                continue
            if tuple(c.name for c in uq.columns) != found.columns:
                changes.drop_items.append(_drop_unique(ctx, db_table, found))
                changes.create_items.append(model_unique_op(ctx, uq))
            continue
        if ctx.include_object(uq, constraint_name(uq), "unique_constraint", False, None):
            changes.create_items.append(model_unique_op(ctx, uq))

    for ix in model_indexes:
        name = constraint_name(ix)
        sig = model_index_sig(ctx, ix, types)
        db_ix = next(
            (d for d in db_indexes if d.name == name and id(d) not in claimed_indexes), None
        )
        if db_ix is None and ctx.is_mysql and ix.unique:
            # A unique index on MySQL is reported as a unique constraint too.
            db_uq = next(
                (u for u in db_uniques if u.name == name and id(u) not in claimed_uniques), None
            )
            if db_uq is not None:
                claimed_uniques.add(id(db_uq))
                if db_uq.columns != tuple(e.flat for e in sig.elements) and ctx.include_object(
                    ix, name, "index", False, db_uq
                ):
                    changes.drop_items.append(_drop_unique(ctx, db_table, db_uq))
                    changes.create_items.append(model_index_op(ctx, ix))
                continue
        if db_ix is None:
            if ctx.include_object(ix, name, "index", False, None):
                changes.create_items.append(model_index_op(ctx, ix))
            continue
        claimed_indexes.add(id(db_ix))
        if not ctx.include_object(ix, name, "index", False, db_ix):
            continue
        if not db_index_sig(db_ix).matches(sig):
            changes.drop_items.append(_drop_index(ctx, db_table, db_ix))
            changes.create_items.append(model_index_op(ctx, ix))

    for db_uq in db_uniques:
        if id(db_uq) in claimed_uniques:
            continue
        if ctx.include_db_item(
            db_table, db_uq.name, "unique_constraint", lambda t, u=db_uq: _find_built(t, u), None
        ):
            changes.drop_items.append(_drop_unique(ctx, db_table, db_uq))
    for db_ix in db_indexes:
        if id(db_ix) in claimed_indexes:
            continue
        if ctx.include_db_item(
            db_table,
            db_ix.name,
            "index",
            lambda t, i=db_ix: next((x for x in t.indexes if x.name == i.name), None),
            None,
        ):
            changes.drop_items.append(_drop_index(ctx, db_table, db_ix))


def _has_expression(index: Index) -> bool:
    options = index.dialect_options
    return not all(isinstance(e, Column) for e in index.expressions) or any(
        options[d]["where"] is not None for d in ("postgresql", "sqlite")
    )


def _find_unique(
    uq: UniqueConstraint, db_uniques: list[DbUnique], claimed: set[int]
) -> DbUnique | None:
    name = constraint_name(uq)
    columns = tuple(c.name for c in uq.columns)
    free = [u for u in db_uniques if id(u) not in claimed]
    if name is not None:
        found = next((u for u in free if u.name == name), None)
        if found is not None:
            return found
        return next((u for u in free if u.name is None and u.columns == columns), None)
    return next((u for u in free if u.columns == columns), None)


def _find_built(table: Table, unique: DbUnique) -> Any:
    for c in table.constraints:
        if isinstance(c, UniqueConstraint) and tuple(x.name for x in c.columns) == unique.columns:
            return c
    return None


def _drop_unique(ctx: CompareContext, db_table: DbTable, unique: DbUnique) -> Any:
    if unique.name is None:
        return NoteOp(
            f"the unnamed unique constraint on {db_table.name}({', '.join(unique.columns)}) "
            "cannot be dropped by name: drop it by hand (batch mode with a naming "
            "convention can name it)",
            manual=True,
            kind="unnamed_constraint",
            table=db_table.name,
            schema=db_table.schema,
        )
    return DropConstraintOp(
        unique.name,
        db_table.name,
        type_="unique",
        schema=db_table.schema,
        create_op=unique_op(db_table, unique),
    )


def _drop_index(ctx: CompareContext, db_table: DbTable, index: DbIndex) -> DropIndexOp:
    create = index_op(db_table, index, ctx.dialect_name)
    return DropIndexOp(
        index.name or "",
        db_table.name,
        schema=db_table.schema,
        create_op=create,
    )
