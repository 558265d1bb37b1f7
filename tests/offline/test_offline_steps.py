"""What offline SQL writes for each kind of step, without any database.

Steps needing a live connection become a marked comment and a warning; transactions
follow the dialect; literal values; bad input is one clear error.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from offsupport import UNREACHABLE, project

from whimbrel import command
from whimbrel.config import Config
from whimbrel.errors import OfflineSQLError, OfflineSQLWarning, RangeError
from whimbrel.runtime.offline import LIVE_CONNECTION_MARK

pytestmark = pytest.mark.asyncio

MARK = f"-- {LIVE_CONNECTION_MARK}"


def one(body: str, *, transactional: bool = True, message: str = "step") -> dict[str, object]:
    return {"f1000001": (message, None, body, transactional)}


def two(first: str, second: str, *, second_transactional: bool = True) -> dict[str, object]:
    return {
        "f1000001": ("first", None, first, True),
        "f2000002": ("second", "f1000001", second, second_transactional),
    }


TABLE = """
def upgrade(op: Operations) -> None:
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))


def downgrade(op: Operations) -> None:
    op.drop_table("t")
"""


def cfg(
    tmp_path: Path, revisions: dict[str, object], dialect: str = "sqlite", **kw: object
) -> Config:
    return project(tmp_path, UNREACHABLE[dialect], revisions, **kw)


# ------------------------------------------------------------- live connection needed


async def test_get_bind_data_work_is_a_marked_comment_and_a_warning(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))
        rows = op.get_bind().execute(sa.text("SELECT id FROM t")).all()
        for (row_id,) in rows:
            op.execute(f"UPDATE t SET id = {row_id}")
        op.create_index("ix_never", "t", ["id"])


    def downgrade(op: Operations) -> None:
        op.drop_table("t")
    """
    config = cfg(tmp_path, one(body, message="backfill"))
    with pytest.warns(OfflineSQLWarning, match=r"op\.get_bind\(\)\.execute needs a live"):
        result = await command.upgrade(config, "heads", sql=True)
    sql = result.sql
    # What came before the bind is kept; the rest of upgrade() is not there.
    assert "CREATE TABLE t" in sql
    assert "ix_never" not in sql
    assert (
        sql.index("CREATE TABLE t") < sql.index(MARK) < sql.index("INSERT INTO whimbrel_version")
    )
    comment = sql[sql.index(MARK) :].split("\n\n")[0]
    assert "upgrade of f1000001 (backfill)" in comment
    source = (tmp_path / "migrations" / "versions" / "f1000001.py").read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "get_bind" in text)
    assert len(result.notes) == 1
    assert "op.get_bind().execute" in result.notes[0]
    assert f"the rest of its upgrade() from line {line} of f1000001.py" in result.notes[0]
    # The version row still moves on, as the comment says.
    assert "INSERT INTO whimbrel_version (version_num) VALUES ('f1000001');" in sql


async def test_get_bind_dialect_alone_needs_no_connection(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        if op.get_bind().dialect.name == "postgresql":
            op.execute("SELECT 'pg'")
        else:
            op.execute("SELECT 'other'")


    def downgrade(op: Operations) -> None:
        pass
    """
    pg = await command.upgrade(cfg(tmp_path / "a", one(body), "postgresql"), "heads", sql=True)
    lite = await command.upgrade(cfg(tmp_path / "b", one(body), "sqlite"), "heads", sql=True)
    assert "SELECT 'pg';" in pg.sql and "'other'" not in pg.sql
    assert "SELECT 'other';" in lite.sql and "'pg'" not in lite.sql
    assert pg.notes == lite.notes == ()


async def test_run_async_is_a_marked_comment(tmp_path: Path) -> None:
    body = """
    async def fetch(conn):
        return (await conn.execute(sa.text("SELECT 1"))).scalar()


    def upgrade(op: Operations) -> None:
        op.run_async(fetch)


    def downgrade(op: Operations) -> None:
        pass
    """
    with pytest.warns(OfflineSQLWarning, match=r"op\.run_async\(\) needs a live"):
        result = await command.upgrade(cfg(tmp_path, one(body)), "heads", sql=True)
    assert MARK in result.sql
    assert "op.run_async()" in result.notes[0]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
async def test_async_data_migration_is_left_out_whole(tmp_path: Path, dialect: str) -> None:
    body = """
    async def upgrade(op) -> None:
        await op.execute("UPDATE t SET id = id + 1")


    async def downgrade(op) -> None:
        pass
    """
    revisions = two(TABLE, body)
    with pytest.warns(OfflineSQLWarning, match=r"'async def' and runs only on a live"):
        result = await command.upgrade(cfg(tmp_path, revisions, dialect), "heads", sql=True)
    assert "UPDATE t SET" not in result.sql
    second = result.sql[result.sql.index("-- Running upgrade f1000001 -> f2000002") :]
    assert second.index(MARK) < second.index("UPDATE whimbrel_version")
    assert "it is not in this script" in second
    assert result.revisions == ("f1000001", "f2000002")
    assert result.heads_after == ("f2000002",)
    assert len(result.notes) == 1 and "upgrade of f2000002 (second)" in result.notes[0]


async def test_sqlite_batch_rebuild_without_copy_from_needs_the_database(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        with op.batch_alter_table("t") as batch_op:
            batch_op.add_column(sa.Column("name", sa.String(20)))
            batch_op.alter_column("id", existing_type=sa.Integer, type_=sa.BigInteger)


    def downgrade(op: Operations) -> None:
        pass
    """
    with pytest.warns(OfflineSQLWarning, match="pass copy_from="):
        result = await command.upgrade(cfg(tmp_path, two(TABLE, body)), "heads", sql=True)
    assert MARK in result.sql
    assert "batch_alter_table must rebuild table 't'" in result.notes[0]
    # The native ADD COLUMN before the rebuild is written.
    assert "ALTER TABLE t ADD COLUMN name VARCHAR(20);" in result.sql


async def test_mysql_alter_column_without_existing_details_needs_the_database(
    tmp_path: Path,
) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.alter_column("t", "id", type_=sa.BigInteger)


    def downgrade(op: Operations) -> None:
        pass
    """
    with pytest.warns(OfflineSQLWarning, match="existing_nullable=, existing_server_default="):
        result = await command.upgrade(
            cfg(tmp_path, two(TABLE, body), "mariadb"), "heads", sql=True
        )
    assert "ALTER TABLE t MODIFY" not in result.sql
    assert MARK in result.sql


async def test_mysql_alter_column_with_existing_details_is_written(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.alter_column(
            "t", "id", type_=sa.BigInteger, existing_nullable=False,
            existing_server_default=None, existing_autoincrement=True,
        )
        op.alter_column("t", "id", new_column_name="ident")


    def downgrade(op: Operations) -> None:
        pass
    """
    result = await command.upgrade(cfg(tmp_path, two(TABLE, body), "mariadb"), "heads", sql=True)
    assert "ALTER TABLE t MODIFY COLUMN id BIGINT NOT NULL AUTO_INCREMENT;" in result.sql
    assert "ALTER TABLE t RENAME COLUMN id TO ident;" in result.sql
    assert result.notes == ()


# ------------------------------------------------------------------- transactions


def statements(sql: str) -> list[str]:
    """The statements of a script, comments dropped, in order."""
    chunks = [c.strip() for c in sql.split(";\n")]
    return [
        "\n".join(line for line in c.splitlines() if not line.startswith("--")).strip()
        for c in chunks
        if c.strip()
    ]


async def test_transactional_false_runs_between_commit_and_begin_on_postgresql(
    tmp_path: Path,
) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.create_index("ix_t", "t", ["id"], postgresql_concurrently=True)


    def downgrade(op: Operations) -> None:
        op.drop_index("ix_t", table_name="t", postgresql_concurrently=True)
    """
    config = cfg(tmp_path, two(TABLE, body, second_transactional=False), "postgresql")
    result = await command.upgrade(config, "heads", sql=True)
    found = [s for s in statements(result.sql) if s in ("BEGIN", "COMMIT") or "ix_t" in s]
    assert found == [
        "BEGIN",
        "COMMIT",
        "CREATE INDEX CONCURRENTLY ix_t ON t (id)",
        "BEGIN",
        "COMMIT",
    ]
    # The second revision's version row is written after the index, in a transaction.
    tail = statements(result.sql)[-4:]
    assert tail[0].startswith("CREATE INDEX CONCURRENTLY") is False
    assert tail[-1] == "COMMIT"
    assert any(s.startswith("UPDATE whimbrel_version") for s in tail)

    down = await command.downgrade(config, "heads:f1000001", sql=True)
    kept = [s for s in statements(down.sql) if s in ("BEGIN", "COMMIT") or "ix_t" in s]
    assert kept == ["DROP INDEX CONCURRENTLY ix_t", "BEGIN", "COMMIT"]


async def test_autocommit_block_commits_and_begins_again(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.execute("SELECT 'before'")
        with op.autocommit_block():
            op.execute("VACUUM")
        op.execute("SELECT 'after'")


    def downgrade(op: Operations) -> None:
        pass
    """
    result = await command.upgrade(cfg(tmp_path, two(TABLE, body)), "f1000001:heads", sql=True)
    found = statements(result.sql)[:6]
    assert found == [
        "BEGIN",
        "SELECT 'before'",
        "COMMIT",
        "VACUUM",
        "BEGIN",
        "SELECT 'after'",
    ]


async def test_a_step_that_used_autocommit_block_is_committed_with_its_version_row(
    tmp_path: Path,
) -> None:
    """As online: a later step's failure must not take back the version row of a step
    whose work is partly committed already."""
    block = """
    def upgrade(op: Operations) -> None:
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))
        with op.autocommit_block():
            op.execute("SELECT 'in the block'")


    def downgrade(op: Operations) -> None:
        op.drop_table("t")
    """
    later = TABLE.replace('"t"', '"u"')
    result = await command.upgrade(cfg(tmp_path, two(block, later), "postgresql"), sql=True)
    found = [
        s.split("(")[0].split(" SET ")[0].strip()
        for s in statements(result.sql)
        if s in ("BEGIN", "COMMIT")
        or s.startswith(("CREATE TABLE t", "CREATE TABLE u", "SELECT 'in"))
        or s.startswith(("INSERT INTO whimbrel_version", "UPDATE whimbrel_version"))
    ]
    # f1000001's version row is committed before u is created, in a new transaction.
    assert found == [
        "BEGIN",
        "CREATE TABLE t",
        "COMMIT",
        "SELECT 'in the block'",
        "BEGIN",
        "INSERT INTO whimbrel_version",
        "COMMIT",
        "BEGIN",
        "CREATE TABLE u",
        "UPDATE whimbrel_version",
        "COMMIT",
    ]


@pytest.mark.parametrize(
    ("dialect", "per_migration", "transactions"),
    [
        ("postgresql", False, 1),
        ("sqlite", False, 1),
        ("postgresql", True, 2),
        ("sqlite", True, 2),
        ("mariadb", False, 2),
    ],
)
async def test_one_transaction_or_one_per_revision(
    tmp_path: Path, dialect: str, per_migration: bool, transactions: int
) -> None:
    second = TABLE.replace('"t"', '"u"')
    config = cfg(tmp_path, two(TABLE, second), dialect, transaction_per_migration=per_migration)
    sql = (await command.upgrade(config, "heads", sql=True)).sql
    found = statements(sql)
    assert found.count("BEGIN") == found.count("COMMIT") == transactions
    assert found[0] == "BEGIN" and found[-1] == "COMMIT"
    assert ("MariaDB commit each DDL" in sql) == (dialect == "mariadb")


async def test_postgresql_timeouts_are_set_local(tmp_path: Path) -> None:
    config = cfg(tmp_path, one(TABLE), "postgresql", statement_timeout=2.5, lock_timeout=1)
    found = statements((await command.upgrade(config, "heads", sql=True)).sql)
    assert found[:3] == [
        "BEGIN",
        "SET LOCAL statement_timeout = 2500",
        "SET LOCAL lock_timeout = 1000",
    ]


# ------------------------------------------------------------------ what is written


async def test_postgresql_enum_types_are_created_once(tmp_path: Path) -> None:
    body = """
    MOOD = sa.Enum("happy", "sad", name="mood")


    def upgrade(op: Operations) -> None:
        op.create_table("a", sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", MOOD))
        op.create_table("b", sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", MOOD))


    def downgrade(op: Operations) -> None:
        op.drop_table("b")
        op.drop_table("a")
    """
    config = cfg(tmp_path, one(body), "postgresql")
    up = await command.upgrade(config, "heads", sql=True)
    assert up.sql.count("CREATE TYPE mood AS ENUM ('happy', 'sad');") == 1
    assert up.sql.index("CREATE TYPE mood") < up.sql.index("CREATE TABLE a")
    down = await command.downgrade(config, "heads:base", sql=True)
    # As online: drop_table does not know the columns, so the type stays.
    assert "DROP TYPE" not in down.sql
    assert "DROP TABLE b;" in down.sql
    assert "DELETE FROM whimbrel_version WHERE whimbrel_version.version_num IN ('f1000001')" in (
        down.sql
    )


async def test_literal_values_and_text(tmp_path: Path) -> None:
    body = """
    import datetime


    def upgrade(op: Operations) -> None:
        t = sa.table("t", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("at", sa.Date))
        op.bulk_insert(t, [{"id": 1, "name": "it's", "at": datetime.date(2024, 5, 1)},
                           {"id": 2, "name": None, "at": None}])
        op.execute("INSERT INTO t (id) VALUES (3);")
        op.execute(t.delete().where(t.c.name == op.inline_literal("gone")))


    def downgrade(op: Operations) -> None:
        pass
    """
    result = await command.upgrade(cfg(tmp_path, one(body), "postgresql"), "heads", sql=True)
    assert "INSERT INTO t (id, name, at) VALUES (1, 'it''s', '2024-05-01');" in result.sql
    assert "INSERT INTO t (id, name, at) VALUES (2, NULL, NULL);" in result.sql
    assert "INSERT INTO t (id) VALUES (3);\n" in result.sql
    assert ";;" not in result.sql
    assert "DELETE FROM t WHERE t.name = 'gone';" in result.sql


async def test_sqlite_batch_with_copy_from_writes_the_rebuild(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        t = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
        with op.batch_alter_table("t", copy_from=t) as batch_op:
            batch_op.create_unique_constraint("uq_t_id", ["id"])


    def downgrade(op: Operations) -> None:
        pass
    """
    result = await command.upgrade(cfg(tmp_path, two(TABLE, body)), "heads", sql=True)
    assert result.notes == ()
    found = [s for s in statements(result.sql) if "_whimbrel_old_t" in s or "PRAGMA" in s]
    assert found[0] == "PRAGMA legacy_alter_table = ON"
    assert found[1] == "ALTER TABLE t RENAME TO _whimbrel_old_t"
    assert found[2] == "PRAGMA legacy_alter_table = OFF"
    assert re.fullmatch(
        r"INSERT INTO t \(id\) SELECT _whimbrel_old_t\.id\s+FROM _whimbrel_old_t", found[3]
    )
    assert found[4] == "DROP TABLE _whimbrel_old_t"
    assert "CONSTRAINT uq_t_id UNIQUE (id)" in result.sql


async def test_unrenderable_value_is_one_clear_error(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.execute(sa.text("UPDATE t SET id = :new"))


    def downgrade(op: Operations) -> None:
        pass
    """
    with pytest.raises(
        OfflineSQLError,
        match=r"f1000001 \(f1000001\.py:\d+\) cannot be written as SQL: bind parameter .new",
    ):
        await command.upgrade(cfg(tmp_path, one(body)), "heads", sql=True)


async def test_failing_operation_names_the_revision(tmp_path: Path) -> None:
    body = """
    def upgrade(op: Operations) -> None:
        op.create_unique_constraint("uq", "t", ["id"])


    def downgrade(op: Operations) -> None:
        pass
    """
    with pytest.raises(OfflineSQLError, match=r"upgrade of f2000002 .* sqlite cannot add a"):
        await command.upgrade(cfg(tmp_path, two(TABLE, body)), "heads", sql=True)


# --------------------------------------------------------------- ranges and output


async def test_downgrade_needs_a_start(tmp_path: Path) -> None:
    config = cfg(tmp_path, one(TABLE))
    with pytest.raises(OfflineSQLError, match=r"FROM:TO, e\.g\. 'head:base'"):
        await command.downgrade(config, "base", sql=True)
    with pytest.raises(RangeError):
        await command.downgrade(config, "base:f1000001", sql=True)


async def test_ranges_are_for_offline_sql_only(tmp_path: Path) -> None:
    config = cfg(tmp_path, one(TABLE))
    for call in (
        command.upgrade(config, "base:heads"),
        command.downgrade(config, "heads:base"),
        command.stamp(config, "base:heads"),
    ):
        with pytest.raises(OfflineSQLError, match="for offline SQL only"):
            await call
    with pytest.raises(OfflineSQLError, match="cannot read the range 'a:b:c'"):
        await command.upgrade(config, "a:b:c", sql=True)
    with pytest.raises(OfflineSQLError, match="one FROM:TO range"):
        await command.stamp(config, ["base:heads", "f1000001"], sql=True)


async def test_nothing_to_do_still_writes_a_script(tmp_path: Path) -> None:
    result = await command.upgrade(cfg(tmp_path, one(TABLE)), "f1000001:heads", sql=True)
    assert result.revisions == ()
    assert "Nothing to run" in result.sql
    assert "BEGIN" not in result.sql


async def test_output_to_a_stream_and_to_a_file(tmp_path: Path) -> None:
    config = cfg(tmp_path, one(TABLE))
    stream = io.StringIO()
    to_stream = await command.upgrade(config, "heads", sql=True, output=stream)
    assert stream.getvalue() == to_stream.sql and to_stream.output is None
    target = tmp_path / "out" / "stamp.sql"
    target.parent.mkdir()
    to_file = await command.stamp(config, "heads", sql=True, output=target)
    assert to_file.output == target
    assert target.read_text(encoding="utf-8") == to_file.sql


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
async def test_no_connection_and_no_env_hooks(tmp_path: Path, dialect: str) -> None:
    config = cfg(tmp_path, one(TABLE), dialect)
    # An env.py whose hooks would fail: offline SQL does not import it.
    (tmp_path / "migrations" / "env.py").write_text(
        "raise RuntimeError('env.py must not be imported for offline SQL')\n",
        encoding="utf-8",
    )
    result = await command.upgrade(config, "heads", sql=True)
    assert result.dialect == ("mysql" if dialect == "mariadb" else dialect)
    assert "CREATE TABLE t" in result.sql
    # Online, the same configuration fails to connect (or to import env.py).
    with pytest.raises(Exception, match=r"env\.py|connect"):
        await command.upgrade(config, "heads")


async def test_alembic_scripts_see_offline_mode(tmp_path: Path) -> None:
    body = """
    from alembic import context


    def upgrade(op: Operations) -> None:
        if context.is_offline_mode():
            op.execute("SELECT 'offline'")
        else:
            op.execute("SELECT 'online'")


    def downgrade(op: Operations) -> None:
        pass
    """
    result = await command.upgrade(cfg(tmp_path, one(body)), "heads", sql=True)
    assert "SELECT 'offline';" in result.sql
    assert "'online'" not in result.sql


async def test_dialect_of_a_given_engine_without_connecting(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(UNREACHABLE["postgresql"])
    try:
        config = cfg(tmp_path, one(TABLE), "sqlite")
        result = await command.upgrade(config, "heads", sql=True, engine=engine)
        assert result.dialect == "postgresql"
        assert "id SERIAL NOT NULL" in result.sql
        assert "Current Checked out connections: 0" in engine.pool.status()
    finally:
        await engine.dispose()
