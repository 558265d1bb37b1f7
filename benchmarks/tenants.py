"""Schema-per-tenant fan-out on PostgreSQL: Whimbrel vs Alembic's cookbook recipe.

Usage::

    python benchmarks/tenants.py [--tenants 200] [--revisions 20] [--concurrency 16]

Workload: ``--tenants`` PostgreSQL schemas of one database, each brought from empty
to head through ``--revisions`` small revisions (create table / add column / create
index), from the same revision files.

* Whimbrel: one process, ``whimbrel upgrade heads --all --concurrency N`` with
  ``tenant_schemas`` in the configuration.
* Alembic, as its cookbook recommends for schema-level multi-tenancy: a loop over the
  tenants running ``alembic -x tenant=NAME upgrade head`` for each, with an ``env.py``
  (the async template's, asyncpg like Whimbrel) that sets ``search_path`` and
  ``version_table_schema`` to the tenant.

Both start from a freshly created database in which the tenant schemas already exist
(outside the timed region). After each run the script checks that every schema holds
the same tables and is at the same head. Prints both times and the ratio (target:
Whimbrel at least 10x faster end to end).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from generate import ProjectConfig, generate_project  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "wb_bench_tenants"
URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"
BIN = Path(sys.executable).parent

ENV_PY = '''"""Alembic env.py: the cookbook's schema-per-tenant recipe on the async template."""

import asyncio

from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from alembic import context

config = context.config
target_metadata = None


def do_run_migrations(connection: Connection) -> None:
    tenant = context.get_x_argument(as_dictionary=True)["tenant"]
    connection.execute(text('SET search_path TO "%s"' % tenant))
    connection.commit()
    connection.dialect.default_schema_name = tenant
    context.configure(
        connection=connection, target_metadata=target_metadata, version_table_schema=tenant
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


asyncio.run(run_async_migrations())
'''


def psql(sql: str, database: str = "postgres") -> str:
    """Run SQL through psql and return its unaligned output."""
    done = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            database,
            "-qAt",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def fresh_database(tenants: list[str]) -> None:
    """Drop and recreate the database with empty tenant schemas (not timed)."""
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DATABASE}"')
    psql("; ".join(f'CREATE SCHEMA "{t}"' for t in tenants), DATABASE)


def layout() -> dict[str, int]:
    """Tables per tenant schema, as a check that both tools did the same work."""
    rows = psql(
        "SELECT table_schema, count(*) FROM information_schema.tables "
        "WHERE table_schema LIKE 'tenant_%' AND table_name NOT LIKE '%_version' "
        "AND table_name <> 'whimbrel_history' GROUP BY table_schema",
        DATABASE,
    )
    return {line.split("|")[0]: int(line.split("|")[1]) for line in rows.splitlines() if line}


def heads(version_table: str, tenants: list[str]) -> set[str]:
    """The distinct head revisions over all tenants."""
    union = " UNION ".join(f'SELECT version_num FROM "{t}".{version_table}' for t in tenants)
    return set(psql(union, DATABASE).split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--revisions", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    tenants = [f"tenant_{i:03d}" for i in range(args.tenants)]

    with tempfile.TemporaryDirectory() as tmp:
        project = generate_project(
            Path(tmp) / "proj",
            revisions=args.revisions,
            shape="linear",
            config=ProjectConfig(alembic_url=URL, whimbrel_url=URL, env="async"),
        )
        (project.script_location / "env.py").write_text(ENV_PY)
        toml = project.whimbrel_toml
        toml.write_text(
            toml.read_text() + "tenant_schemas = [" + ", ".join(f'"{t}"' for t in tenants) + "]\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        fresh_database(tenants)
        started = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "whimbrel"),
                "-q",
                "upgrade",
                "heads",
                "--all",
                "--concurrency",
                str(args.concurrency),
            ],
            cwd=project.root,
            env=env,
            check=True,
        )
        whimbrel_s = time.perf_counter() - started
        whimbrel_layout = layout()
        whimbrel_heads = heads("whimbrel_version", tenants)

        fresh_database(tenants)
        started = time.perf_counter()
        for tenant in tenants:
            subprocess.run(
                [str(BIN / "alembic"), "-x", f"tenant={tenant}", "upgrade", "head"],
                cwd=project.root,
                env=env,
                check=True,
                capture_output=True,
            )
        alembic_s = time.perf_counter() - started
        alembic_layout = layout()
        alembic_heads = heads("alembic_version", tenants)

    if whimbrel_layout != alembic_layout or whimbrel_heads != alembic_heads:
        print(
            "the two tools did different work:",
            whimbrel_layout,
            alembic_layout,
            whimbrel_heads,
            alembic_heads,
        )
        return 1
    ratio = alembic_s / whimbrel_s
    load = os.getloadavg()[0]
    print(
        f"{args.tenants} tenant schemas x {args.revisions} revisions on PostgreSQL "
        f"(load average {load:.2f})"
    )
    print(f"  whimbrel upgrade heads --all --concurrency {args.concurrency}: {whimbrel_s:8.2f} s")
    print(f"  alembic -x tenant=... upgrade head, one per tenant:   {alembic_s:8.2f} s")
    print(f"  ratio {ratio:.1f}x (target >= 10x): {'PASS' if ratio >= 10 else 'MISS'}")
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
