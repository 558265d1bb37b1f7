"""The fixtures: the project's configuration, and a fresh database per test.

===========================  ==========================================================
``whimbrel_config``          the project's :class:`~whimbrel.config.Config`
``whimbrel_database_url``    the URL of a fresh, empty database (dropped after the test)
``whimbrel_empty_engine``    an ``AsyncEngine`` on it, not migrated
``whimbrel_engine``          the same engine, upgraded to every head
``whimbrel_connection``      a connection of it inside a transaction rolled back after
``whimbrel_migrator``        a :class:`~whimbrel.testing.Migrator` on the empty engine
===========================  ==========================================================

Once a test has a database, ``whimbrel_config.url`` is that database's URL and
``whimbrel_config.attributes["engine"]`` its engine, so commands given the config
alone run on it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
import pytest_asyncio

from whimbrel import command
from whimbrel.config import Config, mask_url
from whimbrel.errors import WhimbrelError
from whimbrel.testing.migrator import Migrator
from whimbrel.testing.provision import fresh_database

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = (
    "load_config",
    "whimbrel_config",
    "whimbrel_connection",
    "whimbrel_database_url",
    "whimbrel_empty_engine",
    "whimbrel_engine",
    "whimbrel_migrator",
)


def load_config(pytest_config: pytest.Config) -> Config:
    """Load the project's configuration as the pytest options and ini settings say.

    The file is ``--whimbrel-config`` (relative to where pytest runs), else the ini
    option ``whimbrel_config`` (relative to the ini file), else what
    :meth:`Config.load` finds from where pytest runs. The URL is ``--whimbrel-url``,
    else the ini option ``whimbrel_url``, else the configuration's own.

    Raises:
        ConfigError: the configuration cannot be found or read.
    """
    invocation = pytest_config.invocation_params.dir
    path: Path | None = None
    option = pytest_config.getoption("whimbrel_config", None)
    ini = str(pytest_config.getini("whimbrel_config") or "")
    if option:
        path = invocation / option
    elif ini:
        base = pytest_config.inipath.parent if pytest_config.inipath else pytest_config.rootpath
        path = base / ini
    url = pytest_config.getoption("whimbrel_url", None) or (
        str(pytest_config.getini("whimbrel_url") or "") or None
    )
    return Config.load(path, cwd=invocation, url=url)


def _fail(what: str, exc: BaseException) -> NoReturn:
    pytest.fail(f"whimbrel: {what}: {' '.join(str(exc).split())}", pytrace=False)


@pytest.fixture
def whimbrel_config(request: pytest.FixtureRequest) -> Config:
    """The project's configuration, loaded afresh for each test.

    See :func:`load_config` for where it comes from.
    """
    try:
        return load_config(request.config)
    except WhimbrelError as exc:
        _fail("cannot load the configuration", exc)


@pytest_asyncio.fixture
async def whimbrel_database_url(whimbrel_config: Config, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database like the configured one; dropped after the test.

    SQLite gets a file in ``tmp_path``; PostgreSQL and MariaDB/MySQL a database named
    ``whimbrel_test_<random>`` on the configured server.
    """
    server = whimbrel_config.url
    if not server:
        pytest.fail(
            "whimbrel: no database URL to create test databases from: pass --whimbrel-url, "
            "set whimbrel_url in the pytest configuration, or url in the Whimbrel "
            "configuration",
            pytrace=False,
        )
    async with AsyncExitStack() as stack:
        try:
            database = await stack.enter_async_context(fresh_database(server, tmp_path))
        except WhimbrelError as exc:
            _fail("cannot create a test database", exc)
        whimbrel_config.url = database.url
        yield database.url


@pytest_asyncio.fixture
async def whimbrel_empty_engine(
    whimbrel_config: Config, whimbrel_database_url: str
) -> AsyncIterator[AsyncEngine]:
    """An ``AsyncEngine`` on the test's fresh database, with nothing migrated.

    It is the engine ``whimbrel_engine`` migrates: a test asking for both gets one
    engine, at head.
    """
    from sqlalchemy.ext.asyncio import create_async_engine

    try:
        engine = create_async_engine(whimbrel_database_url)
    except Exception as exc:
        _fail(f"cannot create an engine for {mask_url(whimbrel_database_url)}", exc)
    whimbrel_config.attributes["engine"] = engine
    try:
        yield engine
    finally:
        whimbrel_config.attributes.pop("engine", None)
        await engine.dispose()


@pytest_asyncio.fixture
async def whimbrel_engine(
    whimbrel_config: Config, whimbrel_empty_engine: AsyncEngine
) -> AsyncEngine:
    """An ``AsyncEngine`` on the test's fresh database, upgraded to every head."""
    try:
        await command.upgrade(whimbrel_config, "heads", engine=whimbrel_empty_engine)
    except WhimbrelError as exc:
        _fail("upgrading the test database to head failed", exc)
    return whimbrel_empty_engine


@pytest_asyncio.fixture
async def whimbrel_connection(whimbrel_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection to the migrated database, in a transaction rolled back after the test."""
    async with whimbrel_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def whimbrel_migrator(whimbrel_config: Config, whimbrel_empty_engine: AsyncEngine) -> Migrator:
    """A :class:`~whimbrel.testing.Migrator` on the test's fresh, empty database."""
    return Migrator(whimbrel_config, whimbrel_empty_engine)
