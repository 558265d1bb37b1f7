"""The runtime suite: ``upgrade head`` and ``downgrade base`` on a real database.

For each dialect and each N, a linear project of N revisions (the generator's create
table / add column / create index cycle) is upgraded from an empty database and
downgraded from a migrated one, by whole ``whimbrel`` and ``alembic`` processes.  Alembic
runs with its ``alembic init -t async`` env.py and the same async drivers Whimbrel uses
(``sqlite+aiosqlite``, ``postgresql+asyncpg``).  A third contestant sets the *floor*:
the database's own client running the script ``alembic upgrade head --sql`` (or
``downgrade head:base --sql``) writes, in one transaction -- the same DDL with no
migration tool around it.  On PostgreSQL that is ``psql -f`` and the case is judged by
whimbrel/floor; on SQLite it is the ``sqlite3`` shell (when installed), reported for
information beside the alembic/whimbrel target: how much of either tool's time is
SQLite's own work.

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
    WithFloor,
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
# By dialect: the alembic/whimbrel target and the whimbrel/floor limit.  SQLite's floor,
# where measured, is information only: it shows how far above SQLite's own work each
# tool is, not a target of the issue.
SPEEDUP_TARGETS: Mapping[str, float] = {"sqlite": SQLITE_SPEEDUP}
MAX_OVER_FLOOR: Mapping[str, float] = {"postgresql": POSTGRES_MAX_OVER_FLOOR}

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
_TRANSACTION_LINE = re.compile(r"^(BEGIN|COMMIT)\b", re.MULTILINE | re.IGNORECASE)

# Whether Alembic's offline SQL for the dialect is one ``BEGIN; … COMMIT;``: Alembic
# treats PostgreSQL's DDL as transactional, SQLite's not, and writes SQLite's script
# with no transaction at all -- the SQLite floor runs it inside one of its own.
OFFLINE_TRANSACTION: Mapping[str, bool] = {"postgresql": True, "sqlite": False}


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

    ``url`` only picks the dialect the SQL is compiled for (``postgresql://``,
    ``sqlite://``).  A PostgreSQL script must be one transaction; a SQLite script must
    hold none, since the SQLite floor wraps it in its own.
    """
    dialect = url.partition(":")[0].split("+")[0]
    if dialect not in OFFLINE_TRANSACTION:
        raise ValueError(f"no floor for the dialect of {url!r}")
    ini = offline_ini(project, url)
    scripts = {}
    for name, argv in (
        ("upgrade", ("upgrade", "head", "--sql")),
        ("downgrade", ("downgrade", "head:base", "--sql")),
    ):
        _, sql = runner.run(ALEMBIC, ("-c", ini.name, *argv), project.root)
        command = f"alembic {' '.join(argv)}"
        if OFFLINE_TRANSACTION[dialect] and "COMMIT" not in sql:
            raise BenchmarkError(f"`{command}` wrote no transaction:\n{sql[:500]}")
        if not OFFLINE_TRANSACTION[dialect] and _TRANSACTION_LINE.search(sql):
            raise BenchmarkError(
                f"`{command}` wrote a transaction of its own for {dialect}; the floor "
                f"wraps the script in one and cannot nest another:\n{sql[:500]}"
            )
        if "alembic_version" not in sql:
            raise BenchmarkError(f"`{command}` wrote no version-table update:\n{sql[:500]}")
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

    With ``floor`` (the client's argv for a script path: :func:`psql_floor`,
    :func:`sqlite_floor`) and ``scripts``, each case also times the floor, and
    ``runner`` must run :data:`FLOOR` with that client (:class:`WithFloor`).  The
    targets come from the dialect of ``db``: SQLite is judged by alembic/whimbrel (its
    floor only reported), PostgreSQL by whimbrel/floor.
    """
    floors: tuple[Argv | None, Argv | None] = (None, None)
    if floor is not None and scripts is not None:
        floors = (floor(scripts.upgrade), floor(scripts.downgrade))
    target = SPEEDUP_TARGETS.get(db.dialect)
    max_over_floor = MAX_OVER_FLOOR.get(db.dialect)
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


def _dot_argument(path: Path) -> str:
    """``path`` as one argument of a ``sqlite3`` dot-command (double-quoted, C escapes)."""
    escaped = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def sqlite_floor(database: Path) -> Callable[[Path], Argv]:
    """``sqlite3 -bail db "BEGIN;" ".read script" "COMMIT;"``: one transaction.

    Alembic's SQLite script has no transaction (see :data:`OFFLINE_TRANSACTION`); the
    floor brings one, as Whimbrel runs its upgrade in one.  ``-bail`` stops at the first
    error with exit status 1 and nothing committed.
    """
    path = str(database.resolve())

    def argv(script: Path) -> Argv:
        return ("-bail", path, "BEGIN;", f".read {_dot_argument(script.resolve())}", "COMMIT;")

    return argv


def run_suite(
    suite: Suite,
    runner: ToolRunner,
    *,
    work_dir: Path,
    psql: Path | None,
    env: Mapping[str, str],
    sqlite3: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
    results: list[CaseResult] | None = None,
) -> list[CaseResult]:
    """Generate each project, run its cases, drop its databases; return every result.

    ``psql`` resets the PostgreSQL databases and is their floor (required for
    PostgreSQL); ``sqlite3`` is the SQLite floor (without it the SQLite cases run with
    no floor).  Both run with ``env``.  Results are appended to ``results`` (a new list
    if not given) as each case ends, so a caller keeps the finished cases when a later
    one raises.
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
            contestants: ToolRunner = runner
            if dialect == "postgresql":
                if psql is None:
                    raise BenchmarkError("psql is needed for the PostgreSQL floor")
                db = PostgresDatabase(suite.postgres, psql, env)
                scripts = write_floor_scripts(project, runner, url="postgresql://")
                floor = psql_floor(suite.postgres)
                contestants = WithFloor(runner, psql, env)
            else:
                sqlite_db = SqliteDatabase(project.root / SQLITE_FILE)
                db = sqlite_db
                if sqlite3 is not None:
                    scripts = write_floor_scripts(project, runner, url="sqlite://")
                    floor = sqlite_floor(sqlite_db.path)
                    contestants = WithFloor(runner, sqlite3, env)
            cases = runtime_cases(project, db, contestants, floor=floor, scripts=scripts)
            try:
                for case in cases:
                    if case.name not in suite.cases:
                        continue
                    progress(f"  {dialect} N={n} {case.name}…")
                    results.append(
                        run_case(case, project, contestants, repeat=suite.repeat, dialect=dialect)
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
            "floor med/min",
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
