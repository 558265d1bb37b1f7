"""``upgrade``, ``downgrade`` and ``stamp`` with ``sql=True``: a SQL script, no database.

The dialect comes from the configured URL (or from a ``connection``/``engine`` given,
without using it); ``env.py`` is not imported, and no connection is ever opened. With
no database to read, the start of the run comes from the range ``FROM:TO``: an
upgrade starts from base unless told otherwise, a downgrade must be told. See
:mod:`whimbrel.runtime.offline` for how the script is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

import anyio

from whimbrel.commands.scripts import as_tuple, load_scripts
from whimbrel.errors import ConfigError, OfflineSQLError, UsageError
from whimbrel.results import OfflineSQLResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config
    from whimbrel.runtime.offline import OfflineScript

__all__ = (
    "OfflineOutput",
    "downgrade_sql",
    "offline_dialect",
    "split_range",
    "stamp_sql",
    "upgrade_sql",
)

OfflineOutput: TypeAlias = "TextIO | str | os.PathLike[str]"
"""Where offline SQL is also written: a text stream, or a file path (overwritten)."""


def split_range(revision: str) -> tuple[str | None, str]:
    """``"a:b"`` → ``("a", "b")``; ``"b"`` → ``(None, "b")``.

    Raises:
        OfflineSQLError: the range is not ``FROM:TO``.
    """
    if ":" not in revision:
        return None, revision
    start, _, end = revision.partition(":")
    if not start or not end or ":" in end:
        raise OfflineSQLError(
            f"cannot read the range {revision!r}: write it as FROM:TO, e.g. 'base:head'"
        )
    return start, end


def refuse_range_online(revision: str) -> None:
    """A ``FROM:TO`` range outside offline SQL is a mistake: say so.

    Raises:
        OfflineSQLError: ``revision`` is a range.
    """
    if ":" in revision:
        raise OfflineSQLError(
            f"the range {revision!r} is for offline SQL only: add --sql (sql=True); "
            "online, the database says where to start"
        )


def offline_dialect(
    config: Config, connection: AsyncConnection | None, engine: AsyncEngine | None
) -> Dialect:
    """The dialect to write SQL for, made without connecting to anything.

    Raises:
        ConfigError: no connection, engine or URL is configured, or the URL is invalid.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    for given in (
        connection,
        config.attributes.get("connection"),
        engine,
        config.attributes.get("engine"),
    ):
        if given is not None:
            found: Dialect = given.dialect
            return found
    if not config.url:
        where = config.config_file or "the configuration"
        raise ConfigError(
            f"no database URL: set 'url' in {where}, the WHIMBREL_URL variable or --url "
            "(offline SQL takes its dialect from it, and does not connect)",
            path=config.config_file,
            key="url",
        )
    try:
        dialect_cls = make_url(config.url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        from whimbrel.config import mask_url

        raise ConfigError(
            f"cannot use database URL {mask_url(config.url)}: {exc}",
            path=config.config_file,
            key="url",
        ) from exc
    # Compiling needs no driver: the DBAPI module is only imported to connect.
    dialect: Dialect = dialect_cls()
    return dialect


def _heads(heads: Sequence[str]) -> str:
    return ", ".join(heads) or "base"


async def _finish(
    command: str,
    target: str,
    script: OfflineScript,
    before: tuple[str, ...],
    after: tuple[str, ...],
    revisions: tuple[str, ...],
    output: OfflineOutput | None,
) -> OfflineSQLResult:
    import warnings

    from whimbrel.errors import OfflineSQLWarning

    sql = script.text()
    path: Path | None = None
    if isinstance(output, str | os.PathLike):
        path = Path(output)
        await anyio.Path(path).write_text(sql, encoding="utf-8")
    elif output is not None:
        output.write(sql)
    for note in script.notes:
        warnings.warn(note, OfflineSQLWarning, stacklevel=3)
    return OfflineSQLResult(
        command=command,
        target=target,
        dialect=script.dialect.name,
        heads_before=before,
        heads_after=after,
        revisions=revisions,
        sql=sql,
        notes=tuple(script.notes),
        output=path,
    )


async def upgrade_sql(
    config: Config,
    revision: str,
    *,
    output: OfflineOutput | None,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
) -> OfflineSQLResult:
    """Offline SQL of ``upgrade``: from ``FROM`` (default base) to the target.

    Raises:
        OfflineSQLError: a bad range, or a step that cannot be written as SQL.
        RevisionError: a revision cannot be resolved.
        ConfigError: no URL to take the dialect from.
    """
    from whimbrel.runtime.offline import OfflineScript

    start, target = split_range(revision)
    scripts, graph = await load_scripts(config)
    dialect = offline_dialect(config, connection, engine)
    before = graph.resolve(start) if start is not None else ()
    plan = graph.plan_upgrade(before, target)
    script = OfflineScript(config, dialect)
    script.header(f"upgrade {_heads(plan.heads_before)} -> {_heads(plan.heads_after)}")
    if not plan.heads_before:
        script.writer.begin()
        script.create_tables()
    await script.run(plan, scripts)
    script.writer.commit()
    return await _finish(
        "upgrade",
        revision,
        script,
        plan.heads_before,
        plan.heads_after,
        plan.revisions,
        output,
    )


async def downgrade_sql(
    config: Config,
    revision: str,
    *,
    output: OfflineOutput | None,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
) -> OfflineSQLResult:
    """Offline SQL of ``downgrade``: the range ``FROM:TO`` is required.

    Raises:
        OfflineSQLError: no ``FROM``, or a step that cannot be written as SQL.
        RevisionError: a revision cannot be resolved, or the target is not below.
        ConfigError: no URL to take the dialect from.
    """
    from whimbrel.runtime.offline import OfflineScript

    start, target = split_range(revision)
    if start is None:
        raise OfflineSQLError(
            f"downgrade --sql needs the revision to start from, as there is no database "
            f"to read it from: write the range as FROM:TO, e.g. 'head:{revision}'"
        )
    scripts, graph = await load_scripts(config)
    dialect = offline_dialect(config, connection, engine)
    plan = graph.plan_downgrade(graph.resolve(start), target)
    script = OfflineScript(config, dialect)
    script.header(f"downgrade {_heads(plan.heads_before)} -> {_heads(plan.heads_after)}")
    await script.run(plan, scripts)
    script.writer.commit()
    return await _finish(
        "downgrade",
        revision,
        script,
        plan.heads_before,
        plan.heads_after,
        plan.revisions,
        output,
    )


async def stamp_sql(
    config: Config,
    revision: str | Sequence[str],
    *,
    purge: bool,
    output: OfflineOutput | None,
    connection: AsyncConnection | None,
    engine: AsyncEngine | None,
) -> OfflineSQLResult:
    """Offline SQL of ``stamp``: from ``FROM`` (default base) to the target(s).

    Raises:
        OfflineSQLError: a bad range.
        UsageError: no target.
        RevisionError: a revision cannot be resolved.
        ConfigError: no URL to take the dialect from.
    """
    from sqlalchemy import delete

    from whimbrel.runtime.offline import OfflineScript
    from whimbrel.runtime.version_table import HistoryRecord, now

    given = as_tuple(revision)
    if not given:
        raise UsageError("stamp needs at least one revision (or 'base')")
    start: str | None = None
    targets = given
    if any(":" in t for t in given):
        if len(given) > 1:
            raise OfflineSQLError(
                "stamp --sql takes one FROM:TO range, or target revisions without a range"
            )
        start, end = split_range(given[0])
        targets = (end,)
    _, graph = await load_scripts(config)
    dialect = offline_dialect(config, connection, engine)
    before = graph.resolve(start) if start is not None else ()
    after = graph.plan_stamp(before, targets, purge=purge)
    script = OfflineScript(config, dialect)
    script.header(f"stamp {_heads(before)} -> {_heads(after)}")
    script.writer.begin()
    if not before:
        script.create_tables()
    rows_before = before
    if purge:
        # Purging deletes every row, also rows no revision file defines.
        script.execute(delete(script.tables.version))
        rows_before = ()
    if after != rows_before or purge:
        record = HistoryRecord(
            revision=" ".join(after) or None,
            direction="stamp",
            heads_before=before,
            heads_after=after,
            applied_at=now(),
            duration_ms=0.0,
            checksum=None,
        )
        script.record(rows_before, after, record)
    script.writer.commit()
    return await _finish("stamp", " ".join(given), script, before, after, (), output)
