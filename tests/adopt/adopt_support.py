"""Run the same revision files under Alembic and Whimbrel and compare what they leave."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from databases import TestDatabase, provision
from whimbrel.config import Config

# Alembic's side: the smallest env.py that runs online on the configured URL.
MINIMAL_ENV = """\
from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        transaction_per_migration=config.attributes.get("transaction_per_migration", False),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

Schema = dict[str, Any]


def package_dir(package: str, *parts: str) -> Path:
    """A directory inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def copy_scripts(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (for Alembic and inspection)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def plain_url(url: str) -> str:
    """The URL with the default (sync) driver, as an alembic.ini usually has it."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "")


def alembic_config(
    root: Path, versions: Path, url: str, *, transaction_per_migration: bool = False
) -> AlembicConfig:
    """Alembic's programmatic configuration over ``versions`` with MINIMAL_ENV."""
    env_dir = root / "alembic_env"
    if not env_dir.exists():
        env_dir.mkdir(parents=True)
        (env_dir / "env.py").write_text(MINIMAL_ENV)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(env_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(versions))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    cfg.attributes["transaction_per_migration"] = transaction_per_migration
    return cfg


def alembic_upgrade(cfg: AlembicConfig, target: str) -> None:
    alembic_command.upgrade(cfg, target)


def alembic_downgrade(cfg: AlembicConfig, target: str) -> None:
    alembic_command.downgrade(cfg, target)


def inspect_schema(url: str) -> Schema:
    """Tables, columns (type, nullability), keys, indexes, enums and version rows."""
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            found = sa.inspect(conn)
            out: Schema = {}
            for table in sorted(found.get_table_names()):
                if table == "whimbrel_history":
                    continue
                out[table] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in found.get_columns(table)
                    ],
                    "pk": found.get_pk_constraint(table)["constrained_columns"],
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in found.get_indexes(table)
                    ),
                    "unique": sorted(
                        (u["name"], tuple(u["column_names"]))
                        for u in found.get_unique_constraints(table)
                    ),
                    "fks": sorted(
                        (
                            f["name"] or "",
                            tuple(f["constrained_columns"]),
                            f["referred_table"],
                            tuple(f["referred_columns"]),
                        )
                        for f in found.get_foreign_keys(table)
                    ),
                }
            if conn.dialect.name == "postgresql":
                out["(enums)"] = sorted(
                    (e["name"], tuple(e["labels"]))
                    for e in found.get_enums()  # type: ignore[attr-defined]
                )
            if "alembic_version" in out:
                rows = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                out["(version rows)"] = sorted(r[0] for r in rows)
            return out
    finally:
        engine.dispose()


def table_rows(
    url: str, skip: tuple[str, ...] = ("alembic_version", "whimbrel_history")
) -> Schema:
    """Every row of every table, ordered by the first column."""
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            names = [t for t in sa.inspect(conn).get_table_names() if t not in skip]
            return {
                name: [
                    tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{name}" ORDER BY 1'))
                ]
                for name in sorted(names)
            }
    finally:
        engine.dispose()


def table_names(url: str) -> list[str]:
    """The tables of the database, sorted."""
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return sorted(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def execute_sync(url: str, work: Callable[[sa.Connection], None]) -> None:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            work(conn)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Pair:
    """Two fresh databases of one dialect: one for Alembic, one for Whimbrel."""

    alembic: TestDatabase
    whimbrel: TestDatabase


@asynccontextmanager
async def fresh_databases(
    dialect: str, tmp_path: Path, *names: str
) -> AsyncIterator[list[TestDatabase]]:
    """One fresh database of ``dialect`` per name, dropped afterwards."""
    async with AsyncExitStack() as stack:
        found = []
        for name in names:
            (tmp_path / name).mkdir()
            found.append(await stack.enter_async_context(_provisioned(dialect, tmp_path / name)))
        yield found


@asynccontextmanager
async def _provisioned(dialect: str, where: Path) -> AsyncIterator[TestDatabase]:
    generator = provision(dialect, where)
    db = await anext(generator)
    try:
        yield db
    finally:
        # Run the generator to its end, as pytest does with the `database` fixture: an
        # aclose() would leave provision()'s inner generator, and its connection, open.
        await anext(generator, None)


@asynccontextmanager
async def two_databases(dialect: str, tmp_path: Path) -> AsyncIterator[Pair]:
    async with fresh_databases(dialect, tmp_path, "db_alembic", "db_whimbrel") as (a, w):
        yield Pair(a, w)


@asynccontextmanager
async def connection(url: str) -> AsyncIterator[AsyncConnection]:
    """An AsyncConnection of the test's own, to hand to Whimbrel's commands."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


def whimbrel_config(config_file: Path) -> Config:
    return Config.load(config_file, environ={})


# The venv's executables (whimbrel, alembic), found first on PATH by run().
BIN = Path(sys.executable).parent


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a CLI as a user would: the venv first on PATH, no WHIMBREL_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIMBREL_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def ok(argv: list[str], cwd: Path) -> str:
    """:func:`run`, which must succeed; its stdout and stderr."""
    done = run(argv, cwd)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr
