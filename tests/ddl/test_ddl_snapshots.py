"""The SQL of each operation, per dialect, compiled without a database."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from ddlsupport import compiling_ops
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from whimbrel.errors import UnsupportedOperationError
from whimbrel.operations import Operations


def _mariadb() -> Dialect:
    dialect = mysql.dialect()
    dialect.server_version_info = (10, 11, 6)
    dialect.is_mariadb = True
    return dialect


DIALECTS: dict[str, Callable[[], Dialect]] = {
    "postgresql": postgresql.dialect,
    "mysql": mysql.dialect,
    "mariadb": _mariadb,
    "sqlite": sqlite.dialect,
}

BATCH = "use 'with op.batch_alter_table(...) as batch_op:' to rebuild the table"


def create_table(op: Operations) -> Any:
    return op.create_table(
        "t",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(20), nullable=False, server_default="x", comment="n"),
        sa.Column("p_id", sa.Integer, sa.ForeignKey("p.id", ondelete="CASCADE")),
        sa.Index("ix_t_name", "name"),
        comment="tbl",
        if_not_exists=True,
    )


def add_column(op: Operations) -> None:
    op.add_column(
        "t",
        sa.Column(
            "c", sa.Integer, sa.ForeignKey("p.id", name="fk_c"), server_default="0", comment="cc"
        ),
    )


def alter_column(op: Operations) -> None:
    op.alter_column(
        "t",
        "c",
        nullable=False,
        type_=sa.BigInteger,
        server_default=sa.text("1"),
        comment="x",
        existing_type=sa.Integer,
        existing_nullable=True,
        postgresql_using="c::bigint",
    )


def rename_column(op: Operations) -> None:
    op.alter_column(
        "t", "c", new_column_name="d", existing_type=sa.Integer, existing_nullable=False
    )


def constraints(op: Operations) -> None:
    op.create_primary_key("pk_t", "t", ["id"])
    op.create_unique_constraint("uq_t", "t", ["a", "b"])
    op.create_foreign_key(
        "fk_t",
        "t",
        "p",
        ["p_id"],
        ["id"],
        ondelete="SET NULL",
        onupdate="CASCADE",
        referent_schema="s2",
    )
    op.create_check_constraint("ck_t", "t", "a > 0")
    op.drop_constraint("fk_t", "t", type_="foreignkey")
    op.drop_constraint("uq_t", "t", type_="unique")
    op.drop_constraint("ck_t", "t", type_="check")
    op.drop_constraint("pk_t", "t", type_="primary")


def data(op: Operations) -> None:
    op.execute("SELECT 1")
    light = sa.table("t", sa.column("a", sa.Integer), sa.column("b", sa.String))
    op.bulk_insert(light, [{"a": 1, "b": "x"}, {"a": 2, "b": op.inline_literal("y")}])


def table_comments(op: Operations) -> None:
    op.create_table_comment("t", "it's")
    op.drop_table_comment("t")


def enum(op: Operations) -> None:
    op.create_table("e", sa.Column("m", sa.Enum("a", "b", name="mood")))
    op.add_enum_value("mood", "c", after="a")


def concurrently(op: Operations) -> None:
    op.create_index("ix", "t", ["a"], postgresql_concurrently=True)
    op.drop_index("ix", "t", postgresql_concurrently=True)


CREATE_TABLE = {
    "postgresql": [
        "CREATE TABLE IF NOT EXISTS t (\n\tid SERIAL NOT NULL, \n\tname VARCHAR(20) DEFAULT 'x'"
        " NOT NULL, \n\tp_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(p_id) REFERENCES"
        " p (id) ON DELETE CASCADE\n)",
        "COMMENT ON TABLE t IS 'tbl'",
        "COMMENT ON COLUMN t.name IS 'n'",
        "CREATE INDEX IF NOT EXISTS ix_t_name ON t (name)",
    ],
    "mysql": [
        "CREATE TABLE IF NOT EXISTS t (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tname"
        " VARCHAR(20) NOT NULL COMMENT 'n' DEFAULT 'x', \n\tp_id INTEGER, \n\tPRIMARY KEY"
        " (id), \n\tFOREIGN KEY(p_id) REFERENCES p (id) ON DELETE CASCADE\n)COMMENT='tbl'",
        "CREATE INDEX IF NOT EXISTS ix_t_name ON t (name)",
    ],
    "sqlite": [
        "CREATE TABLE IF NOT EXISTS t (\n\tid INTEGER NOT NULL, \n\tname VARCHAR(20) DEFAULT"
        " 'x' NOT NULL, \n\tp_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(p_id)"
        " REFERENCES p (id) ON DELETE CASCADE\n)",
        "CREATE INDEX IF NOT EXISTS ix_t_name ON t (name)",
    ],
}
CREATE_TABLE["mariadb"] = CREATE_TABLE["mysql"]

CONSTRAINTS_PG = [
    "ALTER TABLE t ADD CONSTRAINT pk_t PRIMARY KEY (id)",
    "ALTER TABLE t ADD CONSTRAINT uq_t UNIQUE (a, b)",
    "ALTER TABLE t ADD CONSTRAINT fk_t FOREIGN KEY(p_id) REFERENCES s2.p (id)"
    " ON DELETE SET NULL ON UPDATE CASCADE",
    "ALTER TABLE t ADD CONSTRAINT ck_t CHECK (a > 0)",
    "ALTER TABLE t DROP CONSTRAINT fk_t",
    "ALTER TABLE t DROP CONSTRAINT uq_t",
    "ALTER TABLE t DROP CONSTRAINT ck_t",
    "ALTER TABLE t DROP CONSTRAINT pk_t",
]
CONSTRAINTS_MYSQL = [
    *CONSTRAINTS_PG[:4],
    "ALTER TABLE t DROP FOREIGN KEY fk_t",
    "ALTER TABLE t DROP INDEX uq_t",
    "ALTER TABLE t DROP CHECK ck_t",
    "ALTER TABLE t DROP PRIMARY KEY",
]
DATA = [
    "SELECT 1",
    "INSERT INTO t (a, b) VALUES (1, 'x')",
    "INSERT INTO t (a, b) VALUES (2, 'y')",
]

CASES: list[tuple[str, Callable[[Operations], Any], Mapping[str, Sequence[str] | str]]] = [
    ("create_table", create_table, CREATE_TABLE),
    (
        "drop_table",
        lambda op: op.drop_table("t", schema="s", if_exists=True),
        {d: ["DROP TABLE IF EXISTS s.t"] for d in DIALECTS},
    ),
    (
        "rename_table",
        lambda op: op.rename_table("a", "b", schema="s"),
        {
            "postgresql": ["ALTER TABLE s.a RENAME TO b"],
            "mysql": ["ALTER TABLE s.a RENAME TO s.b"],
            "mariadb": ["ALTER TABLE s.a RENAME TO s.b"],
            "sqlite": ["ALTER TABLE s.a RENAME TO b"],
        },
    ),
    (
        "add_column",
        add_column,
        {
            "postgresql": [
                "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT '0'",
                "ALTER TABLE t ADD CONSTRAINT fk_c FOREIGN KEY(c) REFERENCES p (id)",
                "COMMENT ON COLUMN t.c IS 'cc'",
            ],
            "mysql": [
                "ALTER TABLE t ADD COLUMN c INTEGER COMMENT 'cc' DEFAULT '0'",
                "ALTER TABLE t ADD CONSTRAINT fk_c FOREIGN KEY(c) REFERENCES p (id)",
            ],
            "mariadb": [
                "ALTER TABLE t ADD COLUMN c INTEGER COMMENT 'cc' DEFAULT '0'",
                "ALTER TABLE t ADD CONSTRAINT fk_c FOREIGN KEY(c) REFERENCES p (id)",
            ],
            "sqlite": [
                "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT '0' CONSTRAINT fk_c REFERENCES p (id)"
            ],
        },
    ),
    (
        "drop_column",
        lambda op: op.drop_column("t", "c"),
        {d: ["ALTER TABLE t DROP COLUMN c"] for d in DIALECTS},
    ),
    (
        "alter_column",
        alter_column,
        {
            "postgresql": [
                "ALTER TABLE t ALTER COLUMN c SET NOT NULL",
                "ALTER TABLE t ALTER COLUMN c DROP DEFAULT",
                "ALTER TABLE t ALTER COLUMN c TYPE BIGINT USING c::bigint",
                "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1",
                "COMMENT ON COLUMN t.c IS 'x'",
            ],
            "mysql": ["ALTER TABLE t MODIFY COLUMN c BIGINT NOT NULL COMMENT 'x' DEFAULT 1"],
            "mariadb": ["ALTER TABLE t MODIFY COLUMN c BIGINT NOT NULL COMMENT 'x' DEFAULT 1"],
            "sqlite": "cannot ALTER a column's type, nullability or default; " + BATCH,
        },
    ),
    (
        "rename_column",
        rename_column,
        {
            "postgresql": ["ALTER TABLE t RENAME COLUMN c TO d"],
            "mysql": ["ALTER TABLE t RENAME COLUMN c TO d"],
            "mariadb": ["ALTER TABLE t RENAME COLUMN c TO d"],
            "sqlite": ["ALTER TABLE t RENAME COLUMN c TO d"],
        },
    ),
    (
        "drop_default",
        lambda op: op.alter_column("t", "c", server_default=None),
        {
            "postgresql": ["ALTER TABLE t ALTER COLUMN c DROP DEFAULT"],
            "mysql": ["ALTER TABLE t ALTER COLUMN c DROP DEFAULT"],
            "mariadb": ["ALTER TABLE t ALTER COLUMN c DROP DEFAULT"],
            "sqlite": "cannot ALTER a column's type, nullability or default; " + BATCH,
        },
    ),
    (
        "create_index",
        lambda op: op.create_index(
            "ix",
            "t",
            ["a", sa.text("lower(b)")],
            unique=True,
            postgresql_where="a > 1",
            sqlite_where="a > 1",
            if_not_exists=True,
        ),
        {
            "postgresql": ["CREATE UNIQUE INDEX IF NOT EXISTS ix ON t (a, lower(b)) WHERE a > 1"],
            "mysql": ["CREATE UNIQUE INDEX IF NOT EXISTS ix ON t (a, lower(b))"],
            "mariadb": ["CREATE UNIQUE INDEX IF NOT EXISTS ix ON t (a, lower(b))"],
            "sqlite": ["CREATE UNIQUE INDEX IF NOT EXISTS ix ON t (a, lower(b)) WHERE a > 1"],
        },
    ),
    (
        "index_options",
        lambda op: op.create_index(
            "ix", "t", ["a"], postgresql_using="gin", postgresql_include=["b"], mysql_length=4
        ),
        {
            "postgresql": ["CREATE INDEX ix ON t USING gin (a) INCLUDE (b)"],
            "mysql": ["CREATE INDEX ix ON t (a(4))"],
            "mariadb": ["CREATE INDEX ix ON t (a(4))"],
            "sqlite": ["CREATE INDEX ix ON t (a)"],
        },
    ),
    (
        "drop_index",
        lambda op: op.drop_index("ix", "t", if_exists=True),
        {
            "postgresql": ["DROP INDEX IF EXISTS ix"],
            "mysql": ["DROP INDEX IF EXISTS ix ON t"],
            "mariadb": ["DROP INDEX IF EXISTS ix ON t"],
            "sqlite": ["DROP INDEX IF EXISTS ix"],
        },
    ),
    (
        "constraints",
        constraints,
        {
            "postgresql": CONSTRAINTS_PG,
            "mysql": CONSTRAINTS_MYSQL,
            "mariadb": [
                *CONSTRAINTS_MYSQL[:6],
                "ALTER TABLE t DROP CONSTRAINT ck_t",
                "ALTER TABLE t DROP PRIMARY KEY",
            ],
            "sqlite": "cannot add a constraint with ALTER TABLE; " + BATCH,
        },
    ),
    (
        "table_comments",
        table_comments,
        {
            "postgresql": ["COMMENT ON TABLE t IS 'it''s'", "COMMENT ON TABLE t IS NULL"],
            "mysql": ["ALTER TABLE t COMMENT 'it''s'", "ALTER TABLE t COMMENT ''"],
            "mariadb": ["ALTER TABLE t COMMENT 'it''s'", "ALTER TABLE t COMMENT ''"],
            "sqlite": [],
        },
    ),
    ("data", data, dict.fromkeys(DIALECTS, DATA)),
    (
        "enum",
        enum,
        {
            "postgresql": [
                "CREATE TYPE mood AS ENUM ('a', 'b')",
                "CREATE TABLE e (\n\tm mood\n)",
                "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'c' AFTER 'a'",
            ],
            "mysql": "only PostgreSQL has named enum types",
            "mariadb": "only PostgreSQL has named enum types",
            "sqlite": "only PostgreSQL has named enum types",
        },
    ),
    (
        "concurrently",
        concurrently,
        {
            "postgresql": ["CREATE INDEX CONCURRENTLY ix ON t (a)", "DROP INDEX CONCURRENTLY ix"],
            "mysql": ["CREATE INDEX ix ON t (a)", "DROP INDEX ix ON t"],
            "mariadb": ["CREATE INDEX ix ON t (a)", "DROP INDEX ix ON t"],
            "sqlite": ["CREATE INDEX ix ON t (a)", "DROP INDEX ix"],
        },
    ),
    (
        "exclude",
        lambda op: op.create_exclude_constraint(
            "ex", "t", ("room", "="), (sa.text("tsrange(a, b)"), "&&"), where="active"
        ),
        {
            "postgresql": [
                "ALTER TABLE t ADD CONSTRAINT ex EXCLUDE USING gist (room WITH =,"
                " tsrange(a, b) WITH &&) WHERE (active)"
            ],
            "mysql": "EXCLUDE is PostgreSQL's",
            "mariadb": "EXCLUDE is PostgreSQL's",
            "sqlite": "cannot add a constraint",
        },
    ),
]


@pytest.mark.parametrize("dialect_name", list(DIALECTS))
@pytest.mark.parametrize(("name", "fn", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operation_sql(
    dialect_name: str,
    name: str,
    fn: Callable[[Operations], Any],
    expected: Mapping[str, Sequence[str] | str],
) -> None:
    op = compiling_ops(DIALECTS[dialect_name]())
    want = expected[dialect_name]
    if isinstance(want, str):
        with pytest.raises(UnsupportedOperationError) as info:
            fn(op)
        assert want in str(info.value)
        return
    fn(op)
    assert op.impl.captured == list(want)


def test_what_needs_a_connection_says_so() -> None:
    op = compiling_ops(mysql.dialect())
    with pytest.raises(UnsupportedOperationError, match="pass existing_type="):
        op.alter_column("t", "c", nullable=False)
    with pytest.raises(UnsupportedOperationError, match="drop_constraint without type_"):
        op.drop_constraint("x", "t")
    with pytest.raises(UnsupportedOperationError, match="pass table_name="):
        op.drop_index("ix")
