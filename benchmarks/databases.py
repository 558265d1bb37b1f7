"""The benchmark databases: reset, snapshot and inspect SQLite files and PostgreSQL databases.

Everything here runs outside the timed region.  SQLite is a file, deleted to reset and
copied to snapshot; PostgreSQL databases are dropped and recreated with ``psql``
(snapshots are ``CREATE DATABASE ... TEMPLATE``).  :meth:`Database.state` reads back the
facts a run is checked on.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from benchmarks.harness import TOOLS, Argv, BenchmarkError

# Tables the tools keep for themselves; the checks leave them out.
BOOKKEEPING = frozenset({"alembic_version", "whimbrel_version", "whimbrel_history"})
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/wb_bench"
# Databases the suite drops and recreates must carry this prefix.
DATABASE_PREFIX = "wb_bench"


@dataclass(frozen=True, slots=True)
class SchemaState:
    """The facts checked after each run.  Bookkeeping tables are left out."""

    tables: frozenset[str]
    indexes: frozenset[str]
    """Indexes named ``ix_*`` (every index the revisions create, and no others)."""
    columns: int
    versions: frozenset[str]
    """The rows of the tool's version table; empty when the table does not exist."""


def state_from_rows(
    tables: Iterable[str],
    indexes: Iterable[str],
    column_tables: Iterable[str],
    versions: Iterable[str],
) -> SchemaState:
    """Build a state from raw catalogue rows; ``column_tables`` has one entry per column."""
    return SchemaState(
        frozenset(t for t in tables if t not in BOOKKEEPING and not t.startswith("sqlite_")),
        frozenset(i for i in indexes if i.startswith("ix_")),
        sum(1 for t in column_tables if t not in BOOKKEEPING),
        frozenset(versions),
    )


class Database(Protocol):
    """One benchmark database: reset, snapshot per tool, inspect."""

    @property
    def dialect(self) -> str: ...

    def reset(self) -> None:
        """Make the database exist and be empty."""

    def save(self, tool: str) -> None:
        """Keep a copy of the database as ``tool`` left it."""

    def restore(self, tool: str) -> None:
        """Replace the database by the copy :meth:`save` kept for ``tool``."""

    def drop(self) -> None:
        """Remove the database and every copy."""

    def state(self, version_table: str) -> SchemaState: ...


@dataclass(frozen=True, slots=True)
class SqliteDatabase:
    path: Path

    @property
    def dialect(self) -> str:
        return "sqlite"

    def _snapshot(self, tool: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{tool}.snapshot")

    def _files(self) -> list[Path]:
        return [self.path.with_name(self.path.name + suffix) for suffix in ("-journal", "-wal")]

    def reset(self) -> None:
        for path in (self.path, *self._files()):
            path.unlink(missing_ok=True)

    def save(self, tool: str) -> None:
        shutil.copyfile(self.path, self._snapshot(tool))

    def restore(self, tool: str) -> None:
        self.reset()
        shutil.copyfile(self._snapshot(tool), self.path)

    def drop(self) -> None:
        self.reset()
        for tool in TOOLS:
            self._snapshot(tool).unlink(missing_ok=True)

    def state(self, version_table: str) -> SchemaState:
        if not self.path.is_file():
            return state_from_rows((), (), (), ())
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            tables = [
                n for (n,) in db.execute("select name from sqlite_master where type='table'")
            ]
            indexes = [
                n for (n,) in db.execute("select name from sqlite_master where type='index'")
            ]
            columns = [
                t
                for (t,) in db.execute(
                    "select m.name from sqlite_master m join pragma_table_info(m.name) "
                    "where m.type = 'table'"
                )
            ]
            versions: list[str] = []
            if version_table in tables:
                versions = [v for (v,) in db.execute(f'select version_num from "{version_table}"')]
        return state_from_rows(tables, indexes, columns, versions)


@dataclass(frozen=True, slots=True)
class Postgres:
    """Where the PostgreSQL server is, and the database the suite may drop and recreate."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str | None = None
    database: str = "wb_bench"

    @classmethod
    def from_url(cls, url: str) -> Postgres:
        """Parse ``postgresql://user[:password]@host[:port]/database``.

        Raises:
            ValueError: Not such a URL, or the database name lacks the ``wb_bench``
                prefix (the suite drops that database over and over).
        """
        parts = urlsplit(url)
        if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
            raise ValueError(f"not a postgresql:// URL: {url!r}")
        default = cls()
        database = unquote(parts.path.lstrip("/")) or default.database
        if not database.startswith(DATABASE_PREFIX):
            raise ValueError(
                f"database {database!r} would be dropped and recreated for every run; "
                f"its name must start with {DATABASE_PREFIX!r}"
            )
        return cls(
            host=parts.hostname or default.host,
            port=parts.port or default.port,
            user=unquote(parts.username) if parts.username else default.user,
            password=unquote(parts.password) if parts.password else None,
            database=database,
        )

    def url(self, scheme: str = "postgresql+asyncpg") -> str:
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        return f"{scheme}://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    def psql_args(self, database: str | None = None) -> Argv:
        """Connection arguments for ``psql`` (the password goes in ``PGPASSWORD``)."""
        return (
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            self.database if database is None else database,
        )


# One query for the whole catalogue of the current schema: kind (t, i, c) and name, where
# a column row carries its table's name.
CATALOGUE_SQL = (
    "select 't', table_name::text from information_schema.tables"
    " where table_schema = current_schema() and table_type = 'BASE TABLE'"
    " union all select 'i', indexname::text from pg_indexes"
    " where schemaname = current_schema()"
    " union all select 'c', table_name::text from information_schema.columns"
    " where table_schema = current_schema()"
)


def parse_catalogue(rows: str) -> dict[str, list[str]]:
    """Split ``psql -At -F '\\t'`` output of :data:`CATALOGUE_SQL` by kind."""
    found: dict[str, list[str]] = {"t": [], "i": [], "c": []}
    for line in rows.splitlines():
        kind, tab, name = line.partition("\t")
        if not tab or kind not in found:
            raise BenchmarkError(f"unexpected catalogue row from psql: {line!r}")
        found[kind].append(name)
    return found


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class PostgresDatabase:
    """The benchmark database on a server, reset with ``DROP``/``CREATE DATABASE``."""

    server: Postgres
    psql: Path
    env: Mapping[str, str]

    @property
    def dialect(self) -> str:
        return "postgresql"

    def _snapshot(self, tool: str) -> str:
        return f"{self.server.database}_{tool}"

    def _admin(self, *statements: str) -> None:
        # One -c per statement: DROP/CREATE DATABASE cannot run inside a transaction.
        args: list[str] = []
        for statement in statements:
            args += ["-c", statement]
        self._psql("postgres", args)

    def _psql(self, database: str, args: Sequence[str]) -> str:
        cmd = [str(self.psql), *self.server.psql_args(database), *args]
        proc = subprocess.run(cmd, env=dict(self.env), capture_output=True, text=True)
        if proc.returncode != 0:
            raise BenchmarkError(f"psql failed ({' '.join(args)}):\n{proc.stderr.strip()}")
        return proc.stdout

    def reset(self) -> None:
        name = _ident(self.server.database)
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")

    def save(self, tool: str) -> None:
        snapshot = _ident(self._snapshot(tool))
        self._admin(
            f"DROP DATABASE IF EXISTS {snapshot} WITH (FORCE)",
            f"CREATE DATABASE {snapshot} TEMPLATE {_ident(self.server.database)}",
        )

    def restore(self, tool: str) -> None:
        name = _ident(self.server.database)
        self._admin(
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
            f"CREATE DATABASE {name} TEMPLATE {_ident(self._snapshot(tool))}",
        )

    def drop(self) -> None:
        names = [self.server.database, *(self._snapshot(tool) for tool in TOOLS)]
        self._admin(*(f"DROP DATABASE IF EXISTS {_ident(n)} WITH (FORCE)" for n in names))

    def state(self, version_table: str) -> SchemaState:
        found = parse_catalogue(
            self._psql(self.server.database, ["-A", "-t", "-F", "\t", "-c", CATALOGUE_SQL])
        )
        versions: list[str] = []
        if version_table in found["t"]:
            out = self._psql(
                self.server.database,
                ["-A", "-t", "-c", f"select version_num from {_ident(version_table)}"],
            )
            versions = [line for line in out.splitlines() if line]
        return state_from_rows(found["t"], found["i"], found["c"], versions)


def check_postgres(server: Postgres, psql: Path, env: Mapping[str, str]) -> None:
    """Fail early, with the server's answer, if PostgreSQL cannot be reached."""
    cmd = [str(psql), *server.psql_args("postgres"), "-c", "select 1"]
    proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchmarkError(
            f"cannot reach PostgreSQL at {server.url('postgresql')} (--postgres-url):\n"
            + proc.stderr.strip()
        )
