"""Time whole CLI processes of Whimbrel and Alembic side by side and print the ratios.

Usage::

    python benchmarks/run.py [--revisions 5000] [--repeat 7] [--shape linear,branchy]
                             [--case heads,history] [--seed 0] [--json out.json]
                             [--alembic-only]

Both tools are run as the executables installed next to ``sys.executable`` (so run this
with the project's venv Python), each in a freshly generated project directory.  See
``benchmarks/README.md`` for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import SHAPES, Project, generate_project

WHIMBREL = "whimbrel"
ALEMBIC = "alembic"
TOOLS = (WHIMBREL, ALEMBIC)

# The spec's targets are stated for a project of this size.
SPEC_REVISIONS = 5000

WORK_DIR = Path(__file__).resolve().parent / ".work"

_REV_ID = re.compile(r"\b[0-9a-f]{12}\b")

Argv = tuple[str, ...]


class BenchmarkError(Exception):
    """A run failed or the tools disagreed: the numbers would mean nothing."""


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
    """Every tool must report exactly ``expected``; the first that does not aborts the run."""
    seen = {tool: parse_rev_ids(out) for tool, out in outputs.items()}
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


Verify = Callable[[Project, Mapping[str, str]], None]
Hook = Callable[[Project], None]
ToolHook = Callable[[Project, str], None]


@dataclass(frozen=True, slots=True)
class Case:
    """One command timed in both tools.

    ``target`` is the required ratio alembic/whimbrel of median wall times.  ``verify``
    gets each tool's stdout and raises ``BenchmarkError`` if they did different work.
    ``setup``/``teardown`` run once around the case; ``before_each`` runs (untimed)
    before every single run with the tool's name, e.g. to reset a database.
    """

    name: str
    whimbrel: Argv
    alembic: Argv
    target: float
    verify: Verify | None = None
    setup: Hook | None = None
    teardown: Hook | None = None
    before_each: ToolHook | None = None

    def argv(self, tool: str) -> Argv:
        return self.whimbrel if tool == WHIMBREL else self.alembic


CASES: tuple[Case, ...] = (
    Case("--help", ("--help",), ("--help",), target=2.0),
    Case("heads", ("heads",), ("heads",), target=10.0, verify=verify_heads),
    Case("history", ("history",), ("history",), target=10.0, verify=verify_history),
)


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
    if ratio is None:
        return "n/a"
    return "PASS" if ratio >= target else "MISS"


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str
    shape: str
    revisions: int
    target: float
    stats: Mapping[str, Stats]
    cold: Mapping[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if WHIMBREL not in self.stats or ALEMBIC not in self.stats:
            return None
        return speedup(self.stats[ALEMBIC].median, self.stats[WHIMBREL].median)

    @property
    def min_ratio(self) -> float | None:
        if WHIMBREL not in self.stats or ALEMBIC not in self.stats:
            return None
        return speedup(self.stats[ALEMBIC].minimum, self.stats[WHIMBREL].minimum)

    @property
    def verdict(self) -> str:
        return verdict(self.ratio, self.target)


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


def run_case(case: Case, project: Project, runner: ToolRunner, *, repeat: int) -> CaseResult:
    """Cold run per tool, one warm-up per tool, then ``repeat`` interleaved timed runs."""
    root = project.root
    tools = runner.tools

    def once(tool: str) -> tuple[float, str]:
        if case.before_each is not None:
            case.before_each(project, tool)
        return runner.run(tool, case.argv(tool), root)

    def check(outputs: Mapping[str, str]) -> None:
        if case.verify is not None:
            case.verify(project, outputs)

    if case.setup is not None:
        case.setup(project)
    try:
        cold: dict[str, float] = {}
        outputs: dict[str, str] = {}
        for tool in tools:
            clear_caches(root)
            cold[tool], outputs[tool] = once(tool)
        check(outputs)
        # Warm-up: Alembic writes its .pyc files, Whimbrel its header cache.
        check({tool: once(tool)[1] for tool in tools})
        samples: dict[str, list[float]] = {tool: [] for tool in tools}
        for _ in range(repeat):
            outputs = {}
            for tool in tools:
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
    )


# -- reporting -----------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.1f}x"


def format_table(results: Sequence[CaseResult]) -> str:
    """Render results as a fixed-width table (times in ms, median / min)."""
    header = (
        "shape",
        "case",
        "whimbrel med/min",
        "alembic med/min",
        "ratio med",
        "ratio min",
        "target",
        "result",
    )
    rows: list[tuple[str, ...]] = [header]
    for r in results:
        cells = []
        for tool in TOOLS:
            s = r.stats.get(tool)
            cells.append("—" if s is None else f"{_ms(s.median)} / {_ms(s.minimum)} ms")
        rows.append(
            (
                r.shape,
                r.case,
                *cells,
                _x(r.ratio),
                _x(r.min_ratio),
                f"≥{r.target:g}x",
                r.verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        # Text columns left-aligned, numbers right-aligned.
        line = "  ".join(
            cell.ljust(w) if i < 2 or i == len(row) - 1 else cell.rjust(w)
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
        parts = [f"{tool} {_ms(r.cold[tool])} ms" for tool in TOOLS if tool in r.cold]
        lines.append(f"cold {r.shape} {r.case}: " + ", ".join(parts))
    return "\n".join(lines)


def results_to_json(results: Sequence[CaseResult], meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "meta": dict(meta),
        "results": [
            {
                "case": r.case,
                "shape": r.shape,
                "revisions": r.revisions,
                "target": r.target,
                "ratio_median": r.ratio,
                "ratio_min": r.min_ratio,
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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time Whimbrel and Alembic CLI processes side by side."
    )
    parser.add_argument("--revisions", type=_positive, default=SPEC_REVISIONS)
    parser.add_argument("--repeat", type=_positive, default=7)
    parser.add_argument("--shape", type=_csv(SHAPES), default=SHAPES)
    parser.add_argument("--case", type=_csv([c.name for c in CASES]), default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--alembic-only",
        action="store_true",
        help="time Alembic alone (while the whimbrel CLI does not exist yet)",
    )
    return parser.parse_args(argv)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    # Both tools must be free to write their caches (.pyc / header cache).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def locate(tool: str, bindir: Path) -> Path:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bindir = Path(sys.executable).parent
    cases = [c for c in CASES if args.case is None or c.name in args.case]
    load_before = os.getloadavg()
    try:
        tools = (ALEMBIC,) if args.alembic_only else TOOLS
        runner = Runner({tool: locate(tool, bindir) for tool in tools}, subprocess_env())
        if not args.alembic_only:
            # A broken install fails here, before minutes of project generation.
            try:
                runner.run(WHIMBREL, ("--help",), Path.cwd())
            except BenchmarkError as e:
                raise BenchmarkError(
                    f"the whimbrel CLI does not work yet (pass --alembic-only to time "
                    f"Alembic alone):\n{e}"
                ) from e
        results: list[CaseResult] = []
        for shape in args.shape:
            print(f"generating {args.revisions} revisions ({shape})…", file=sys.stderr)
            project = generate_project(
                WORK_DIR / f"{shape}-{args.revisions}-s{args.seed}",
                revisions=args.revisions,
                shape=shape,
                seed=args.seed,
                overwrite=True,
            )
            for case in cases:
                print(f"  {shape} {case.name}…", file=sys.stderr, flush=True)
                results.append(run_case(case, project, runner, repeat=args.repeat))
    except BenchmarkError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    title = "Alembic alone" if args.alembic_only else "Whimbrel vs Alembic"
    print(
        f"\n{title}: N={args.revisions} revisions, {args.repeat} timed runs per tool "
        f"after 1 warm-up, interleaved; wall time of the whole process"
    )
    if args.revisions != SPEC_REVISIONS:
        print(f"(the targets are specified at N={SPEC_REVISIONS}; at this N they are indicative)")
    print(
        f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after, "
        f"on {os.cpu_count()} CPUs (other load on the machine skews both tools' times)"
    )
    print()
    print(format_table(results))
    print()
    print(format_cold(results))
    if args.json is not None:
        meta = {
            "revisions": args.revisions,
            "repeat": args.repeat,
            "seed": args.seed,
            "shapes": list(args.shape),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before[0],
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        args.json.write_text(json.dumps(results_to_json(results, meta), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
