"""Reading constraint names and checks out of SQLite's CREATE TABLE text."""

from __future__ import annotations

from whimbrel.ddl.sqlite_schema import mentions, parse_create_table, unquote


def test_table_and_column_constraints() -> None:
    parsed = parse_create_table(
        'CREATE TABLE "item" (\n'
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  pid INTEGER CONSTRAINT fk_p REFERENCES parent (id) ON DELETE CASCADE,\n"
        '  "my name" VARCHAR(20) NOT NULL CONSTRAINT uq_name UNIQUE'
        ' CHECK (length("my name") > 0),\n'
        "  qty INT CONSTRAINT nn NOT NULL DEFAULT (1 + 2), -- a comment, with a comma\n"
        "  note TEXT DEFAULT 'a, (b)',\n"
        "  CONSTRAINT ck_qty CHECK (qty >= 0 AND note <> ')'),\n"
        "  CHECK (qty < 100),\n"
        "  CONSTRAINT [uq pair] UNIQUE (pid, `qty`),\n"
        "  CONSTRAINT fk_pair FOREIGN KEY (pid, qty) REFERENCES other (a, b)\n"
        ")"
    )
    assert parsed.autoincrement is True
    assert parsed.checks == [
        (None, 'length("my name") > 0'),
        ("ck_qty", "qty >= 0 AND note <> ')'"),
        (None, "qty < 100"),
    ]
    assert parsed.unique_names == {("my name",): "uq_name", ("pid", "qty"): "uq pair"}
    assert parsed.foreign_key_names == {("pid",): "fk_p", ("pid", "qty"): "fk_pair"}


def test_plain_table() -> None:
    parsed = parse_create_table("CREATE TABLE t (a INT, b INT)")
    assert parsed.checks == [] and not parsed.autoincrement
    assert parse_create_table("not sql").checks == []


def test_mentions_ignores_strings_and_quoting() -> None:
    assert mentions('length("Name") > 0', {"name"})
    assert mentions("[qty] > 0", {"qty"})
    assert not mentions("note <> 'qty'", {"qty"})
    assert not mentions("quantity > 0", {"qty"})


def test_unquote() -> None:
    assert unquote('"a""b"') == 'a"b'
    assert unquote("`a``b`") == "a`b"
    assert unquote("[a b]") == "a b"
    assert unquote("plain") == "plain"
