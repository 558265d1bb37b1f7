"""Test support for autogenerate: projects, schema snapshots, lint of generated files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from whimbrel.config import Config

OWN_TABLES = ("whimbrel_version", "whimbrel_history")

# The rules a generated revision file must pass (I001 aside: the template's import
# block is the project's; F401 aside: the template imports ``sa`` even when unused).
LINT_RULES = "E,F,W,B,UP,C4,PERF,RUF,ASYNC"


def project(root: Path, url: str, **config: Any) -> Config:
    """A project with an empty script directory on ``url``."""
    (root / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    return Config(script_location=root / "migrations", url=url, **config)


def convention() -> dict[str, str]:
    """The naming convention the test models use."""
    return {
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }


async def snapshot(url: str) -> dict[str, Any]:
    """Everything reflection says about the database (without Whimbrel's tables).

    Column order is left out: a column dropped and added back comes last.
    """
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_snapshot)
    finally:
        await engine.dispose()


def _snapshot(conn: sa.Connection) -> dict[str, Any]:
    import warnings

    inspector = sa.inspect(conn)
    names = sorted(n for n in inspector.get_table_names() if n not in OWN_TABLES)
    out: dict[str, Any] = {}
    dialect = conn.dialect
    if not names:
        return {"tables": {}, "enums": _enums(inspector, dialect.name)}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        columns = inspector.get_multi_columns(filter_names=names)
        pks = inspector.get_multi_pk_constraint(filter_names=names)
        fks = inspector.get_multi_foreign_keys(filter_names=names)
        indexes = inspector.get_multi_indexes(filter_names=names)
        uniques = inspector.get_multi_unique_constraints(filter_names=names)
        checks = inspector.get_multi_check_constraints(filter_names=names)
        comments = (
            inspector.get_multi_table_comment(filter_names=names)
            if dialect.supports_comments
            else {}
        )
    sql_indexes: dict[str, str] = {}
    if dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        sql_indexes = {r[0]: r[1] for r in rows}
    for name in names:
        key = (None, name)
        cols = {}
        for c in columns[key]:
            cols[c["name"]] = (
                str(c["type"].compile(dialect=dialect)),
                c["nullable"],
                c.get("default"),
                c.get("comment"),
                repr(c.get("computed")),
                repr(c.get("identity")),
            )
        out[name] = {
            "columns": cols,
            "pk": (pks[key].get("name"), tuple(pks[key]["constrained_columns"])),
            "fks": sorted(
                repr(
                    (
                        fk.get("name"),
                        fk["constrained_columns"],
                        fk["referred_table"],
                        fk["referred_columns"],
                        sorted((fk.get("options") or {}).items()),
                    )
                )
                for fk in fks[key]
            ),
            "indexes": sorted(
                repr(
                    (
                        ix["name"],
                        ix["column_names"],
                        ix.get("expressions"),
                        bool(ix["unique"]),
                        _options(ix.get("dialect_options")),
                    )
                )
                for ix in indexes[key]
            ),
            "uniques": sorted(repr((u["name"], u["column_names"])) for u in uniques[key]),
            "checks": sorted(repr((c["name"], c["sqltext"])) for c in checks[key]),
            "comment": _comment(comments.get(key)),
        }
    if sql_indexes:
        out["_sqlite_indexes"] = sorted(sql_indexes.items())
    return {"tables": out, "enums": _enums(inspector, dialect.name)}


def _comment(found: Any) -> Any:
    return (found or {}).get("text")


def _options(options: Any) -> dict[str, str]:
    return {k: str(getattr(v, "text", v)) for k, v in (options or {}).items()}


def _enums(inspector: Any, dialect_name: str) -> list[Any]:
    if dialect_name != "postgresql":
        return []
    return sorted((e["name"], tuple(e["labels"])) for e in inspector.get_enums())


def joined(source: str) -> str:
    """``source`` with wrapped comments and split string literals joined back."""
    source = re.sub(r'"\n\s*"', "", source)
    return re.sub(r"\n\s*# ", " ", source)


def lint(path: Path, *, line_length: int = 88) -> None:
    """Fail unless ``path`` passes ruff's checks and is already ruff-formatted."""
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            LINT_RULES,
            "--ignore",
            "F401",
            "--line-length",
            str(line_length),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    unused = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F401", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Only the template's own imports may go unused (``sa`` when no type is rendered).
    reported = [line for line in unused.stdout.splitlines() if "imported but unused" in line]
    allowed = ("`sqlalchemy`", "`whimbrel.op`")
    assert all(any(a in line for a in allowed) for line in reported), unused.stdout
    fmt = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--isolated",
            "--check",
            "--diff",
            "--line-length",
            str(line_length),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
