"""Revision files written for Alembic run unchanged under Whimbrel, and an installed
Alembic is left exactly as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from projects import snapshot

from databases import TestDatabase
from whimbrel import command
from whimbrel.config import Config

ALEMBIC_STYLE = '''"""create things the Alembic way

Revision ID: alem1
Revises:
Create Date: 2026-11-24 10:00:00
"""
from typing import Sequence, Union

import alembic
from alembic import context, op

revision: str = "alem1"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    suffix = context.get_x_argument(as_dictionary=True).get("suffix", "none")
    op.execute(f"CREATE TABLE t_{suffix} (id INTEGER PRIMARY KEY)")
    alembic.op.execute("CREATE TABLE t_module_style (id INTEGER PRIMARY KEY)")
    assert context.get_bind() is op.get_bind()
    assert not context.is_offline_mode()


def downgrade() -> None:
    op.execute("DROP TABLE t_module_style")
    op.execute(f"DROP TABLE t_{context.get_x_argument(as_dictionary=True)['suffix']}")
'''


@pytest.mark.asyncio
async def test_alembic_revision_file_runs_unchanged(
    database: TestDatabase, tmp_path: Path
) -> None:
    import alembic
    import alembic.op as real_op

    before = {name: sys.modules.get(name) for name in ("alembic", "alembic.op")}
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "alem1_create.py").write_text(ALEMBIC_STYLE)
    cfg = Config(
        script_location=tmp_path / "migrations", url=database.url, x_args={"suffix": "xa"}
    )
    await command.upgrade(cfg)
    snap = await snapshot(database.url, cfg)
    assert snap["tables"] == ["t_module_style", "t_xa"]
    assert snap["heads"] == ["alem1"]
    await command.downgrade(cfg, "base")
    assert (await snapshot(database.url, cfg))["tables"] == []
    # Alembic itself is untouched: the same modules, the same proxy object.
    assert {name: sys.modules.get(name) for name in ("alembic", "alembic.op")} == before
    assert alembic.op is real_op
