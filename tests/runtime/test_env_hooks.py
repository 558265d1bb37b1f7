"""An optional env.py: its async hooks are awaited on the command's own loop."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import snapshot, table_rev, write_project

from databases import TestDatabase
from whimbrel import command
from whimbrel.errors import ScriptError

ENV = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

CALLS = []


async def create_engine(config):
    CALLS.append("create_engine")
    return create_async_engine({url!r})


async def on_connect(connection, config):
    CALLS.append("on_connect")
    label = config.get_x_argument("label", "none")
    await connection.execute(text("CREATE TABLE IF NOT EXISTS env_marks (label VARCHAR(20))"))
    await connection.execute(text("INSERT INTO env_marks VALUES (:label)"), {{"label": label}})
    await connection.commit()
"""


@pytest.mark.asyncio
async def test_env_hooks_are_awaited(database: TestDatabase, tmp_path: Path) -> None:
    # The configured URL is unusable: only env.py's create_engine can reach the database.
    cfg = write_project(
        tmp_path / "proj",
        "sqlite+aiosqlite:///nowhere/x.db",
        [
            table_rev("e1", None, "t_env"),
        ],
    )
    cfg.x_args["label"] = "from-x"
    (cfg.script_location / "env.py").write_text(ENV.format(url=database.url))
    await command.upgrade(cfg)
    cfg.url = database.url
    snap = await snapshot(database.url, cfg)
    assert snap["tables"] == ["env_marks", "t_env"]
    assert snap["heads"] == ["e1"]


@pytest.mark.asyncio
async def test_env_hook_must_be_async(tmp_path: Path) -> None:
    cfg = write_project(
        tmp_path / "proj", "sqlite+aiosqlite:///x.db", [table_rev("e1", None, "t")]
    )
    (cfg.script_location / "env.py").write_text("def on_connect(connection, config):\n    pass\n")
    with pytest.raises(ScriptError, match="must be 'async def'"):
        await command.upgrade(cfg)
