"""create stock levels

Revision ID: 0b6e9d3a5c27
Revises: f17c4a8e2d90
Create Date: 2025-03-14 17:22:10.393318
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "0b6e9d3a5c27"
down_revision: str | Sequence[str] | None = "f17c4a8e2d90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stock_levels",
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", name="fk_stock_levels_product_id_products"),
            primary_key=True,
        ),
        sa.Column(
            "warehouse_id",
            sa.Integer(),
            sa.ForeignKey("warehouses.id", name="fk_stock_levels_warehouse_id_warehouses"),
            primary_key=True,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False, server_default="0"),
    )
    # Every product already on sale starts with no stock in the main warehouse.
    op.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, quantity) "
        "SELECT products.id, warehouses.id, 0 FROM products, warehouses "
        "WHERE warehouses.code = 'MAIN'"
    )


def downgrade() -> None:
    op.drop_table("stock_levels")
