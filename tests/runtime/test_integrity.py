"""Integrity: edited applied scripts are caught by verify and by upgrade; SIGKILL
mid-migration leaves the last completed state and a re-run completes."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import anyio
import pytest
from projects import Rev, snapshot, table_rev, write_project
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase
from whimbrel import command
from whimbrel.errors import ChangedScriptError

pytestmark = pytest.mark.asyncio

CHAIN = [table_rev(f"v{i}", f"v{i - 1}" if i else None, f"t_v{i}") for i in range(3)]


async def test_edited_applied_script_is_caught(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg, "v1")
    clean = await command.verify(cfg)
    assert clean.ok
    assert clean.heads == ("v1",)

    edited = cfg.script_location / "versions" / "v0.py"
    edited.write_text(edited.read_text() + "\n# an edit after the fact\n")
    found = await command.verify(cfg)
    assert not found.ok
    assert [c.revision for c in found.changed] == ["v0"]
    assert found.changed[0].path == edited

    with pytest.raises(ChangedScriptError) as info:
        await command.upgrade(cfg)
    assert "v0" in str(info.value) and str(edited) in str(info.value)
    assert "--allow-changed" in str(info.value)
    assert (await snapshot(database.url, cfg))["heads"] == ["v1"]

    result = await command.upgrade(cfg, allow_changed=True)
    assert [s.revision for s in result.steps] == ["v2"]


async def test_verify_reports_unknown_and_unreachable(
    database: TestDatabase, tmp_path: Path
) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg)
    # The version table now names a revision no file defines, and the history says
    # v1 and v2 ran, which that row no longer implies.
    engine = create_async_engine(database.url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"UPDATE {cfg.version_table} SET version_num = 'ghost'"))
    finally:
        await engine.dispose()
    found = await command.verify(cfg)
    assert found.unknown == ("ghost",)
    assert found.unreachable == ("v0", "v1", "v2")
    assert not found.ok


KILLABLE = Rev(
    "k_slow",
    "v2",
    body=(
        "    wop.execute('CREATE TABLE t_half (id INTEGER PRIMARY KEY)')\n"
        "    open(MARKER, 'w').close()\n"
        "    wop.run_async(_pause)\n"
    ),
    extra=(
        "import anyio, os\n\nMARKER = os.environ['WB_MARKER']\n\n"
        "async def _pause(conn):\n    await anyio.sleep(60)\n"
    ),
)

RUNNER = """
import anyio, sys
from pathlib import Path
from whimbrel import Config, command

cfg = Config(script_location=Path(sys.argv[1]), url=sys.argv[2])
anyio.run(command.upgrade, cfg)
"""


async def test_sigkill_mid_migration_then_rerun(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, [*CHAIN, KILLABLE])
    await command.upgrade(cfg, "v0")
    marker = tmp_path / "started"
    env = {**os.environ, "WB_MARKER": str(marker)}
    argv = [sys.executable, "-c", RUNNER, str(cfg.script_location), database.url]
    process = await anyio.open_process(argv, env=env)
    try:
        with anyio.fail_after(60):
            while not marker.exists():  # noqa: ASYNC110 - another process writes it
                await anyio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # The killed connection's locks go with it (PostgreSQL/MariaDB: server side; SQLite:
    # the flock dies with the process).
    snap = await snapshot(database.url, cfg)
    if database.dialect == "mariadb":
        # Each step commits on its own: v1 and v2 completed; k_slow's DDL ran.
        assert snap["heads"] == ["v2"]
    else:
        # One transaction for the run: the database is as it was before it.
        assert snap["heads"] == ["v0"]
        assert snap["tables"] == ["t_v0"]
    # A re-run completes (the slow step finishes at once without the marker's pause).
    done = Rev("k_slow", "v2", up=("CREATE TABLE t_done (id INTEGER PRIMARY KEY)",))
    (cfg.script_location / "versions" / "k_slow.py").unlink()
    write_project(tmp_path / "proj", database.url, [done])
    await command.upgrade(cfg, allow_changed=True)
    assert (await snapshot(database.url, cfg))["heads"] == ["k_slow"]
