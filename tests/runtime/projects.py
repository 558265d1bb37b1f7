"""Build small migration projects on disk for runtime tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from whimbrel.config import Config


@dataclass(frozen=True)
class Rev:
    """One revision: its header and the SQL its upgrade/downgrade runs."""

    id: str
    down: str | tuple[str, ...] | None = None
    up: tuple[str, ...] = ()
    down_sql: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    transactional: bool = True
    takes_op: bool = False
    extra: str = ""
    body: str | None = None
    message: str = field(default="")


def table_rev(
    rev_id: str,
    down: str | tuple[str, ...] | None,
    table: str,
    **kw: Any,
) -> Rev:
    """A revision that creates (and on downgrade drops) one table."""
    return Rev(
        rev_id,
        down,
        up=(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)",),
        down_sql=(f"DROP TABLE {table}",),
        message=f"create {table}",
        **kw,
    )


def write_project(root: Path, url: str, revisions: list[Rev], **config: Any) -> Config:
    """Write the revision files and return a Config for them."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    for rev in revisions:
        (versions / f"{rev.id}.py").write_text(_render(rev))
    return Config(script_location=root / "migrations", url=url, config_file=None, **config)


def _render(rev: Rev) -> str:
    def body(statements: tuple[str, ...]) -> str:
        if not statements:
            return "    pass\n"
        call = "op.execute" if rev.takes_op else "wop.execute"
        return "".join(f"    {call}({s!r})\n" for s in statements)

    param = "op: Operations" if rev.takes_op else ""
    up = rev.body if rev.body is not None else body(rev.up)
    return (
        f'"""{rev.message or rev.id}\n\nRevision ID: {rev.id}\n"""\n'
        "from whimbrel import op as wop\n"
        "from whimbrel.operations import Operations\n\n"
        f"revision = {rev.id!r}\n"
        f"down_revision = {rev.down!r}\n"
        f"branch_labels = {rev.labels or None!r}\n"
        f"depends_on = {rev.depends_on or None!r}\n"
        f"transactional = {rev.transactional!r}\n"
        f"{rev.extra}\n\n"
        f"def upgrade({param}) -> None:\n{up}\n\n"
        f"def downgrade({param}) -> None:\n{body(rev.down_sql)}"
    )


async def snapshot(url: str, config: Config) -> dict[str, Any]:
    """Tables (without Whimbrel's), version rows and history rows of a database."""
    engine: AsyncEngine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync: Any) -> dict[str, Any]:
                names = set(inspect(sync).get_table_names())
                own = {config.version_table, config.history_table}
                out: dict[str, Any] = {"tables": sorted(names - own)}
                if config.version_table in names:
                    rows = sync.execute(text(f"SELECT version_num FROM {config.version_table}"))
                    out["heads"] = sorted(r[0] for r in rows)
                else:
                    out["heads"] = None
                if config.history_table in names:
                    hist = sync.execute(
                        text(
                            f"SELECT revision, direction, heads_before, heads_after, status "
                            f"FROM {config.history_table} ORDER BY id"
                        )
                    )
                    out["history"] = [tuple(r) for r in hist]
                else:
                    out["history"] = None
                return out

            return await conn.run_sync(read)
    finally:
        await engine.dispose()
