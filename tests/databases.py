"""Fresh, real databases for tests on SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB tests each get their own database, created before and dropped
after the test. A server that cannot be reached skips its tests on a laptop; with
``WHIMBREL_REQUIRE_DATABASES=1`` (set by ``.ci/run``) it fails them instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DIALECTS = ("sqlite", "postgresql", "mariadb")
REQUIRE_DATABASES = os.environ.get("WHIMBREL_REQUIRE_DATABASES") == "1"
PG_HOST = os.environ.get("WHIMBREL_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("WHIMBREL_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("WHIMBREL_TEST_PG_USER", "postgres")
MARIADB_HOST = os.environ.get("WHIMBREL_TEST_MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("WHIMBREL_TEST_MARIADB_PORT", "3306"))
MARIADB_USER = os.environ.get("WHIMBREL_TEST_MARIADB_USER", "root")


@dataclass(frozen=True, slots=True)
class TestDatabase:
    """A fresh database for one test."""

    dialect: str
    url: str
    name: str

    __test__ = False  # not a test class, despite the name


def _unreachable(dialect: str, error: BaseException) -> None:
    message = f"{dialect} server unreachable: {error}"
    if REQUIRE_DATABASES:
        pytest.fail(f"{message} (WHIMBREL_REQUIRE_DATABASES=1 turns this skip into a failure)")
    pytest.skip(message)


async def _postgres(name: str) -> AsyncIterator[TestDatabase]:
    import asyncpg

    try:
        admin = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5
        )
    except (OSError, asyncpg.PostgresError) as exc:
        _unreachable("postgresql", exc)
        raise
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield TestDatabase(
            "postgresql", f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}", name
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _mariadb(name: str) -> AsyncIterator[TestDatabase]:
    import asyncmy

    try:
        admin = await asyncmy.connect(
            host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, password="", autocommit=True
        )
    except OSError as exc:
        _unreachable("mariadb", exc)
        raise
    try:
        async with admin.cursor() as cur:
            await cur.execute(f"CREATE DATABASE `{name}`")
        yield TestDatabase(
            "mariadb",
            f"mysql+asyncmy://{MARIADB_USER}@{MARIADB_HOST}:{MARIADB_PORT}/{name}",
            name,
        )
    finally:
        async with admin.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        await admin.ensure_closed()


async def provision(dialect: str, tmp_path: Path) -> AsyncGenerator[TestDatabase, None]:
    """Create a fresh database of ``dialect``; drop it when the iterator is closed."""
    name = f"wbt_{uuid.uuid4().hex[:16]}"
    if dialect == "sqlite":
        yield TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", name)
    elif dialect == "postgresql":
        async for db in _postgres(name):
            yield db
    else:
        async for db in _mariadb(name):
            yield db
