"""The measuring machinery shared by every suite: cases, timed runs, statistics, tables.

A :class:`Case` names the argv of each tool for one command; :func:`run_case` runs it in
a generated project (a cold run per tool, a warm-up, then interleaved timed runs) and
returns a :class:`CaseResult` with medians, minima and the verdict against the case's
target.  Besides the two tools, a case may name a *floor*: the same work done by the
database's own command-line client (``psql -f script.sql``, ``sqlite3 db ".read
script.sql"``), against which both tools are compared; :class:`WithFloor` adds that
client to a runner.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from benchmarks.generate import Project

WHIMBREL = "whimbrel"
ALEMBIC = "alembic"
FLOOR = "floor"
"""The floor: the database's own client (``psql``, ``sqlite3``) running the offline SQL
script, no migration tool."""
TOOLS = (WHIMBREL, ALEMBIC, FLOOR)

Argv = tuple[str, ...]


class BenchmarkError(Exception):
    """A run failed or the tools disagreed: the numbers would mean nothing."""


Verify = Callable[[Project, Mapping[str, str]], None]
Hook = Callable[[Project], None]
ToolHook = Callable[[Project, str], None]
RunHook = Callable[[Project, str, str], None]


@dataclass(frozen=True, slots=True)
class Case:
    """One command timed in both tools (and optionally the floor).

    ``target`` is the required ratio alembic/whimbrel of median wall times (``None``: no
    such target).  ``floor`` is the argv of the database client's run doing the same
    work (``psql``, ``sqlite3``; timed and reported beside the tools), and
    ``max_over_floor`` the largest allowed ratio whimbrel/floor of median wall times
    (``None``: the floor is information, not judged).  ``verify`` gets every tool's
    stdout of one round and raises ``BenchmarkError`` if they did different work.
    ``setup``/``teardown`` run once around the case; ``before_each`` runs (untimed)
    before every single run with the tool's name, e.g. to reset a database;
    ``after_each`` runs (untimed) after every single run with the tool's name and
    stdout, e.g. to check what it left in the database before the next reset.
    """

    name: str
    whimbrel: Argv
    alembic: Argv
    target: float | None
    verify: Verify | None = None
    setup: Hook | None = None
    teardown: Hook | None = None
    before_each: ToolHook | None = None
    after_each: RunHook | None = None
    floor: Argv | None = None
    max_over_floor: float | None = None

    def argv(self, tool: str) -> Argv | None:
        """The tool's argv, or ``None`` if the case does not run it."""
        return {WHIMBREL: self.whimbrel, ALEMBIC: self.alembic, FLOOR: self.floor}.get(tool)


# -- measuring -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stats:
    median: float
    minimum: float
    samples: tuple[float, ...]


def summarize(samples: Sequence[float]) -> Stats:
    if not samples:
        raise ValueError("no samples")
    return Stats(statistics.median(samples), min(samples), tuple(samples))


def speedup(alembic: float, whimbrel: float) -> float:
    """How many times faster Whimbrel is: alembic time / whimbrel time."""
    if whimbrel <= 0:
        raise ValueError(f"non-positive time {whimbrel!r}")
    return alembic / whimbrel


def verdict(ratio: float | None, target: float) -> str:
    """``PASS`` if the speedup ``ratio`` reaches ``target``."""
    if ratio is None:
        return "n/a"
    return "PASS" if ratio >= target else "MISS"


def floor_verdict(over_floor: float | None, limit: float) -> str:
    """``PASS`` if the time over the floor, ``tool / floor``, is at most ``limit``."""
    if over_floor is None:
        return "n/a"
    return "PASS" if over_floor <= limit else "MISS"


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str
    shape: str
    revisions: int
    target: float | None
    stats: Mapping[str, Stats]
    cold: Mapping[str, float] = field(default_factory=dict)
    max_over_floor: float | None = None
    dialect: str = ""

    def _ratio(self, slow: str, fast: str, *, minimum: bool) -> float | None:
        if slow not in self.stats or fast not in self.stats:
            return None
        a, b = self.stats[slow], self.stats[fast]
        return speedup(a.minimum, b.minimum) if minimum else speedup(a.median, b.median)

    @property
    def ratio(self) -> float | None:
        """alembic / whimbrel, of medians."""
        return self._ratio(ALEMBIC, WHIMBREL, minimum=False)

    @property
    def min_ratio(self) -> float | None:
        """alembic / whimbrel, of minima."""
        return self._ratio(ALEMBIC, WHIMBREL, minimum=True)

    def over_floor(self, tool: str, *, minimum: bool = False) -> float | None:
        """tool / floor, of medians (or minima); ``None`` without both."""
        return self._ratio(tool, FLOOR, minimum=minimum)

    @property
    def target_label(self) -> str:
        parts = []
        if self.target is not None:
            parts.append(f"≥{self.target:g}x")
        if self.max_over_floor is not None:
            parts.append(f"≤{self.max_over_floor:g}x floor")
        return ", ".join(parts) or "—"

    @property
    def verdict(self) -> str:
        """``PASS`` only if every target of the case is met; ``n/a`` if one can't be judged."""
        verdicts = []
        if self.target is not None:
            verdicts.append(verdict(self.ratio, self.target))
        if self.max_over_floor is not None:
            verdicts.append(floor_verdict(self.over_floor(WHIMBREL), self.max_over_floor))
        if not verdicts or "n/a" in verdicts:
            return "n/a"
        return "MISS" if "MISS" in verdicts else "PASS"


class ToolRunner(Protocol):
    @property
    def tools(self) -> tuple[str, ...]: ...

    def run(self, tool: str, argv: Argv, cwd: Path) -> tuple[float, str]: ...


@dataclass(frozen=True, slots=True)
class Runner:
    """Runs the tools' executables in a project directory and times them."""

    executables: Mapping[str, Path]
    env: Mapping[str, str]

    @property
    def tools(self) -> tuple[str, ...]:
        return tuple(tool for tool in TOOLS if tool in self.executables)

    def run(self, tool: str, argv: Argv, cwd: Path) -> tuple[float, str]:
        """Run once; return (wall seconds, stdout).  A non-zero exit aborts."""
        cmd = [str(self.executables[tool]), *argv]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise BenchmarkError(
                f"`{tool} {' '.join(argv)}` exited {proc.returncode} in {cwd}\n{tail}"
            )
        return elapsed, proc.stdout


@dataclass(frozen=True, slots=True)
class WithFloor:
    """``runner``'s tools plus :data:`FLOOR`, which runs ``client`` (``psql``, ``sqlite3``).

    The floor's client depends on the database, so each dialect gets its own.
    """

    runner: ToolRunner
    client: Path
    env: Mapping[str, str]

    @property
    def tools(self) -> tuple[str, ...]:
        return (*(tool for tool in self.runner.tools if tool != FLOOR), FLOOR)

    def run(self, tool: str, argv: Argv, cwd: Path) -> tuple[float, str]:
        if tool != FLOOR:
            return self.runner.run(tool, argv, cwd)
        return Runner({FLOOR: self.client}, self.env).run(FLOOR, argv, cwd)


# Cache directories a "cold" run must not find: Python's bytecode for imported revision
# files, and Whimbrel's header cache (``<script_location>/__pycache__/whimbrel-headers.bin``;
# ``.whimbrel-cache`` covers any other cache directory Whimbrel may grow).
CACHE_DIR_NAMES = (".whimbrel-cache", "__pycache__")


def clear_caches(root: Path) -> int:
    """Delete every cache directory under ``root``; return how many were removed."""
    found = [p for name in CACHE_DIR_NAMES for p in root.rglob(name) if p.is_dir()]
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return len(found)


def run_case(
    case: Case, project: Project, runner: ToolRunner, *, repeat: int, dialect: str = ""
) -> CaseResult:
    """Cold run per tool, one warm-up per tool, then ``repeat`` interleaved timed runs.

    Only the tools the runner has and the case names take part (the floor only where
    the case gives its argv).  ``dialect`` labels the result.
    """
    root = project.root
    argvs: dict[str, Argv] = {}
    for tool in runner.tools:
        argv = case.argv(tool)
        if argv is not None:
            argvs[tool] = argv

    def once(tool: str) -> tuple[float, str]:
        if case.before_each is not None:
            case.before_each(project, tool)
        elapsed, output = runner.run(tool, argvs[tool], root)
        if case.after_each is not None:
            case.after_each(project, tool, output)
        return elapsed, output

    def check(outputs: Mapping[str, str]) -> None:
        if case.verify is not None:
            case.verify(project, outputs)

    if case.setup is not None:
        case.setup(project)
    try:
        cold: dict[str, float] = {}
        outputs: dict[str, str] = {}
        for tool in argvs:
            clear_caches(root)
            cold[tool], outputs[tool] = once(tool)
        check(outputs)
        # Warm-up: Alembic writes its .pyc files, Whimbrel its header cache.
        check({tool: once(tool)[1] for tool in argvs})
        samples: dict[str, list[float]] = {tool: [] for tool in argvs}
        for _ in range(repeat):
            outputs = {}
            for tool in argvs:
                elapsed, outputs[tool] = once(tool)
                samples[tool].append(elapsed)
            check(outputs)
    finally:
        if case.teardown is not None:
            case.teardown(project)
    return CaseResult(
        case=case.name,
        shape=project.shape,
        revisions=len(project.revisions),
        target=case.target,
        stats={tool: summarize(times) for tool, times in samples.items()},
        cold=cold,
        max_over_floor=case.max_over_floor if case.floor is not None else None,
        dialect=dialect,
    )


# -- reporting -----------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def times(stats: Stats | None) -> str:
    """``median / min ms``, or ``—`` for a tool that did not run."""
    return "—" if stats is None else f"{ms(stats.median)} / {ms(stats.minimum)} ms"


def x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.1f}x"


def x2(ratio: float | None) -> str:
    """A ratio near 1, where the second decimal matters (time over the floor)."""
    return "—" if ratio is None else f"{ratio:.2f}x"


def render_table(rows: Sequence[Sequence[str]], *, text_columns: int) -> str:
    """Fixed-width table: the first ``text_columns`` and the last column left-aligned,
    numbers right-aligned, a rule under the header row."""
    width = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(width)]
    lines = []
    for n, row in enumerate(rows):
        line = "  ".join(
            cell.ljust(w) if i < text_columns or i == width - 1 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        lines.append(line.rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_cold(results: Sequence[CaseResult]) -> str:
    """One line per case: the first-ever run of each tool, before any cache exists."""
    lines = []
    for r in results:
        parts = [f"{tool} {ms(r.cold[tool])} ms" for tool in TOOLS if tool in r.cold]
        where = " ".join(part for part in (r.dialect, r.shape) if part)
        size = f" N={r.revisions}" if r.dialect else ""
        lines.append(f"cold {where}{size} {r.case}: " + ", ".join(parts))
    return "\n".join(lines)


def results_to_json(results: Sequence[CaseResult], meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "meta": dict(meta),
        "results": [
            {
                "case": r.case,
                "dialect": r.dialect or None,
                "shape": r.shape,
                "revisions": r.revisions,
                "target": r.target,
                "max_over_floor": r.max_over_floor,
                "ratio_median": r.ratio,
                "ratio_min": r.min_ratio,
                "whimbrel_over_floor": r.over_floor(WHIMBREL),
                "alembic_over_floor": r.over_floor(ALEMBIC),
                "verdict": r.verdict,
                "cold_seconds": dict(r.cold),
                "tools": {
                    tool: {"median": s.median, "min": s.minimum, "samples": list(s.samples)}
                    for tool, s in r.stats.items()
                },
            }
            for r in results
        ],
    }


# -- processes -----------------------------------------------------------------------


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    # Both tools must be free to write their caches (.pyc / header cache).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # Each project's own configuration decides which database Whimbrel uses.
    env.pop("WHIMBREL_URL", None)
    env.pop("WHIMBREL_CONFIG", None)
    return env


def locate(tool: str, bindir: Path) -> Path:
    """The tool's executable in ``bindir`` (the venv's ``bin``), or a clear error."""
    path = bindir / tool
    if not path.is_file() or not os.access(path, os.X_OK):
        hint = (
            "install the project into this venv (`.venv/bin/pip install -e .`) or pass "
            "--alembic-only"
            if tool == WHIMBREL
            else "run this script with the venv's Python (`.venv/bin/python`)"
        )
        raise BenchmarkError(f"the {tool} CLI was not found at {path}: {hint}")
    return path
