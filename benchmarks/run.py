"""Time whole CLI processes of Whimbrel and Alembic side by side and print the ratios.

Usage::

    python benchmarks/run.py [--suite cli] [--revisions 5000] [--repeat 7]
                             [--shape linear,branchy] [--case heads,history] [--seed 0]
                             [--json out.json] [--alembic-only]
    python benchmarks/run.py --suite runtime [--revisions 200,1000] [--repeat 3]
                             [--dialect sqlite,postgresql] [--case upgrade,downgrade]
                             [--postgres-url postgresql://postgres@127.0.0.1:5432/wb_bench]

Both tools are run as the executables installed next to ``sys.executable`` (so run this
with the project's venv Python), each in a freshly generated project directory.  The
``cli`` suite (the default) times read-only commands beside a floor, ``cli_floor.py``
(the least any typer + ``anyio.run`` CLI does to answer from a stat-validated
cache); the ``runtime`` suite times ``upgrade head`` and ``downgrade base`` on SQLite and
PostgreSQL against a floor, the database's own client (``psql``, ``sqlite3``) running
Alembic's offline SQL.  See ``benchmarks/README.md`` for what is measured and how to
read the output.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import databases, runtime
from benchmarks.generate import SHAPES, Project, generate_project
from benchmarks.harness import (
    ALEMBIC,
    FLOOR,
    TOOLS,
    WHIMBREL,
    Argv,
    BenchmarkError,
    Case,
    CaseResult,
    Runner,
    Stats,
    ToolRunner,
    WithFloor,
    clear_caches,
    format_cold,
    locate,
    render_table,
    results_to_json,
    run_case,
    speedup,
    subprocess_env,
    summarize,
    times,
    verdict,
    x,
    x2,
)

__all__ = (
    "ALEMBIC",
    "CASES",
    "CLI_FLOOR",
    "FLOOR",
    "SUITES",
    "TOOLS",
    "WHIMBREL",
    "Argv",
    "BenchmarkError",
    "Case",
    "CaseResult",
    "Runner",
    "Stats",
    "ToolRunner",
    "clear_caches",
    "cli_floor_argv",
    "cli_floor_notes",
    "format_cold",
    "format_table",
    "main",
    "parse_args",
    "parse_rev_ids",
    "results_to_json",
    "run_case",
    "speedup",
    "summarize",
    "verdict",
    "verify_heads",
    "verify_history",
)

SUITES = ("cli", "runtime")

# The spec's targets for the cli suite are stated for a project of this size.
SPEC_REVISIONS = 5000

WORK_DIR = Path(__file__).resolve().parent / ".work"

# The cli suite's floor, run by this Python (the venv's) with the project as cwd: a bare
# typer + anyio.run app that only lists and stats the revision files (see its docstring).
CLI_FLOOR = Path(__file__).resolve().parent / "cli_floor.py"

_REV_ID = re.compile(r"\b[0-9a-f]{12}\b")


# -- cases ---------------------------------------------------------------------------


def parse_rev_ids(text: str) -> frozenset[str]:
    """Every 12-hex-digit revision id mentioned in a tool's output."""
    return frozenset(_REV_ID.findall(text))


def _describe(ids: Iterable[str], limit: int = 6) -> str:
    ordered = sorted(ids)
    shown = ", ".join(ordered[:limit])
    more = f", … ({len(ordered) - limit} more)" if len(ordered) > limit else ""
    return f"{{{shown}{more}}}"


def _check_ids(what: str, expected: frozenset[str], outputs: Mapping[str, str]) -> None:
    """Every tool must report exactly ``expected``; the first that does not aborts the run.

    The floor is left out: it reads no revision, so it reports none.
    """
    seen = {tool: parse_rev_ids(out) for tool, out in outputs.items() if tool != FLOOR}
    bad = {tool: ids for tool, ids in seen.items() if ids != expected}
    if bad:
        lines = [f"{what}: the tools do not report the same revisions"]
        lines += [f"  {tool:<9} reported {_describe(ids)}" for tool, ids in seen.items()]
        lines.append(f"  generator expects {_describe(expected)}")
        raise BenchmarkError("\n".join(lines))


def verify_heads(project: Project, outputs: Mapping[str, str]) -> None:
    _check_ids("heads", frozenset(project.heads), outputs)


def verify_history(project: Project, outputs: Mapping[str, str]) -> None:
    _check_ids("history", frozenset(project.revisions), outputs)


def cli_floor_argv(*args: str) -> Argv:
    """The floor's argv for one command, run by ``sys.executable`` (:data:`CLI_FLOOR`)."""
    return (str(CLI_FLOOR), *args)


CASES: tuple[Case, ...] = (
    Case("--help", ("--help",), ("--help",), target=2.0, floor=cli_floor_argv("--help")),
    Case(
        "heads",
        ("heads",),
        ("heads",),
        target=10.0,
        verify=verify_heads,
        floor=cli_floor_argv("heads"),
    ),
    Case(
        "history",
        ("history",),
        ("history",),
        target=10.0,
        verify=verify_history,
        floor=cli_floor_argv("history"),
    ),
)


# -- reporting -----------------------------------------------------------------------


def format_table(results: Sequence[CaseResult]) -> str:
    """Render cli-suite results as a fixed-width table (times in ms, median / min).

    Where any result has the floor, three columns show it: its times, alembic/floor and
    whimbrel/floor (ratios of medians).  The verdict is alembic/whimbrel's alone.
    """
    floor = any(FLOOR in r.stats for r in results)
    rows: list[tuple[str, ...]] = [
        (
            "shape",
            "case",
            "whimbrel med/min",
            "alembic med/min",
            *(("floor med/min",) if floor else ()),
            "ratio med",
            "ratio min",
            *(("alembic/floor", "whimbrel/floor") if floor else ()),
            "target",
            "result",
        )
    ]
    rows += [
        (
            r.shape,
            r.case,
            times(r.stats.get(WHIMBREL)),
            times(r.stats.get(ALEMBIC)),
            *((times(r.stats.get(FLOOR)),) if floor else ()),
            x(r.ratio),
            x(r.min_ratio),
            *((x(r.over_floor(ALEMBIC)), x2(r.over_floor(WHIMBREL))) if floor else ()),
            r.target_label,
            r.verdict,
        )
        for r in results
    ]
    return render_table(rows, text_columns=2)


def cli_floor_notes(width: int = 99) -> str:
    """The cli report's footer: what the floor is and how to read its columns."""
    notes = [
        "floor: `python benchmarks/cli_floor.py <command>`, a bare typer app whose "
        "subcommand anyio.run()s a coroutine that lists migrations/versions and stats every "
        "revision file in a worker thread, then prints one line (history: one per file): "
        "the least any typer + anyio.run CLI pays to answer from a stat-validated "
        "cache.",
        "alembic/floor (medians) is the best alembic/whimbrel any tool on this stack can "
        "reach on this machine: where it is below the target, the target cannot be met "
        "here.  whimbrel/floor: how far Whimbrel is above the floor (1.00x = none).",
    ]
    first, *rest = notes
    lines = [textwrap.fill(first, width)]
    lines += [
        textwrap.fill(note, width, initial_indent="  ", subsequent_indent="    ") for note in rest
    ]
    return "\n".join(lines)


# -- command line --------------------------------------------------------------------


def _csv(choices: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
    def parse(value: str) -> tuple[str, ...]:
        items = tuple(item.strip() for item in value.split(",") if item.strip())
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated subset of {', '.join(choices)}, got {value!r}"
            )
        return items

    return parse


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(_positive(item.strip()) for item in value.split(",") if item.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected sizes like 200,1000, got {value!r}") from e
    if not sizes:
        raise argparse.ArgumentTypeError(f"expected sizes like 200,1000, got {value!r}")
    return sizes


def _postgres(value: str) -> databases.Postgres:
    try:
        return databases.Postgres.from_url(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


_SUITE_CASES = {"cli": tuple(c.name for c in CASES), "runtime": runtime.CASE_NAMES}
_DEFAULTS: dict[str, dict[str, object]] = {
    "cli": {"revisions": (SPEC_REVISIONS,), "repeat": 7, "shape": SHAPES},
    "runtime": {"revisions": runtime.REVISIONS, "repeat": 3, "shape": ("linear",)},
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time Whimbrel and Alembic CLI processes side by side."
    )
    parser.add_argument(
        "--suite",
        choices=SUITES,
        default="cli",
        help="cli: read-only commands (default); runtime: upgrade/downgrade on databases",
    )
    parser.add_argument(
        "--revisions",
        type=_sizes,
        default=None,
        help="comma-separated project sizes (cli: 5000; runtime: 200,1000)",
    )
    parser.add_argument("--repeat", type=_positive, default=None, help="cli: 7; runtime: 3")
    parser.add_argument("--shape", type=_csv(SHAPES), default=None)
    all_cases = tuple(name for names in _SUITE_CASES.values() for name in names)
    parser.add_argument("--case", type=_csv(all_cases), default=None)
    parser.add_argument(
        "--dialect", type=_csv(runtime.DIALECTS), default=runtime.DIALECTS, help="runtime suite"
    )
    parser.add_argument(
        "--postgres-url",
        type=_postgres,
        default=None,
        help="runtime suite: server and database (dropped and recreated for every run; "
        f"its name must start with {databases.DATABASE_PREFIX!r}); default "
        f"{databases.DEFAULT_POSTGRES_URL}_<pid>, a database of this run's own",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--alembic-only",
        action="store_true",
        help="time Alembic alone (while the whimbrel CLI does not exist yet)",
    )
    args = parser.parse_args(argv)
    for name, value in _DEFAULTS[args.suite].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.case is not None:
        foreign = [case for case in args.case if case not in _SUITE_CASES[args.suite]]
        if foreign:
            parser.error(
                f"--case {','.join(foreign)} is not in the {args.suite} suite "
                f"({', '.join(_SUITE_CASES[args.suite])})"
            )
    if args.suite == "runtime" and len(args.shape) != 1:
        parser.error("the runtime suite takes one --shape")
    return args


# The runtime suite's floor, by dialect: the database's own command-line client.
FLOOR_CLIENTS: Mapping[str, str] = {"sqlite": "sqlite3", "postgresql": "psql"}


def floor_clients(
    dialects: Iterable[str], which: Callable[[str], str | None] = shutil.which
) -> dict[str, Path | None]:
    """Each dialect's floor client on ``PATH``; ``None`` where SQLite's is missing.

    ``psql`` is required (it also resets the PostgreSQL databases); without ``sqlite3``
    the SQLite cases run with no floor.
    """
    clients: dict[str, Path | None] = {}
    for dialect in dialects:
        found = which(FLOOR_CLIENTS[dialect])
        if found is None and dialect == "postgresql":
            raise BenchmarkError("psql is not on PATH: it resets the database and is the floor")
        clients[dialect] = None if found is None else Path(found)
    return clients


def _runner(args: argparse.Namespace, env: Mapping[str, str]) -> Runner:
    bindir = Path(sys.executable).parent
    tools = (ALEMBIC,) if args.alembic_only else (WHIMBREL, ALEMBIC)
    executables = {tool: locate(tool, bindir) for tool in tools}
    runner = Runner(executables, env)
    if not args.alembic_only:
        # A broken install fails here, before minutes of project generation.
        try:
            runner.run(WHIMBREL, ("--help",), Path.cwd())
        except BenchmarkError as e:
            raise BenchmarkError(
                f"the whimbrel CLI does not work yet (pass --alembic-only to time "
                f"Alembic alone):\n{e}"
            ) from e
    return runner


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cli_runner(args: argparse.Namespace, runner: ToolRunner, env: Mapping[str, str]) -> ToolRunner:
    """``runner`` plus the cli suite's floor, run by this Python; none with --alembic-only."""
    if args.alembic_only:
        return runner
    return WithFloor(runner, Path(sys.executable), env)


def run_cli_suite(
    args: argparse.Namespace, runner: ToolRunner, results: list[CaseResult]
) -> list[CaseResult]:
    """Run the cli suite, appending to ``results`` as each case ends."""
    cases = [c for c in CASES if args.case is None or c.name in args.case]
    for n in args.revisions:
        for shape in args.shape:
            _progress(f"generating {n} revisions ({shape})…")
            project = generate_project(
                WORK_DIR / f"{shape}-{n}-s{args.seed}",
                revisions=n,
                shape=shape,
                seed=args.seed,
                overwrite=True,
            )
            for case in cases:
                _progress(f"  {shape} {case.name}…")
                results.append(run_case(case, project, runner, repeat=args.repeat))
    return results


def run_runtime_suite(
    args: argparse.Namespace,
    runner: Runner,
    env: Mapping[str, str],
    results: list[CaseResult],
    clients: Mapping[str, Path | None],
) -> list[CaseResult]:
    """Run the runtime suite, appending to ``results`` as each case ends.

    ``clients`` are the floor clients by dialect (:func:`floor_clients`).
    """
    server: databases.Postgres | None = args.postgres_url
    if server is None:
        # A database of this run's own: nothing else on the server can drop it mid-run.
        default = databases.Postgres.from_url(databases.DEFAULT_POSTGRES_URL)
        server = replace(default, database=f"{default.database}_{os.getpid()}")
    psql = clients.get("postgresql")
    if psql is not None:
        databases.check_postgres(server, psql, env)
    suite = runtime.Suite(
        dialects=args.dialect,
        revisions=args.revisions,
        cases=args.case or runtime.CASE_NAMES,
        shape=args.shape[0],
        seed=args.seed,
        repeat=args.repeat,
        postgres=server,
    )
    return runtime.run_suite(
        suite,
        runner,
        work_dir=WORK_DIR,
        psql=psql,
        sqlite3=clients.get("sqlite"),
        env=env,
        progress=_progress,
        results=results,
    )


def _sizes_label(sizes: Iterable[int]) -> str:
    return ",".join(str(n) for n in sizes)


def floor_notes(clients: Mapping[str, Path | None], width: int = 99) -> str:
    """The runtime report's footer: what the floor is on each dialect, and how it is used."""
    notes = [
        "floor: the database's own client running `alembic upgrade head --sql` (or "
        "`downgrade head:base --sql`) in one transaction, with no migration tool; "
        "whimbrel/floor and alembic/floor: how many times the floor's time each tool "
        "takes (1.00x = as fast as the client); ratios of medians, of minima in "
        "parentheses."
    ]
    if "postgresql" in clients:
        notes.append(
            "PostgreSQL: `psql -f floor-upgrade.sql` (Alembic writes the BEGIN … COMMIT); "
            f"judged: whimbrel/floor ≤{runtime.POSTGRES_MAX_OVER_FLOOR:g}x."
        )
    if clients.get("sqlite", True) is None:
        notes.append(
            "SQLite: no floor measured (sqlite3 is not on PATH); judged by alembic/whimbrel alone."
        )
    elif "sqlite" in clients:
        notes.append(
            'SQLite: `sqlite3 -bail bench.db "BEGIN;" ".read floor-upgrade.sql" '
            '"COMMIT;"`; information only, the verdict stays alembic/whimbrel '
            f"≥{runtime.SQLITE_SPEEDUP:g}x.  A tool no faster than the floor cannot beat "
            "Alembic by more than alembic/floor: where that is below the target, no such "
            "tool can reach it on this machine."
        )
    first, *rest = notes
    lines = [textwrap.fill(first, width)]
    lines += [
        textwrap.fill(note, width, initial_indent="  ", subsequent_indent="    ") for note in rest
    ]
    return "\n".join(lines)


def _print_report(
    args: argparse.Namespace,
    results: Sequence[CaseResult],
    load: float,
    clients: Mapping[str, Path | None],
) -> None:
    tools = "Alembic alone" if args.alembic_only else "Whimbrel vs Alembic"
    rounds = (
        f"{args.repeat} timed runs per tool after 1 warm-up, interleaved; "
        "wall time of the whole process"
    )
    if args.suite == "cli":
        print(f"\n{tools}: N={_sizes_label(args.revisions)} revisions, {rounds}")
        if any(n != SPEC_REVISIONS for n in args.revisions):
            print(
                f"(the targets are specified at N={SPEC_REVISIONS}; "
                "at other sizes they are indicative)"
            )
    else:
        print(
            f"\n{tools}, runtime: `upgrade head` from an empty database, `downgrade base` "
            f"from a migrated one; N={_sizes_label(args.revisions)} {args.shape[0]} "
            f"revisions; {rounds}"
        )
        print(
            f"targets: SQLite alembic/whimbrel ≥{runtime.SQLITE_SPEEDUP:g}x (its floor "
            f"reported, not judged); PostgreSQL whimbrel/floor "
            f"≤{runtime.POSTGRES_MAX_OVER_FLOOR:g}x"
        )
    print(
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after, "
        f"on {os.cpu_count()} CPUs (other load on the machine skews both tools' times)"
    )
    print()
    if args.suite == "cli":
        print(format_table(results))
        if any(FLOOR in r.stats for r in results):
            print()
            print(cli_floor_notes())
    else:
        print(runtime.format_runtime_table(results))
        print()
        print(floor_notes(clients))
    print()
    print(format_cold(results))


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file``, waiting for another holder to finish.

    Two runs in one checkout would regenerate each other's projects under ``.work``
    and, worse, time each other's load.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            _progress(f"another benchmark run (pid {holder}) holds {lock_file}; waiting…")
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    env = subprocess_env()
    results: list[CaseResult] = []
    clients: dict[str, Path | None] = {}
    failed = False
    with exclusive(WORK_DIR / ".lock"):
        load_before = os.getloadavg()
        try:
            if args.suite == "runtime":
                clients = floor_clients(args.dialect)
                if clients.get("sqlite", True) is None:
                    _progress("sqlite3 is not on PATH: the SQLite cases run without a floor")
            runner = _runner(args, env)
            if args.suite == "cli":
                run_cli_suite(args, cli_runner(args, runner, env), results)
            else:
                run_runtime_suite(args, runner, env, results, clients)
        except BenchmarkError as e:
            print(f"error: {e}", file=sys.stderr)
            if not results:
                return 2
            failed = True

    _print_report(args, results, load_before[0], clients)
    if failed:
        print("\n(partial: the run stopped at the error above; these cases had finished)")
    if args.json is not None:
        meta = {
            "suite": args.suite,
            "revisions": list(args.revisions),
            "repeat": args.repeat,
            "seed": args.seed,
            "shapes": list(args.shape),
            "dialects": list(args.dialect) if args.suite == "runtime" else None,
            "floor_clients": {
                dialect: None if path is None else str(path) for dialect, path in clients.items()
            },
            "cli_floor": (
                [sys.executable, str(CLI_FLOOR)]
                if args.suite == "cli" and not args.alembic_only
                else None
            ),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before[0],
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "complete": not failed,
        }
        args.json.write_text(json.dumps(results_to_json(results, meta), indent=2) + "\n")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
