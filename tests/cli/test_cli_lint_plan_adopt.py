"""``whimbrel lint``, ``plan`` and ``adopt`` through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "migrations_example"
BIN = Path(sys.executable).parent


def _whimbrel(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whimbrel", *args], cwd=cwd, capture_output=True, text=True
    )


def test_lint_a_range_and_the_config_switch(tmp_path: Path) -> None:
    found = _whimbrel(EXAMPLE, "lint", "base:heads", "--dialect", "postgresql", "--json")
    assert found.returncode == 1  # the example adds a foreign key without NOT VALID
    data = json.loads(found.stdout)
    rules = {f["rule"] for f in data["findings"]}
    assert "constraint-without-not-valid" in rules
    assert data["scope"] == "range"

    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    config = project / "whimbrel.toml"
    config.write_text(
        config.read_text()
        + '\n[lint]\ndisable = ["constraint-without-not-valid", "no-lock-timeout"]\n'
    )
    quieter = _whimbrel(project, "lint", "base:heads", "--dialect", "postgresql", "--json")
    rules = {f["rule"] for f in json.loads(quieter.stdout)["findings"]}
    assert "constraint-without-not-valid" not in rules
    assert "no-lock-timeout" not in rules


def test_plan_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}"
    shown = _whimbrel(EXAMPLE, "--url", url, "plan", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert len(data["steps"]) == 13
    assert data["steps"][0]["statements"][0]["sql"].startswith("CREATE TABLE customers")
    assert not (tmp_path / "plan.db").exists() or (
        _whimbrel(EXAMPLE, "--url", url, "current")
        .stdout.strip()
        .endswith("(no revision applied)")
    )
    text = _whimbrel(EXAMPLE, "--url", url, "plan")
    assert text.stdout.startswith(f"Plan for {url}: base -> 7c3d5a9f0e42, 13 step(s)")


def test_adopt_an_alembic_project(tmp_path: Path) -> None:
    init = subprocess.run(
        [str(BIN / "alembic"), "init", "migrations"], cwd=tmp_path, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    dry = _whimbrel(tmp_path, "adopt", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"Would write {tmp_path / 'whimbrel.toml'}:")
    template = tmp_path / "migrations" / "script.py.tmpl"
    assert f"Would write {template} (the template of new revision files)" in dry.stdout
    assert not (tmp_path / "whimbrel.toml").exists()
    assert not template.exists()
    done = _whimbrel(tmp_path, "adopt", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["written"] is True
    assert 'version_table = "alembic_version"' in (tmp_path / "whimbrel.toml").read_text()
    assert "from alembic import op" in template.read_text()
    again = _whimbrel(tmp_path, "adopt")
    assert again.returncode == 1
    assert "whimbrel: error:" in again.stderr
    heads = _whimbrel(tmp_path, "heads")
    assert heads.returncode == 0 and heads.stdout == ""
