"""Revision files for the stock-check tests."""

from __future__ import annotations

from pathlib import Path

REVISION = '''"""{message}

Revision ID: {rev}
Revises: {down}
"""

import sqlalchemy as sa
from whimbrel import op

revision = "{rev}"
down_revision = {down_literal}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


def write_revision(
    project: Path, rev: str, down: str | None, message: str, upgrade: str, downgrade: str
) -> None:
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (versions / f"{rev}_{message.replace(' ', '_')}.py").write_text(
        REVISION.format(
            rev=rev,
            down=down or "",
            down_literal=repr(down),
            message=message,
            upgrade=upgrade,
            downgrade=downgrade,
        )
    )
