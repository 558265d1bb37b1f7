"""PostgreSQL expression indexes: what the database prints back compares equal to the
models, and a changed expression is reported, alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from agsupport import lint, project
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase, provision
from whimbrel import command
from whimbrel.autogenerate import autogenerate_revision, check, compare_metadata

pytestmark = pytest.mark.asyncio

Indexes = dict[str, Callable[[sa.Table], Any]]

# name -> the index's elements (and options), from the table's columns
INDEXES: Indexes = {
    "ix_exi_cast": lambda t: [sa.func.lower(sa.cast(t.c.n, sa.Text))],
    "ix_exi_cast_varchar": lambda t: [sa.func.lower(sa.cast(t.c.n, sa.String(10)))],
    "ix_exi_lower": lambda t: [sa.func.lower(t.c.email)],
    "ix_exi_coalesce": lambda t: [sa.func.coalesce(t.c.name, "")],
    "ix_exi_total": lambda t: [t.c.price * t.c.qty],
    "ix_exi_scaled": lambda t: [(t.c.n + 1) * 2 - t.c.qty / 3],
    "ix_exi_mixed": lambda t: [t.c.n + 1, sa.func.lower(t.c.email), t.c.id],
    "ix_exi_same_type": lambda t: [sa.cast(t.c.email, sa.String(50))],
    "ix_exi_day": lambda t: [sa.cast(t.c.created, sa.Date)],
    "ix_exi_case": lambda t: [sa.func.upper(sa.case((t.c.n > 0, "pos"), else_="neg"))],
    "ix_exi_json": lambda t: [t.c.doc["k"].astext],
    "ix_exi_trim": lambda t: [sa.func.upper(sa.func.trim(t.c.name))],
    "ix_exi_year": lambda t: [sa.extract("year", t.c.created)],
    "ix_exi_order": lambda t: [t.c.n.desc().nulls_last(), t.c.qty.asc().nulls_first()],
    "ix_exi_lower_desc": lambda t: [sa.func.lower(t.c.email).desc(), t.c.n],
    "ix_exi_partial": lambda t: [
        t.c.n,
        {
            "postgresql_where": sa.and_(
                t.c.status.in_(["new", "paid"]),
                t.c.qty.between(1, 5),
                t.c.name.like("a%"),
                t.c.n != 3,
            )
        },
    ],
}


def models(indexes: Indexes) -> sa.MetaData:
    metadata = sa.MetaData()
    table = sa.Table(
        "exi",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(50)),
        sa.Column("name", sa.Text()),
        sa.Column("n", sa.Integer()),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("qty", sa.Integer()),
        sa.Column("status", sa.String(20)),
        sa.Column("created", sa.DateTime()),
        sa.Column("doc", postgresql.JSONB()),
    )
    for name, make in indexes.items():
        parts = make(table)
        options = parts.pop() if isinstance(parts[-1], dict) else {}
        sa.Index(name, *parts, **options)
    return metadata


# one index changed at a time: another cast target, function, column, constant, order
CHANGES: dict[str, Indexes] = {
    "cast target": {"ix_exi_cast": lambda t: [sa.func.lower(sa.cast(t.c.n, sa.String))]},
    "cast length": {
        "ix_exi_cast_varchar": lambda t: [sa.func.lower(sa.cast(t.c.n, sa.String(20)))]
    },
    "cast dropped": {"ix_exi_day": lambda t: [t.c.created]},
    "function": {"ix_exi_lower": lambda t: [sa.func.upper(t.c.email)]},
    "column": {"ix_exi_coalesce": lambda t: [sa.func.coalesce(t.c.status, "")]},
    "constant": {"ix_exi_coalesce": lambda t: [sa.func.coalesce(t.c.name, "-")]},
    "precedence": {"ix_exi_scaled": lambda t: [t.c.n + 1 * 2 - t.c.qty / 3]},
    "element": {"ix_exi_mixed": lambda t: [t.c.n + 2, sa.func.lower(t.c.email), t.c.id]},
    "length cast": {"ix_exi_same_type": lambda t: [sa.cast(t.c.email, sa.String(40))]},
    "order": {"ix_exi_order": lambda t: [t.c.n.desc(), t.c.qty.asc().nulls_first()]},
    "condition": {
        "ix_exi_partial": lambda t: [
            t.c.n,
            {
                "postgresql_where": sa.and_(
                    t.c.status.in_(["new", "paid", "sent"]),
                    t.c.qty.between(1, 5),
                    t.c.name.like("a%"),
                    t.c.n != 3,
                )
            },
        ]
    },
}


@pytest_asyncio.fixture
async def pg_db(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async for db in provision("postgresql", tmp_path):
        yield db


async def _create_all(url: str, metadata: sa.MetaData) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


async def test_generated_expression_indexes_check_clean(
    pg_db: TestDatabase, tmp_path: Path
) -> None:
    cfg = project(tmp_path, pg_db.url)
    made = await autogenerate_revision(cfg, message="exi", metadata=models(INDEXES))
    lint(made.path)
    await command.upgrade(cfg)
    result = await check(cfg, metadata=models(INDEXES))
    assert result.ok, result.messages
    for change, replaced in CHANGES.items():
        (name,) = replaced
        changed = await check(cfg, metadata=models({**INDEXES, **replaced}))
        expected = (f"remove index {name} on exi", f"add index {name} on exi")
        assert changed.messages == expected, change


async def test_created_expression_indexes_check_clean(pg_db: TestDatabase, tmp_path: Path) -> None:
    await _create_all(pg_db.url, models(INDEXES))
    cfg = project(tmp_path, pg_db.url)
    result = await check(cfg, metadata=models(INDEXES))
    assert result.ok, result.messages
    replaced = CHANGES["cast target"]
    changed = await check(cfg, metadata=models({**INDEXES, **replaced}))
    assert changed.messages == ("remove index ix_exi_cast on exi", "add index ix_exi_cast on exi")


async def test_a_changed_expression_migrates_and_then_checks_clean(
    pg_db: TestDatabase, tmp_path: Path
) -> None:
    cfg = project(tmp_path, pg_db.url)
    await autogenerate_revision(cfg, message="exi", metadata=models(INDEXES))
    await command.upgrade(cfg)
    changed = models({**INDEXES, **CHANGES["cast target"]})
    made = await autogenerate_revision(cfg, message="cast", metadata=changed)
    assert made.messages == ("remove index ix_exi_cast on exi", "add index ix_exi_cast on exi")
    lint(made.path)
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=changed)).ok
    await command.downgrade(cfg, "-1")
    engine = create_async_engine(pg_db.url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(compare_metadata, models(INDEXES)) == []
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async for db in provision("sqlite", tmp_path):
        yield db


SQLITE_INDEXES: Indexes = {
    name: INDEXES[name]
    for name in (
        "ix_exi_cast",
        "ix_exi_lower",
        "ix_exi_coalesce",
        "ix_exi_total",
        "ix_exi_scaled",
        "ix_exi_mixed",
        "ix_exi_same_type",
        "ix_exi_case",
    )
}


async def test_sqlite_keeps_what_it_was_told(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    # SQLite keeps the text, casts to a column's own type included.
    same_type = {"ix_exi_text": lambda t: [sa.cast(t.c.name, sa.Text)]}
    indexes = {**SQLITE_INDEXES, **same_type}
    cfg = project(tmp_path, sqlite_db.url)
    await autogenerate_revision(cfg, message="exi", metadata=models(indexes))
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=models(indexes))).ok
    changed = await check(cfg, metadata=models({**indexes, **CHANGES["cast target"]}))
    assert changed.messages == ("remove index ix_exi_cast on exi", "add index ix_exi_cast on exi")
