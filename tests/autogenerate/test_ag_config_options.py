"""Autogenerate options from the configuration file and the command line, on real databases."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner, Result

from databases import TestDatabase, provision
from whimbrel import command
from whimbrel.autogenerate import AutogenerateOptions
from whimbrel.cli.app import app
from whimbrel.config import Config

MODELS = """\
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
)
"""

HOOKS = """\
def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name.startswith("legacy_"))
"""


class Project:
    """A project on disk: whimbrel.toml, a models module and a hooks module."""

    def __init__(self, root: Path, url: str, models: str = MODELS) -> None:
        self.root = root
        self.url = url
        self.tag = uuid.uuid4().hex[:8]
        (root / "migrations" / "versions").mkdir(parents=True)
        (root / "src").mkdir()
        (root / "src" / f"models_{self.tag}.py").write_text(models)
        (root / "src" / f"hooks_{self.tag}.py").write_text(HOOKS)

    def configure(self, autogenerate: str = "") -> Config:
        text = f"""\
            script_location = "migrations"
            url = "{self.url}"
            prepend_sys_path = ["src"]
            target_metadata = "models_{self.tag}:metadata"
            {autogenerate.replace("HOOKS", f"hooks_{self.tag}")}
            """
        (self.root / "whimbrel.toml").write_text(textwrap.dedent(text))
        return Config.load(self.root / "whimbrel.toml", environ={})

    async def cli(self, *args: str) -> Result:
        """Run the command line in a thread: it starts an event loop of its own."""

        def invoke() -> Result:
            return CliRunner().invoke(
                app,
                ["-c", str(self.root / "whimbrel.toml"), *args],
                env={"WHIMBREL_URL": None, "WHIMBREL_CONFIG": None},
                prog_name="whimbrel",
            )

        return await anyio.to_thread.run_sync(invoke)


async def execute(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgresql(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh PostgreSQL database, dropped afterwards."""
    generator = provision("postgresql", tmp_path)
    db = await anext(generator)
    try:
        yield db
    finally:
        await anext(generator, None)


USERS = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL)"


@pytest.mark.asyncio
async def test_include_object_from_the_file_leaves_a_table_out(
    database: TestDatabase, tmp_path: Path
) -> None:
    await execute(database.url, USERS, "CREATE TABLE legacy_audit (id INTEGER PRIMARY KEY)")
    project = Project(tmp_path, database.url)

    plain = await command.check(project.configure())
    assert plain.messages == ("remove table legacy_audit",)

    hooked = project.configure('autogenerate = { include_object = "HOOKS:include_object" }')
    assert (await command.check(hooked)).ok
    # The CLI reads the same file.
    assert (await project.cli("check")).exit_code == 0
    # Python options given explicitly win over the file: no hook.
    explicit = await command.check(hooked, options=AutogenerateOptions())
    assert explicit.messages == ("remove table legacy_audit",)


@pytest.mark.asyncio
async def test_exclude_tables_from_the_file_and_the_command_line(
    database: TestDatabase, tmp_path: Path
) -> None:
    await execute(
        database.url,
        USERS,
        "CREATE TABLE tmp_import (id INTEGER PRIMARY KEY)",
        "CREATE TABLE scratch (id INTEGER PRIMARY KEY)",
    )
    project = Project(tmp_path, database.url)
    config = project.configure('autogenerate = { exclude_tables = ["tmp_*"] }')
    assert (await command.check(config)).messages == ("remove table scratch",)

    drift = await project.cli("check")
    assert drift.exit_code == 1 and "remove table scratch" in drift.stdout
    assert "tmp_import" not in drift.stdout
    # The command line's patterns add to the file's.
    clean = await project.cli("check", "--exclude-table", "scr*")
    assert clean.exit_code == 0, clean.output


@pytest.mark.asyncio
async def test_compare_type_from_the_file_and_overridden_on_the_command_line(
    database: TestDatabase, tmp_path: Path
) -> None:
    await execute(
        database.url, "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL)"
    )
    project = Project(tmp_path, database.url)
    project.configure("autogenerate = { compare_type = false }")
    assert (await project.cli("check")).exit_code == 0
    typed = await project.cli("check", "--compare-type")
    assert typed.exit_code == 1
    assert "users.name" in typed.stdout

    project.configure()
    made = await project.cli(
        "revision", "--autogenerate", "-m", "ignore types", "--no-compare-type"
    )
    assert made.exit_code == 1
    assert "no changes detected" in made.stderr


@pytest.mark.asyncio
async def test_include_schemas_from_the_file_on_postgresql(tmp_path: Path) -> None:
    models = MODELS + textwrap.dedent(
        """\
        sa.Table(
            "daily",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("total", sa.Integer, nullable=True),
            schema="reporting",
        )
        """
    )
    async with postgresql(tmp_path) as db:
        await execute(
            db.url,
            USERS,
            "CREATE SCHEMA reporting",
            "CREATE TABLE reporting.daily (id INTEGER PRIMARY KEY)",
            "CREATE SCHEMA archive",
            "CREATE TABLE archive.old (id INTEGER PRIMARY KEY)",
        )
        project = Project(tmp_path / "p", db.url, models)

        default_only = await command.check(project.configure())
        assert default_only.ok, default_only.messages

        every = project.configure("autogenerate = { include_schemas = true }")
        found = await command.check(every)
        assert set(found.messages) == {
            "add column reporting.daily.total",
            "remove table archive.old",
        }

        narrowed = project.configure(
            'autogenerate = { include_schemas = true, exclude_tables = ["archive.*"] }'
        )
        assert (await command.check(narrowed)).messages == ("add column reporting.daily.total",)

        assert (await project.cli("check", "--no-include-schemas")).exit_code == 0
        made = await project.cli("revision", "--autogenerate", "-m", "daily total")
        assert made.exit_code == 0, made.output
        written = next((tmp_path / "p" / "migrations" / "versions").glob("*daily_total.py"))
        source = written.read_text()
        assert 'schema="reporting"' in source and '"total"' in source
        assert "archive" not in source
