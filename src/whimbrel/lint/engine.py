"""``lint``: check revisions for changes that block or break a running application."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anyio.to_thread

from whimbrel.errors import UsageError
from whimbrel.lint.database import (
    check_known,
    dialect_named,
    finish_reading,
    has_database,
    load_graph,
    read_heads,
    version_of,
)
from whimbrel.lint.ignores import Ignores
from whimbrel.lint.recorder import record_script
from whimbrel.lint.results import Finding, LintResult
from whimbrel.lint.rules import RULES, RULES_BY_ID
from whimbrel.lint.view import Env, Models, RangeState, RevisionView, family

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config
    from whimbrel.script.graph import RevisionGraph

__all__ = ("lint",)


async def lint(
    config: Config,
    *,
    rev_range: str | None = None,
    dialect: str | None = None,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    disabled: Collection[str] = (),
    server_version: tuple[int, ...] | None = None,
) -> LintResult:
    """Check revisions for operations that block or break a running application.

    Nothing runs on the database: each revision's ``upgrade()`` runs against
    recording operations that compile its SQL for the dialect, and the rules read the
    operations, that SQL and ``op.execute`` text. With no ``rev_range`` the revisions
    are the pending ones (what ``upgrade heads`` would run), read from the database's
    version table; when no database is configured, every revision (``base:heads``).

    Args:
        config: the project configuration.
        rev_range: ``start:end`` (as in ``history``; ``base:heads`` is everything),
            or one identifier (``head``, an id) for just those revisions.
        dialect: the dialect to compile for; by default the database's (from its URL
            when it is not read), or ``postgresql`` when none is configured.
        connection: read the pending revisions on this connection.
        engine: read them on a connection from this engine.
        disabled: rule ids switched off for the project.
        server_version: the server version the rules assume (``(11,)``); by default
            the database's when it is read, else a current one.

    Raises:
        UsageError: an unknown rule id in ``disabled``, an unknown dialect, or a
            range without a database that mentions ``current``.
        ScriptError: a revision file cannot be imported.
        ConfigError: ``target_metadata`` is set but cannot be imported.
        RevisionError: the range cannot be resolved, or the version table names an
            unknown revision.
        DatabaseError: the database cannot be reached.
    """
    off = _check_disabled(disabled)
    scripts, graph = await load_graph(config)
    heads: tuple[str, ...] | None = None
    database: str | None = None
    live: Dialect | None = None
    wants_heads = rev_range is None or "current" in rev_range or _relative(rev_range)
    if wants_heads and has_database(config, connection, engine):
        database, heads, live = await _read_database(config, connection, engine)
        check_known(graph, heads)
    elif rev_range is not None and wants_heads:
        raise UsageError(
            f"range {rev_range!r} is relative to the database's current revision, and no "
            "database is configured; name the revisions instead"
        )
    scope: Literal["pending", "range"]
    if rev_range is None and heads is not None:
        scope = "pending"
        ids = list(graph.plan_upgrade(heads, "heads").revisions)
    else:
        scope = "range"
        ids = _in_range(graph, rev_range or "base:heads", heads)
    target = _target_dialect(dialect, live, config.url)
    version = server_version
    if version is None and live is not None and target is live:
        version = version_of(live)
    models = None
    if config.target_metadata:
        models = Models(await anyio.to_thread.run_sync(config.resolve_target_metadata))
    env = Env(
        dialect=family(target.name),
        dialect_impl=target,
        server_version=version,
        models=models,
        lock_timeout=config.lock_timeout,
        state=RangeState(carry_new_tables=scope == "pending"),
    )
    findings: list[Finding] = []
    for rev_id in ids:
        script = scripts.get_script(rev_id)
        recording = await record_script(script, config, target)
        source = await anyio.to_thread.run_sync(_read_text, script.path)
        findings.extend(_check(RevisionView(recording, source, env.state), env, off))
    return LintResult(
        findings=tuple(findings),
        revisions=tuple(ids),
        scope=scope,
        rev_range=rev_range,
        dialect=target.name,
        server_version=version,
        database=database,
        disabled=tuple(sorted(off)),
    )


def _check(view: RevisionView, env: Env, off: frozenset[str]) -> list[Finding]:
    ignores = Ignores(view.source, view.tree)
    script = view.recording.script
    found: list[Finding] = []
    for rule in RULES:
        if rule.id in off or not rule.applies_to(env.dialect):
            continue
        for hit in rule.check(view, env):
            if ignores.ignored(rule.id, hit.line):
                continue
            found.append(
                Finding(
                    rule=rule.id,
                    severity=hit.severity or rule.severity,
                    revision=script.id,
                    path=script.path,
                    line=hit.line,
                    message=hit.message,
                    alternative=hit.alternative or rule.alternative,
                    statement=hit.statement,
                )
            )
    found.sort(key=lambda f: f.line or 0)
    return found


def _check_disabled(disabled: Collection[str]) -> frozenset[str]:
    for rule_id in disabled:
        if rule_id not in RULES_BY_ID:
            close = difflib.get_close_matches(rule_id, list(RULES_BY_ID), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"unknown lint rule {rule_id!r}{hint} (rules: {', '.join(RULES_BY_ID)})"
            )
    return frozenset(disabled)


def _relative(rev_range: str) -> bool:
    from whimbrel.script.graph import is_relative_to_current

    return any(is_relative_to_current(part) for part in rev_range.split(":") if part)


async def _read_database(
    config: Config, connection: AsyncConnection | None, engine: AsyncEngine | None
) -> tuple[str, tuple[str, ...], Dialect | None]:
    from whimbrel.runtime.connection import connect

    # read_only: a SQLite file that does not exist reads as empty and stays missing.
    async with connect(config, connection=connection, engine=engine, read_only=True) as conn:
        try:
            heads = await read_heads(conn.connection, config)
        finally:
            await finish_reading(conn)
        return conn.database, heads, conn.connection.dialect


def _in_range(graph: RevisionGraph, rev_range: str, heads: tuple[str, ...] | None) -> list[str]:
    if ":" in rev_range:
        start, _, end = rev_range.partition(":")
        ids = graph.iterate(end.strip() or "heads", start.strip() or "base", current=heads)
        return list(reversed(ids))
    return graph.topological(graph.resolve(rev_range, current=heads))


def _target_dialect(name: str | None, live: Dialect | None, url: str | None = None) -> Dialect:
    if name is None and live is None and url:
        # The configured database's dialect is known without connecting to it.
        from sqlalchemy.engine import make_url

        try:
            name = make_url(url).get_backend_name()
        except Exception:
            name = None
    if name is None:
        return live if live is not None else dialect_named("postgresql")
    if live is not None and family(live.name) == family(name):
        return live
    return dialect_named(name)


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")
