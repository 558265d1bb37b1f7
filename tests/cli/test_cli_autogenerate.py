"""``whimbrel check`` and ``whimbrel revision --autogenerate`` through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "migrations_example"


def _whimbrel(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whimbrel", *args], cwd=cwd, capture_output=True, text=True
    )


def test_check_then_autogenerate_then_check(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    assert _whimbrel(project, "-q", "upgrade").returncode == 0
    clean = _whimbrel(project, "check")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.startswith("No differences")

    models = project / "models.py"
    models.write_text(
        models.read_text().replace(
            '    sa.Column("phone", sa.String(32), nullable=True),\n',
            '    sa.Column("phone", sa.String(32), nullable=True),\n'
            '    sa.Column("nickname", sa.String(40), nullable=True),\n',
        )
    )
    drift = _whimbrel(project, "check", "--json")
    assert drift.returncode == 1
    assert json.loads(drift.stdout)["messages"] == ["add column customers.nickname"]

    usage = _whimbrel(project, "revision", "--rename", "a:b")
    assert usage.returncode == 2 and "need --autogenerate" in usage.stderr

    made = _whimbrel(
        project, "revision", "--autogenerate", "-m", "add nickname", "--rev-id", "ab12cd34ef56"
    )
    assert made.returncode == 0, made.stderr
    assert "add column customers.nickname" in made.stdout
    assert (project / "migrations" / "versions" / "ab12cd34ef56_add_nickname.py").is_file()
    assert _whimbrel(project, "-q", "upgrade").returncode == 0
    assert _whimbrel(project, "check").returncode == 0

    empty = _whimbrel(project, "revision", "--autogenerate", "-m", "nothing")
    assert empty.returncode == 1
    assert "whimbrel: error:" in empty.stderr
