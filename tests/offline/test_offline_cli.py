"""``whimbrel upgrade|downgrade|stamp --sql`` on the command line.

stdout carries the SQL alone, so it pipes into ``psql``/``sqlite3``/``mariadb``;
warnings go to stderr; bad input is one line and exit code 1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio.to_thread
import pytest
from offsupport import BODIES, R1, R5, UNREACHABLE, pipe_into_client, project, snapshot
from typer.testing import CliRunner, Result

from databases import TestDatabase
from whimbrel.cli.app import app

WHIMBREL = Path(sys.executable).parent / "whimbrel"

ASYNC_STEP = {
    "f1000001": (
        "fill in",
        None,
        """
        async def upgrade(op) -> None:
            await op.execute("SELECT 1")


        async def downgrade(op) -> None:
            pass
        """,
        True,
    )
}


def write_config(root: Path, url: str) -> Path:
    config = root / "whimbrel.toml"
    config.write_text(f'script_location = "migrations"\nurl = "{url}"\n', encoding="utf-8")
    return config


def cli(root: Path, *args: str) -> Result:
    env = {"WHIMBREL_URL": None, "WHIMBREL_CONFIG": None, "NO_COLOR": "1"}
    return CliRunner().invoke(
        app, ["-c", str(root / "whimbrel.toml"), *args], env=env, prog_name="whimbrel"
    )


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("whimbrel: error: ")
    return lines[0]


@pytest.mark.asyncio
async def test_stdout_pipes_into_the_client(database: TestDatabase, tmp_path: Path) -> None:
    root = tmp_path / "project"
    config = project(root, database.url, BODIES)
    write_config(root, UNREACHABLE[database.dialect])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIMBREL_")}
    # whimbrel upgrade heads --sql | <client>: a real pipe, no file in between.
    argv = [str(WHIMBREL), "-c", str(root / "whimbrel.toml"), "upgrade", "heads", "--sql"]
    status, errors, consumer = await anyio.to_thread.run_sync(
        pipe_into_client, database, argv, env
    )
    assert status == 0 and errors == b""
    assert consumer.returncode == 0, consumer.stderr
    state = await snapshot(database.url, config)
    assert state["heads"] == [R5]
    assert [row[0] for row in state["history"]] == list(BODIES)
    assert state["users"] is not None and len(state["users"]) == 3


def test_warnings_go_to_stderr_and_sql_to_stdout(tmp_path: Path) -> None:
    project(tmp_path, UNREACHABLE["postgresql"], ASYNC_STEP)
    write_config(tmp_path, UNREACHABLE["postgresql"])
    result = cli(tmp_path, "upgrade", "heads", "--sql")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-- Whimbrel offline SQL for postgresql: upgrade base -> ")
    assert "-- WHIMBREL: LIVE CONNECTION NEEDED" in result.stdout
    assert result.stdout.rstrip().endswith("COMMIT;")
    assert result.stderr.splitlines() == [
        "whimbrel: warning: upgrade of f1000001 (fill in): its upgrade() is 'async def' and "
        "runs only on a live database connection; it is not in this script (see the "
        "WHIMBREL: LIVE CONNECTION NEEDED comment)"
    ]
    quiet = cli(tmp_path, "-q", "upgrade", "heads", "--sql")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout == result.stdout


def test_downgrade_and_stamp_and_json(tmp_path: Path) -> None:
    project(tmp_path, UNREACHABLE["mariadb"], BODIES)
    write_config(tmp_path, UNREACHABLE["mariadb"])
    down = cli(tmp_path, "downgrade", f"heads:{R1}", "--sql")
    assert down.exit_code == 0, down.output
    assert down.stderr == ""
    assert f"-- Running downgrade b2000002 -> {R1} (add email and rows)" in down.stdout
    stamp = cli(tmp_path, "stamp", "heads", "--sql", "--json")
    assert stamp.exit_code == 0, stamp.output
    data = json.loads(stamp.stdout)
    assert data["command"] == "stamp"
    assert data["dialect"] == "mysql"
    assert data["heads_after"] == [R5]
    assert f"INSERT INTO whimbrel_version (version_num) VALUES ('{R5}');" in data["sql"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("downgrade", "base", "--sql"), "downgrade --sql needs the revision to start from"),
        (("upgrade", "a1000001:heads"), "is for offline SQL only: add --sql"),
        (("upgrade", "heads", "--sql", "--all"), "--sql writes the script of one database"),
        (("upgrade", "nope", "--sql"), "no revision or branch label matches 'nope'"),
        (("stamp", "x:y:z", "--sql"), "cannot read the range 'x:y:z'"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    project(tmp_path, UNREACHABLE["sqlite"], BODIES)
    write_config(tmp_path, UNREACHABLE["sqlite"])
    assert message in one_line_error(cli(tmp_path, *args))


def test_no_url_is_a_config_error(tmp_path: Path) -> None:
    project(tmp_path, UNREACHABLE["sqlite"], BODIES)
    (tmp_path / "whimbrel.toml").write_text('script_location = "migrations"\n', encoding="utf-8")
    assert "offline SQL takes its dialect from it" in one_line_error(
        cli(tmp_path, "upgrade", "heads", "--sql")
    )
