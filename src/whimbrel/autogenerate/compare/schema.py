"""The whole comparison: which tables come and go, and in what order it all runs.

The upgrade runs in phases, so that no statement needs something a later one makes
(on SQLite, where batch mode rebuilds whole tables, the key phases of a table join
its other changes):

0. enum types and values the models need (PostgreSQL);
1. foreign keys that go, on tables that stay;
2. table renames;
3. new tables, in dependency order, each with its indexes;
4. the changes of each table that stays (columns, indexes, constraints, comment);
5. foreign keys that come, on tables that stay (and those closing a cycle);
6. tables that go, dependents first;
7. enum types nothing uses any more.

The downgrade is the reverse of the whole list.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, PrimaryKeyConstraint
from sqlalchemy import UniqueConstraint as SAUniqueConstraint

from whimbrel.autogenerate.build import foreign_key_op, table_items
from whimbrel.autogenerate.compare.checks import model_checks
from whimbrel.autogenerate.compare.columns import plain_column
from whimbrel.autogenerate.compare.enums import compare_enums
from whimbrel.autogenerate.compare.foreign_keys import model_foreign_key_op, model_signature
from whimbrel.autogenerate.compare.indexes import constraint_name, model_index_op
from whimbrel.autogenerate.compare.table import compare_table, rename_db_table
from whimbrel.autogenerate.ops import NoteOp
from whimbrel.autogenerate.rename import label
from whimbrel.operations.constraint_ops import DropConstraintOp
from whimbrel.operations.misc_ops import ModifyTableOps
from whimbrel.operations.opbase import frozen_kwargs
from whimbrel.operations.table_ops import CreateTableOp, DropTableOp, RenameTableOp

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.schema import SchemaItem

    from whimbrel.autogenerate.compare.context import CompareContext, TableChanges
    from whimbrel.autogenerate.reflect import DbTable, TableKey
    from whimbrel.autogenerate.rename import RenameResolver
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("compare_schema", "model_tables")

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class _Phases:
    first: list[MigrateOperation] = field(default_factory=list)
    drop_fks: list[MigrateOperation] = field(default_factory=list)
    renames: list[MigrateOperation] = field(default_factory=list)
    creates: list[MigrateOperation] = field(default_factory=list)
    tables: list[MigrateOperation] = field(default_factory=list)
    create_fks: list[MigrateOperation] = field(default_factory=list)
    drops: list[MigrateOperation] = field(default_factory=list)
    last: list[MigrateOperation] = field(default_factory=list)

    def ops(self) -> list[MigrateOperation]:
        return [
            *self.first,
            *self.drop_fks,
            *self.renames,
            *self.creates,
            *self.tables,
            *self.create_fks,
            *self.drops,
            *self.last,
        ]


def model_tables(ctx: CompareContext, tables: Iterable[Table]) -> dict[TableKey, Table]:
    """The model tables to compare, by ``(schema, name)``, after the name filters."""
    schemas = set(ctx.db.schemas)
    found: dict[TableKey, Table] = {}
    for table in tables:
        schema = ctx.unqualified(table.schema)
        if schema not in schemas and not (ctx.options.include_schemas and schema is not None):
            continue
        if ctx.options.skips_table(table.name, schema, ctx.db.default_schema):
            continue
        if schema is not None and not ctx.include_name(schema, "schema", {}):
            continue
        if not ctx.include_name(table.name, "table", {"schema_name": schema}):
            continue
        found[(schema, table.name)] = table
    return found


def compare_schema(
    ctx: CompareContext, tables: dict[TableKey, Table], resolver: RenameResolver
) -> list[MigrateOperation]:
    """The upgrade operations that make the database like ``tables``."""
    db = ctx.db
    skipped = ctx.options.skips_table
    for key in [k for k in db.tables if skipped(k[1], k[0], db.default_schema)]:
        del db.tables[key]
    phases = _Phases()
    merge_fks = ctx.dialect_name == "sqlite"

    added = [
        t
        for key, t in tables.items()
        if key not in db.tables and ctx.include_object(t, t.name, "table", False, None)
    ]
    dropped = [
        t
        for key, t in db.tables.items()
        if key not in tables and ctx.include_db_item(t, t.name, "table", lambda built: built, None)
    ]
    if added and dropped and ctx.options.detect_renames:
        for old, new in resolver.tables(dropped, added):
            phases.renames.append(RenameTableOp(old.name, new.name, schema=old.schema))
            rename_db_table(db, old, new.name)
            added.remove(new)
            dropped.remove(old)

    compared: list[tuple[Table, DbTable]] = []
    for key, table in tables.items():
        db_table = db.tables.get(key)
        if db_table is None or any(db_table is d for d in dropped):
            continue
        if ctx.include_object(table, table.name, "table", False, None):
            compared.append((table, db_table))

    enums = compare_enums(
        ctx, [*added, *(t for t, _ in compared)], [d for _, d in compared] + dropped
    )
    phases.first.extend(enums.first)
    phases.last.extend(enums.last)

    for table, db_table in compared:
        changes = compare_table(ctx, table, db_table, resolver)
        _place(phases, changes, merge_fks)

    _create_tables(ctx, added, phases, defer_cycles=not merge_fks)
    _drop_tables(ctx, dropped, resolver, phases, defer_cycles=not merge_fks)
    return phases.ops()


def _place(phases: _Phases, changes: TableChanges, merge_fks: bool) -> None:
    schema, name = changes.schema, changes.name
    if merge_fks:
        ops = [*changes.drop_fks, *changes.body(), *changes.create_fks]
        if ops:
            phases.tables.append(ModifyTableOps(name, tuple(ops), schema=schema))
        return
    if changes.drop_fks:
        phases.drop_fks.append(ModifyTableOps(name, tuple(changes.drop_fks), schema=schema))
    body = changes.body()
    if body:
        phases.tables.append(ModifyTableOps(name, tuple(body), schema=schema))
    if changes.create_fks:
        phases.create_fks.append(ModifyTableOps(name, tuple(changes.create_fks), schema=schema))


def dependency_order(
    keys: list[K], depends: Callable[[K], Iterable[tuple[K, Any]]]
) -> tuple[list[K], list[tuple[K, Any]]]:
    """Order ``keys`` so each comes after what it depends on.

    ``depends(key)`` yields ``(other_key, link)`` pairs. Cycles are broken by leaving
    out links, returned as ``(key, link)`` to be made (or removed) separately.
    """
    wanted = set(keys)
    edges: dict[K, list[tuple[K, Any]]] = {
        k: [(o, link) for o, link in depends(k) if o in wanted and o != k] for k in keys
    }
    ordered: list[K] = []
    done: set[K] = set()
    deferred: list[tuple[K, Any]] = []
    remaining = list(keys)
    while remaining:
        ready = [k for k in remaining if all(o in done for o, _ in edges[k])]
        if not ready:
            # A cycle: make the first remaining table without its pending links.
            key = remaining[0]
            deferred.extend((key, link) for o, link in edges[key] if o not in done)
            edges[key] = [(o, link) for o, link in edges[key] if o in done]
            ready = [key]
        for key in ready:
            ordered.append(key)
            done.add(key)
        remaining = [k for k in remaining if k not in done]
    return ordered, deferred


def _create_tables(
    ctx: CompareContext, added: list[Table], phases: _Phases, *, defer_cycles: bool
) -> None:
    by_key = {(ctx.unqualified(t.schema), t.name): t for t in added}

    def depends(key: TableKey) -> Iterable[tuple[TableKey, Any]]:
        for fkc in by_key[key].foreign_key_constraints:
            _, ref_schema, ref_table, _ = model_signature(ctx, fkc)
            yield (ref_schema, ref_table), fkc

    order, deferred = dependency_order(sorted(by_key, key=_sort_key), depends)
    held = {id(fkc) for _, fkc in deferred} if defer_cycles else set()
    for key in order:
        table = by_key[key]
        phases.creates.append(_create_table_op(ctx, table, held))
        phases.creates.extend(
            model_index_op(ctx, ix)
            for ix in sorted(table.indexes, key=lambda i: constraint_name(i) or "")
        )
    if defer_cycles:
        for key, fkc in deferred:
            phases.create_fks.append(
                ModifyTableOps(key[1], (model_foreign_key_op(ctx, fkc),), schema=key[0])
            )


def _sort_key(key: TableKey) -> tuple[str, str]:
    return (key[0] or "", key[1])


def _create_table_op(ctx: CompareContext, table: Table, held: set[int]) -> CreateTableOp:
    items: list[SchemaItem] = [plain_column(c, ctx) for c in table.columns]
    pk = table.primary_key
    if pk.columns:
        items.append(PrimaryKeyConstraint(*(c.name for c in pk.columns), name=constraint_name(pk)))
    for fkc in sorted(table.foreign_key_constraints, key=lambda c: constraint_name(c) or ""):
        if id(fkc) in held:
            continue
        op = model_foreign_key_op(ctx, fkc)
        target = (
            f"{op.referent_schema}.{op.referent_table}"
            if op.referent_schema
            else (op.referent_table)
        )
        items.append(
            ForeignKeyConstraint(
                list(op.local_cols),
                [f"{target}.{c}" for c in op.remote_cols],
                name=op.name,
                ondelete=op.ondelete,
                onupdate=op.onupdate,
                deferrable=op.deferrable,
                initially=op.initially,
                match=op.match,
            )
        )
    items.extend(
        SAUniqueConstraint(
            *(col.name for col in c.columns),
            name=constraint_name(c),
            deferrable=c.deferrable,
            initially=c.initially,
        )
        for c in table.constraints
        if isinstance(c, SAUniqueConstraint)
    )
    for check in model_checks(table):
        condition: Any = check.sqltext
        items.append(
            CheckConstraint(ctx.compile_expression(condition), name=constraint_name(check))
        )
    return CreateTableOp(
        table.name,
        tuple(items),
        schema=ctx.unqualified(table.schema),
        comment=table.comment,
        dialect_kwargs=frozen_kwargs(dict(table.dialect_kwargs)),
    )


def _drop_tables(
    ctx: CompareContext,
    dropped: list[DbTable],
    resolver: RenameResolver,
    phases: _Phases,
    *,
    defer_cycles: bool,
) -> None:
    by_key = {t.key: t for t in dropped}

    def depends(key: TableKey) -> Iterable[tuple[TableKey, Any]]:
        for fk in by_key[key].foreign_keys:
            yield (fk.referred_schema, fk.referred_table), fk

    order, deferred = dependency_order(sorted(by_key, key=_sort_key), depends)
    held = {id(fk) for _, fk in deferred} if defer_cycles else set()
    for key, fk in deferred:
        if not defer_cycles or fk.name is None:
            continue
        db_table = by_key[key]
        phases.drop_fks.append(
            ModifyTableOps(
                db_table.name,
                (
                    DropConstraintOp(
                        fk.name,
                        db_table.name,
                        type_="foreignkey",
                        schema=db_table.schema,
                        create_op=foreign_key_op(db_table, fk),
                    ),
                ),
                schema=db_table.schema,
            )
        )
    for key in reversed(order):
        db_table = by_key[key]
        items = [
            item
            for item in table_items(db_table, ctx)
            if not (isinstance(item, ForeignKeyConstraint) and _held(item, db_table, held))
        ]
        phases.drops.append(_table_note(db_table, resolver))
        phases.drops.append(
            DropTableOp(
                db_table.name,
                schema=db_table.schema,
                items=tuple(items),
                comment=db_table.comment,
            )
        )


def _held(item: ForeignKeyConstraint, db_table: DbTable, held: set[int]) -> bool:
    columns = tuple(item.column_keys)
    return any(id(fk) in held and fk.columns == columns for fk in db_table.foreign_keys)


def _table_note(db_table: DbTable, resolver: RenameResolver) -> NoteOp:
    where = label(db_table.schema, db_table.name)
    text = f"WARNING: drops table {where} and the data in it."
    suspected = [
        r
        for r in resolver.suspected
        if r.kind == "table" and r.schema == db_table.schema and r.old == db_table.name
    ]
    if suspected:
        text += (
            f" If {suspected[0].new_label} is {where} renamed, generate again and answer "
            f"yes, or pass --rename {suspected[0].spec}"
        )
    return NoteOp(
        text,
        "the table comes back empty: its data was dropped by the upgrade",
        kind="data_loss",
        table=db_table.name,
        schema=db_table.schema,
    )
