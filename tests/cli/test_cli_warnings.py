"""CLI edges found by QA: library warnings (one line each, none with -q), unknown options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REVISION = '''"""noisy"""
import logging
import warnings

revision = "aaaa0001"
down_revision = None


def upgrade() -> None:
    warnings.warn("this step is deprecated\\nsecond line", DeprecationWarning, stacklevel=1)
    logging.getLogger("somedriver").warning("Name 'pk_x' ignored for PRIMARY key.")
    logging.getLogger("somedriver").info("not shown: below warning")


def downgrade() -> None:
    pass
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "aaaa0001_noisy.py").write_text(REVISION)
    (tmp_path / "whimbrel.toml").write_text(
        'script_location = "migrations"\nurl = "sqlite+aiosqlite:///app.db"\n'
    )
    return tmp_path


def _upgrade(project: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "always", "-m", "whimbrel", *flags, "upgrade", "head"],
        cwd=project,
        capture_output=True,
        text=True,
    )


def test_library_warnings_are_one_line_each(project: Path) -> None:
    done = _upgrade(project)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "whimbrel: warning: this step is deprecated" in lines
    assert "whimbrel: warning: somedriver: Name 'pk_x' ignored for PRIMARY key." in lines
    assert "second line" not in done.stderr
    assert "not shown" not in done.stderr
    # No source line or file path, as Python's default warning display would print.
    assert "warnings.warn(" not in done.stderr
    assert "aaaa0001_noisy.py" not in done.stderr


def test_quiet_hides_library_warnings(project: Path) -> None:
    done = _upgrade(project, "-q")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["downgrade", "-1", "--allow-changed"],
        ["downgrade", "--bogus", "-1"],
        ["stamp", "head", "--bogus"],
        ["show", "--bogus", "head"],
    ],
)
def test_unknown_option_of_a_revision_command(project: Path, argv: list[str]) -> None:
    """Found by QA: an unknown option was reported as an extra argument, or taken as one."""
    done = subprocess.run(
        [sys.executable, "-m", "whimbrel", *argv], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 2
    unknown = next(a for a in argv if a.startswith("--"))
    assert f"No such option: {unknown}" in done.stderr
    assert "unexpected extra argument" not in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "app.db").exists()


def test_relative_identifiers_still_pass(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "whimbrel", "upgrade", "+1"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    down = subprocess.run(
        [sys.executable, "-m", "whimbrel", "downgrade", "--no-lock", "-1"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert down.returncode == 0, down.stderr
    assert "aaaa0001" in down.stdout
