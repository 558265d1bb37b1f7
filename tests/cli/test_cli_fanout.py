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


def _two_targets(tmp_path: Path, body: str = "    pass\n") -> Path:
    assert _whimbrel(tmp_path, "-q", "init", "migrations").returncode == 0
    versions = tmp_path / "migrations" / "versions"
    for rev, down, code in (("r1", None, body), ("r2", "r1", "    pass\n")):
        (versions / f"{rev}_step.py").write_text(
            f'"""{rev}"""\nfrom whimbrel import op\n\nrevision = {rev!r}\n'
            f"down_revision = {down!r}\n\n\ndef upgrade() -> None:\n{code}"
        )
    config = tmp_path / "whimbrel.toml"
    config.write_text(
        config.read_text()
        + '\ntargets = ["sqlite+aiosqlite:///a.db", "sqlite+aiosqlite:///b.db"]\n'
    )
    return tmp_path


def test_a_failure_mentioning_an_at_sign_keeps_its_reason(tmp_path: Path) -> None:
    """Found by QA: every error went through the URL mask, which hid ':…@'."""
    project = _two_targets(
        tmp_path, "    op.execute(\"SELECT * FROM nosuch WHERE email = 'a@b.c'\")\n"
    )
    done = _whimbrel(project, "upgrade", "--all")
    assert done.returncode == 1
    assert "no such table: nosuch" in done.stderr
    assert "email = 'a@b.c'" in done.stderr
    assert "***" not in done.stderr


def test_upgrade_all_passes_allow_changed_and_no_lock(tmp_path: Path) -> None:
    """Found by QA: --allow-changed was dropped with --all, and the error asked for it."""
    project = _two_targets(tmp_path)
    assert _whimbrel(project, "-q", "upgrade", "--all", "r1").returncode == 0
    with (project / "migrations" / "versions" / "r1_step.py").open("a") as f:
        f.write("# edited after it ran\n")
    refused = _whimbrel(project, "upgrade", "--all")
    assert refused.returncode == 1
    assert "--allow-changed" in refused.stderr
    done = _whimbrel(project, "upgrade", "--all", "--allow-changed", "--no-lock")
    assert done.returncode == 0, done.stderr + done.stdout
    current = _whimbrel(project, "current", "--all")
    assert current.stdout.count("r2 (at head)") == 2


def test_current_all_check_heads_fails_on_a_target_behind(tmp_path: Path) -> None:
    """Found by QA: --check-heads was ignored with --all, exit 0 with a tenant behind."""
    project = _two_targets(tmp_path)
    assert _whimbrel(project, "-q", "upgrade", "--all", "r1").returncode == 0
    assert _whimbrel(project, "-q", "--url", "sqlite+aiosqlite:///a.db", "upgrade").returncode == 0
    behind = _whimbrel(project, "current", "--all", "--check-heads")
    assert behind.returncode == 1
    assert "b.db" in behind.stderr + behind.stdout
    assert _whimbrel(project, "-q", "upgrade", "--all").returncode == 0
    at_head = _whimbrel(project, "current", "--all", "--check-heads")
    assert at_head.returncode == 0, at_head.stderr
