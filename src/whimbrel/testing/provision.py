"""Fresh databases for the fixtures, one per test.

SQLite gets a new file in the test's temporary directory. PostgreSQL and MariaDB/MySQL
get a new database created through an admin connection to the server the URL names,
and dropped when the test ends (``WITH (FORCE)`` on PostgreSQL, so a connection the
test forgot to close does not keep it alive).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from whimbrel.config import mask_url, mask_urls
from whimbrel.errors import ConfigError, DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ("FreshDatabase", "dialect_of", "fresh_database")

_PREFIX = "whimbrel_test_"
# Databases the admin connection may use on PostgreSQL when the URL's own is missing.
_PG_MAINTENANCE = ("postgres", "template1")


@dataclass(frozen=True, slots=True)
class FreshDatabase:
    """A database made for one test.

    Attributes:
        url: the URL to connect with, password included.
        dialect: ``sqlite``, ``postgresql`` or ``mysql`` (MariaDB too).
        name: the database's name (the file's path on SQLite).
    """

    url: str
    dialect: str
    name: str


def dialect_of(url: str) -> str:
    """The backend a URL names: ``sqlite``, ``postgresql``, ``mysql``...

    Raises:
        ConfigError: the URL cannot be parsed.
    """
    return _parse(url).get_backend_name()


def _parse(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"cannot parse database URL {mask_url(url)}: {exc}") from exc


@asynccontextmanager
async def fresh_database(server_url: str, directory: Path) -> AsyncIterator[FreshDatabase]:
    """Create an empty database like ``server_url`` names, and remove it afterwards.

    Args:
        server_url: the project's database URL; only its dialect, driver, server and
            credentials are used. On SQLite the file it names is left alone.
        directory: where a SQLite file goes (the test's ``tmp_path``).

    Raises:
        ConfigError: the URL is invalid or names a database this helper cannot create.
        DatabaseError: the server cannot be reached or refuses to create the database.
    """
    url = _parse(server_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = directory / "whimbrel.db"
        fresh = url.set(database=str(path))
        yield FreshDatabase(fresh.render_as_string(hide_password=False), "sqlite", str(path))
        return
    if backend not in ("postgresql", "mysql", "mariadb"):
        raise ConfigError(
            f"the whimbrel fixtures cannot create a {backend} database "
            f"(URL {mask_url(server_url)}); they support sqlite, postgresql and mysql/mariadb"
        )
    name = f"{_PREFIX}{uuid.uuid4().hex[:12]}"
    async with _admin(url, backend) as admin:
        quoted = admin.dialect.identifier_preparer.quote(name)
        try:
            await admin.exec_driver_sql(f"CREATE DATABASE {quoted}")
        except Exception as exc:
            raise DatabaseError(
                f"cannot create test database {name} on {_server(url)}: {_first_line(exc)}; "
                "the URL's user needs the right to create databases",
                url=_server(url),
            ) from exc
        try:
            yield FreshDatabase(
                url.set(database=name).render_as_string(hide_password=False),
                "postgresql" if backend == "postgresql" else "mysql",
                name,
            )
        finally:
            # Dropped even when the test is cancelled, or the database would leak.
            with anyio.CancelScope(shield=True):
                await _drop(admin, backend, name, quoted)


async def _drop(admin: AsyncConnection, backend: str, name: str, quoted: str) -> None:
    from sqlalchemy import text

    if backend != "postgresql":
        # A connection the test left open (in a transaction) holds a metadata lock that
        # would block DROP DATABASE for a year, MariaDB's default wait: end them first.
        rows = await admin.execute(
            text(
                "SELECT ID FROM information_schema.PROCESSLIST "
                "WHERE DB = :name AND ID <> CONNECTION_ID()"
            ),
            {"name": name},
        )
        for (pid,) in rows.all():
            try:
                await admin.exec_driver_sql(f"KILL CONNECTION {int(pid)}")
            except Exception:
                pass  # it may have ended on its own meanwhile
        await admin.exec_driver_sql("SET SESSION lock_wait_timeout = 60")
        await admin.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
        return
    try:
        await admin.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    except Exception:
        # PostgreSQL before 13 has no FORCE: end the other sessions first.
        await admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        await admin.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")


@asynccontextmanager
async def _admin(url: URL, backend: str) -> AsyncIterator[AsyncConnection]:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    if backend == "postgresql":
        candidates = [url.database, *_PG_MAINTENANCE]
    else:
        candidates = [None]
    tried: list[str] = []
    for database in dict.fromkeys(candidates):
        try:
            engine = create_async_engine(
                url.set(database=database), poolclass=NullPool, isolation_level="AUTOCOMMIT"
            )
        except Exception as exc:
            raise ConfigError(
                f"cannot use database URL {mask_url(str(url))}: {_first_line(exc)}; "
                "use an async driver such as postgresql+asyncpg:// or mysql+asyncmy://"
            ) from exc
        try:
            try:
                connection = await engine.connect()
            except Exception as exc:
                tried.append(f"{database or '(none)'}: {_first_line(exc)}")
                continue
            try:
                yield connection
            finally:
                await connection.close()
            return
        finally:
            await engine.dispose()
    raise DatabaseError(
        f"cannot connect to {_server(url)} to create a test database ({'; '.join(tried)}); "
        "check that the server runs and the URL (--whimbrel-url, whimbrel_url, or the "
        "configuration's url) is right",
        url=_server(url),
    )


def _server(url: URL) -> str:
    return mask_url(url.set(database=None).render_as_string(hide_password=True))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return mask_urls(text.splitlines()[0] if text else type(exc).__name__)
