"""A no-difference ``check`` over large schemas: Whimbrel vs Alembic, in the same run.

For each dialect (SQLite, PostgreSQL) and size (300 and 1,000 tables by default) the
suite writes a models module (``models.py``), creates its schema with
``metadata.create_all`` and then times, interleaving the tools:

* **compare**: the comparison alone, in one process, on one warm connection (the same
  driver for both: ``run_sync`` over aiosqlite/asyncpg):
  ``whimbrel.autogenerate.compare_metadata`` vs ``alembic.autogenerate.compare_metadata``
  (``compare_type`` and ``compare_server_default`` on for both).
* **end to end**: a fresh process per run, as a user would run it: Whimbrel's
  ``check`` (``Config.load`` + ``await check(config)``) vs ``alembic check`` (Alembic's
  stock synchronous ``env.py``, psycopg / pysqlite).
* **import**: a fresh process that only imports the models module: the part of the end
  to end time that is the application's, not the tool's.

Both tools must find no difference, or the numbers are void. Run it with the
project's venv::

    .venv/bin/python -m benchmarks.autogen.run
    .venv/bin/python -m benchmarks.autogen.run --sizes 300 --dialect sqlite --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.autogen.models import write_models

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "benchmarks" / ".work" / "autogen"
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgres@127.0.0.1:5432"
TARGETS = {"compare": 4.0, "end_to_end": 1.7}


@dataclass(frozen=True)
class Setup:
    dialect: str
    size: int
    directory: Path
    module: str
    async_url: str
    sync_url: str


@dataclass
class Result:
    dialect: str
    size: int
    compare_whimbrel_s: float = 0.0
    compare_alembic_s: float = 0.0
    e2e_whimbrel_s: float = 0.0
    e2e_alembic_s: float = 0.0
    import_s: float = 0.0
    whimbrel_diffs: int = 0
    alembic_diffs: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def compare_ratio(self) -> float:
        return self.compare_alembic_s / self.compare_whimbrel_s

    @property
    def e2e_ratio(self) -> float:
        return self.e2e_alembic_s / self.e2e_whimbrel_s

    @property
    def beyond_import_ratio(self) -> float:
        return (self.e2e_alembic_s - self.import_s) / (self.e2e_whimbrel_s - self.import_s)


# -- setting up ------------------------------------------------------------------------


async def _create_schema(setup: Setup) -> None:
    import importlib

    from sqlalchemy.ext.asyncio import create_async_engine

    if setup.dialect == "postgresql":
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = setup.async_url.rsplit("/", 1)[1]
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        await admin.dispose()
    else:
        (setup.directory / "bench.db").unlink(missing_ok=True)
    sys.path.insert(0, str(setup.directory))
    try:
        metadata = importlib.import_module(setup.module).metadata
    finally:
        sys.path.remove(str(setup.directory))
    engine = create_async_engine(setup.async_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()


ENV_PY = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

from {module} import metadata as target_metadata

config = context.config


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {{}}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            compare_server_default=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

WHIMBREL_CHECK = """\
import json
import sys

import anyio

from whimbrel.autogenerate import AutogenerateOptions, check
from whimbrel.config import Config


def include_name(name, type_, parents):
    # `alembic check` creates alembic_version in the same database.
    return not (type_ == "table" and name == "alembic_version")


async def main() -> None:
    options = AutogenerateOptions(include_name=include_name)
    result = await check(Config.load(sys.argv[1]), options=options)
    print(json.dumps({"ok": result.ok, "diffs": len(result.diffs)}))


anyio.run(main)
"""


def prepare(dialect: str, size: int) -> Setup:
    directory = WORK / f"{dialect}_{size}"
    directory.mkdir(parents=True, exist_ok=True)
    module = write_models(directory, size)
    if dialect == "postgresql":
        name = f"wb_bench_autogen_{size}"
        async_url = f"postgresql+asyncpg://{PG_BASE}/{name}"
        sync_url = f"postgresql+psycopg://{PG_BASE}/{name}"
    else:
        async_url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        sync_url = f"sqlite:///{directory / 'bench.db'}"
    setup = Setup(dialect, size, directory, module, async_url, sync_url)
    (directory / "alembic.ini").write_text(
        "[alembic]\nscript_location = alembic_migrations\nprepend_sys_path = .\n"
        f"sqlalchemy.url = {sync_url}\n"
    )
    alembic_dir = directory / "alembic_migrations"
    (alembic_dir / "versions").mkdir(parents=True, exist_ok=True)
    (alembic_dir / "env.py").write_text(ENV_PY.format(module=module))
    (directory / "whimbrel_migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (directory / "whimbrel.toml").write_text(
        'script_location = "whimbrel_migrations"\n'
        f'url = "{async_url}"\n'
        f'target_metadata = "{module}:metadata"\n'
        'prepend_sys_path = ["."]\n'
    )
    (directory / "wb_check.py").write_text(WHIMBREL_CHECK)
    asyncio.run(_create_schema(setup))
    return setup


# -- timing ----------------------------------------------------------------------------


async def _compare_in_process(setup: Setup, repeat: int) -> dict[str, Any]:
    import importlib

    from alembic.autogenerate import compare_metadata as alembic_compare
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from whimbrel.autogenerate import compare_metadata as whimbrel_compare

    sys.path.insert(0, str(setup.directory))
    try:
        metadata = importlib.import_module(setup.module).metadata
    finally:
        sys.path.remove(str(setup.directory))

    def alembic_run(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "target_metadata": metadata,
            },
        )
        return list(alembic_compare(ctx, metadata))

    def whimbrel_run(conn: Any) -> list[Any]:
        return list(whimbrel_compare(conn, metadata))

    runs: dict[str, Callable[[Any], list[Any]]] = {
        "whimbrel": whimbrel_run,
        "alembic": alembic_run,
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    found: dict[str, int] = {}
    engine = create_async_engine(setup.async_url)
    async with engine.connect() as conn:
        for name, fn in runs.items():  # warm-up: dialect caches, imports
            found[name] = len(await conn.run_sync(fn))
        for _ in range(repeat):
            for name, fn in runs.items():
                started = time.perf_counter()
                await conn.run_sync(fn)
                samples[name].append(time.perf_counter() - started)
                await conn.rollback()
    await engine.dispose()
    return {"samples": samples, "found": found}


def _timed(argv: Sequence[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def _end_to_end(setup: Setup, repeat: int) -> dict[str, list[float]]:
    python = sys.executable
    alembic = str(Path(python).parent / "alembic")
    argvs = {
        "import": [python, "-c", f"import {setup.module}"],
        "whimbrel": [python, "wb_check.py", "whimbrel.toml"],
        "alembic": [alembic, "check"],
    }
    samples: dict[str, list[float]] = {name: [] for name in argvs}
    for name, argv in argvs.items():  # a cold run each, not timed
        _, done = _timed(argv, setup.directory)
        if name == "whimbrel" and json.loads(done.stdout)["diffs"]:
            raise SystemExit(f"whimbrel check found differences: {done.stdout}")
        if name == "alembic" and "No new upgrade operations detected" not in done.stdout:
            raise SystemExit(f"alembic check found differences: {done.stdout}{done.stderr}")
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")
    for _ in range(repeat):
        for name, argv in argvs.items():
            elapsed, done = _timed(argv, setup.directory)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")
            samples[name].append(elapsed)
    return samples


def measure(dialect: str, size: int, repeat: int, *, end_to_end: bool = True) -> Result:
    setup = prepare(dialect, size)
    result = Result(dialect, size)
    compared = asyncio.run(_compare_in_process(setup, repeat))
    result.whimbrel_diffs = compared["found"]["whimbrel"]
    result.alembic_diffs = compared["found"]["alembic"]
    result.samples.update({f"compare_{k}": v for k, v in compared["samples"].items()})
    result.compare_whimbrel_s = statistics.median(compared["samples"]["whimbrel"])
    result.compare_alembic_s = statistics.median(compared["samples"]["alembic"])
    if end_to_end:
        e2e = _end_to_end(setup, repeat)
        result.samples.update({f"e2e_{k}": v for k, v in e2e.items()})
        result.e2e_whimbrel_s = statistics.median(e2e["whimbrel"])
        result.e2e_alembic_s = statistics.median(e2e["alembic"])
        result.import_s = statistics.median(e2e["import"])
    return result


# -- reporting -------------------------------------------------------------------------


def report(results: list[Result]) -> str:
    lines = [
        "dialect     tables  compare: whimbrel  alembic   ratio |"
        " end to end: import  whimbrel  alembic  ratio  beyond import",
    ]
    for r in results:
        line = (
            f"{r.dialect:<11} {r.size:>6}  {r.compare_whimbrel_s * 1000:>13.0f}ms"
            f" {r.compare_alembic_s * 1000:>6.0f}ms {r.compare_ratio:>6.1f}x |"
        )
        if r.e2e_whimbrel_s:
            line += (
                f" {r.import_s * 1000:>17.0f}ms {r.e2e_whimbrel_s * 1000:>7.0f}ms"
                f" {r.e2e_alembic_s * 1000:>6.0f}ms {r.e2e_ratio:>5.1f}x"
                f" {r.beyond_import_ratio:>10.1f}x"
            )
        lines.append(line)
    for dialect in sorted({r.dialect for r in results}):
        rows = sorted((r for r in results if r.dialect == dialect), key=lambda r: r.size)
        if len(rows) > 1:
            small, large = rows[0], rows[-1]
            growth = (large.compare_whimbrel_s / large.size) / (
                small.compare_whimbrel_s / small.size
            )
            per_small = small.compare_whimbrel_s / small.size * 1e3
            per_large = large.compare_whimbrel_s / large.size * 1e3
            lines.append(
                f"{dialect}: whimbrel compare per table {per_small:.2f}ms at {small.size}, "
                f"{per_large:.2f}ms at {large.size} (growth factor per table {growth:.2f}; "
                "1.00 is linear)"
            )
    for r in results:
        if r.dialect == "postgresql" and r.size >= 1000:
            verdicts = [
                f"compare {r.compare_ratio:.1f}x (target {TARGETS['compare']}x): "
                + ("PASS" if r.compare_ratio >= TARGETS["compare"] else "MISS")
            ]
            if r.e2e_whimbrel_s:
                verdicts.append(
                    f"end to end {r.e2e_ratio:.2f}x (target {TARGETS['end_to_end']}x): "
                    + ("PASS" if r.e2e_ratio >= TARGETS["end_to_end"] else "MISS")
                )
            lines.append(f"postgresql {r.size}: " + "; ".join(verdicts))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="300,1000", help="table counts, comma-separated")
    parser.add_argument("--dialect", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per tool")
    parser.add_argument("--no-end-to-end", action="store_true", help="only the comparison")
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    args = parser.parse_args(argv)
    dialects = ("sqlite", "postgresql") if args.dialect == "all" else (args.dialect,)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for dialect in dialects:
        for size in sizes:
            results.append(measure(dialect, size, args.repeat, end_to_end=not args.no_end_to_end))
            print(report(results[-1:]).splitlines()[1], flush=True)
    print()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
