"""Text and JSON rendering of command results.

Plain text follows Alembic's layout so habits carry over. Colour is added only when
stdout is a terminal and ``NO_COLOR`` is unset; JSON never has colour.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from whimbrel.results import (
    BranchesResult,
    CurrentResult,
    EditResult,
    EnsureVersionResult,
    HeadsResult,
    HistoryResult,
    InitResult,
    MigrationResult,
    RevisionInfo,
    ShowResult,
    StepEvent,
    TemplateInfo,
    VerifyResult,
    to_data,
)

if TYPE_CHECKING:
    from whimbrel.fanout import ManyResult

_STYLES = {"rev": "\x1b[33m", "tag": "\x1b[36m", "dim": "\x1b[2m", "ok": "\x1b[32m"}


def use_colour() -> bool:
    """Whether to colour output: a terminal, and no ``NO_COLOR`` in the environment."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _style(text: str, kind: str, colour: bool) -> str:
    return f"{_STYLES[kind]}{text}\x1b[0m" if colour else text


def render(result: object, *, as_json: bool = False, verbose: bool = False) -> str:
    """Render any command result as text (or JSON)."""
    if as_json:
        return json.dumps(to_data(result), indent=2)
    colour = use_colour()
    if isinstance(result, HeadsResult):
        return _lines(result.heads, verbose, colour, history=False)
    if isinstance(result, HistoryResult):
        return _lines(result.revisions, verbose, colour, history=True, current=result.current)
    if isinstance(result, MigrationResult):
        return _migration(result, colour)
    if isinstance(result, CurrentResult):
        if not result.heads:
            return f"{result.database}: base (no revision applied)"
        if verbose:
            return "\n\n".join(_verbose(r, colour) for r in result.revisions)
        shown = [_describe(r, colour) for r in result.revisions]
        unknown = [
            f"{h} (unknown revision)"
            for h in result.heads
            if h not in {r.revision for r in result.revisions}
        ]
        return "\n".join(shown + unknown)
    from whimbrel.fanout import ManyResult

    if isinstance(result, ManyResult):
        return _many(result)
    kind = type(result).__name__
    if kind == "LintResult":
        return _lint(result)
    if kind == "PlanResult":
        return _plan(result)
    if kind == "AdoptResult":
        return _adopt(result)
    if isinstance(result, VerifyResult):
        return _verify(result)
    if isinstance(result, EnsureVersionResult):
        state = "created" if result.created else "already present"
        return f"{result.version_table}: {state} in {result.database}"
    if isinstance(result, ShowResult):
        return "\n\n".join(_verbose(r, colour) for r in result.revisions)
    if isinstance(result, BranchesResult):
        blocks = []
        for point in result.branch_points:
            head = _describe(point.revision, colour)
            if verbose:
                head = _verbose(point.revision, colour)
            pad = " " * 10
            kids = [
                f"{pad}-> {_describe(child, colour)}, {child.message or ''}"
                for child in point.children
            ]
            blocks.append("\n".join([head, *kids]))
        return "\n".join(blocks)
    if isinstance(result, InitResult):
        made = "\n".join(f"  created {p}" for p in result.created)
        return (
            f"{made}\nNew project from template {result.template!r}: edit "
            f"{result.config_file} (url, target_metadata), then 'whimbrel revision -m ...'."
        )
    if isinstance(result, EditResult):
        return f"edited {result.path}"
    if isinstance(result, list) and all(isinstance(t, TemplateInfo) for t in result):
        width = max((len(t.name) for t in result), default=0)
        listed = "\n".join(f"  {t.name.ljust(width)}  {t.description}" for t in result)
        return f"Available templates:\n{listed}\n\nwhimbrel init --template NAME DIRECTORY"
    raise TypeError(f"no renderer for {type(result).__name__}")


def _migration(result: MigrationResult, colour: bool) -> str:
    before = ", ".join(result.heads_before) or "base"
    after = ", ".join(result.heads_after) or "base"
    if result.command == "stamp":
        return f"Stamped {result.database}: {before} -> {_style(after, 'rev', colour)}"
    if not result.steps:
        return f"Nothing to do: {result.database} is at {after}"
    ms = result.duration_s * 1000
    count = len(result.steps)
    verb = "Upgraded" if result.command == "upgrade" else "Downgraded"
    return (
        f"{verb} {result.database}: {before} -> {_style(after, 'rev', colour)} "
        f"({count} step{'s' if count != 1 else ''}, {ms:.0f} ms)"
    )


def _verify(result: VerifyResult) -> str:
    lines = [
        f"changed: {c.revision} {c.path} (applied with sha256 {c.recorded[:12]}, "
        f"now {c.current[:12]})"
        for c in result.changed
    ]
    lines += [f"unknown: version row {h} names no revision file" for h in result.unknown]
    lines += [
        f"unreachable: {r} is recorded as applied but the version table does not imply it"
        for r in result.unreachable
    ]
    if not lines:
        at = ", ".join(result.heads) or "base"
        return f"OK: {result.database} at {at}; every applied revision file is unchanged"
    return "\n".join(lines)


def _lint(result: Any) -> str:
    lines = []
    for f in result.findings:
        where = f"{f.path}:{f.line}" if f.line else str(f.path)
        lines.append(f"{where}: {f.severity} [{f.rule}] {f.message}")
        lines.append(f"    revision {f.revision}; instead: {f.alternative}")
    count = len(result.revisions)
    scope = "pending revision" if result.scope == "pending" else "revision"
    errors, warnings = len(result.errors), len(result.warnings)
    lines.append(
        f"{count} {scope}{'s' if count != 1 else ''} linted for {result.dialect}: "
        f"{errors} error(s), {warnings} warning(s)"
    )
    return "\n".join(lines)


def _size(total_bytes: int | None) -> str:
    if total_bytes is None:
        return "?"
    size = float(total_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _plan(result: Any) -> str:
    before = ", ".join(result.heads_before) or "base"
    after = ", ".join(result.heads_after) or "base"
    if not result.steps:
        return f"Nothing to do: {result.database} is at {after}"
    lines = [f"Plan for {result.database}: {before} -> {after}, {len(result.steps)} step(s)"]
    for step in result.steps:
        mode = "in a transaction" if step.transactional else "outside a transaction"
        lines.append(f"{step.revision}  {step.message or ''} ({mode})")
        for st in step.statements:
            lines.append(f"    {' '.join(st.sql.split())}")
            for lock in st.locks:
                if lock.mode is None and lock.rows is None:
                    continue  # nothing known beyond the table's name
                rows = "?" if lock.rows is None else f"~{lock.rows} rows"
                mode_text = lock.mode or "lock unknown"
                lines.append(
                    f"        {mode_text} on {lock.table} ({rows}, {_size(lock.total_bytes)})"
                )
        lines.extend(f"    note: {note}" for note in step.notes)
    return "\n".join(lines)


def _adopt(result: Any) -> str:
    verb = "Wrote" if result.written else "Would write"
    lines = [f"{verb} {result.config_file}:", "", result.toml.rstrip(), ""]
    for note in result.notes:
        where = f" ({note.source}:{note.line})" if note.source and note.line else ""
        lines.append(f"[{note.kind}] {note.topic}: {note.message}{where}")
    return "\n".join(lines)


def render_target(outcome: Any) -> str:
    """One progress line for a finished target of a fan-out."""
    ms = outcome.duration_s * 1000
    if not outcome.ok:
        state = "skipped" if outcome.skipped else "FAILED"
        return f"[{state}] {outcome.target}: {outcome.error} ({ms:.0f} ms)"
    result = outcome.result
    if isinstance(result, MigrationResult):
        after = ", ".join(result.heads_after) or "base"
        return f"[ok] {outcome.target}: {len(result.steps)} step(s), at {after} ({ms:.0f} ms)"
    if isinstance(result, CurrentResult):
        heads = ", ".join(result.heads) or "base"
        state = "at head" if result.at_head else "behind"
        return f"[ok] {outcome.target}: {heads} ({state})"
    return f"[ok] {outcome.target}"


def _many(result: ManyResult) -> str:
    failed = [t for t in result.targets if not t.ok]
    total = len(result.targets)
    done = total - len(failed)
    line = f"{result.command}: {done}/{total} target(s) ok in {result.duration_s * 1000:.0f} ms"
    if failed:
        line += "; failed: " + ", ".join(t.target for t in failed)
        line += " (run the same command again to resume them)"
    if result.command == "current":
        return "\n".join([*(render_target(t) for t in result.targets), line])
    return line


def render_progress(event: StepEvent, *, done: bool, width: int = 24) -> str:
    """A one-line progress bar for a terminal: steps finished, and the current one."""
    finished = event.index if done else event.index - 1
    filled = round(width * finished / event.total) if event.total else width
    bar = "#" * filled + "." * (width - filled)
    arrow = "up" if event.direction == "up" else "down"
    return f"[{bar}] {finished}/{event.total} {arrow} {event.revision} {event.message or ''}"


def render_step(event: StepEvent) -> str:
    """One progress line for a finished step."""
    arrow = "up" if event.direction == "up" else "down"
    ms = (event.duration_s or 0.0) * 1000
    width = len(str(event.total))
    return (
        f"[{event.index:>{width}}/{event.total}] {arrow:<4} {event.revision}  "
        f"{event.message or ''} ({ms:.0f} ms)"
    )


def render_generated(result: RevisionInfo, *, as_json: bool = False) -> str:
    """Render the revision that ``revision`` or ``merge`` wrote."""
    if as_json:
        return json.dumps(to_data(result), indent=2)
    return f"Generated {result.path} ({_style(result.revision, 'rev', use_colour())})"


def _describe(info: RevisionInfo, colour: bool) -> str:
    text = _style(info.revision, "rev", colour)
    tags = [f"({label})" for label in info.branch_labels]
    if info.is_head:
        tags.append("(head)")
    if info.is_branch_point:
        tags.append("(branchpoint)")
    if info.is_merge_point:
        tags.append("(mergepoint)")
    if info.depends_on:
        tags.append(f"(depends on {', '.join(info.depends_on)})")
    if tags:
        text += " " + _style(" ".join(tags), "tag", colour)
    return text


def _lines(
    revisions: tuple[RevisionInfo, ...],
    verbose: bool,
    colour: bool,
    *,
    history: bool,
    current: tuple[str, ...] | None = None,
) -> str:
    if verbose:
        return "\n\n".join(_verbose(r, colour) for r in revisions)
    out = []
    for info in revisions:
        if not history:
            out.append(_describe(info, colour))
            continue
        mark = " (current)" if current and info.revision in current else ""
        out.append(f"{_parents(info)} -> {_describe(info, colour)}{mark}, {info.message or ''}")
    return "\n".join(out)


def render_graph(result: HistoryResult) -> str:
    """History as a graph: one lane per line of descent, newest first (like git)."""
    colour = use_colour()
    lanes: list[str | None] = []
    out: list[str] = []

    def draw(marks: dict[int, str], gaps: dict[int, str] | None = None) -> str:
        width = 2 * len(lanes)
        cells = [" "] * width
        for i, lane in enumerate(lanes):
            if lane is not None and i not in (gaps or {}):
                cells[2 * i] = "|"
        for i, mark in marks.items():
            cells[2 * i] = mark
        for i, mark in (gaps or {}).items():
            cells[2 * i - 1] = mark
        return "".join(cells).rstrip()

    for info in result.revisions:
        rev = info.revision
        waiting = [i for i, lane in enumerate(lanes) if lane == rev]
        if not waiting:
            # A head (or the top of a range) opens a lane of its own.
            free = next((i for i, lane in enumerate(lanes) if lane is None), None)
            if free is None:
                lanes.append(rev)
                free = len(lanes) - 1
            else:
                lanes[free] = rev
            waiting = [free]
        col = waiting[0]
        if waiting[1:]:
            # Lanes that were waiting for this revision join it: a branch point.
            out.append(draw({}, dict.fromkeys(waiting[1:], "/")))
            for i in waiting[1:]:
                lanes[i] = None
            while lanes and lanes[-1] is None:
                lanes.pop()
        current = " (current)" if result.current and rev in result.current else ""
        row = draw({col: "*"}).ljust(2 * len(lanes))
        out.append(f"{row} {_describe(info, colour)}{current}, {info.message or ''}".rstrip())
        parents = list(info.down_revisions)
        lanes[col] = parents[0] if parents else None
        opened: list[int] = []
        for parent in parents[1:]:
            if parent in lanes:
                continue
            free = next((i for i, lane in enumerate(lanes) if lane is None and i > col), None)
            if free is None:
                lanes.append(parent)
                free = len(lanes) - 1
            else:
                lanes[free] = parent
            opened.append(free)
        if opened:
            out.append(draw({}, dict.fromkeys(opened, "\\")))
        while lanes and lanes[-1] is None:
            lanes.pop()
    return "\n".join(out)


def _parents(info: RevisionInfo) -> str:
    if not info.down_revisions:
        return "<base>"
    if len(info.down_revisions) == 1:
        return info.down_revisions[0]
    return "(" + ", ".join(info.down_revisions) + ")"


def _verbose(info: RevisionInfo, colour: bool) -> str:
    lines = [f"Rev: {_describe(info, colour)}"]
    if info.is_merge_point:
        lines.append(f"Merges: {', '.join(info.down_revisions)}")
    else:
        lines.append(f"Parent: {_parents(info)}")
    if info.depends_on:
        lines.append(f"Also depends on: {', '.join(info.depends_on)}")
    if info.is_branch_point:
        lines.append(f"Branches into: {', '.join(info.children)}")
    if info.branch_labels:
        lines.append(f"Branch names: {', '.join(info.branch_labels)}")
    lines.append(f"Path: {info.path}")
    doc = (info.doc or info.message or "").strip("\n")
    if doc:
        lines.append("")
        lines.extend(f"    {line}".rstrip() for line in doc.splitlines())
    return "\n".join(lines)
