"""A SQLite rebuild outside a transaction is atomic: a failed row copy changes nothing.

Outside the migration's transaction (``transactional = False``, ``op.autocommit_block()``)
the move-and-copy runs in a transaction of its own, so a row the new table refuses
leaves the original table, its rows and the version table as they were.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path
from typing import Literal

import pytest

from whimbrel import command
from whimbrel.config import Config
from whimbrel.errors import MigrationStepError

pytestmark = pytest.mark.asyncio

Form = Literal["transactional-false", "autocommit-block"]

R1 = '''
"""create t"""
from whimbrel import op

revision = "r1"
down_revision = None


def upgrade() -> None:
    op.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    op.execute("INSERT INTO t (id, n) VALUES (1, 5), (2, 50)")


def downgrade() -> None:
    op.execute("DROP TABLE t")
'''

BATCH = """
with op.batch_alter_table("t") as b:
    b.create_check_constraint("ck_n", "{condition}")
"""


def _r2(form: Form, condition: str) -> str:
    batch = BATCH.format(condition=condition)
    if form == "transactional-false":
        header, body = "transactional = False\n", textwrap.indent(batch, "    ")
    else:
        header = ""
        body = "    with op.autocommit_block():\n" + textwrap.indent(batch, "        ")
    return (
        '"""batch t"""\nfrom whimbrel import op\n\n'
        f'revision = "r2"\ndown_revision = "r1"\n{header}\n\n'
        f"def upgrade() -> None:\n{body}\n\n"
        "def downgrade() -> None:\n    pass\n"
    )


def _project(tmp_path: Path, form: Form, condition: str) -> tuple[Config, Path]:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "r1.py").write_text(R1)
    (versions / "r2.py").write_text(_r2(form, condition))
    db = tmp_path / "app.db"
    cfg = Config(
        script_location=tmp_path / "migrations",
        url=f"sqlite+aiosqlite:///{db}",
        config_file=None,
    )
    return cfg, db


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _tables(db: Path) -> list[str]:
    return [str(r[0]) for r in _query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]


def _heads(db: Path, cfg: Config) -> list[str]:
    return sorted(str(r[0]) for r in _query(db, f"SELECT version_num FROM {cfg.version_table}"))


FORMS = pytest.mark.parametrize("form", ["transactional-false", "autocommit-block"])


@FORMS
async def test_failed_copy_outside_a_transaction_leaves_the_table(
    tmp_path: Path, form: Form
) -> None:
    cfg, db = _project(tmp_path, form, "n > 10")
    await command.upgrade(cfg, "r1")

    with pytest.raises(MigrationStepError, match="CHECK constraint failed") as info:
        await command.upgrade(cfg, "heads")
    assert info.value.revision == "r2"

    assert _query(db, "SELECT id, n FROM t ORDER BY id") == [(1, 5), (2, 50)]
    assert not [name for name in _tables(db) if name.startswith("_whimbrel_old_")]
    assert "ck_n" not in str(_query(db, "SELECT sql FROM sqlite_master WHERE name = 't'"))
    assert _heads(db, cfg) == ["r1"]

    conn = sqlite3.connect(db)
    try:
        conn.execute("UPDATE t SET n = 15 WHERE id = 1")
        conn.commit()
    finally:
        conn.close()
    await command.upgrade(cfg, "heads")

    assert _query(db, "SELECT id, n FROM t ORDER BY id") == [(1, 15), (2, 50)]
    assert "CONSTRAINT ck_n CHECK" in str(
        _query(db, "SELECT sql FROM sqlite_master WHERE name = 't'")
    )
    assert _heads(db, cfg) == ["r2"]


@FORMS
async def test_passing_batch_outside_a_transaction_commits(tmp_path: Path, form: Form) -> None:
    cfg, db = _project(tmp_path, form, "n > 0")
    await command.upgrade(cfg, "heads")

    assert _query(db, "SELECT id, n FROM t ORDER BY id") == [(1, 5), (2, 50)]
    assert "CONSTRAINT ck_n CHECK" in str(
        _query(db, "SELECT sql FROM sqlite_master WHERE name = 't'")
    )
    assert not [name for name in _tables(db) if name.startswith("_whimbrel_old_")]
    assert _heads(db, cfg) == ["r2"]
    # Committed, not left in an open transaction: a second connection can write.
    conn = sqlite3.connect(db, timeout=0)
    try:
        conn.execute("INSERT INTO t (id, n) VALUES (3, 7)")
        conn.commit()
    finally:
        conn.close()


R2_OFFLINE = '''
"""batch t, offline"""
import sqlalchemy as sa
from whimbrel import op

revision = "r2"
down_revision = "r1"
transactional = False


def upgrade() -> None:
    t = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer),
    )
    with op.batch_alter_table("t", copy_from=t) as b:
        b.create_check_constraint("ck_n", "n > 10")


def downgrade() -> None:
    pass
'''


async def test_offline_rebuild_outside_a_transaction_is_held_by_a_savepoint(
    tmp_path: Path,
) -> None:
    cfg, db = _project(tmp_path, "transactional-false", "n > 10")
    (tmp_path / "migrations" / "versions" / "r2.py").write_text(R2_OFFLINE)
    await command.upgrade(cfg, "r1")
    result = await command.upgrade(cfg, "r1:heads", sql=True)
    assert "SAVEPOINT whimbrel_rebuild;" in result.sql
    assert "RELEASE whimbrel_rebuild;" in result.sql

    # As a runner that stops at the first error does (sqlite3 -bail): the open
    # transaction the savepoint began goes with the connection.
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            conn.executescript(result.sql)
    finally:
        conn.close()
    assert _query(db, "SELECT id, n FROM t ORDER BY id") == [(1, 5), (2, 50)]
    assert not [name for name in _tables(db) if name.startswith("_whimbrel_old_")]
    assert _heads(db, cfg) == ["r1"]
