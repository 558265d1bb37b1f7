"""``whimbrel upgrade --all`` and ``current --all`` over configured targets."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path


def _whimbrel(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whimbrel", *args], cwd=cwd, capture_output=True, text=True
    )


def test_upgrade_all_and_current_all(tmp_path: Path) -> None:
    assert _whimbrel(tmp_path, "init", "migrations").returncode == 0
    versions = tmp_path / "migrations" / "versions"
    (versions / "t1.py").write_text(
        '"""one"""\nfrom whimbrel import op\n\nrevision = "t1"\ndown_revision = None\n\n\n'
        "def upgrade() -> None:\n    op.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)')\n"
    )
    config = tmp_path / "whimbrel.toml"
    config.write_text(
        config.read_text()
        + '\ntargets = ["sqlite+aiosqlite:///a.db", "sqlite+aiosqlite:///b.db", '
        '"sqlite+aiosqlite:///c.db"]\n'
    )
    with sqlite3.connect(tmp_path / "b.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")

    first = _whimbrel(tmp_path, "upgrade", "--all", "--concurrency", "2")
    assert first.returncode == 1
    assert "[FAILED] sqlite+aiosqlite:///b.db" in first.stderr
    assert "upgrade: 2/3 target(s) ok" in first.stdout
    assert "failed: sqlite+aiosqlite:///b.db" in first.stdout

    with sqlite3.connect(tmp_path / "b.db") as conn:
        conn.execute("DROP TABLE t")
    second = _whimbrel(tmp_path, "upgrade", "--all", "--json")
    assert second.returncode == 0, second.stderr
    assert '"ok": true' in second.stdout

    current = _whimbrel(tmp_path, "current", "--all")
    assert current.returncode == 0
    assert current.stdout.count("t1 (at head)") == 3


def test_check_all(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "migrations_example"
    project = tmp_path / "shop"
    shutil.copytree(example, project, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    config = project / "whimbrel.toml"
    config.write_text(
        config.read_text()
        + '\ntargets = ["sqlite+aiosqlite:///one.db", "sqlite+aiosqlite:///two.db"]\n'
    )
    assert _whimbrel(project, "-q", "upgrade", "--all").returncode == 0
    clean = _whimbrel(project, "check", "--all")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.count("matches the models") == 2
    with sqlite3.connect(project / "two.db") as conn:
        conn.execute("ALTER TABLE customers ADD COLUMN extra VARCHAR(10)")
    drift = _whimbrel(project, "check", "--all")
    assert drift.returncode == 1
    assert "[FAILED] sqlite+aiosqlite:///two.db: differs from the models" in drift.stdout
    assert "check: 1/2 target(s) ok" in drift.stdout
