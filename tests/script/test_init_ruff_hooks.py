"""``init`` sets up ruff as post-write hooks: they run where ruff is installed, and where
it is not the revision is written anyway, with a one-line warning per hook.

Each run is a fresh ``whimbrel`` process, as a user would start it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import whimbrel

MODELS = """\
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""

# Not as ruff would have it: an unused import and a parenthesised single-quoted string.
UNTIDY = "import os\nrevision_note = ( 'written by whimbrel' )\n"


def project(root: Path) -> Path:
    """``whimbrel init``, models, and a revision template ruff has something to fix in."""
    root.mkdir()
    done = run(root, sys.executable, "init", "migrations")
    assert done.returncode == 0, done.stderr
    config = root / "whimbrel.toml"
    config.write_text(
        config.read_text().replace(
            '# target_metadata = "myapp.models:Base.metadata"',
            'target_metadata = "models:metadata"\nprepend_sys_path = ["."]',
        )
    )
    (root / "models.py").write_text(MODELS)
    template = root / "migrations" / "script.py.tmpl"
    text = template.read_text()
    at = text.index("revision:")
    template.write_text(text[:at] + UNTIDY + text[at:])
    return root


def run(
    cwd: Path, python: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WHIMBREL_")}
    return subprocess.run(
        [python, "-m", "whimbrel", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def written(root: Path) -> str:
    (path,) = (root / "migrations" / "versions").glob("*_add_users.py")
    return path.read_text()


def test_revision_is_fixed_and_formatted_by_ruff(tmp_path: Path) -> None:
    root = project(tmp_path / "shop")
    done = run(root, sys.executable, "revision", "--autogenerate", "-m", "add users")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    text = written(root)
    assert "import os\n" not in text  # ruff check --fix: unused import
    assert 'revision_note = "written by whimbrel"\n' in text  # ruff format
    assert "op.create_table(" in text
    ruff = Path(sys.executable).parent / "ruff"
    check = subprocess.run(
        [str(ruff), "format", "--check", str(root / "migrations" / "versions")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_without_ruff_the_revision_is_written_with_a_warning(tmp_path: Path) -> None:
    root = project(tmp_path / "shop")
    # An interpreter with no ruff beside it, and a PATH without ruff: Whimbrel and its
    # dependencies come from PYTHONPATH.
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    src = Path(whimbrel.__file__).resolve().parents[1]
    env = {
        "PATH": os.pathsep.join(
            p for p in ("/usr/bin", "/bin") if not (Path(p) / "ruff").exists()
        ),
        "PYTHONPATH": os.pathsep.join((str(src), sysconfig.get_paths()["purelib"])),
    }
    done = run(
        root, str(bare / "python"), "revision", "--autogenerate", "-m", "add users", env=env
    )
    assert done.returncode == 0, done.stderr
    warnings = done.stderr.splitlines()
    assert [w.split(":", 3)[:3] for w in warnings] == [
        ["whimbrel", " warning", " post-write hook 'ruff_check'"],
        ["whimbrel", " warning", " post-write hook 'ruff_format'"],
    ]
    assert all("no console script named 'ruff' is installed; skipped it" in w for w in warnings)
    text = written(root)
    assert UNTIDY in text  # as generated
    assert "op.create_table(" in text
    quiet = run(root, str(bare / "python"), "-q", "revision", "-m", "second", env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""
