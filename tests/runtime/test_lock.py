"""The migration lock: many concurrent callers, each revision applied exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from projects import Rev, snapshot, table_rev, write_project

from databases import TestDatabase
from whimbrel import command
from whimbrel.config import Config
from whimbrel.errors import LockTimeoutError
from whimbrel.results import MigrationResult

pytestmark = pytest.mark.asyncio

CHAIN = [table_rev(f"k{i}", f"k{i - 1}" if i else None, f"t_k{i}") for i in range(5)]

SLOW = Rev(
    "slow",
    "k4",
    body="    wop.run_async(_pause)\n",
    extra="import anyio\n\nasync def _pause(conn):\n    await anyio.sleep(30)\n",
)


def _applied_once(snap: dict[str, object], revisions: list[str]) -> None:
    history = snap["history"]
    assert isinstance(history, list)
    ups = [row[0] for row in history if row[1] == "up"]
    assert sorted(ups) == sorted(revisions)


async def test_fifty_concurrent_tasks(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    results: list[MigrationResult] = []

    async def one() -> None:
        results.append(await command.upgrade(cfg))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(one)
    assert len(results) == 50
    assert sum(len(r.steps) for r in results) == 5
    assert all(r.heads_after == ("k4",) for r in results)
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["k4"]
    _applied_once(snap, [r.id for r in CHAIN])


RUNNER = """
import anyio, sys
from pathlib import Path
from whimbrel import Config, command

async def main():
    cfg = Config(script_location=Path(sys.argv[1]), url=sys.argv[2])
    result = await command.upgrade(cfg)
    print(len(result.steps))

anyio.run(main)
"""


async def test_sixteen_processes(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    argv = [sys.executable, "-c", RUNNER, str(cfg.script_location), database.url]
    outputs: list[tuple[int, str]] = []

    async def one() -> None:
        done = await anyio.run_process(argv, check=False, stderr=subprocess.STDOUT)
        outputs.append((done.returncode, done.stdout.decode()))

    async with anyio.create_task_group() as tg:
        for _ in range(16):
            tg.start_soon(one)
    assert [code for code, _ in outputs] == [0] * 16, outputs
    assert sum(int(out.strip()) for _, out in outputs) == 5
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["k4"]
    _applied_once(snap, [r.id for r in CHAIN])


async def test_cancelled_task_releases_the_lock(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, [*CHAIN, SLOW])
    await command.upgrade(cfg, "k4")
    with anyio.move_on_after(1.0):
        await command.upgrade(cfg)
    # The lock is free at once: a run with a short lock timeout goes through.
    quick = Config(
        script_location=cfg.script_location, url=database.url, migration_lock_timeout=2.0
    )
    result = await command.stamp(quick, "slow")
    assert result.heads_after == ("slow",)


async def test_lock_timeout_names_the_holder(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, [*CHAIN, SLOW])
    await command.upgrade(cfg, "k4")
    impatient = Config(
        script_location=cfg.script_location, url=database.url, migration_lock_timeout=0.5
    )
    caught: list[LockTimeoutError] = []

    async with anyio.create_task_group() as tg:
        tg.start_soon(command.upgrade, cfg)
        await anyio.sleep(0.5)
        try:
            await command.upgrade(impatient)
        except LockTimeoutError as exc:
            caught.append(exc)
        tg.cancel_scope.cancel()
    assert caught, "the second run should have timed out waiting"
    message = str(caught[0])
    assert "another migration holds the lock" in message
    holder = {"postgresql": "pid ", "mariadb": "connection ", "sqlite": f"pid {os.getpid()}"}
    assert holder[database.dialect] in message
    assert (await snapshot(database.url, cfg))["heads"] == ["k4"]


async def test_no_lock_option_skips_the_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    cfg = write_project(tmp_path / "proj", url, CHAIN)
    await command.upgrade(cfg, lock=False)
    assert not (tmp_path / "x.db.whimbrel-lock").exists()
    await command.upgrade(cfg, "k0")
    assert (tmp_path / "x.db.whimbrel-lock").exists()
