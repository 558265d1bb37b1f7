"""Warnings from Python and from libraries' loggers: one line each, none with -q."""

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
