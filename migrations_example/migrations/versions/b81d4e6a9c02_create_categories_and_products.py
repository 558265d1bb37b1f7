"""create categories and products

Revision ID: b81d4e6a9c02
Revises: a3c1f0e2b7d4
Create Date: 2025-01-13 11:40:02.907415
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "b81d4e6a9c02"
down_revision: str | Sequence[str] | None = "a3c1f0e2b7d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.UniqueConstraint("name", name="uq_categories_name"),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "category_id",
            sa.Integer(),
            sa.ForeignKey("categories.id", name="fk_products_category_id_categories"),
            nullable=True,
        ),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_table("products")
    op.drop_table("categories")
