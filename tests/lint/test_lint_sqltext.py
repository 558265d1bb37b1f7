"""Reading SQL text: splitting, classifying, PostgreSQL lock modes, type changes."""

from __future__ import annotations

import pytest

from whimbrel.lint.locks import blocks_writes, pg_locks, strongest, waits_for
from whimbrel.lint.rules_compat import type_change_rewrites
from whimbrel.lint.rules_pg import volatile_calls
from whimbrel.lint.sqltext import classify, split_statements


def test_split_skips_strings_comments_and_dollar_quotes() -> None:
    sql = (
        "UPDATE t SET a = 'x;y'; -- a comment; here\n"
        'CREATE TABLE "odd;name" (id int); /* ; */\n'
        "DO $body$ BEGIN PERFORM 1; END $body$;\n"
        "SELECT $$;$$"
    )
    assert split_statements(sql) == [
        "UPDATE t SET a = 'x;y'",
        '-- a comment; here\nCREATE TABLE "odd;name" (id int)',
        "/* ; */\nDO $body$ BEGIN PERFORM 1; END $body$",
        "SELECT $$;$$",
    ]


@pytest.mark.parametrize(
    ("sql", "kind", "tables", "locks"),
    [
        ("CREATE INDEX ix ON t (a)", "create_index", ("t",), [("t", "SHARE")]),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON ONLY s.t (a)",
            "create_index",
            ("s.t",),
            [("s.t", "SHARE UPDATE EXCLUSIVE")],
        ),
        ("DROP INDEX ix", "drop_index", (), []),
        (
            "DROP INDEX CONCURRENTLY IF EXISTS ix",
            "drop_index",
            (),
            [],
        ),
        ("DROP INDEX ix ON t", "drop_index", ("t",), [("t", "ACCESS EXCLUSIVE")]),
        ("ALTER TABLE t ADD COLUMN c int", "alter_table", ("t",), [("t", "ACCESS EXCLUSIVE")]),
        (
            'ALTER TABLE "T" VALIDATE CONSTRAINT ck',
            "alter_table",
            ("T",),
            [("T", "SHARE UPDATE EXCLUSIVE")],
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID",
            "alter_table",
            ("t",),
            [("t", "SHARE ROW EXCLUSIVE"), ("u", "SHARE ROW EXCLUSIVE")],
        ),
        (
            "ALTER TABLE t ALTER COLUMN c SET STATISTICS 100, ADD CONSTRAINT ck CHECK (c > 0)",
            "alter_table",
            ("t",),
            [("t", "ACCESS EXCLUSIVE")],
        ),
        ("UPDATE t SET a = 1 WHERE id = 2", "update", ("t",), [("t", "ROW EXCLUSIVE")]),
        ("DELETE FROM ONLY t", "delete", ("t",), [("t", "ROW EXCLUSIVE")]),
        ("INSERT INTO t (a) VALUES (1)", "insert", ("t",), [("t", "ROW EXCLUSIVE")]),
        (
            "CREATE TABLE n (id int, u_id int REFERENCES u (id))",
            "create_table",
            ("n",),
            [("u", "SHARE ROW EXCLUSIVE")],
        ),
        (
            "DROP TABLE IF EXISTS a, b CASCADE",
            "drop_table",
            ("a", "b"),
            [("a", "ACCESS EXCLUSIVE"), ("b", "ACCESS EXCLUSIVE")],
        ),
        ("TRUNCATE TABLE a", "truncate", ("a",), [("a", "ACCESS EXCLUSIVE")]),
        ("LOCK TABLE a IN SHARE MODE", "lock", ("a",), [("a", "SHARE")]),
        ("VACUUM FULL a", "vacuum", ("a",), [("a", "ACCESS EXCLUSIVE")]),
        ("VACUUM ANALYZE a", "vacuum", ("a",), [("a", "SHARE UPDATE EXCLUSIVE")]),
        ("REINDEX TABLE CONCURRENTLY a", "reindex", ("a",), [("a", "SHARE UPDATE EXCLUSIVE")]),
        (
            "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
            "refresh",
            ("mv",),
            [("mv", "EXCLUSIVE")],
        ),
        ("COMMENT ON TABLE a IS 'x'", "comment", ("a",), [("a", "SHARE UPDATE EXCLUSIVE")]),
        ("ALTER TYPE mood ADD VALUE 'x'", "add_enum_value", (), []),
        ("SET lock_timeout = '2s'", "set", (), []),
        ("SELECT 1", "select", (), []),
        ("GRANT SELECT ON t TO someone", "other", (), []),
    ],
)
def test_classify_and_locks(
    sql: str, kind: str, tables: tuple[str, ...], locks: list[tuple[str, str]]
) -> None:
    statement = classify(sql)
    assert statement.kind == kind
    assert statement.tables == tables
    assert list(pg_locks(statement)) == locks


def test_drop_index_takes_the_table_it_is_told() -> None:
    assert pg_locks(classify("DROP INDEX ix"), index_table="t") == (("t", "ACCESS EXCLUSIVE"),)


def test_alter_table_clauses() -> None:
    st = classify(
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS c uuid DEFAULT gen_random_uuid() NOT NULL, "
        "ADD CONSTRAINT uq UNIQUE USING INDEX ix, "
        "ALTER COLUMN a TYPE bigint USING a::bigint, "
        "ALTER COLUMN b SET NOT NULL, "
        "RENAME COLUMN d TO e, "
        "DROP COLUMN IF EXISTS f, "
        "ADD FOREIGN KEY (g) REFERENCES h (id)"
    )
    add, uq, alter, not_null, rename, drop, fk = st.actions
    assert (add.kind, add.column, add.default, add.not_null) == (
        "add_column",
        "c",
        "gen_random_uuid()",
        True,
    )
    assert (uq.constraint_kind, uq.using_index) == ("unique", True)
    assert (alter.kind, alter.column, alter.type_text) == (
        "alter_type",
        "a",
        "bigint USING a::bigint",
    )
    assert (not_null.kind, not_null.column) == ("set_not_null", "b")
    assert (rename.kind, rename.column, rename.new_name) == ("rename_column", "d", "e")
    assert (drop.kind, drop.column) == ("drop_column", "f")
    assert (fk.constraint_kind, fk.references, fk.not_valid) == ("foreign_key", "h", False)
    assert classify("ALTER TABLE t RENAME TO u").actions[0].new_name == "u"
    mysql = classify("ALTER TABLE `t` CHANGE COLUMN a b INT, MODIFY c BIGINT NOT NULL")
    assert [(a.kind, a.column, a.new_name) for a in mysql.actions] == [
        ("rename_column", "a", "b"),
        ("modify_column", "c", None),
    ]


def test_dml_where_and_ctes() -> None:
    assert not classify("UPDATE t SET a = (SELECT 1 FROM u WHERE u.x = 1)").has_where
    assert classify("UPDATE t SET a = 1 FROM u WHERE u.id = t.id").has_where
    st = classify("WITH gone AS (SELECT id FROM old) DELETE FROM t")
    assert (st.kind, st.table, st.has_where) == ("delete", "t", False)
    value = classify("ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'it''s' BEFORE 'sad'")
    assert (value.type_name, value.value) == ("s.mood", "it's")


def test_lock_mode_order() -> None:
    assert strongest(["ROW EXCLUSIVE", "ACCESS EXCLUSIVE", "SHARE"]) == "ACCESS EXCLUSIVE"
    assert blocks_writes("SHARE") and not blocks_writes("SHARE UPDATE EXCLUSIVE")
    assert waits_for("SHARE UPDATE EXCLUSIVE") and not waits_for("ROW EXCLUSIVE")


def test_volatile_calls_skip_strings() -> None:
    assert volatile_calls("gen_random_uuid()") == ["gen_random_uuid"]
    assert volatile_calls("'random()'") == []
    assert volatile_calls("now()") == []
    assert volatile_calls("(random() * 10)::int") == ["random"]


@pytest.mark.parametrize(
    ("old", "new", "dialect", "rewrites"),
    [
        ("VARCHAR(20)", "VARCHAR(40)", "postgresql", False),
        ("VARCHAR(20)", "TEXT", "postgresql", False),
        ("VARCHAR(40)", "VARCHAR(20)", "postgresql", True),
        ("TEXT", "VARCHAR", "postgresql", False),
        ("NUMERIC(10, 2)", "NUMERIC(12, 2)", "postgresql", False),
        ("NUMERIC(10, 2)", "NUMERIC(12, 3)", "postgresql", True),
        ("NUMERIC(10, 2)", "NUMERIC", "postgresql", False),
        ("INTEGER", "BIGINT", "postgresql", True),
        ("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE", "postgresql", True),
        ("CIDR", "INET", "postgresql", False),
        ("VARCHAR(20)", "VARCHAR(60)", "mysql", False),
        ("VARCHAR(20)", "VARCHAR(64)", "mysql", True),
        ("VARCHAR(100)", "VARCHAR(300)", "mysql", False),
        ("INTEGER", "BIGINT", "mysql", True),
    ],
)
def test_type_changes(old: str, new: str, dialect: str, rewrites: bool) -> None:
    assert type_change_rewrites(old, new, dialect) is rewrites
