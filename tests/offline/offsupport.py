"""Projects, SQL clients and schema snapshots for the offline SQL tests."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from databases import (
    MARIADB_HOST,
    MARIADB_PORT,
    MARIADB_USER,
    PG_HOST,
    PG_PORT,
    PG_USER,
    TestDatabase,
    provision,
)
from whimbrel.config import Config

# A URL that reaches nothing: port 1 of the loopback refuses every connection.
UNREACHABLE = {
    "sqlite": "sqlite+aiosqlite:////nonexistent-dir/never.db",
    "postgresql": "postgresql+asyncpg://nobody:secret@127.0.0.1:1/nothing",
    "mariadb": "mysql+asyncmy://nobody:secret@127.0.0.1:1/nothing",
}

R1, R2, R3, R4, R5 = "a1000001", "b2000002", "c3000003", "d4000004", "e5000005"

HEADER = '''"""{message}

Revision ID: {rev}
"""
import sqlalchemy as sa

from whimbrel.operations import Operations

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None
transactional = {transactional!r}
'''

# Five revisions using most of op.*: tables with a foreign key, an index and (on
# PostgreSQL) an enum type; a new column and unique index; rows through bulk_insert,
# text and inline literals; renames and drops; a step outside a transaction
# (CREATE INDEX CONCURRENTLY on PostgreSQL) and an autocommit block.
BODIES: dict[str, tuple[str, str | None, str, bool]] = {
    R1: (
        "create users and posts",
        None,
        """
        def upgrade(op: Operations) -> None:
            op.create_table(
                "users",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("name", sa.String(50), nullable=False),
                sa.Column("nickname", sa.String(30)),
                sa.Column(
                    "status",
                    sa.Enum("active", "banned", name="user_status"),
                    nullable=False,
                    server_default="active",
                ),
            )
            op.create_table(
                "posts",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column(
                    "user_id",
                    sa.Integer,
                    sa.ForeignKey("users.id", name="fk_posts_user"),
                    nullable=False,
                ),
                sa.Column("title", sa.String(200), server_default="untitled"),
            )
            op.create_index("ix_posts_user_id", "posts", ["user_id"])
            op.create_table("legacy", sa.Column("id", sa.Integer, primary_key=True))


        def downgrade(op: Operations) -> None:
            op.drop_table("legacy")
            op.drop_index("ix_posts_user_id", table_name="posts")
            op.drop_table("posts")
            op.drop_table("users")
        """,
        True,
    ),
    R2: (
        "add email and rows",
        R1,
        """
        USERS = sa.table(
            "users",
            sa.column("id", sa.Integer),
            sa.column("name", sa.String),
            sa.column("email", sa.String),
        )


        def upgrade(op: Operations) -> None:
            op.add_column("users", sa.Column("email", sa.String(120)))
            op.create_index("ix_users_email", "users", ["email"], unique=True)
            op.bulk_insert(
                USERS,
                [
                    {"id": 1, "name": "ann", "email": "ann@example.com"},
                    {"id": 2, "name": "O'Brien", "email": None},
                    {"id": 3, "name": "semi;colon", "email": "c@example.com"},
                ],
            )
            op.execute("UPDATE users SET nickname = 'bobby' WHERE id = 2")
            op.execute(
                USERS.update()
                .where(USERS.c.id == op.inline_literal(1))
                .values(name=op.inline_literal("anne"))
            )


        def downgrade(op: Operations) -> None:
            op.execute("DELETE FROM users")
            op.drop_index("ix_users_email", table_name="users")
            op.drop_column("users", "email")
        """,
        True,
    ),
    R3: (
        "rename and drop",
        R2,
        """
        def upgrade(op: Operations) -> None:
            op.rename_table("posts", "articles")
            op.alter_column(
                "users",
                "name",
                new_column_name="full_name",
                existing_type=sa.String(50),
                existing_nullable=False,
                existing_server_default=None,
            )
            op.drop_column("users", "nickname")
            op.drop_table("legacy")


        def downgrade(op: Operations) -> None:
            op.create_table("legacy", sa.Column("id", sa.Integer, primary_key=True))
            op.add_column("users", sa.Column("nickname", sa.String(30)))
            op.alter_column(
                "users",
                "full_name",
                new_column_name="name",
                existing_type=sa.String(50),
                existing_nullable=False,
                existing_server_default=None,
            )
            op.rename_table("articles", "posts")
        """,
        True,
    ),
    R4: (
        "index outside a transaction",
        R3,
        """
        def upgrade(op: Operations) -> None:
            op.create_index(
                "ix_articles_title", "articles", ["title"], postgresql_concurrently=True
            )


        def downgrade(op: Operations) -> None:
            op.drop_index(
                "ix_articles_title", table_name="articles", postgresql_concurrently=True
            )
        """,
        False,
    ),
    R5: (
        "autocommit block",
        R4,
        """
        def upgrade(op: Operations) -> None:
            op.add_column("articles", sa.Column("views", sa.Integer, server_default="0"))
            with op.autocommit_block():
                if op.get_bind().dialect.name == "postgresql":
                    op.add_enum_value("user_status", "gone")
                op.create_index("ix_articles_views", "articles", ["views"])


        def downgrade(op: Operations) -> None:
            op.drop_index("ix_articles_views", table_name="articles")
            op.drop_column("articles", "views")
        """,
        True,
    ),
}


def write_revision(
    versions: Path,
    rev: str,
    message: str,
    down: str | None,
    body: str,
    *,
    transactional: bool = True,
) -> Path:
    """Write one revision file; ``body`` is dedented."""
    versions.mkdir(parents=True, exist_ok=True)
    path = versions / f"{rev}.py"
    header = HEADER.format(message=message, rev=rev, down=down, transactional=transactional)
    path.write_text(header + "\n\n" + textwrap.dedent(body).strip() + "\n", encoding="utf-8")
    return path


def project(root: Path, url: str, revisions: Mapping[str, Any] = BODIES, **config: Any) -> Config:
    """A project in ``root`` with the given revisions (the five above by default)."""
    versions = root / "migrations" / "versions"
    for rev, (message, down, body, transactional) in revisions.items():
        write_revision(versions, rev, message, down, body, transactional=transactional)
    return Config(script_location=root / "migrations", url=url, config_file=None, **config)


def run_client(db: TestDatabase, script: Path | IO[bytes]) -> subprocess.CompletedProcess[str]:
    """Run a SQL script (a file, or a pipe) through the database's own client."""
    if db.dialect == "sqlite":
        path = db.url.removeprefix("sqlite+aiosqlite:///")
        argv = ["sqlite3", "-bail", path]
    elif db.dialect == "postgresql":
        argv = [
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            PG_HOST,
            "-p",
            str(PG_PORT),
            "-U",
            PG_USER,
            "-d",
            db.name,
            "-f",
            "-",
        ]
    else:
        argv = [
            "mariadb",
            "-h",
            MARIADB_HOST,
            "-P",
            str(MARIADB_PORT),
            "-u",
            MARIADB_USER,
            db.name,
        ]
    if not isinstance(script, Path):
        return subprocess.run(
            argv, stdin=script, capture_output=True, text=True, timeout=60, check=False
        )
    with script.open(encoding="utf-8") as stdin:
        return subprocess.run(
            argv, stdin=stdin, capture_output=True, text=True, timeout=60, check=False
        )


def pipe_into_client(
    db: TestDatabase, argv: list[str], env: Mapping[str, str]
) -> tuple[int, bytes, subprocess.CompletedProcess[str]]:
    """``argv | client``: a real pipe; the producer's status and stderr, the client's run."""
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env)
    ) as producer:
        assert producer.stdout is not None and producer.stderr is not None
        consumer = run_client(db, producer.stdout)
        errors = producer.stderr.read()
        status = producer.wait(timeout=60)
    return status, errors, consumer


async def apply_sql(db: TestDatabase, sql: str, path: Path) -> None:
    """Write ``sql`` to ``path`` and run it through the client; fail on any error."""
    await anyio.Path(path).write_text(sql, encoding="utf-8")
    done = await anyio.to_thread.run_sync(run_client, db, path)
    assert done.returncode == 0, f"{db.dialect} client failed:\n{done.stderr}\n---\n{sql}"
    assert "ERROR" not in done.stderr, done.stderr


def _schema(sync: Any) -> dict[str, Any]:
    found = inspect(sync)
    out: dict[str, Any] = {}
    for name in sorted(found.get_table_names()):
        out[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], _default(c.get("default")))
                for c in found.get_columns(name)
            ],
            "pk": sorted(found.get_pk_constraint(name)["constrained_columns"]),
            "fks": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in found.get_foreign_keys(name)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in found.get_indexes(name)
            ),
            "uniques": sorted(
                (uc["name"], tuple(uc["column_names"]))
                for uc in found.get_unique_constraints(name)
            ),
        }
    if sync.dialect.name == "postgresql":
        out["__enums__"] = sorted((e["name"], tuple(e["labels"])) for e in found.get_enums())
    return out


def _default(value: Any) -> str | None:
    return None if value is None else str(value)


async def snapshot(url: str, config: Config) -> dict[str, Any]:
    """Schema (every table, Whimbrel's too), version rows, history rows, user rows."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:

            def read(sync: Any) -> dict[str, Any]:
                schema = _schema(sync)
                version = text(f"SELECT version_num FROM {config.version_table}")
                heads = sorted(r[0] for r in sync.execute(version))
                history = [
                    tuple(r)
                    for r in sync.execute(
                        text(
                            "SELECT revision, direction, heads_before, heads_after, checksum, "
                            f"status FROM {config.history_table} ORDER BY id"
                        )
                    )
                ]
                users = (
                    [tuple(r) for r in sync.execute(text("SELECT * FROM users ORDER BY id"))]
                    if "users" in schema
                    else None
                )
                return {"schema": schema, "heads": heads, "history": history, "users": users}

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Pair:
    """Two fresh databases of one dialect: one migrated online, one by offline SQL."""

    online: TestDatabase
    offline: TestDatabase
    tmp: Path

    def configs(self, revisions: Mapping[str, Any] = BODIES) -> tuple[Config, Config, Config]:
        """Online config, offline-target config (to read it), and an unreachable one."""
        root = self.tmp / "project"
        (root / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
        return (
            project(root, self.online.url, revisions),
            project(root, self.offline.url, revisions),
            project(root, UNREACHABLE[self.online.dialect], revisions),
        )


async def pair_of(dialect: str, tmp_path: Path) -> AsyncIterator[Pair]:
    """Provision two databases of ``dialect`` for one test, and drop both after it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = provision(dialect, tmp_path / "a")
    second = provision(dialect, tmp_path / "b")
    online = await first.__anext__()
    try:
        offline = await second.__anext__()
        try:
            yield Pair(online, offline, tmp_path)
        finally:
            async for _ in second:
                pass
    finally:
        async for _ in first:
            pass
