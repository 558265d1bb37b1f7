"""PostgreSQL enum types created by SQL text are created once in offline SQL.

Online, ``create_table``/``add_column`` create a column's enum type only when the
database lacks it. Offline nothing can be asked, so the script remembers the types
it created: those of earlier tables, and those of ``CREATE TYPE`` text passed to
``op.execute`` (what autogenerate writes for a new enum), which ``DROP TYPE`` text
forgets again. Lint's static run (``whimbrel plan``) shares that memory.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from offsupport import UNREACHABLE, Pair, apply_sql, pair_of, project, snapshot
from sqlalchemy.dialects import postgresql

from whimbrel import command
from whimbrel.config import Config
from whimbrel.lint.recorder import record_script
from whimbrel.operations.connectionless import type_changes
from whimbrel.script.directory import ScriptDirectory

pytestmark = pytest.mark.asyncio

PG = UNREACHABLE["postgresql"]

DROP_DDL = sa.DDL("DROP TYPE IF EXISTS mood")  # type: ignore[no-untyped-call]

CREATE_TYPE = re.compile(r"^CREATE TYPE ", re.IGNORECASE | re.MULTILINE)


def one(upgrade: str, downgrade: str = "pass") -> dict[str, object]:
    body = (
        "def upgrade(op: Operations) -> None:\n"
        + _indent(upgrade)
        + "\n\n\ndef downgrade(op: Operations) -> None:\n"
        + _indent(downgrade)
    )
    return {"f1000001": ("enum", None, body, True)}


def _indent(code: str) -> str:
    return "\n".join("    " + line if line else "" for line in code.strip().splitlines())


async def offline_sql(tmp_path: Path, revisions: Mapping[str, object]) -> str:
    result = await command.upgrade(project(tmp_path, PG, revisions), "heads", sql=True)
    assert result.notes == ()
    return result.sql


# -------------------------------------------------------------- reading the SQL text


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("CREATE TYPE mood AS ENUM ('a', 'b')", [(True, None, "mood")]),
        ("create type Mood as enum ('a')", [(True, None, "mood")]),
        ("CREATE TYPE \"Mood\" AS ENUM ('a')", [(True, None, "Mood")]),
        ('CREATE TYPE app."My ""Mood""" AS ENUM (\'a\')', [(True, "app", 'My "Mood"')]),
        ('CREATE TYPE "App" . mood AS (a int)', [(True, "App", "mood")]),
        ("CREATE TYPE mood", [(True, None, "mood")]),
        (
            "-- first ; the moods\nCREATE TYPE mood AS ENUM ('a;b', 'c''d');\n"
            "/* then */ CREATE TYPE colour AS ENUM ($$x;y$$);",
            [(True, None, "mood"), (True, None, "colour")],
        ),
        ("DROP TYPE mood", [(False, None, "mood")]),
        (
            "DROP TYPE IF EXISTS mood, app.colour CASCADE",
            [(False, None, "mood"), (False, "app", "colour")],
        ),
        (sa.text("CREATE TYPE mood AS ENUM ('a', 'b')"), [(True, None, "mood")]),
        (DROP_DDL, [(False, None, "mood")]),
        (
            postgresql.CreateEnumType(postgresql.ENUM("a", name="mood", schema="s")),
            [(True, "s", "mood")],
        ),
        (postgresql.DropEnumType(postgresql.ENUM("a", name="mood")), [(False, None, "mood")]),
        ("SELECT E'it\\'s'; CREATE TYPE mood AS ENUM ('a')", [(True, None, "mood")]),
        ("SELECT 'CREATE TYPE mood AS ENUM (''a'')'", []),
        ("-- CREATE TYPE mood\nSELECT 1", []),
        ("DO $$ BEGIN CREATE TYPE mood AS ENUM ('a'); END $$", []),
        ("CREATE TYPES mood", []),
        ("ALTER TYPE mood ADD VALUE 'c'", []),
        (sa.select(sa.literal(1)), []),
    ],
)
async def test_type_changes_reads_create_and_drop_type(
    statement: object, expected: list[tuple[bool, str | None, str]]
) -> None:
    assert type_changes(statement) == expected


# ------------------------------------------------------------------ offline scripts


@pytest.mark.parametrize(
    ("create", "enum"),
    [
        ("op.execute(\"CREATE TYPE mood AS ENUM ('a', 'b')\")", "name='mood'"),
        ("op.execute(sa.text(\"create type mood as enum ('a', 'b')\"))", "name='mood'"),
        ("op.execute(sa.DDL(\"CREATE TYPE mood AS ENUM ('a', 'b')\"))", "name='mood'"),
        (
            "op.execute('CREATE TYPE \"public\".\"Mood\" AS ENUM (''a'', ''b'')')",
            "name='Mood', schema='public'",
        ),
        (
            "op.execute('CREATE TYPE app.mood AS ENUM (''a'', ''b'')')",
            "name='mood', schema='app'",
        ),
    ],
)
async def test_create_type_text_is_not_created_again(
    tmp_path: Path, create: str, enum: str
) -> None:
    upgrade = f"""
{create}
op.create_table(
    "t",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("m", sa.Enum("a", "b", {enum})),
)
op.add_column("t", sa.Column("m2", sa.Enum("a", "b", {enum})))
"""
    sql = await offline_sql(tmp_path, one(upgrade))
    assert len(CREATE_TYPE.findall(sql)) == 1, sql
    assert sql.upper().index("CREATE TYPE") < sql.index("CREATE TABLE t")


async def test_several_types_in_one_text(tmp_path: Path) -> None:
    upgrade = """
op.execute(
    "-- the types; both\\nCREATE TYPE mood AS ENUM ('a;b', 'c');\\n"
    "CREATE TYPE colour AS ENUM ('x')"
)
op.create_table(
    "t",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("m", sa.Enum("a;b", "c", name="mood")),
    sa.Column("c", sa.Enum("x", name="colour")),
)
"""
    sql = await offline_sql(tmp_path, one(upgrade))
    assert len(CREATE_TYPE.findall(sql)) == 2, sql


async def test_drop_type_text_forgets_the_type(tmp_path: Path) -> None:
    upgrade = """
op.execute("CREATE TYPE mood AS ENUM ('a', 'b')")
op.execute("DROP TYPE IF EXISTS mood CASCADE")
op.create_table(
    "t",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("m", sa.Enum("a", "b", name="mood")),
)
"""
    sql = await offline_sql(tmp_path, one(upgrade))
    assert len(CREATE_TYPE.findall(sql)) == 2, sql
    assert sql.index("DROP TYPE") < sql.index("CREATE TYPE mood", sql.index("DROP TYPE"))


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 'CREATE TYPE mood AS ENUM (''a'')'",
        "-- CREATE TYPE mood\\nSELECT 1",
        "DO $$ BEGIN CREATE TYPE mood AS ENUM ('a', 'b'); "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        "CREATE TYPE other AS ENUM ('a', 'b')",
        "CREATE TYPE app.mood AS ENUM ('a', 'b')",
    ],
)
async def test_other_text_does_not_count_as_the_type(tmp_path: Path, text: str) -> None:
    upgrade = f"""
op.execute("{text}")
op.create_table(
    "t",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("m", sa.Enum("a", "b", name="mood")),
)
"""
    sql = await offline_sql(tmp_path, one(upgrade))
    assert re.search(r"^CREATE TYPE mood AS ENUM", sql, re.MULTILINE), sql


async def test_type_created_by_text_in_an_earlier_revision(tmp_path: Path) -> None:
    revisions = {
        "f1000001": (
            "first",
            None,
            "def upgrade(op: Operations) -> None:\n"
            "    op.execute(\"CREATE TYPE mood AS ENUM ('a', 'b')\")\n\n\n"
            "def downgrade(op: Operations) -> None:\n"
            '    op.execute("DROP TYPE mood")\n',
            True,
        ),
        "f2000002": (
            "second",
            "f1000001",
            "def upgrade(op: Operations) -> None:\n"
            "    op.create_table(\n"
            '        "t",\n'
            '        sa.Column("id", sa.Integer, primary_key=True),\n'
            '        sa.Column("m", sa.Enum("a", "b", name="mood")),\n'
            "    )\n\n\n"
            "def downgrade(op: Operations) -> None:\n"
            '    op.drop_table("t")\n',
            True,
        ),
    }
    sql = await offline_sql(tmp_path, revisions)
    assert len(CREATE_TYPE.findall(sql)) == 1, sql


# ---------------------------------------------------------- lint's static recording


async def test_lint_recording_lists_the_type_once(tmp_path: Path) -> None:
    upgrade = """
op.execute("CREATE TYPE mood AS ENUM ('a', 'b')")
op.create_table(
    "t",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("m", sa.Enum("a", "b", name="mood")),
)
"""
    config = project(tmp_path, PG, one(upgrade))
    script = ScriptDirectory.from_config(config).get_script("f1000001")
    dialect = sa.create_engine("postgresql://").dialect
    recording = await record_script(script, config, dialect)
    statements = [sql for op in recording.ops for sql in op.sql]
    assert sum(1 for sql in statements if CREATE_TYPE.match(sql)) == 1, statements


async def test_plan_creates_a_type_once_across_revisions(tmp_path: Path) -> None:
    """As online: a type the first revision created is not created again by the second."""
    from whimbrel.lint.plan import _steps

    def table(name: str) -> str:
        return (
            "def upgrade(op: Operations) -> None:\n"
            f"    op.create_table({name!r}, sa.Column('id', sa.Integer, primary_key=True),\n"
            "        sa.Column('m', sa.Enum('a', 'b', name='mood')))\n\n\n"
            "def downgrade(op: Operations) -> None:\n    pass\n"
        )

    revisions = {
        "f1000001": ("first", None, table("t"), True),
        "f2000002": ("second", "f1000001", table("u"), True),
    }
    config = project(tmp_path, PG, revisions)
    scripts = ScriptDirectory.from_config(config)
    upgrade = scripts.graph().plan_upgrade((), "heads")
    dialect = sa.create_engine("postgresql://").dialect
    steps = await _steps(config, scripts, upgrade, dialect)
    created = [[s.sql for s in step.statements if CREATE_TYPE.match(s.sql)] for step in steps]
    assert [len(found) for found in created] == [1, 0], created


# ------------------------------------------------------------- through psql, for real


@pytest_asyncio.fixture
async def pg_pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for pair in pair_of("postgresql", tmp_path):
        yield pair


# The QA report's revision, with a second one adding a column of another new type
# (schema-qualified and quoted) and a table using the first type again.
QA_REVISIONS: dict[str, object] = {
    "f1000001": (
        "mood",
        None,
        """
def upgrade(op: Operations) -> None:
    op.execute("CREATE TYPE mood AS ENUM ('a', 'b')")
    op.create_table(
        "t",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", sa.Enum("a", "b", name="mood")),
    )


def downgrade(op: Operations) -> None:
    op.drop_table("t")
    op.execute("DROP TYPE mood")
""",
        True,
    ),
    "f2000002": (
        "colour",
        "f1000001",
        """
def upgrade(op: Operations) -> None:
    op.execute('CREATE TYPE "public"."Colour" AS ENUM (\\'x\\', \\'y\\')')
    op.add_column(
        "t", sa.Column("c", sa.Enum("x", "y", name="Colour", schema="public"))
    )
    op.create_table(
        "u",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", sa.Enum("a", "b", name="mood")),
    )


def downgrade(op: Operations) -> None:
    op.drop_table("u")
    op.drop_column("t", "c")
    op.execute('DROP TYPE "public"."Colour"')
""",
        True,
    ),
}


async def test_offline_script_runs_in_psql_like_online(pg_pair: Pair) -> None:
    root = pg_pair.tmp / "project"
    online = project(root, pg_pair.online.url, QA_REVISIONS)
    reader = project(root, pg_pair.offline.url, QA_REVISIONS)
    nowhere = project(root, PG, QA_REVISIONS)

    # Lint's plan records each revision on its own: within one, a type is created once.
    planned = await command.plan(online)
    for step in planned.steps:
        creates = [st.sql for st in step.statements if CREATE_TYPE.match(st.sql)]
        names = [sql.split()[2].lower() for sql in creates]
        assert len(names) == len(set(names)), creates
    assert sum(1 for st in planned.steps[0].statements if CREATE_TYPE.match(st.sql)) == 1

    await command.upgrade(online, "heads")
    up = await command.upgrade(nowhere, "heads", sql=True)
    assert up.notes == ()
    assert len(CREATE_TYPE.findall(up.sql)) == 2, up.sql
    await apply_sql(pg_pair.offline, up.sql, pg_pair.tmp / "up.sql")
    await _same(online, reader, pg_pair)

    await command.downgrade(online, "base")
    down = await command.downgrade(nowhere, "heads:base", sql=True)
    assert down.notes == ()
    await apply_sql(pg_pair.offline, down.sql, pg_pair.tmp / "down.sql")
    await _same(online, reader, pg_pair)
    assert (await snapshot(pg_pair.offline.url, reader))["schema"]["__enums__"] == []


async def _same(online: Config, reader: Config, pair: Pair) -> None:
    expected = await snapshot(pair.online.url, online)
    got = await snapshot(pair.offline.url, reader)
    assert got["schema"] == expected["schema"]
    assert got["heads"] == expected["heads"]
