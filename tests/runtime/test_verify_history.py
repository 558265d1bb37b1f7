"""``verify`` replays the history table (upgrades, downgrades and stamps, in order):
whatever sequence Whimbrel ran, the applied set it derives matches the version table;
only a change Whimbrel did not record is reported."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pytest
from projects import Rev, snapshot, table_rev, write_project
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import TestDatabase
from whimbrel import command
from whimbrel.config import Config
from whimbrel.runtime.integrity import HistoryRow, checksums, replay
from whimbrel.script.graph import Revision, RevisionGraph

CHAIN = [table_rev(f"v{i}", f"v{i - 1}" if i else None, f"t_v{i}") for i in range(3)]

#            / a1 -- a2 \
#   root ---<            >-- m
#            \ b1 ------/
# Revisions without DDL, so any stamp, upgrade and downgrade sequence can run.
BRANCHY = [
    Rev("root"),
    Rev("a1", "root", labels=("alpha",)),
    Rev("a2", "a1"),
    Rev("b1", "root", labels=("beta",)),
    Rev("m", ("a2", "b1")),
]


async def _manual(url: str, cfg: Config, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql.format(table=cfg.version_table)))
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_upgrade_then_stamp_base(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg)
    await command.stamp(cfg, "base")
    found = await command.verify(cfg)
    assert found.heads == ()
    assert found.unreachable == ()
    assert found.ok
    history = (await snapshot(database.url, cfg))["history"]
    assert history[-1] == (None, "stamp", "v2", "", "ok")


@pytest.mark.asyncio
async def test_upgrade_then_stamp_a_middle_revision(
    database: TestDatabase, tmp_path: Path
) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg)
    await command.stamp(cfg, "v0")
    found = await command.verify(cfg)
    assert found.heads == ("v0",)
    assert found.ok, found
    # And back up to the head, still without running anything.
    await command.stamp(cfg, "v2")
    assert (await command.verify(cfg)).ok


@pytest.mark.asyncio
async def test_manual_update_is_reported(database: TestDatabase, tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg)
    await _manual(database.url, cfg, "UPDATE {table} SET version_num = 'v0'")
    found = await command.verify(cfg)
    assert found.heads == ("v0",)
    assert found.unknown == ()
    assert found.unreachable == ("v1", "v2")
    assert not found.ok


@pytest.mark.asyncio
async def test_version_table_moved_forward_by_hand_is_reported(
    database: TestDatabase, tmp_path: Path
) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg, "v0")
    await _manual(database.url, cfg, "UPDATE {table} SET version_num = 'v2'")
    found = await command.verify(cfg)
    assert found.heads == ("v2",)
    assert found.unreachable == ()
    assert found.unrecorded == ("v1", "v2")
    assert not found.ok
    # Recording the change by hand settles it.
    await command.stamp(cfg, "v2", purge=True)
    assert (await command.verify(cfg)).ok


@pytest.mark.asyncio
async def test_manual_update_after_a_stamp_is_reported_and_a_later_run_settles_it(
    database: TestDatabase, tmp_path: Path
) -> None:
    cfg = write_project(tmp_path / "proj", database.url, CHAIN)
    await command.upgrade(cfg)
    await command.stamp(cfg, "v1")
    await _manual(database.url, cfg, "DELETE FROM {table}")
    found = await command.verify(cfg)
    assert found.unreachable == ("v0", "v1")
    # A recorded stamp is the fix: from then on the history agrees with the table.
    await command.stamp(cfg, "v1")
    assert (await command.verify(cfg)).ok
    # So is a recorded purge over a row no file defines.
    await _manual(database.url, cfg, "UPDATE {table} SET version_num = 'ghost'")
    found = await command.verify(cfg)
    assert found.unknown == ("ghost",)
    assert found.unreachable == ("v0", "v1")
    await command.stamp(cfg, "v1", purge=True)
    assert (await command.verify(cfg)).ok


SEQUENCES: list[tuple[str, list[tuple[str, str]], tuple[str, ...]]] = [
    ("stamp-base", [("upgrade", "heads"), ("stamp", "base")], ()),
    ("stamp-middle", [("upgrade", "heads"), ("stamp", "a1")], ("a1",)),
    ("stamp-up-then-down", [("stamp", "heads"), ("downgrade", "root")], ("root",)),
    (
        "mixed",
        [
            ("upgrade", "alpha@a1"),
            ("stamp", "a2"),
            ("upgrade", "beta@b1"),
            ("downgrade", "root"),
            ("stamp", "b1"),
            ("upgrade", "heads"),
        ],
        ("m",),
    ),
    (
        "stamp-branch-base",
        [("upgrade", "heads"), ("downgrade", "a2"), ("stamp", "alpha@base")],
        ("b1",),
    ),
    (
        "stamp-base-then-heads",
        [("upgrade", "heads"), ("stamp", "base"), ("stamp", "heads")],
        ("m",),
    ),
    ("purge", [("upgrade", "a2"), ("purge", "b1")], ("b1",)),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("steps", "heads"), [(s, h) for _, s, h in SEQUENCES], ids=[n for n, _, _ in SEQUENCES]
)
async def test_any_sequence_run_by_whimbrel_verifies(
    transactional_database: TestDatabase,
    tmp_path: Path,
    steps: Sequence[tuple[str, str]],
    heads: tuple[str, ...],
) -> None:
    cfg = write_project(tmp_path / "proj", transactional_database.url, BRANCHY)
    for kind, target in steps:
        if kind == "upgrade":
            await command.upgrade(cfg, target)
        elif kind == "downgrade":
            await command.downgrade(cfg, target)
        else:
            await command.stamp(cfg, target, purge=kind == "purge")
        found = await command.verify(cfg)
        assert found.ok, (kind, target, found)
    assert tuple(sorted(found.heads)) == heads


# -- the command line (the QA report's exact sequence) ----------------------------------


def _cli(root: Path, *args: str) -> tuple[int, str]:
    """Run the ``whimbrel`` console script as the QA report did; exit code and output."""
    env = {k: v for k, v in os.environ.items() if k not in ("WHIMBREL_CONFIG", "WHIMBREL_URL")}
    url = f"sqlite+aiosqlite:///{root / 'v.db'}"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "whimbrel"), "--url", url, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_cli_verify_after_stamp_base_and_after_a_change_by_hand(tmp_path: Path) -> None:
    cfg = write_project(tmp_path, "sqlite+aiosqlite://", CHAIN)
    (tmp_path / "whimbrel.toml").write_text('script_location = "migrations"\n')
    assert _cli(tmp_path, "upgrade", "-q") == (0, "")
    assert _cli(tmp_path, "stamp", "base", "-q") == (0, "")
    code, out = _cli(tmp_path, "verify")
    assert code == 0, out
    assert out.startswith("OK: ") and " at base; " in out
    assert "unreachable" not in out

    assert _cli(tmp_path, "stamp", "v1", "-q") == (0, "")
    code, out = _cli(tmp_path, "verify")
    assert code == 0, out
    assert " at v1; " in out

    with closing(sqlite3.connect(tmp_path / "v.db")) as db, db:
        db.execute(f"UPDATE {cfg.version_table} SET version_num = 'v0'")
    code, out = _cli(tmp_path, "verify")
    assert code == 1
    assert out.splitlines() == [
        "unreachable: v1 is recorded as applied but the version table does not imply it"
    ]
    code, out = _cli(tmp_path, "verify", "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["unreachable"] == ["v1"]
    assert payload["heads"] == ["v0"]


# -- the replay itself, in memory ----------------------------------------------------------

GRAPH = RevisionGraph(
    [
        Revision("root"),
        Revision("a1", ("root",)),
        Revision("a2", ("a1",)),
        Revision("b1", ("root",)),
        Revision("m", ("a2", "b1")),
    ]
)


def _row(direction: str, revision: str | None, before: str, after: str) -> HistoryRow:
    return HistoryRow(revision, direction, tuple(before.split()), tuple(after.split()), None)


@pytest.mark.parametrize(
    ("rows", "applied"),
    [
        ([], set()),
        ([_row("up", "root", "", "root"), _row("up", "a1", "root", "a1")], {"root", "a1"}),
        ([_row("up", "root", "", "root"), _row("down", "root", "root", "")], set()),
        # A stamp sets what its heads imply, whatever ran before it.
        ([_row("up", "root", "", "root"), _row("stamp", None, "root", "")], set()),
        (
            [_row("stamp", "m", "", "m"), _row("down", "m", "m", "a2 b1")],
            {"root", "a1", "a2", "b1"},
        ),
        ([_row("stamp", "a1 b1", "m", "a1 b1")], {"root", "a1", "b1"}),
        # The history of an adopted database starts from the revisions it had.
        ([_row("up", "a2", "a1", "a2")], {"root", "a1", "a2"}),
        # Revisions no file defines any more still count.
        ([_row("up", "gone", "", "gone")], {"gone"}),
        ([_row("stamp", "gone", "", "gone root")], {"gone", "root"}),
    ],
)
def test_replay(rows: list[HistoryRow], applied: set[str]) -> None:
    assert replay(rows, GRAPH) == applied


def test_checksums_follow_runs_not_stamps() -> None:
    rows = [
        HistoryRow("root", "up", (), ("root",), "sum1"),
        HistoryRow(None, "stamp", ("root",), (), None),
        HistoryRow("root", "stamp", (), ("root",), None),
        HistoryRow("a1", "up", ("root",), ("a1",), "sum2"),
        HistoryRow("a1", "down", ("a1",), ("root",), "sum2"),
    ]
    assert checksums(rows) == {"root": "sum1"}
