"""The ``whimbrel_migrator`` helper: migrate step by step, with data in between.

A data migration is tested by walking the database to the revision before it,
inserting rows as they looked then, upgrading, and asserting what became of them::

    async def test_totals(whimbrel_migrator):
        await whimbrel_migrator.upgrade("5f2c8b0d6e13")
        await whimbrel_migrator.execute("INSERT INTO ...", {...})
        await whimbrel_migrator.upgrade("6a9e3c1f8b24")
        assert await whimbrel_migrator.fetch("SELECT total_cents FROM orders") == [(500,)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from whimbrel import command
from whimbrel.testing.schema import SchemaSnapshot, ShapeCache, outline, snapshot

if TYPE_CHECKING:
    from sqlalchemy.engine import Row
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.sql import Executable

    from whimbrel.config import Config
    from whimbrel.results import MigrationResult
    from whimbrel.script.graph import RevisionGraph

__all__ = ("Migrator",)


class Migrator:
    """Migrate one database to any revision and read or write its rows in between.

    Every method opens its own connection and commits, so each call sees the effect
    of the previous one, as separate deployments would.

    Args:
        config: the project's configuration.
        engine: the database to migrate (the fixtures give a fresh one per test).
    """

    def __init__(self, config: Config, engine: AsyncEngine) -> None:
        self.config = config
        self.engine = engine
        # Shapes keyed by their exact DDL: a table unchanged since the last snapshot is
        # not reflected again, which keeps a snapshot per step cheap on SQLite.
        self._shapes = ShapeCache()

    # -- migrating ---------------------------------------------------------------------

    async def upgrade(self, revision: str = "heads") -> MigrationResult:
        """Upgrade to ``revision`` (an id, a prefix, ``heads``, ``+1``...).

        Raises:
            MigrationStepError: a revision failed.
            RevisionError: the target cannot be resolved.
        """
        return await command.upgrade(self.config, revision, engine=self.engine)

    async def downgrade(self, revision: str) -> MigrationResult:
        """Downgrade to ``revision`` (an id, ``-1``, ``base``...).

        Raises:
            MigrationStepError: a revision failed.
            RangeError: the target is not below the current revisions.
            RevisionError: the target cannot be resolved.
        """
        return await command.downgrade(self.config, revision, engine=self.engine)

    async def stamp(self, revision: str | Sequence[str]) -> MigrationResult:
        """Set the version table to ``revision`` without running anything.

        Raises:
            RevisionError: the target cannot be resolved.
        """
        return await command.stamp(self.config, revision, engine=self.engine)

    async def current(self) -> tuple[str, ...]:
        """The revisions the database is at (``()`` at base).

        Raises:
            DatabaseError: the database cannot be reached.
        """
        return (await command.current(self.config, engine=self.engine)).heads

    async def graph(self) -> RevisionGraph:
        """The project's revision graph.

        Raises:
            RevisionError: the revision files do not form a valid graph.
            ScriptError: a revision file cannot be read.
        """
        return await anyio.to_thread.run_sync(command.script_directory(self.config).graph)

    async def revisions(self) -> tuple[str, ...]:
        """Every revision id in the order ``upgrade heads`` runs them from base.

        Raises:
            RevisionError: the revision files do not form a valid graph.
            ScriptError: a revision file cannot be read.
        """
        graph = await self.graph()
        return graph.plan_upgrade((), "heads").revisions

    # -- data --------------------------------------------------------------------------

    async def execute(
        self,
        statement: str | Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Run one statement in its own transaction and commit it.

        Args:
            statement: SQL text (with ``:name`` placeholders) or a SQLAlchemy statement.
            params: one mapping of parameters, or a sequence of mappings to run the
                statement once for each (``INSERT`` many rows).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the statement.
        """
        async with self.engine.begin() as conn:
            await conn.execute(_statement(statement), params)

    async def fetch(
        self,
        statement: str | Executable,
        params: Mapping[str, Any] | None = None,
    ) -> list[Row[Any]]:
        """Run a query and return every row (rows compare equal to tuples).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the query.
        """
        async with self.engine.connect() as conn:
            result = await conn.execute(_statement(statement), params)
            return list(result.all())

    async def scalar(
        self,
        statement: str | Executable,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run a query and return the first column of its first row (``None`` if none).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the query.
        """
        async with self.engine.connect() as conn:
            return await conn.scalar(_statement(statement), params)

    # -- schema ------------------------------------------------------------------------

    async def snapshot(self) -> SchemaSnapshot:
        """Reflect the schema, leaving out Whimbrel's version and history tables.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: reflection failed.
        """
        async with self.engine.connect() as conn:
            return await snapshot(conn, exclude=self.bookkeeping_tables, cache=self._shapes)

    async def outline(self) -> SchemaSnapshot:
        """The names of the tables and other objects, as :meth:`snapshot` without shapes.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: reflection failed.
        """
        async with self.engine.connect() as conn:
            return await outline(conn, exclude=self.bookkeeping_tables)

    async def table_names(self) -> set[str]:
        """The tables of the database, without Whimbrel's version and history tables.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: reflection failed.
        """
        return set((await self.outline()).table_names)

    @property
    def bookkeeping_tables(self) -> frozenset[str]:
        """The version and history tables, which the schema checks leave out."""
        return frozenset((self.config.version_table, self.config.history_table))


def _statement(statement: str | Executable) -> Executable:
    if isinstance(statement, str):
        from sqlalchemy import text

        return text(statement)
    return statement
