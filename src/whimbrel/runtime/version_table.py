"""The version table (one row per current head) and the append-only history table.

The version table has Alembic's shape (``version_num``, primary key ``<name>_pkc``), so
``version_table = "alembic_version"`` adopts an Alembic database as it is. Everything
here is synchronous and runs on the step's ``Connection`` inside ``run_sync``.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    update,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.base import Executable

__all__ = ("HistoryRecord", "VersionTables")

_REV_LENGTH = 32
_HEADS_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One row of the history table, waiting to be written."""

    revision: str | None
    direction: str
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    applied_at: datetime
    duration_ms: float
    checksum: str | None
    status: str = "ok"
    error: str | None = None


def _who() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return user[:128], socket.gethostname()[:255]


class VersionTables:
    """The version and history tables of one project on one database."""

    def __init__(
        self,
        version_table: str,
        history_table: str,
        schema: str | None = None,
        *,
        dialect: str = "",
    ) -> None:
        metadata = MetaData()
        self.schema = schema
        # MySQL and MariaDB ignore primary key names, and warn when given one.
        pk_name = None if dialect in ("mysql", "mariadb") else f"{version_table}_pkc"
        self.version = Table(
            version_table,
            metadata,
            Column("version_num", String(_REV_LENGTH), nullable=False),
            PrimaryKeyConstraint("version_num", name=pk_name),
            schema=schema,
        )
        self.history = Table(
            history_table,
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("revision", String(_REV_LENGTH)),
            Column("direction", String(8), nullable=False),
            Column("heads_before", String(_HEADS_LENGTH), nullable=False),
            Column("heads_after", String(_HEADS_LENGTH), nullable=False),
            Column("applied_at", DateTime(timezone=True), nullable=False),
            Column("duration_ms", Float, nullable=False),
            Column("checksum", String(64)),
            Column("run_by", String(128), nullable=False),
            Column("host", String(255), nullable=False),
            Column("status", String(16), nullable=False),
            Column("error", Text),
            schema=schema,
        )
        self._user_host = _who()

    def exists(self, conn: Connection) -> bool:
        """Whether the version table exists (a read-only check)."""
        return inspect(conn).has_table(self.version.name, schema=self.schema)

    def read(self, conn: Connection) -> tuple[str, ...]:
        """The head rows; empty when the table does not exist yet."""
        if not self.exists(conn):
            return ()
        return self.read_existing(conn)

    def read_existing(self, conn: Connection) -> tuple[str, ...]:
        """The head rows of a version table known to exist."""
        rows = conn.execute(select(self.version.c.version_num)).scalars().all()
        return tuple(rows)

    def ensure(self, conn: Connection, *, known_missing: Collection[str] = ()) -> bool:
        """Create whichever of the two tables is missing; return whether any was.

        ``known_missing`` names tables the caller found missing in this transaction
        (under the migration lock): they are created without asking again.
        """
        found = inspect(conn)
        created = False
        for table in (self.version, self.history):
            if table.name in known_missing or not found.has_table(table.name, schema=self.schema):
                table.create(conn)
                created = True
        return created

    def write_heads(self, conn: Connection, before: Sequence[str], after: Sequence[str]) -> None:
        """Change the head rows from ``before`` to ``after`` with the fewest statements."""
        for statement in self.head_statements(before, after):
            conn.execute(statement)

    def head_statements(self, before: Sequence[str], after: Sequence[str]) -> list[Executable]:
        """The statements changing the head rows from ``before`` to ``after``.

        Values are inline, so the statements also compile with literal values (offline
        SQL): an ``UPDATE`` when one head replaces another, else ``DELETE``/``INSERT``.
        """
        gone = [h for h in before if h not in after]
        new = [h for h in after if h not in before]
        col = self.version.c.version_num
        if len(gone) == 1 and len(new) == 1:
            return [update(self.version).where(col == gone[0]).values(version_num=new[0])]
        statements: list[Executable] = []
        if gone:
            statements.append(delete(self.version).where(col.in_(gone)))
        if new:
            statements.append(insert(self.version).values([{"version_num": h} for h in new]))
        return statements

    def create_statements(self) -> list[Executable]:
        """``CREATE TABLE IF NOT EXISTS`` of the version table, then of the history table.

        ``IF NOT EXISTS``: a database downgraded to base keeps both tables, empty.
        """
        from sqlalchemy.schema import CreateTable

        return [
            CreateTable(self.version, if_not_exists=True),
            CreateTable(self.history, if_not_exists=True),
        ]

    def offline_record(self, record: HistoryRecord) -> Executable:
        """The ``INSERT`` of a history row written by offline SQL.

        The row is stamped when the script runs (``CURRENT_TIMESTAMP``), with a
        duration of 0, by the user who generated the script, and ``host`` says it
        came from offline SQL.
        """
        from sqlalchemy import func

        user, host = self._user_host
        # inline(): the new id is not read back (no RETURNING on PostgreSQL).
        return (
            insert(self.history)
            .inline()
            .values(
                revision=record.revision,
                direction=record.direction,
                heads_before=" ".join(record.heads_before),
                heads_after=" ".join(record.heads_after),
                applied_at=func.current_timestamp(),
                duration_ms=0.0,
                checksum=record.checksum,
                run_by=user,
                host=f"{host} (offline SQL)"[:255],
                status=record.status,
                error=record.error,
            )
        )

    def record(self, conn: Connection, records: Sequence[HistoryRecord]) -> None:
        """Append history rows (one statement for any number of rows)."""
        if not records:
            return
        user, host = self._user_host
        conn.execute(
            insert(self.history),
            [
                {
                    "revision": r.revision,
                    "direction": r.direction,
                    "heads_before": " ".join(r.heads_before),
                    "heads_after": " ".join(r.heads_after),
                    "applied_at": r.applied_at,
                    "duration_ms": r.duration_ms,
                    "checksum": r.checksum,
                    "run_by": user,
                    "host": host,
                    "status": r.status,
                    "error": r.error,
                }
                for r in records
            ],
        )


def now() -> datetime:
    """The current time in UTC (history timestamps)."""
    return datetime.now(UTC)
