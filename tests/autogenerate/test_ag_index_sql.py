"""Index expressions matched as trees, table-driven.

The reflected side is what PostgreSQL 15 gave back (``pg_get_indexdef(..., true)``, as
SQLAlchemy reflects it); the model side is what SQLAlchemy compiles.
"""

from __future__ import annotations

import pytest

from whimbrel.autogenerate.compare.index_sql import (
    column_form,
    expression_form,
    forms_match,
    trees_match,
)
from whimbrel.autogenerate.compare.sql_tree import (
    Apply,
    Cast,
    Literal,
    Name,
    canonical_type,
    parse_expression,
)

SAME = [
    # casts: CAST(x AS T) is x::T, type names in PostgreSQL's spelling
    ("lower(n::text)", "lower(CAST(n AS TEXT))"),
    ("lower(n::character varying::text)", "lower(CAST(n AS VARCHAR))"),
    ("lower(n::character varying(10)::text)", "lower(CAST(n AS VARCHAR(10)))"),
    ("(n::numeric(10,2))", "CAST(n AS NUMERIC(10, 2))"),
    ("(n::numeric(10,0))", "CAST(n AS DECIMAL(10))"),
    ("(n::double precision)", "CAST(n AS FLOAT)"),
    ("(n::real)", "CAST(n AS FLOAT(10))"),
    ("(n::integer)", "CAST(n AS INT4)"),
    ("(n::bigint)", "CAST(n AS INT8)"),
    ("(n::smallint)", "CAST(n AS INT2)"),
    ("(n::boolean)", "CAST(n AS BOOL)"),
    ("(ts::timestamp with time zone)", "CAST(ts AS TIMESTAMPTZ)"),
    ("(ts::timestamp with time zone)", "CAST(ts AS TIMESTAMP WITH TIME ZONE)"),
    ("(ts::timestamp without time zone)", "CAST(ts AS TIMESTAMP)"),
    ("(ts::time(3) with time zone)", "CAST(ts AS TIMETZ(3))"),
    ("(ts::date)", "CAST(ts AS DATE)"),
    ("(name::character(3))", "CAST(name AS CHAR(3))"),
    ("(name::character(1))", "CAST(name AS CHAR)"),
    ("(name::text[])", "CAST(name AS TEXT[])"),
    ("(n::text::integer)", "CAST(CAST(n AS TEXT) AS INTEGER)"),
    ('(s::"Mood")', 'CAST(s AS "Mood")'),
    ("(s::mood)", "CAST(s AS public.mood)"),
    # casts PostgreSQL adds: to literals, and to arguments of functions and operators
    ("lower(email::text)", "lower(email)"),
    ("COALESCE(name, ''::text)", "coalesce(name, '')"),
    ("COALESCE(email, 'none'::character varying)", "coalesce(email, 'none')"),
    ("(price * qty::numeric)", "price * qty"),
    ("(n::numeric * 1.5)", "n * 1.5"),
    ("(n::double precision / 2::double precision)", "n / CAST(2 AS FLOAT)"),
    ("(n * '-1'::integer)", "n * -1"),
    ("(n - '-1'::integer)", "n - -1"),
    ("('2020-01-01'::date < d)", "CAST('2020-01-01' AS DATE) < d"),
    ("(ts + '1 day'::interval)", "ts + INTERVAL '1 day'"),
    ("((name || 'x'::text) || email::text)", "name || 'x' || email"),
    ("(name IS DISTINCT FROM email::text)", "name IS DISTINCT FROM email"),
    ("(j ->> 'k'::text)", "j ->> 'k'"),
    ("((j -> 'a'::text) ->> 'b'::text)", "j -> 'a' ->> 'b'"),
    # a cast PostgreSQL drops: to the type the value has already
    ("lower(name)", "CAST(lower(name) AS TEXT)"),
    ("upper(lower(name))", "upper(CAST(lower(name) AS TEXT))"),
    # parentheses, qualifiers, spaces and case
    ("((n + 1))", "n + 1"),
    ("((n + 1) * 2)", "(n + 1) * 2"),
    ("(n + (1 * 2))", "n + 1 * 2"),
    ("lower((n)::text)", "lower(CAST(exi.n AS TEXT))"),
    ("lower(n::text)", 'lower(CAST("exi"."n" AS TEXT))'),
    ("lower(n::text)", "LOWER ( CAST ( n AS text ) )"),
    ("pg_catalog.lower(n::text)", "lower(CAST(n AS TEXT))"),
    ('lower("Mixed")', 'lower("Mixed")'),
    ("(n > 0 AND qty > 0 AND flag)", "n > 0 AND (qty > 0 AND flag)"),
    ("((n > 0 OR qty > 0) OR flag)", "n > 0 OR qty > 0 OR flag"),
    ("(- n)", "-n"),
    ("(n <> 3)", "n != 3"),
    # SQL forms PostgreSQL stores another way
    ("(n = ANY (ARRAY[1, 2, 3]))", "n IN (1, 2, 3)"),
    ("(n <> ALL (ARRAY[1, 2]))", "(n NOT IN (1, 2))"),
    ("(n = 1)", "n IN (1)"),
    ("((n = ANY (ARRAY[3, 4])) OR n = qty)", "n IN (qty, 3, 4)"),
    (
        "(email::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[]))",
        "email IN ('a', 'b')",
    ),
    ("(n >= 1 AND n <= 5)", "n BETWEEN 1 AND 5"),
    ("(n < 1 OR n > 2)", "n NOT BETWEEN 1 AND 2"),
    ("(name ~~ 'a%'::text)", "name LIKE 'a%'"),
    ("(name !~~ 'a%'::text)", "name NOT LIKE 'a%'"),
    ("(name ~~* 'a%'::text)", "name ILIKE 'a%'"),
    ("TRIM(BOTH FROM name)", "trim(name)"),
    ("upper(TRIM(BOTH ' '::text FROM name))", "upper(btrim(name, ' '))"),
    ("SUBSTRING(name FROM 2 FOR 3)", "substring(name, 2, 3)"),
    ('"substring"(name, 2, 3)', "substring(name, 2, 3)"),
    ('"left"(name, 3)', "left(name, 3)"),
    ("POSITION(('a'::text) IN (name))", "position('a' IN name)"),
    ("EXTRACT(year FROM d)", "EXTRACT(YEAR FROM d)"),
    ("date_trunc('day'::text, ts)", "date_trunc('day', ts)"),
    ("((tz AT TIME ZONE 'UTC'::text))", "tz AT TIME ZONE 'UTC'"),
    ("(n IS NULL)", "n ISNULL"),
    ("(NOT (a IS DISTINCT FROM b))", "a IS NOT DISTINCT FROM b"),
    ("(arr[1])", "arr[1]"),
    ('(name COLLATE "C")', 'name COLLATE "C"'),
    (
        "(\nCASE\n    WHEN n > 0 THEN 'a'::text\n    ELSE 'b'::text\nEND)",
        "CASE WHEN (n > 0) THEN 'a' ELSE 'b' END",
    ),
    ("(CASE WHEN n > 0 THEN 'a'::text ELSE NULL::text END)", "CASE WHEN (n > 0) THEN 'a' END"),
    ("(CASE n WHEN 1 THEN 'a'::text ELSE 'b'::text END)", "CASE n WHEN 1 THEN 'a' ELSE 'b' END"),
    ("GREATEST(n, qty, 0)", "greatest(n, qty, 0)"),
    # partial-index conditions
    ("(((email)::text = 'x'::text) AND (n > 0))", "email = 'x' AND n > 0"),
    ("(status)::text = 'active'::text", "status = 'active'"),
    ("((score > 0))", "score > 0"),
]

DIFFERENT = [
    # another cast target
    ("lower(n::text)", "lower(CAST(n AS VARCHAR))"),
    ("lower(n::character varying::text)", "lower(CAST(n AS TEXT))"),
    ("lower(n::character varying(10)::text)", "lower(CAST(n AS VARCHAR(20)))"),
    ("(n::bigint)", "CAST(n AS INTEGER)"),
    ("(n::numeric(10,2))", "CAST(n AS NUMERIC(10, 3))"),
    ("(ts::timestamp with time zone)", "CAST(ts AS TIMESTAMP)"),
    ("(n::real)", "CAST(n AS FLOAT)"),
    ('(s::"Mood")', "CAST(s AS mood)"),
    # a cast around the whole expression is the model's, never the database's
    ("(n::text)", "n"),
    ("(n::integer)", "CAST(n AS TEXT)"),
    # another function, column or constant
    ("lower(email::text)", "upper(email)"),
    ("lower(email::text)", "lower(name)"),
    ("lower(n::text)", "lower(CAST(m AS TEXT))"),
    ("COALESCE(name, ''::text)", "coalesce(name, 'x')"),
    ("COALESCE(name, ''::text)", "coalesce(name, '', '')"),
    ("(n + 1)", "n + 2"),
    ("(n - 1)", "n - -1"),
    ("(n + 1)", "n - 1"),
    ("(n + 1)", "1 + n"),
    ("'A'", "'a'"),
    ('lower("Mixed")', "lower(Mixed)"),
    ("btrim(name)", "ltrim(name)"),
    ("TRIM(LEADING FROM name)", "trim(name)"),
    # precedence
    ("((n + 1) * 2)", "n + 1 * 2"),
    ("(n + (1 * 2))", "(n + 1) * 2"),
    ("(a AND (b OR c))", "a AND b OR c"),
    ("(NOT (a AND b))", "NOT a AND b"),
    # other SQL forms
    ("(n = ANY (ARRAY[1, 2, 3]))", "n IN (1, 2)"),
    ("(n = ANY (ARRAY[1, 2]))", "n NOT IN (1, 2)"),
    ("(n >= 1 AND n <= 5)", "n BETWEEN 1 AND 6"),
    ("(name ~~ 'a%'::text)", "name ILIKE 'a%'"),
    ("(n IS NULL)", "n IS NOT NULL"),
    ("(CASE WHEN n > 0 THEN 'a'::text ELSE 'b'::text END)", "CASE WHEN n > 0 THEN 'a' END"),
    ("EXTRACT(year FROM d)", "EXTRACT(month FROM d)"),
    ('(name COLLATE "C")', 'name COLLATE "POSIX"'),
    ("(j ->> 'k'::text)", "j -> 'k'"),
]


@pytest.mark.parametrize(("reflected", "model"), SAME)
def test_equal_expressions_match(reflected: str, model: str) -> None:
    db, ours = parse_expression(reflected), parse_expression(model)
    assert db is not None
    assert ours is not None
    assert trees_match(db, ours), (db, ours)


@pytest.mark.parametrize(("reflected", "model"), DIFFERENT)
def test_different_expressions_stay_different(reflected: str, model: str) -> None:
    db, ours = parse_expression(reflected), parse_expression(model)
    assert db is not None
    assert ours is not None
    assert not trees_match(db, ours), (db, ours)


@pytest.mark.parametrize(
    ("reflected", "model", "same"),
    [
        ("n desc", "n DESC", True),
        ("n desc nulls_last", "n DESC NULLS LAST", True),
        ("n nulls_first", "n ASC NULLS FIRST", True),
        ("n desc", "n DESC NULLS FIRST", True),
        ("lower(email::text)", "lower(email) ASC NULLS LAST", True),
        ("n desc", "n", False),
        ("n desc", "n DESC NULLS LAST", False),
        ("n nulls_first", "n DESC", False),
    ],
)
def test_index_element_ordering(reflected: str, model: str, same: bool) -> None:
    db = expression_form(reflected, element=True)
    ours = expression_form(model, element=True)
    assert forms_match(db, ours) is same


@pytest.mark.parametrize(
    ("reflected", "model", "types", "same"),
    [
        # PostgreSQL drops a cast of a column to its own type...
        ("email", "CAST(email AS VARCHAR(50))", {"email": "character varying(50)"}, True),
        ("name", "CAST(name AS TEXT)", {"name": "text"}, True),
        ("lower(name)", "lower(CAST(name AS TEXT))", {"name": "text"}, True),
        # ...and keeps one that changes the type or its length
        ("email", "CAST(email AS VARCHAR)", {"email": "character varying(50)"}, False),
        (
            "(email::character varying)",
            "CAST(email AS VARCHAR)",
            {"email": "character varying(50)"},
            True,
        ),
        ("n", "CAST(n AS TEXT)", {"n": "integer"}, False),
        ("lower(n)", "lower(CAST(n AS TEXT))", {"n": "integer"}, False),
        # with no type known, a cast of a column is the model's
        ("n", "CAST(n AS TEXT)", {}, False),
    ],
)
def test_casts_to_a_columns_own_type(
    reflected: str, model: str, types: dict[str, str], same: bool
) -> None:
    db = column_form(reflected) if reflected.isidentifier() else expression_form(reflected)
    ours = expression_form(model, element=True, column_types=types)
    assert forms_match(db, ours) is same


@pytest.mark.parametrize(
    "sql",
    [
        "n IN (SELECT 1)",
        "count(*)",
        "count(DISTINCT n)",
        "row_number() OVER ()",
        "name SIMILAR TO 'a%'",
        "name LIKE 'a!%' ESCAPE '!'",
        "cast(n as char charset utf8mb4)",
        "lower(n",
        "lower(n))",
        "'unterminated",
        "n +",
        "n IN ()",
        "a ? b c",
    ],
)
def test_what_does_not_parse_falls_back_to_flat_text(sql: str) -> None:
    assert parse_expression(sql) is None
    form = expression_form(sql)
    assert form.tree is None
    assert forms_match(form, expression_form(sql))
    assert not forms_match(form, expression_form("lower(n)"))


def test_parsed_trees() -> None:
    assert parse_expression("lower(CAST(exi.n AS TEXT))") == Apply(
        "lower()", (Cast(Name("n"), "text"),)
    )
    assert parse_expression("n * -1") == Apply("*", (Name("n"), Literal("num", "-1")))
    assert parse_expression("E'it\\'s' || 'it''s'") == Apply(
        "||", (Literal("str", "it's"), Literal("str", "it's"))
    )
    assert parse_expression("n*-1") == parse_expression("n * -1")
    assert parse_expression("n /* why */ + 1 -- note") == parse_expression("n + 1")
    assert parse_expression("`name`") == Name("name")
    assert parse_expression("n DESC") is None  # ordering only for index elements
    assert parse_expression("n DESC", element=True) == Apply("sort desc", (Name("n"),))


@pytest.mark.parametrize(
    ("sql", "canonical"),
    [
        ("VARCHAR", "character varying"),
        ("VARCHAR(50)", "character varying(50)"),
        ("character varying(50)", "character varying(50)"),
        ("TEXT", "text"),
        ("INTEGER", "integer"),
        ("int", "integer"),
        ("BIGINT", "bigint"),
        ("FLOAT", "double precision"),
        ("FLOAT(53)", "double precision"),
        ("FLOAT(24)", "real"),
        ("DOUBLE PRECISION", "double precision"),
        ("NUMERIC(10, 2)", "numeric(10,2)"),
        ("NUMERIC", "numeric"),
        ("TIMESTAMP WITHOUT TIME ZONE", "timestamp without time zone"),
        ("TIMESTAMP(3) WITH TIME ZONE", "timestamp with time zone(3)"),
        ("timestamptz(3)", "timestamp with time zone(3)"),
        ("TIME", "time without time zone"),
        ("CHAR(3)", "character(3)"),
        ("CHAR", "character(1)"),
        ("bpchar", "bpchar"),
        ('"char"', '"char"'),
        ("TEXT[]", "text[]"),
        ("INTEGER[3][]", "integer[][]"),
        ("BIT VARYING(8)", "bit varying(8)"),
        ("JSONB", "jsonb"),
        ('public."Mood"', "Mood"),
        ("mood", "mood"),
        ("INTERVAL DAY TO SECOND", None),
        ("VARCHAR(50", None),
        ("", None),
    ],
)
def test_canonical_type_names(sql: str, canonical: str | None) -> None:
    assert canonical_type(sql) == canonical
