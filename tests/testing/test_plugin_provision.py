"""Fresh databases for the fixtures: created on the server, usable, dropped after."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import (
    MARIADB_HOST,
    MARIADB_PORT,
    MARIADB_USER,
    PG_HOST,
    PG_PORT,
    PG_USER,
    REQUIRE_DATABASES,
)
from whimbrel.errors import ConfigError, DatabaseError
from whimbrel.testing import fresh_database
from whimbrel.testing.provision import dialect_of

SERVERS = {
    "postgresql": (
        PG_HOST,
        PG_PORT,
        f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres",
    ),
    "mariadb": (
        MARIADB_HOST,
        MARIADB_PORT,
        f"mysql+asyncmy://{MARIADB_USER}@{MARIADB_HOST}:{MARIADB_PORT}/",
    ),
}
LIST_DATABASES = {
    "postgresql": "SELECT datname FROM pg_database",
    "mariadb": "SHOW DATABASES",
}


def server_url(dialect: str) -> str:
    host, port, url = SERVERS[dialect]
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        message = f"{dialect} server unreachable: {exc}"
        if REQUIRE_DATABASES:
            pytest.fail(message)
        pytest.skip(message)
    return url


async def databases_on(url: str, dialect: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {row[0] for row in await conn.execute(text(LIST_DATABASES[dialect]))}
    finally:
        await engine.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
async def test_a_server_database_is_created_then_dropped(dialect: str, tmp_path: Path) -> None:
    server = server_url(dialect)

    async with fresh_database(server, tmp_path) as database:
        assert database.name.startswith("whimbrel_test_")
        assert database.name in await databases_on(server, dialect)
        engine = create_async_engine(database.url)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        # A connection left open, inside a transaction, does not keep the database from
        # being dropped.
        leftover = await engine.connect()
        assert await leftover.scalar(text("SELECT COUNT(*) FROM t")) == 1

    assert database.name not in await databases_on(server, dialect)
    with contextlib.suppress(Exception):
        await leftover.close()
    await engine.dispose()


@pytest.mark.asyncio
async def test_sqlite_gets_a_file_in_the_directory(tmp_path: Path) -> None:
    async with fresh_database("sqlite+aiosqlite:///shop.db", tmp_path) as database:
        assert database.url == f"sqlite+aiosqlite:///{tmp_path / 'whimbrel.db'}"
        assert database.dialect == "sqlite"
    assert dialect_of("sqlite+aiosqlite://") == "sqlite"


@pytest.mark.asyncio
async def test_unreachable_server_is_a_readable_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as caught:
        async with fresh_database("postgresql+asyncpg://someone:s3cret@127.0.0.1:1/app", tmp_path):
            pass  # pragma: no cover
    message = str(caught.value)
    assert message.startswith("cannot connect to postgresql+asyncpg://someone:***@127.0.0.1:1")
    assert "s3cret" not in message
    assert "--whimbrel-url" in message


@pytest.mark.asyncio
async def test_unsupported_dialect_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot create a mssql database"):
        async with fresh_database("mssql+aioodbc://u@host/db", tmp_path):
            pass  # pragma: no cover
