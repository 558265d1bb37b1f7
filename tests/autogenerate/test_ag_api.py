"""The API around the comparison: results, refusals, hooks, renames, options."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from agsupport import convention, joined, lint, project, snapshot
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from databases import TestDatabase, provision
from whimbrel import command
from whimbrel.autogenerate import (
    AutogenerateOptions,
    Diff,
    autogenerate_revision,
    check,
    compare_metadata,
    produce_migrations,
)
from whimbrel.errors import CommandError, ConfigError, UsageError
from whimbrel.results import to_data

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async for db in provision("sqlite", tmp_path):
        yield db


@pytest_asyncio.fixture
async def pg_db(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async for db in provision("postgresql", tmp_path):
        yield db


async def run_sql(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def create(url: str, metadata: sa.MetaData) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


def users(*extra: Any, name: str = "users") -> sa.MetaData:
    md = sa.MetaData(naming_convention=convention())
    sa.Table(name, md, sa.Column("id", sa.Integer(), primary_key=True), *extra)
    return md


async def test_check_result_is_json_data(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(
        sqlite_db.url,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(20))",
        "CREATE TABLE gone (id INTEGER PRIMARY KEY)",
    )
    models = users(sa.Column("name", sa.String(10)), sa.Column("email", sa.String(50)))
    result = await check(project(tmp_path, sqlite_db.url), metadata=models)
    assert not result.ok
    assert result.messages == (
        "add column users.email",
        "modify type of users.name: VARCHAR(20) → VARCHAR(10) (may lose data)",
        "remove table gone",
    )
    assert result.destructive == (result.messages[1], result.messages[2])
    data = json.loads(json.dumps(to_data(result)))
    assert data["ok"] is False
    assert data["diffs"][1] == {
        "kind": "modify_type",
        "message": result.messages[1],
        "schema": None,
        "table": "users",
        "name": "name",
        "old": "VARCHAR(20)",
        "new": "VARCHAR(10)",
        "destructive": True,
        "manual": False,
    }


async def test_autogenerate_result_is_json_data(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    made = await autogenerate_revision(
        project(tmp_path, sqlite_db.url), message="users", metadata=users(), rev_id="r1"
    )
    data = json.loads(json.dumps(to_data(made)))
    assert data["revision"]["revision"] == "r1"
    assert data["path"].endswith("r1_users.py")
    assert data["messages"] == ["add table users"]


async def test_refuses_a_database_behind_head(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    cfg = project(tmp_path, sqlite_db.url)
    await autogenerate_revision(cfg, message="one", metadata=users(), rev_id="r1")
    with pytest.raises(CommandError, match=r"^database is not up to date; run whimbrel upgrade"):
        await autogenerate_revision(cfg, message="two", metadata=users())
    with pytest.raises(CommandError, match="not up to date"):
        await check(cfg, metadata=users())
    assert not (await check(cfg, metadata=users(), require_head=False)).ok
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=users())).ok


async def test_target_metadata_from_the_configuration(
    sqlite_db: TestDatabase, tmp_path: Path
) -> None:
    (tmp_path / "appmodels_ag.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        "sa.Table('t', metadata, sa.Column('id', sa.Integer, primary_key=True))\n"
    )
    cfg = project(
        tmp_path,
        sqlite_db.url,
        target_metadata="appmodels_ag:metadata",
        prepend_sys_path=(tmp_path,),
    )
    assert (await check(cfg)).messages == ("add table t",)
    bad = project(tmp_path, sqlite_db.url, target_metadata="appmodels_ag:sa")
    with pytest.raises(ConfigError, match="must be a MetaData"):
        await check(bad)


async def test_several_metadata(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    both = [users(), users(name="orders")]
    result = await check(project(tmp_path, sqlite_db.url), metadata=both)
    assert result.messages == ("add table orders", "add table users")


async def test_include_name_filters_before_reflection(
    pg_db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_sql(
        pg_db.url,
        "CREATE TABLE keep (id INTEGER PRIMARY KEY, a INTEGER)",
        "CREATE TABLE other_app (id INTEGER PRIMARY KEY)",
    )
    asked: list[tuple[str | None, str]] = []
    filters: list[Any] = []
    original = Inspector.get_multi_columns

    def spy(self: Inspector, **kw: Any) -> Any:
        filters.append(kw.get("filter_names"))
        return original(self, **kw)

    monkeypatch.setattr(Inspector, "get_multi_columns", spy)

    def include_name(name: str | None, type_: str, parents: Any) -> bool:
        asked.append((name, type_))
        return not (type_ == "table" and name == "other_app") and name != "a"

    options = AutogenerateOptions(include_name=include_name)
    result = await check(
        project(tmp_path, pg_db.url), metadata=users(name="keep"), options=options
    )
    assert result.ok, result.messages
    assert filters == [["keep"]]
    assert ("other_app", "table") in asked
    assert ("a", "column") in asked


async def test_include_object(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(
        sqlite_db.url,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, secret TEXT, name TEXT)",
        "CREATE INDEX ix_secret ON users (secret)",
    )
    seen: list[tuple[str | None, str, bool]] = []

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, _: Any) -> bool:
        seen.append((name, type_, reflected))
        return name not in ("secret", "ix_secret")

    options = AutogenerateOptions(include_object=include_object)
    models = users(sa.Column("name", sa.Text()))
    result = await check(project(tmp_path, sqlite_db.url), metadata=models, options=options)
    assert result.ok, result.messages
    assert ("secret", "column", True) in seen
    assert ("ix_secret", "index", True) in seen
    assert ("users", "table", False) in seen


async def test_compare_type_off_or_custom(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(sqlite_db.url, "CREATE TABLE users (id INTEGER PRIMARY KEY, n VARCHAR(5))")
    models = users(sa.Column("n", sa.String(9)))
    cfg = project(tmp_path, sqlite_db.url)
    assert not (await check(cfg, metadata=models)).ok
    off = AutogenerateOptions(compare_type=False)
    assert (await check(cfg, metadata=models, options=off)).ok
    calls: list[str] = []

    def same(column: sa.Column[Any], reflected: Any, model: Any) -> bool | None:
        calls.append(column.name)
        return False if column.name == "n" else None

    custom = AutogenerateOptions(compare_type=same)
    assert (await check(cfg, metadata=models, options=custom)).ok
    assert "n" in calls


async def test_suspected_renames_are_warned_about(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(sqlite_db.url, "CREATE TABLE users (id INTEGER PRIMARY KEY, fullname TEXT)")
    cfg = project(tmp_path, sqlite_db.url)
    models = users(sa.Column("full_name", sa.Text()))
    made = await autogenerate_revision(cfg, message="drop and add", metadata=models)
    assert [str(r) for r in made.suspected_renames] == ["users.fullname → users.full_name"]
    assert made.renames == ()
    text = joined(made.path.read_text())
    assert "WARNING: drops column users.fullname and the data in it." in text
    assert "--rename users.fullname:users.full_name" in text
    assert "remove column users.fullname" in made.destructive
    lint(made.path)


async def test_renames_given_or_answered(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(sqlite_db.url, "CREATE TABLE users (id INTEGER PRIMARY KEY, fullname TEXT)")
    cfg = project(tmp_path, sqlite_db.url)
    models = users(sa.Column("full_name", sa.Text()))
    engine = create_async_engine(sqlite_db.url)
    questions: list[str] = []

    def yes(question: str) -> bool:
        questions.append(question)
        return True

    try:
        async with engine.connect() as conn:
            script = await conn.run_sync(
                lambda c: produce_migrations(c, models, renames=["users.fullname:full_name"])
            )
            asked = await conn.run_sync(lambda c: produce_migrations(c, models, prompt=yes))
            with pytest.raises(UsageError, match="matches nothing"):
                await conn.run_sync(
                    lambda c: produce_migrations(c, models, renames=["users.nope:users.x"])
                )
    finally:
        await engine.dispose()
    assert [d.kind for d in script.diffs] == ["rename_column"]
    assert [d.kind for d in asked.diffs] == ["rename_column"]
    assert questions == ["Rename users.fullname → users.full_name?"]

    async def async_yes(question: str) -> bool:
        return True

    made = await autogenerate_revision(cfg, message="rename", metadata=models, prompt=async_yes)
    assert [str(r) for r in made.renames] == ["users.fullname → users.full_name"]
    assert 'op.alter_column("users", "fullname", new_column_name="full_name")' in (
        made.path.read_text()
    )
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=models)).ok


async def test_incompatible_pairs_are_not_offered(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(sqlite_db.url, "CREATE TABLE users (id INTEGER PRIMARY KEY, born DATE)")
    engine = create_async_engine(sqlite_db.url)
    asked: list[str] = []

    def ask(question: str) -> bool:
        asked.append(question)
        return True

    try:
        async with engine.connect() as conn:
            script = await conn.run_sync(
                lambda c: produce_migrations(
                    c,
                    users(sa.Column("count", sa.Integer())),
                    prompt=ask,
                )
            )
    finally:
        await engine.dispose()
    assert asked == []
    assert {d.kind for d in script.diffs} == {"add_column", "remove_column"}


async def test_compare_metadata_is_synchronous(sqlite_db: TestDatabase) -> None:
    engine = create_async_engine(sqlite_db.url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(compare_metadata, users())
    finally:
        await engine.dispose()
    assert diffs == [Diff("add_table", "add table users", None, "users")]


async def test_batch_mode_option(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(sqlite_db.url, "CREATE TABLE users (id INTEGER PRIMARY KEY, n VARCHAR(5))")
    engine = create_async_engine(sqlite_db.url)
    models = users(sa.Column("n", sa.String(9)), sa.Column("m", sa.Integer()))
    try:
        async with engine.connect() as conn:
            auto = await conn.run_sync(produce_migrations, models)
            never = await conn.run_sync(
                lambda c: produce_migrations(
                    c, models, options=AutogenerateOptions(render_as_batch=False)
                )
            )
    finally:
        await engine.dispose()
    assert "with op.batch_alter_table" in auto.render().upgrade_body
    assert "with op.batch_alter_table" not in never.render().upgrade_body


# -- PostgreSQL --------------------------------------------------------------------------


async def count_queries(engine: AsyncEngine, fn: Callable[[sa.Connection], Any]) -> int:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(fn)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
    return len(statements)


def app(n: int) -> sa.MetaData:
    md = sa.MetaData(naming_convention=convention())
    for i in range(n):
        sa.Table(
            f"t{i}",
            md,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("parent_id", sa.Integer(), sa.ForeignKey(f"t{max(i - 1, 0)}.id")),
            sa.Column("name", sa.String(50), nullable=False, server_default="x", index=True),
            sa.UniqueConstraint("name", "parent_id"),
            sa.CheckConstraint("id > 0", name="positive"),
            comment=f"table {i}",
        )
    return md


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_reflection_is_a_fixed_number_of_queries(dialect: str, tmp_path: Path) -> None:
    async for db in provision(dialect, tmp_path):
        await _fixed_number_of_queries(db)


async def _fixed_number_of_queries(db: TestDatabase) -> None:
    small, large = app(3), app(40)
    engine = create_async_engine(db.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(small.create_all)
        # The first comparison on a dialect reads a few catalogue constants once.
        await count_queries(engine, lambda c: compare_metadata(c, small))
        few = await count_queries(engine, lambda c: compare_metadata(c, small))
        async with engine.begin() as conn:
            await conn.run_sync(large.create_all)
        many = await count_queries(engine, lambda c: compare_metadata(c, large))
        async with engine.connect() as conn:
            assert await conn.run_sync(compare_metadata, large) == []
    finally:
        await engine.dispose()
    assert few == many
    assert many < 20


async def test_enum_value_removed_needs_a_hand(pg_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(
        pg_db.url,
        "CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh')",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, mood mood)",
    )
    models = users(sa.Column("mood", sa.Enum("happy", "sad", name="mood")))
    cfg = project(tmp_path, pg_db.url)
    result = await check(cfg, metadata=models)
    assert [d.kind for d in result.diffs] == ["enum_values"]
    assert result.manual == result.messages
    assert "loses the values 'meh'" in result.messages[0]
    made = await autogenerate_revision(cfg, message="enum", metadata=models)
    assert "# TODO: enum type mood loses the values 'meh'" in made.path.read_text()
    lint(made.path)


async def test_enum_values_identity_and_schemas(pg_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(
        pg_db.url,
        "CREATE SCHEMA other",
        "CREATE TABLE other.things (id INTEGER PRIMARY KEY)",
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, mood mood DEFAULT 'happy', n INTEGER)",
    )
    cfg = project(tmp_path, pg_db.url)
    before = await snapshot(pg_db.url)
    models = users(
        sa.Column(
            "mood",
            sa.Enum("glad", "happy", "sad", "angry", name="mood"),
            server_default="happy",
        ),
        sa.Column("n", sa.Integer(), sa.Identity(start=5), nullable=False),
    )
    things = sa.Table(
        "things", models, sa.Column("id", sa.Integer(), primary_key=True), schema="other"
    )
    assert things.schema == "other"
    # Without include_schemas, the other schema is not looked at.
    only_public = await check(cfg, metadata=models)
    assert {d.kind for d in only_public.diffs} == {"add_enum_value", "identity", "modify_nullable"}
    made = await autogenerate_revision(
        cfg,
        message="values",
        metadata=models,
        options=AutogenerateOptions(
            include_schemas=True,
            include_name=lambda name, type_, parents: type_ != "schema" or name == "other",
        ),
    )
    text = joined(made.path.read_text())
    assert 'op.add_enum_value("mood", "glad", before="happy")' in text
    assert 'op.add_enum_value("mood", "angry", after="sad")' in text
    assert "ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 5)" in text
    lint(made.path)
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=models)).ok
    await command.downgrade(cfg, "base")
    assert await snapshot(pg_db.url) == before


async def test_rendered_for_postgresql_batch_on_request(
    pg_db: TestDatabase, tmp_path: Path
) -> None:
    await run_sql(pg_db.url, "CREATE TABLE users (id INTEGER PRIMARY KEY, n VARCHAR(5))")
    cfg = project(tmp_path, pg_db.url)
    models = users(sa.Column("n", sa.String(9)))
    made = await autogenerate_revision(
        cfg,
        message="batch",
        metadata=models,
        options=AutogenerateOptions(render_as_batch=True),
    )
    assert 'with op.batch_alter_table("users") as batch_op:' in made.path.read_text()
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=models)).ok


async def test_postgresql_casts_across_kinds_of_data(pg_db: TestDatabase, tmp_path: Path) -> None:
    await run_sql(
        pg_db.url,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, age VARCHAR(10), active INTEGER)",
        "INSERT INTO users VALUES (1, '42', 1), (2, NULL, 0)",
    )
    cfg = project(tmp_path, pg_db.url)
    models = users(sa.Column("age", sa.Integer()), sa.Column("active", sa.Boolean()))
    made = await autogenerate_revision(cfg, message="types", metadata=models)
    text = joined(made.path.read_text())
    assert 'postgresql_using="age::INTEGER"' in text
    assert 'postgresql_using="active::BOOLEAN"' in text
    await command.upgrade(cfg)
    assert (await check(cfg, metadata=models)).ok
    engine = create_async_engine(pg_db.url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.exec_driver_sql("SELECT age, active FROM users ORDER BY id")).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(42, True), (None, False)]
    await command.downgrade(cfg, "base")
