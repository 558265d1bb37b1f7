"""The rename question, asked on a real terminal and answered there.

A child process runs ``autogenerate_revision`` with its standard input and output on
a pseudo-terminal, as a person at a shell would: Whimbrel sees a terminal, asks
``Rename users.fullname → users.full_name? [y/N]``, and the test types ``y``.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from whimbrel.autogenerate import autogenerate_revision
from whimbrel.config import Config

URL = "sqlite+aiosqlite:///{db}"


async def main() -> None:
    engine = create_async_engine(URL)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, fullname VARCHAR(100))"
        )
    await engine.dispose()
    models = sa.MetaData()
    sa.Table(
        "users",
        models,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("full_name", sa.String(100)),
    )
    config = Config(script_location="{root}/migrations", url=URL)
    result = await autogenerate_revision(config, message="rename", metadata=models)
    print("RENAMED:", ", ".join(str(r) for r in result.renames))
    print("KINDS:", ", ".join(d.kind for d in result.diffs))


anyio.run(main, backend="asyncio")
"""


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {marker!r}; got {out!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    return out


@pytest.mark.parametrize(
    ("answer", "kinds"), [("y", "rename_column"), ("", "add_column, remove_column")]
)
def test_rename_is_asked_and_answered_on_a_terminal(
    tmp_path: Path, answer: str, kinds: str
) -> None:
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(db=tmp_path / "app.db", root=tmp_path))
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
        env=env,
    )
    os.close(slave)
    try:
        asked = _read_until(master, b"[y/N] ", timeout=60)
        assert "Rename users.fullname → users.full_name? [y/N] " in asked.decode()
        os.write(master, answer.encode() + b"\n")
        rest = _read_until(master, b"KINDS:", timeout=60)
        rest += _read_until(master, b"\n", timeout=10)
        assert child.wait(timeout=60) == 0, rest.decode()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    output = rest.decode()
    assert f"KINDS: {kinds}" in output
    written = next((tmp_path / "migrations" / "versions").glob("*_rename.py")).read_text()
    renamed = 'op.alter_column("users", "fullname", new_column_name="full_name")' in written
    assert renamed is (answer == "y")
    if answer == "y":
        assert "RENAMED: users.fullname → users.full_name" in output
