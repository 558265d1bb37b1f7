"""Autogenerate in an adopted project: the bookkeeping tables never show in a diff.

The configured version table (``alembic_version`` after ``adopt``), the history table
and Alembic's ``alembic_version`` are left out of every comparison, in any schema, by
the commands and by the synchronous API alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from adopt_support import MINIMAL_ENV, alembic_config, alembic_upgrade, plain_url
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase
from whimbrel import command
from whimbrel.adopt import adopt
from whimbrel.autogenerate import AutogenerateOptions, compare_metadata, produce_migrations
from whimbrel.config import Config

BOOKKEEPING = ("alembic_version", "whimbrel_history", "whimbrel_version")

FIRST = '''"""users

Revision ID: a1
"""
import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("users")
'''

SECOND = FIRST.replace('"a1"', '"a2"', 1).replace("down_revision = None", 'down_revision = "a1"')
SECOND = SECOND.replace('"users"', '"orders"').replace("Revision ID: a1", "Revision ID: a2")


def models(*names: str, schema: str | None = None) -> sa.MetaData:
    metadata = sa.MetaData()
    for name in names:
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True), schema=schema)
    return metadata


def mentions_bookkeeping(messages: tuple[str, ...] | list[str]) -> list[str]:
    return [m for m in messages if any(name in m for name in BOOKKEEPING)]


async def adopted(database: TestDatabase, root: Path) -> Config:
    """An Alembic project brought to a1 (by Alembic where it can run), then adopted."""
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "a1_users.py").write_text(FIRST)
    (root / "alembic" / "env.py").write_text(MINIMAL_ENV)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/alembic\n"
        f"sqlalchemy.url = {plain_url(database.url).replace('%', '%%')}\n"
    )
    result = await adopt(root)
    config = Config.load(result.config_file, url=database.url, environ={})
    assert config.version_table == "alembic_version"
    if database.dialect == "mariadb":
        # No synchronous MySQL driver here for Alembic; the version table is the same.
        await command.upgrade(config, "a1")
    else:
        alembic_upgrade(alembic_config(root, versions, database.url), "heads")
    # Whimbrel continues: the history table appears beside alembic_version.
    (versions / "a2_orders.py").write_text(SECOND)
    await command.upgrade(config)
    return config


@pytest.mark.asyncio
async def test_adopted_project_diffs_only_the_models(
    database: TestDatabase, tmp_path: Path
) -> None:
    config = await adopted(database, tmp_path)
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
            assert {"alembic_version", "whimbrel_history", "users", "orders"} <= tables
            # The synchronous API knows no configuration, and still leaves them out.
            assert await conn.run_sync(compare_metadata, models("users", "orders")) == []
            script = await conn.run_sync(produce_migrations, models("users"))
            assert [d.message for d in script.diffs] == ["remove table orders"]
    finally:
        await engine.dispose()

    clean = await command.check(config, metadata=models("users", "orders"))
    assert clean.ok, clean.messages
    # Whatever the hooks say: include_name and include_object never see them.
    seen: list[str] = []

    def include_name(name: str | None, type_: str, parents: object) -> bool:
        seen.append(f"{type_}:{name}")
        return True

    hooked = await command.check(
        config,
        metadata=models("users", "orders"),
        options=AutogenerateOptions(include_name=include_name),
    )
    assert hooked.ok and not mentions_bookkeeping(seen)

    generated = await command.autogenerate(
        config, message="invoices", metadata=models("users", "orders", "invoices")
    )
    assert generated.messages == ("add table invoices",)
    source = generated.path.read_text()
    assert not [name for name in BOOKKEEPING if name in source]


@pytest.mark.asyncio
async def test_explicit_version_table_schema_is_left_out_too(
    database: TestDatabase, tmp_path: Path
) -> None:
    config = await adopted(database, tmp_path)
    default = {"sqlite": "main", "postgresql": "public", "mariadb": database.name}
    config.version_table_schema = default[database.dialect]
    found = await command.check(config, metadata=models("users", "orders"))
    assert found.ok, found.messages


@pytest.mark.asyncio
async def test_postgresql_version_tables_in_other_schemas(tmp_path: Path) -> None:
    from adopt_support import fresh_databases

    async with fresh_databases("postgresql", tmp_path, "db") as (db,):
        engine = create_async_engine(db.url)
        try:
            async with engine.begin() as conn:
                for schema in ("meta", "tenant_a"):
                    await conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        finally:
            await engine.dispose()
        versions = tmp_path / "migrations" / "versions"
        versions.mkdir(parents=True)
        (versions / "a1_users.py").write_text(FIRST)
        config = Config(
            script_location=tmp_path / "migrations",
            url=db.url,
            version_table="alembic_version",
            version_table_schema="meta",
        )
        await command.upgrade(config)
        # A tenant's own bookkeeping, as a schema target of the fan-out leaves it.
        tenant = Config(
            script_location=tmp_path / "migrations",
            url=db.url,
            version_table_schema="tenant_a",
        )
        await command.stamp(tenant, "heads")

        every = AutogenerateOptions(include_schemas=True)
        found = await command.check(config, metadata=models("users"), options=every)
        assert found.ok, found.messages
        default_only = await command.check(config, metadata=models("users"))
        assert default_only.ok, default_only.messages
