"""add phone number to customers

Revision ID: 5f2c8b0d6e13
Revises: 4d8a1e7f3b59
Create Date: 2025-04-02 15:48:31.265480
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "5f2c8b0d6e13"
down_revision: str | Sequence[str] | None = "4d8a1e7f3b59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("phone", sa.String(32), nullable=True))


def downgrade() -> None:
    # Dropping a column needs batch mode on SQLite.
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("phone")
