"""PostgreSQL DDL through asyncpg's simple protocol: one round trip, same transaction,
errors reported like SQLAlchemy's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from databases import provision
from whimbrel.ddl.impl import impl_for


@pytest.mark.asyncio
async def test_simple_protocol_ddl_is_transactional_and_reports_errors(tmp_path: Path) -> None:
    async for database in provision("postgresql", tmp_path):
        engine = create_async_engine(database.url)
        try:
            async with engine.connect() as conn:
                await conn.begin()

                def run(sync: object) -> tuple[str | None, str | None]:
                    from sqlalchemy.engine import Connection

                    assert isinstance(sync, Connection)
                    impl = impl_for(sync.dialect)(sync, sync.dialect)
                    simple = impl._simple_sql("CREATE TABLE t_simple (id INTEGER)", None)  # type: ignore[attr-defined]
                    impl.execute("CREATE TABLE t_simple (id INTEGER)")
                    with_binds = impl._simple_sql(text("SELECT :x"), None)  # type: ignore[attr-defined]
                    try:
                        impl.execute("CREATE TABLE t_simple (id INTEGER)")
                    except DBAPIError as exc:
                        assert exc.statement == "CREATE TABLE t_simple (id INTEGER)"
                        assert "already exists" in str(exc.orig)
                    else:
                        raise AssertionError("the second CREATE TABLE should fail")
                    return simple, with_binds

                simple, with_binds = await conn.run_sync(run)
                assert simple == "CREATE TABLE t_simple (id INTEGER)"
                assert with_binds is None  # statements with parameters take the usual path
                await conn.rollback()
            async with engine.connect() as conn:
                found = await conn.execute(
                    text("SELECT count(*) FROM pg_tables WHERE tablename = 't_simple'")
                )
                assert found.scalar() == 0  # rolled back with the transaction
        finally:
            await engine.dispose()


@pytest.mark.asyncio
async def test_simple_protocol_renders_the_tenant_schema(tmp_path: Path) -> None:
    """A schema translation map (schema per tenant) keeps DDL on the one-round-trip path."""
    import sqlalchemy as sa
    from sqlalchemy.schema import CreateIndex, CreateTable

    metadata = sa.MetaData()
    table = sa.Table(
        "t_tenant",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("x", sa.Integer, index=True),
    )
    async for database in provision("postgresql", tmp_path):
        engine = create_async_engine(database.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text('CREATE SCHEMA "tenant_a"'))
            async with engine.connect() as raw:
                conn = await raw.execution_options(schema_translate_map={None: "tenant_a"})
                await conn.begin()

                def run(sync: object) -> tuple[str | None, bool]:
                    from sqlalchemy.engine import Connection

                    assert isinstance(sync, Connection)
                    impl = impl_for(sync.dialect)(sync, sync.dialect)
                    rendered = impl._simple_sql(CreateTable(table), None)  # type: ignore[attr-defined]
                    impl.execute(CreateTable(table))
                    for index in table.indexes:
                        impl.execute(CreateIndex(index))
                    return rendered, impl.used_extended  # type: ignore[attr-defined]

                rendered, used_extended = await conn.run_sync(run)
                await conn.commit()
                assert rendered is not None and "CREATE TABLE tenant_a.t_tenant" in rendered
                assert used_extended is False
            async with engine.connect() as conn:
                found = await conn.execute(
                    text(
                        "SELECT schemaname, count(*) FROM pg_indexes "
                        "WHERE tablename = 't_tenant' GROUP BY schemaname"
                    )
                )
                assert found.all() == [("tenant_a", 2)]  # primary key and ix_t_tenant_x
        finally:
            await engine.dispose()
