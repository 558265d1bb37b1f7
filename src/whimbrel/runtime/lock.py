"""The migration lock: one writer per database and version table at a time.

Every command that writes takes it before reading the heads, so a replica that waited
finds the work done and returns quietly.

* PostgreSQL: an advisory lock whose key derives from the database, the version
  table's schema and name (two projects in one cluster do not block each other). On
  our own connection it is a session lock, held across the commits of a run (a
  ``transactional = False`` step included) and released explicitly; inside a caller's
  transaction it is a transaction lock, released when the caller ends it.
* MariaDB/MySQL: ``GET_LOCK`` / ``RELEASE_LOCK`` on the migration connection.
* SQLite: an exclusive ``flock`` on a lock file beside the database file, because a run
  may span several transactions; each transaction also starts ``BEGIN IMMEDIATE``.

Waiting is bounded by ``migration_lock_timeout``; the error names who holds the lock
where the database can tell.
"""

from __future__ import annotations

import hashlib
import os
import time
import weakref
from typing import TYPE_CHECKING, Any

import anyio

from whimbrel.errors import LockTimeoutError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ("MigrationLock", "lock_key")

_POLL_START = 0.02
_POLL_MAX = 0.5


# The database each engine connects to (PostgreSQL's current_database()), by engine.
_DATABASE_NAMES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def lock_key(database: str, schema: str | None, table: str) -> int:
    """A signed 64-bit advisory-lock key for one project's version table."""
    digest = hashlib.sha256(f"whimbrel\0{database}\0{schema or ''}\0{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class MigrationLock:
    """The lock of one run on one connection.

    Args:
        connection: the connection the run migrates on.
        table: the version table's name.
        schema: the version table's schema.
        timeout: seconds to wait before giving up.
        shared: the run is inside a caller's transaction.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        *,
        table: str,
        schema: str | None,
        timeout: float,
        shared: bool,
    ) -> None:
        self._conn = connection
        self._table = table
        self._schema = schema
        self._timeout = timeout
        self._shared = shared
        self._dialect = connection.dialect.name
        self._held = False
        self._file: int | None = None
        self._name = ""
        self._key = 0

    async def acquire(self) -> None:
        """Wait for the lock (bounded).

        Raises:
            LockTimeoutError: another run held it for longer than the timeout.
        """
        if self._dialect == "postgresql":
            engine = self._conn.sync_engine
            database = _DATABASE_NAMES.get(engine)
            if database is None:
                # Asked once per engine: a fan-out over 200 tenant schemas shares one.
                database = str(await self._scalar("SELECT current_database()"))
                _DATABASE_NAMES[engine] = database
            self._key = lock_key(database, self._schema, self._table)
            fn = "pg_try_advisory_xact_lock" if self._shared else "pg_try_advisory_lock"
            await self._poll(f"SELECT {fn}({self._key})", self._pg_holder)
        elif self._dialect in ("mysql", "mariadb"):
            database = await self._scalar("SELECT DATABASE()")
            raw = f"whimbrel:{database}:{self._schema or ''}:{self._table}"
            # Lock names are limited to 64 characters.
            self._name = (
                raw
                if len(raw) <= 64
                else "whimbrel:" + hashlib.sha256(raw.encode()).hexdigest()[:40]
            )
            await self._poll(f"SELECT GET_LOCK('{self._name}', 0)", self._mysql_holder)
        elif self._dialect == "sqlite":
            await self._sqlite_acquire()
        self._held = True

    async def release(self) -> None:
        """Release the lock (a no-op when it is not held); safe on every exit path."""
        if not self._held:
            return
        self._held = False
        with anyio.CancelScope(shield=True):
            if self._dialect == "postgresql" and not self._shared:
                await self._scalar(f"SELECT pg_advisory_unlock({self._key})", commit=True)
            elif self._dialect in ("mysql", "mariadb"):
                await self._scalar(f"SELECT RELEASE_LOCK('{self._name}')", commit=True)
            elif self._file is not None:
                import fcntl

                fcntl.flock(self._file, fcntl.LOCK_UN)
                os.close(self._file)
                self._file = None

    async def _scalar(self, sql: str, *, commit: bool = False) -> Any:
        from sqlalchemy import text

        began = not self._conn.in_transaction()
        value = (await self._conn.execute(text(sql))).scalar()
        # Lock statements must not leave a transaction of ours open (idle in
        # transaction while we wait, or a snapshot older than the lock).
        if began and not self._shared and (commit or self._conn.in_transaction()):
            await self._conn.commit()
        return value

    async def _poll(self, sql: str, holder: Any) -> None:
        deadline = time.monotonic() + self._timeout
        delay = _POLL_START
        while True:
            if await self._scalar(sql) == 1:
                return
            if time.monotonic() >= deadline:
                who = await holder()
                raise LockTimeoutError(
                    f"another migration holds the lock on {self._table!r}{who}; waited "
                    f"{self._timeout:g} s; retry later, or raise migration_lock_timeout",
                    holder=who.strip(" ;") or None,
                )
            await anyio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)

    async def _pg_holder(self) -> str:
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF
        row = (
            await self._conn.execute(
                _text(
                    "SELECT a.pid, a.usename, a.application_name, a.client_addr, "
                    "a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    f"AND l.classid = {unsigned >> 32} AND l.objid = {unsigned & 0xFFFFFFFF}"
                )
            )
        ).first()
        if self._conn.in_transaction() and not self._shared:
            await self._conn.commit()
        if row is None:
            return ""
        pid, user, app, addr, since = row
        where = f" from {addr}" if addr else ""
        return f" (pid {pid}, user {user}{where}, application {app or '-'}, since {since})"

    async def _mysql_holder(self) -> str:
        owner = await self._scalar(f"SELECT IS_USED_LOCK('{self._name}')")
        if owner is None:
            return ""
        row = (
            await self._conn.execute(
                _text(
                    "SELECT USER, HOST FROM information_schema.PROCESSLIST "
                    f"WHERE ID = {int(owner)}"
                )
            )
        ).first()
        if self._conn.in_transaction() and not self._shared:
            await self._conn.commit()
        if row is None:
            return f" (connection {owner})"
        return f" (connection {owner}, user {row[0]}@{row[1]})"

    async def _sqlite_acquire(self) -> None:
        import fcntl

        database = self._conn.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return  # a private database: nobody else can migrate it
        path = _lock_path(database)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self._timeout
        delay = _POLL_START
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                    os.close(fd)
                    raise LockTimeoutError(
                        f"another migration holds the lock file {path}"
                        f"{f' ({holder})' if holder else ''}; waited {self._timeout:g} s; "
                        "retry later, or raise migration_lock_timeout",
                        holder=holder or None,
                    ) from None
                await anyio.sleep(delay)
                delay = min(delay * 2, _POLL_MAX)
                continue
            break
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename}".encode(), 0)
        self._file = fd


def _lock_path(database: str) -> str:
    """The lock file beside a SQLite database file."""
    return os.path.abspath(database) + ".whimbrel-lock"


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)
