"""Reading, never writing, the database ``lint`` and ``plan`` look at.

The head rows are read with the version table's own reader, and only when the table
exists: nothing is created, and a SQLite URL naming a file that does not exist is
taken as an empty database instead of being connected to (which would create it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from whimbrel.errors import UnknownRevisionError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config
    from whimbrel.runtime.connection import Connected
    from whimbrel.script.directory import ScriptDirectory
    from whimbrel.script.graph import RevisionGraph

__all__ = (
    "check_known",
    "dialect_named",
    "finish_reading",
    "has_database",
    "load_graph",
    "read_heads",
    "version_of",
)


async def load_graph(config: Config) -> tuple[ScriptDirectory, RevisionGraph]:
    """The script directory and its graph (headers read off the event loop)."""
    from whimbrel.script.directory import ScriptDirectory

    scripts = ScriptDirectory.from_config(config)
    graph = await anyio.to_thread.run_sync(scripts.graph)
    return scripts, graph


def has_database(
    config: Config, connection: AsyncConnection | None, engine: AsyncEngine | None
) -> bool:
    """Whether a database is configured or given (a connection, an engine, a URL).

    Raises:
        ScriptError: ``env.py`` cannot be imported.
    """
    if connection is not None or engine is not None or config.url:
        return True
    if config.attributes.get("connection") is not None:
        return True
    if config.attributes.get("engine") is not None:
        return True
    from whimbrel.runtime.connection import load_env

    return load_env(config).create_engine is not None


async def read_heads(connection: AsyncConnection, config: Config) -> tuple[str, ...]:
    """The head rows of the version table; ``()`` when it does not exist (nothing is made)."""
    from whimbrel.runtime.version_table import VersionTables

    tables = VersionTables(
        config.version_table,
        config.history_table,
        config.version_table_schema,
        dialect=connection.dialect.name,
    )

    def read(conn: Connection) -> tuple[str, ...]:
        return tables.read(conn)

    return await connection.run_sync(read)


async def finish_reading(connected: Connected) -> None:
    """End the read-only transaction SQLAlchemy began on a connection of our own."""
    if not connected.shared and connected.connection.in_transaction():
        await connected.connection.rollback()


def check_known(graph: RevisionGraph, heads: Sequence[str]) -> None:
    """Refuse version rows that no revision file defines.

    Raises:
        UnknownRevisionError: a head row names no revision.
    """
    unknown = [h for h in heads if h not in graph]
    if unknown:
        raise UnknownRevisionError(
            unknown[0],
            hint=(
                "the database's version table names it but no revision file defines it; "
                "restore the file, or 'whimbrel stamp --purge <rev>' to reset the table"
            ),
        )


def dialect_named(name: str) -> Dialect:
    """A SQLAlchemy dialect to compile for, by name (``postgresql``, ``mariadb``...).

    Raises:
        UsageError: no dialect has that name.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from whimbrel.errors import UsageError

    try:
        cls: Any = make_url(f"{name}://").get_dialect()
    except (ArgumentError, NoSuchModuleError) as exc:
        raise UsageError(
            f"unknown dialect {name!r}; use postgresql, mysql, mariadb or sqlite"
        ) from exc
    # Compiling needs no driver: the dialect's DBAPI is only imported to connect.
    dialect: Dialect = cls()
    return dialect


def version_of(dialect: Dialect) -> tuple[int, ...] | None:
    """The server version a connected dialect saw (integers only)."""
    info = getattr(dialect, "server_version_info", None)
    if not info:
        return None
    numbers = tuple(part for part in info if isinstance(part, int))
    return numbers or None
