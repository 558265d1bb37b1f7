"""create warehouses

Revision ID: f17c4a8e2d90
Revises: d92f3b7c0e18
Create Date: 2025-03-11 08:30:27.770914
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "f17c4a8e2d90"
down_revision: str | Sequence[str] | None = "d92f3b7c0e18"
branch_labels: str | Sequence[str] | None = "inventory"
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warehouses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.UniqueConstraint("code", name="uq_warehouses_code"),
    )
    # A lightweight table: the revision must not import the application's models,
    # which describe the schema at head, not at this revision.
    warehouses = sa.table(
        "warehouses",
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
    )
    op.bulk_insert(warehouses, [{"code": "MAIN", "name": "Main warehouse"}])


def downgrade() -> None:
    op.drop_table("warehouses")
