"""Shared fixtures: a fresh, real database per test on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from databases import DIALECTS, TestDatabase, provision


@pytest_asyncio.fixture(params=DIALECTS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh database on each dialect in turn (sqlite, postgresql, mariadb)."""
    async for db in provision(request.param, tmp_path):
        yield db


@pytest_asyncio.fixture(params=("sqlite", "postgresql"))
async def transactional_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[TestDatabase]:
    """A fresh database on each dialect with transactional DDL."""
    async for db in provision(request.param, tmp_path):
        yield db


@pytest.fixture(autouse=True)
def _collect_garbage_per_test() -> Iterator[None]:
    """Collect garbage after each test, so that a connection a test leaks is reported
    (as a ResourceWarning, an error here) in that test rather than in a later one."""
    yield
    gc.collect()
