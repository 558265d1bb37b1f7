"""The runtime suite: ``upgrade head`` and ``downgrade base`` on a real database.

For each dialect and each N, a linear project of N revisions (the generator's create
table / add column / create index cycle) is upgraded from an empty database and
downgraded from a migrated one, by whole ``whimbrel`` and ``alembic`` processes.  Alembic
runs with its ``alembic init -t async`` env.py and the same async drivers Whimbrel uses
(``sqlite+aiosqlite``, ``postgresql+asyncpg``).  On PostgreSQL a third contestant sets
the *floor*: ``psql -f`` running the script ``alembic upgrade head --sql`` (or
``downgrade head:base --sql``) writes -- the same DDL with no migration tool around it.

Every run starts from a known database, reset outside the timed region, and every run's
result is checked (tables, indexes, column count and the version table's heads) before
the next reset; a tool that did different work aborts the suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.databases import (
    Database,
    Postgres,
    PostgresDatabase,
    SchemaState,
    SqliteDatabase,
)
from benchmarks.generate import Project, ProjectConfig, generate_project
from benchmarks.harness import (
    ALEMBIC,
    FLOOR,
    WHIMBREL,
    Argv,
    BenchmarkError,
    Case,
    CaseResult,
    RunHook,
    ToolRunner,
    render_table,
    run_case,
    times,
    x,
    x2,
)

DIALECTS = ("sqlite", "postgresql")
REVISIONS = (200, 1000)
CASE_NAMES = ("upgrade", "downgrade")

# The targets.  SQLite: Alembic commits step by step, Whimbrel runs one
# transaction.  PostgreSQL: both run one transaction; Alembic reportedly sits near 1.65x
# the floor.
SQLITE_SPEEDUP = 10.0
POSTGRES_MAX_OVER_FLOOR = 1.3

VERSION_TABLES: Mapping[str, str] = {
    WHIMBREL: "whimbrel_version",
    ALEMBIC: "alembic_version",
    FLOOR: "alembic_version",  # the offline script maintains Alembic's table
}

# Whimbrel gets a script directory of its own: ``migrations/env.py`` is Alembic's, a
# script for Alembic's runtime that Whimbrel cannot import.  Its version_locations is the
# shared ``migrations/versions``, so both tools read the very same revision files.
WHIMBREL_SCRIPTS = "wb_scripts"
SQLITE_FILE = "bench.db"


# -- what a run must leave behind ---------------------------------------------------


def expected_state(project: Project, *, at_head: bool) -> SchemaState:
    if not at_head:
        return SchemaState(frozenset(), frozenset(), 0, frozenset())
    return SchemaState(
        frozenset(project.tables),
        frozenset(project.indexes),
        project.columns,
        frozenset(project.heads),
    )


def _names(names: Iterable[str], limit: int = 4) -> str:
    ordered = sorted(names)
    more = f", … ({len(ordered) - limit} more)" if len(ordered) > limit else ""
    return ", ".join(ordered[:limit]) + more


def _set_problem(what: str, actual: frozenset[str], expected: frozenset[str]) -> str | None:
    if actual == expected:
        return None
    parts = [f"{len(actual)} {what}, expected {len(expected)}"]
    if expected - actual:
        parts.append(f"missing {_names(expected - actual)}")
    if actual - expected:
        parts.append(f"unexpected {_names(actual - expected)}")
    return "; ".join(parts)


def check_state(tool: str, command: str, actual: SchemaState, expected: SchemaState) -> None:
    """Raise ``BenchmarkError`` naming every difference between the two states."""
    problems = [
        _set_problem("tables", actual.tables, expected.tables),
        _set_problem("ix_* indexes", actual.indexes, expected.indexes),
        None
        if actual.columns == expected.columns
        else f"{actual.columns} columns, expected {expected.columns}",
        _set_problem(f"rows in {VERSION_TABLES[tool]}", actual.versions, expected.versions),
    ]
    found = [p for p in problems if p is not None]
    if found:
        raise BenchmarkError(
            f"after `{command}` by {tool} the database is not as the revisions say; "
            "the tools would not be doing the same work:\n  " + "\n  ".join(found)
        )


# -- the floor --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FloorScripts:
    upgrade: Path
    downgrade: Path


_URL_LINE = re.compile(r"^sqlalchemy\.url = .*$", re.MULTILINE)


def offline_ini(project: Project, url: str) -> Path:
    """Write ``alembic-offline.ini``: the project's ini with a sync-dialect URL."""
    text = project.alembic_ini.read_text()
    if not _URL_LINE.search(text):
        raise BenchmarkError(f"no sqlalchemy.url line in {project.alembic_ini}")
    path = project.root / "alembic-offline.ini"
    path.write_text(_URL_LINE.sub(lambda _: f"sqlalchemy.url = {url}", text, count=1))
    return path


def write_floor_scripts(project: Project, runner: ToolRunner, *, url: str) -> FloorScripts:
    """Have Alembic write the offline SQL for ``upgrade head`` and ``downgrade head:base``.

    ``url`` only picks the dialect the SQL is compiled for (``postgresql://``).
    """
    ini = offline_ini(project, url)
    scripts = {}
    for name, argv in (
        ("upgrade", ("upgrade", "head", "--sql")),
        ("downgrade", ("downgrade", "head:base", "--sql")),
    ):
        _, sql = runner.run(ALEMBIC, ("-c", ini.name, *argv), project.root)
        if "COMMIT" not in sql:
            raise BenchmarkError(f"`alembic {' '.join(argv)}` wrote no transaction:\n{sql[:500]}")
        path = project.root / f"floor-{name}.sql"
        path.write_text(sql)
        scripts[name] = path
    return FloorScripts(scripts["upgrade"], scripts["downgrade"])


# -- cases --------------------------------------------------------------------------------


def project_config(dialect: str, postgres: Postgres) -> ProjectConfig:
    if dialect == "sqlite":
        url = f"sqlite+aiosqlite:///{SQLITE_FILE}"
    elif dialect == "postgresql":
        url = postgres.url("postgresql+asyncpg")
    else:
        raise ValueError(f"unknown dialect {dialect!r}")
    return ProjectConfig(
        alembic_url=url, whimbrel_url=url, env="async", whimbrel_scripts=WHIMBREL_SCRIPTS
    )


def _checker(db: Database, expected: SchemaState, command: str) -> RunHook:
    def after_each(project: Project, tool: str, output: str) -> None:
        check_state(tool, command, db.state(VERSION_TABLES[tool]), expected)

    return after_each


def runtime_cases(
    project: Project,
    db: Database,
    runner: ToolRunner,
    *,
    floor: Callable[[Path], Argv] | None = None,
    scripts: FloorScripts | None = None,
) -> tuple[Case, Case]:
    """The ``upgrade`` and ``downgrade`` cases on ``db``.

    With ``floor`` (argv of ``psql`` for a script path) and ``scripts``, each case also
    times the floor and is judged by whimbrel/floor; otherwise by alembic/whimbrel.
    """
    floors: tuple[Argv | None, Argv | None] = (None, None)
    if floor is not None and scripts is not None:
        floors = (floor(scripts.upgrade), floor(scripts.downgrade))
    # With a floor, the case is judged by whimbrel/floor; without, by alembic/whimbrel.
    target = SQLITE_SPEEDUP if floors[0] is None else None
    max_over_floor = None if floors[0] is None else POSTGRES_MAX_OVER_FLOOR
    at_head = _checker(db, expected_state(project, at_head=True), "upgrade head")
    upgrade = Case(
        "upgrade",
        ("upgrade", "head"),
        ("upgrade", "head"),
        target=target,
        before_each=lambda project, tool: db.reset(),
        after_each=at_head,
        floor=floors[0],
        max_over_floor=max_over_floor,
    )

    def migrate_each_tool(project: Project) -> None:
        # Each tool downgrades what it migrated itself: its own version table.
        for tool in runner.tools:
            argv = upgrade.argv(tool)
            if argv is None:
                continue
            db.reset()
            runner.run(tool, argv, project.root)
            at_head(project, tool, "")
            db.save(tool)

    downgrade = Case(
        "downgrade",
        ("downgrade", "base"),
        ("downgrade", "base"),
        target=target,
        setup=migrate_each_tool,
        before_each=lambda project, tool: db.restore(tool),
        after_each=_checker(db, expected_state(project, at_head=False), "downgrade base"),
        floor=floors[1],
        max_over_floor=max_over_floor,
    )
    return upgrade, downgrade


@dataclass(frozen=True, slots=True)
class Suite:
    """What to run: dialects x sizes x cases."""

    dialects: tuple[str, ...] = DIALECTS
    revisions: tuple[int, ...] = REVISIONS
    cases: tuple[str, ...] = CASE_NAMES
    shape: str = "linear"
    seed: int = 0
    repeat: int = 3
    postgres: Postgres = field(default_factory=Postgres)


def psql_floor(server: Postgres) -> Callable[[Path], Argv]:
    """``psql -q -v ON_ERROR_STOP=1 -f script`` on the benchmark database."""

    def argv(script: Path) -> Argv:
        return (*server.psql_args(), "-f", str(script))

    return argv


def run_suite(
    suite: Suite,
    runner: ToolRunner,
    *,
    work_dir: Path,
    psql: Path | None,
    env: Mapping[str, str],
    progress: Callable[[str], None] = lambda message: None,
    results: list[CaseResult] | None = None,
) -> list[CaseResult]:
    """Generate each project, run its cases, drop its databases; return every result.

    Results are appended to ``results`` (a new list if not given) as each case ends, so
    a caller keeps the finished cases when a later one raises.
    """
    results = [] if results is None else results
    for dialect in suite.dialects:
        for n in suite.revisions:
            progress(f"generating {n} revisions ({suite.shape}) for {dialect}…")
            project = generate_project(
                work_dir / f"runtime-{dialect}-{suite.shape}-{n}-s{suite.seed}",
                revisions=n,
                shape=suite.shape,
                seed=suite.seed,
                overwrite=True,
                config=project_config(dialect, suite.postgres),
            )
            db: Database
            floor: Callable[[Path], Argv] | None = None
            scripts: FloorScripts | None = None
            if dialect == "postgresql":
                if psql is None:
                    raise BenchmarkError("psql is needed for the PostgreSQL floor")
                db = PostgresDatabase(suite.postgres, psql, env)
                if FLOOR in runner.tools:
                    scripts = write_floor_scripts(project, runner, url="postgresql://")
                    floor = psql_floor(suite.postgres)
            else:
                db = SqliteDatabase(project.root / SQLITE_FILE)
            cases = runtime_cases(project, db, runner, floor=floor, scripts=scripts)
            try:
                for case in cases:
                    if case.name not in suite.cases:
                        continue
                    progress(f"  {dialect} N={n} {case.name}…")
                    results.append(
                        run_case(case, project, runner, repeat=suite.repeat, dialect=dialect)
                    )
            finally:
                db.drop()
    return results


# -- reporting ------------------------------------------------------------------------


def _pair(med: float | None, low: float | None, fmt: Callable[[float | None], str]) -> str:
    return "—" if med is None else f"{fmt(med)} ({fmt(low)})"


def format_runtime_table(results: Sequence[CaseResult]) -> str:
    """Render runtime results; ratios are of medians, minima's ratio in parentheses."""
    rows: list[tuple[str, ...]] = [
        (
            "dialect",
            "N",
            "case",
            "whimbrel med/min",
            "alembic med/min",
            "psql floor med/min",
            "alembic/whimbrel",
            "whimbrel/floor",
            "alembic/floor",
            "target",
            "result",
        )
    ]
    rows += [
        (
            r.dialect,
            str(r.revisions),
            r.case,
            times(r.stats.get(WHIMBREL)),
            times(r.stats.get(ALEMBIC)),
            times(r.stats.get(FLOOR)),
            _pair(r.ratio, r.min_ratio, x),
            _pair(r.over_floor(WHIMBREL), r.over_floor(WHIMBREL, minimum=True), x2),
            _pair(r.over_floor(ALEMBIC), r.over_floor(ALEMBIC, minimum=True), x2),
            r.target_label,
            r.verdict,
        )
        for r in results
    ]
    return render_table(rows, text_columns=3)
