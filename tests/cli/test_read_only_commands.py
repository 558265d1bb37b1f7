"""Read-only commands never create the SQLite file they are pointed at (QA finding)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REVISION = '''"""create t"""
import sqlalchemy as sa

from whimbrel import op

revision = "aaaa0001"
down_revision = None


def upgrade() -> None:
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("t")
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "aaaa0001_create_t.py").write_text(REVISION)
    (tmp_path / "models.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        "t = sa.Table('t', metadata, sa.Column('id', sa.Integer, primary_key=True))\n"
    )
    (tmp_path / "whimbrel.toml").write_text(
        'script_location = "migrations"\nurl = "sqlite+aiosqlite:///app.db"\n'
        'target_metadata = "models:metadata"\nprepend_sys_path = ["."]\n'
    )
    (tmp_path / "sub").mkdir()
    return tmp_path


def _whimbrel(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whimbrel", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("argv", "code", "shown"),
    [
        (["current"], 0, "base (no revision applied)"),
        (["history", "-i"], 0, "aaaa0001"),
        (["verify"], 0, "OK"),
        (["check"], 1, "database is not up to date; run whimbrel upgrade first"),
    ],
)
def test_missing_sqlite_file_is_read_as_empty_and_not_created(
    project: Path, argv: list[str], code: int, shown: str
) -> None:
    # Run from a subdirectory: the relative SQLite path names sub/app.db.
    done = _whimbrel(project / "sub", *argv)
    assert done.returncode == code, done.stderr
    assert shown in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in (project / "sub").iterdir()) == []
    assert not (project / "app.db").exists()


def test_an_existing_file_is_read(project: Path) -> None:
    assert _whimbrel(project, "upgrade", "-q").returncode == 0
    done = _whimbrel(project, "current")
    assert done.returncode == 0, done.stderr
    assert "aaaa0001 (head)" in done.stdout
    assert _whimbrel(project, "check").returncode == 0


def test_plan_text_marks_statements_outside_the_transaction(tmp_path: Path) -> None:
    """Found by QA: only --json said which statements an autocommit_block runs."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "bbbb0001_vacuum.py").write_text(
        '"""vacuum"""\nfrom whimbrel import op\n\n'
        'revision = "bbbb0001"\ndown_revision = None\n\n\n'
        "def upgrade() -> None:\n"
        "    op.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)')\n"
        "    with op.autocommit_block():\n"
        "        op.execute('VACUUM')\n"
    )
    (tmp_path / "whimbrel.toml").write_text(
        'script_location = "migrations"\nurl = "sqlite+aiosqlite:///app.db"\n'
    )
    done = _whimbrel(tmp_path, "plan")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "bbbb0001  vacuum (in a transaction)" in lines
    assert "    VACUUM  -- outside the transaction" in lines
    assert any(line.startswith("    CREATE TABLE t") and "outside" not in line for line in lines)
    assert not (tmp_path / "app.db").exists()
