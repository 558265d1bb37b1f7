"""Offline SQL run through the real clients reproduces what the online run does.

For each dialect: the same five revisions are upgraded online into one fresh
database, and written as offline SQL (for a URL that reaches nothing) that
``sqlite3``/``psql``/``mariadb`` run into another; the schemas, version rows, history
rows and data must match. Then the same for a downgrade and a stamp.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from offsupport import R1, R3, R5, Pair, apply_sql, pair_of, snapshot

from databases import DIALECTS
from whimbrel import command

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture(params=DIALECTS)
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    async for made in pair_of(request.param, tmp_path):
        yield made


async def test_upgrade_sql_matches_online_upgrade(pair: Pair) -> None:
    online, reader, nowhere = pair.configs()
    await command.upgrade(online, "heads")
    result = await command.upgrade(nowhere, "heads", sql=True)
    assert result.revisions == ("a1000001", "b2000002", "c3000003", "d4000004", "e5000005")
    assert result.heads_before == () and result.heads_after == (R5,)
    assert result.notes == ()
    await apply_sql(pair.offline, result.sql, pair.tmp / "upgrade.sql")

    expected = await snapshot(pair.online.url, online)
    got = await snapshot(pair.offline.url, reader)
    assert got["schema"] == expected["schema"]
    assert got["heads"] == expected["heads"] == [R5]
    assert got["history"] == expected["history"]
    assert got["users"] == expected["users"]
    assert len(got["users"]) == 3
    if pair.online.dialect == "postgresql":
        assert ("user_status", ("active", "banned", "gone")) in got["schema"]["__enums__"]

    # The database migrated by the script continues online: nothing left to do, and
    # the history's checksums say no applied file changed.
    assert (await command.verify(reader)).ok
    again = await command.upgrade(reader, "heads")
    assert again.steps == ()


async def test_downgrade_and_upgrade_ranges_match_online(pair: Pair) -> None:
    online, reader, nowhere = pair.configs()
    await command.upgrade(online, "heads")
    await command.downgrade(online, R1)
    up = await command.upgrade(nowhere, "heads", sql=True)
    down = await command.downgrade(nowhere, f"heads:{R1}", sql=True)
    assert down.heads_before == (R5,) and down.heads_after == (R1,)
    assert down.revisions == ("e5000005", "d4000004", "c3000003", "b2000002")
    assert "CREATE TABLE IF NOT EXISTS" not in down.sql
    await apply_sql(pair.offline, up.sql, pair.tmp / "up.sql")
    await apply_sql(pair.offline, down.sql, pair.tmp / "down.sql")

    expected = await snapshot(pair.online.url, online)
    got = await snapshot(pair.offline.url, reader)
    assert got["schema"] == expected["schema"]
    assert got["heads"] == expected["heads"] == [R1]
    assert got["history"] == expected["history"]

    # Upgrade from a given start: no version tables created, the UPDATE starts there.
    partial = await command.upgrade(nowhere, f"{R1}:{R3}", sql=True)
    assert partial.revisions == ("b2000002", "c3000003")
    assert "CREATE TABLE IF NOT EXISTS" not in partial.sql
    await apply_sql(pair.offline, partial.sql, pair.tmp / "partial.sql")
    await command.upgrade(online, R3)
    assert await snapshot(pair.offline.url, reader) == await snapshot(pair.online.url, online)


async def test_stamp_sql_matches_online_stamp(pair: Pair) -> None:
    online, reader, nowhere = pair.configs()
    await command.stamp(online, R3)
    result = await command.stamp(nowhere, R3, sql=True)
    assert result.heads_before == () and result.heads_after == (R3,)
    assert result.revisions == ()
    await apply_sql(pair.offline, result.sql, pair.tmp / "stamp.sql")
    expected = await snapshot(pair.online.url, online)
    got = await snapshot(pair.offline.url, reader)
    assert got["schema"] == expected["schema"]
    assert got["heads"] == expected["heads"] == [R3]
    assert got["history"] == expected["history"]

    # From a known start, with --purge: the table is emptied, then the new row.
    await command.stamp(online, R1, purge=True)
    purged = await command.stamp(nowhere, f"{R3}:{R1}", purge=True, sql=True)
    assert "DELETE FROM" in purged.sql
    await apply_sql(pair.offline, purged.sql, pair.tmp / "purge.sql")
    assert await snapshot(pair.offline.url, reader) == await snapshot(pair.online.url, online)
