"""create order items

Revision ID: d92f3b7c0e18
Revises: c4e7a2d91f35
Create Date: 2025-02-03 10:58:37.204511
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "d92f3b7c0e18"
down_revision: str | Sequence[str] | None = "c4e7a2d91f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_order_items_order_id_orders", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", name="fk_order_items_product_id_products"),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.UniqueConstraint("order_id", "product_id", name="uq_order_items_order_id_product_id"),
    )


def downgrade() -> None:
    op.drop_table("order_items")
