"""The pure parts of autogenerate, table-driven: normalising, type keys, layout, types."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from whimbrel.autogenerate.compare.types import is_narrowing, parse_type, type_key, types_differ
from whimbrel.autogenerate.layout import Atom, Call, Seq, flat, lay_out, pystr
from whimbrel.autogenerate.reflect import parse_sqlite_index
from whimbrel.autogenerate.rename import RenameSpec, parse_renames
from whimbrel.autogenerate.render_types import TypeRenderer
from whimbrel.autogenerate.sqlnorm import normalize_default, normalize_sql
from whimbrel.errors import UsageError

PG = postgresql.dialect()  # type: ignore[no-untyped-call]
MARIADB = mysql.dialect(is_mariadb=True)
SQLITE = sqlite.dialect()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("((name)::text || 'x'::text)", "name || 'x'"),
        ("(concat(`name`,'x'))", "concat(name, 'x')"),
        ("lower((name)::text)", "lower(name)"),
        ("(octet_length(`title`) + 1)", "length(title) + 1"),
        ("(lcase(`name`))", "lower(name)"),
        ('"name" > 0', "name > 0"),
        ("(active = true)", "active = true"),
    ],
)
def test_equal_sql_normalises_equal(a: str, b: str) -> None:
    assert normalize_sql(a) == normalize_sql(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("lower(name)", "upper(name)"), ("a + 1", "a + 2"), ("'A'", "'a'"), ("f(x)", "fx")],
)
def test_different_sql_stays_different(a: str, b: str) -> None:
    assert normalize_sql(a) != normalize_sql(b)


@pytest.mark.parametrize(
    ("reflected", "model"),
    [
        ("'0'::numeric", "'0'"),
        ("0.00", "0"),
        ("now()", "CURRENT_TIMESTAMP"),
        ("current_timestamp()", "now()"),
        ("true", "1"),
        ("'anon'::character varying", "'anon'"),
        ("'happy'::mood", "'happy'"),
        ("curdate()", "CURRENT_DATE"),
        ("NULL", None),
    ],
)
def test_equal_defaults(reflected: str, model: str | None) -> None:
    assert normalize_default(reflected) == normalize_default(model)


@pytest.mark.parametrize(("a", "b"), [("'a'", "'b'"), ("1", "2"), ("'1'", "'one'"), ("0", None)])
def test_different_defaults(a: str, b: str | None) -> None:
    assert normalize_default(a) != normalize_default(b)


@pytest.mark.parametrize(
    ("dialect", "model", "reflected"),
    [
        (PG, sa.Integer(), postgresql.INTEGER()),
        (PG, sa.Float(), postgresql.DOUBLE_PRECISION(precision=53)),
        (PG, sa.DateTime(), postgresql.TIMESTAMP()),
        (PG, sa.DateTime(timezone=True), postgresql.TIMESTAMP(timezone=True)),
        (PG, sa.String(), postgresql.VARCHAR()),
        (PG, sa.Enum("a", name="m"), postgresql.ENUM("a", "b", name="m")),
        (PG, sa.JSON(), postgresql.JSON()),
        (PG, sa.Uuid(), postgresql.UUID()),
        (PG, sa.ARRAY(sa.Integer()), postgresql.ARRAY(postgresql.INTEGER())),
        (MARIADB, sa.Integer(), mysql.INTEGER(display_width=11)),
        (MARIADB, sa.Boolean(), mysql.TINYINT(display_width=1)),
        (MARIADB, sa.Numeric(10, 2), mysql.DECIMAL(precision=10, scale=2)),
        (MARIADB, sa.Numeric(), mysql.DECIMAL(precision=10, scale=0)),
        (MARIADB, sa.JSON(), mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin")),
        (MARIADB, sa.String(20), mysql.VARCHAR(length=20, charset="utf8mb4")),
        (SQLITE, sa.Enum("ab", "cde"), sa.VARCHAR(3)),
        (SQLITE, sa.Uuid(), sa.CHAR(32)),
    ],
)
def test_equivalent_types_do_not_differ(
    dialect: Dialect, model: sa.types.TypeEngine[object], reflected: sa.types.TypeEngine[object]
) -> None:
    differ, old, new = types_differ(model, reflected, dialect)
    assert not differ, (old, new)


@pytest.mark.parametrize(
    ("dialect", "model", "reflected"),
    [
        (PG, sa.String(100), postgresql.VARCHAR(50)),
        (PG, sa.BigInteger(), postgresql.INTEGER()),
        (PG, sa.DateTime(timezone=True), postgresql.TIMESTAMP()),
        (PG, sa.Numeric(12, 2), postgresql.NUMERIC(10, 2)),
        (MARIADB, sa.Enum("a", "b", "c"), mysql.ENUM("a", "b")),
        (MARIADB, sa.Text(), mysql.LONGTEXT()),
        (SQLITE, sa.Integer(), sa.VARCHAR(10)),
    ],
)
def test_changed_types_differ(
    dialect: Dialect, model: sa.types.TypeEngine[object], reflected: sa.types.TypeEngine[object]
) -> None:
    assert types_differ(model, reflected, dialect)[0]


@pytest.mark.parametrize(
    ("old", "new", "narrowing"),
    [
        ("VARCHAR(50)", "VARCHAR(100)", False),
        ("VARCHAR(100)", "VARCHAR(50)", True),
        ("INTEGER", "BIGINT", False),
        ("BIGINT", "INTEGER", True),
        ("VARCHAR(50)", "TEXT", False),
        ("TEXT", "VARCHAR(50)", True),
        ("NUMERIC(10, 2)", "NUMERIC(12, 2)", False),
        ("NUMERIC(10, 2)", "NUMERIC(10, 3)", True),
        ("INTEGER", "VARCHAR(10)", True),
        ("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE", False),
    ],
)
def test_narrowing(old: str, new: str, narrowing: bool) -> None:
    assert is_narrowing(parse_type(old, "postgresql"), parse_type(new, "postgresql")) is narrowing


def test_type_key_cannot_compile_is_none() -> None:
    assert type_key(sa.String(), mysql.dialect()) is None


@pytest.mark.parametrize(
    ("value", "literal"),
    [("abc", '"abc"'), ("it's", '"it\'s"'), ('say "hi"', "'say \"hi\"'"), ("a\\b", '"a\\\\b"')],
)
def test_pystr_uses_ruff_quotes(value: str, literal: str) -> None:
    assert pystr(value) == literal
    assert ast.literal_eval(literal) == value


def test_layout_matches_ruff_format(tmp_path: Path) -> None:
    column = Call.of(
        "sa.Column",
        Atom(pystr("a_rather_long_column_name")),
        Call.of("sa.String", length=Atom("255")),
        nullable=Atom("True"),
        server_default=Call.of("sa.text", Atom(pystr("'x' || 'a long default value here'"))),
    )
    cases = [
        Call.of("op.add_column", Atom(pystr("users")), column),
        Call.of(
            "op.create_index",
            Atom(pystr("ix_a_rather_long_index_name")),
            Atom(pystr("table")),
            Seq((Atom(pystr("first")), Atom(pystr("second")))),
            unique=Atom("False"),
        ),
        Call.of("op.execute", Atom(pystr("ALTER TABLE t " + "x" * 100))),
        Call.of("op.f", Seq((Atom(pystr("only")),), "()")),
    ]
    lines = ["def upgrade() -> None:"]
    for node in cases:
        lines.extend(lay_out(node, 4, 88))
        lines.append("    if True:")
        lines.extend(lay_out(node, 8, 88))
    path = tmp_path / "laid_out.py"
    path.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--check", "--diff", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert flat(cases[3]) == 'op.f(("only",))'


@pytest.mark.parametrize(
    ("type_", "source", "imports"),
    [
        (sa.String(50), "sa.String(length=50)", set()),
        (sa.Numeric(10, 2), "sa.Numeric(precision=10, scale=2)", set()),
        (sa.Enum("a", "b", name="m"), 'sa.Enum("a", "b", name="m")', set()),
        (
            postgresql.ENUM("a", name="m", create_type=False),
            'postgresql.ENUM("a", name="m", create_type=False)',
            {"from sqlalchemy.dialects import postgresql"},
        ),
        (sa.ARRAY(sa.Integer(), dimensions=2), "sa.ARRAY(sa.Integer(), dimensions=2)", set()),
        (
            mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"),
            'mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin")',
            {"from sqlalchemy.dialects import mysql"},
        ),
        (
            sa.String(50).with_variant(postgresql.TEXT(), "postgresql"),
            'sa.String(length=50).with_variant(sa.TEXT(), "postgresql")',
            set(),
        ),
        (
            sqlite.DATETIME(),  # type: ignore[no-untyped-call]
            "sqlite.DATETIME()",
            {"from sqlalchemy.dialects import sqlite"},
        ),
    ],
)
def test_type_rendering(
    type_: sa.types.TypeEngine[object], source: str, imports: set[str]
) -> None:
    renderer = TypeRenderer(PG)
    assert flat(renderer.type(type_)) == source
    assert renderer.imports == imports


class Money(sa.types.TypeDecorator[object]):
    impl = sa.Numeric(12, 2)
    cache_ok = True


def test_user_types_render_by_import_path() -> None:
    renderer = TypeRenderer(PG)
    assert flat(renderer.type(Money())) == "Money()"
    assert renderer.imports == {f"from {__name__} import Money"}
    prefixed = TypeRenderer(PG, user_module_prefix="mytypes.")
    assert flat(prefixed.type(Money())) == "mytypes.Money()"
    assert prefixed.imports == {"import mytypes"}


def test_sqlite_expression_index_is_parsed() -> None:
    index = parse_sqlite_index(
        'CREATE UNIQUE INDEX "ix_x" ON t (lower(name), "age", (a + b)) WHERE age > 0'
    )
    assert index is not None
    assert index.name == "ix_x"
    assert index.unique
    assert index.elements == ("lower(name)", "age", "(a + b)")
    assert index.expressions == (True, False, True)
    assert index.where == "age > 0"


def test_rename_specs() -> None:
    assert parse_renames(["users:people", " a.b : a.c "]) == [
        RenameSpec("users", "people"),
        RenameSpec("a.b", "a.c"),
    ]
    for bad in ("users", "users:", ":people", "a:b:c"):
        with pytest.raises(UsageError, match="old:new"):
            parse_renames([bad])
