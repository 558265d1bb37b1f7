"""store order totals

Revision ID: 6a9e3c1f8b24
Revises: 5f2c8b0d6e13
Create Date: 2025-04-22 10:13:26.037719
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "6a9e3c1f8b24"
down_revision: str | Sequence[str] | None = "5f2c8b0d6e13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Add the column as nullable, fill it from the order lines, then make it required.
    op.add_column("orders", sa.Column("total_cents", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE orders SET total_cents = ("
        "SELECT COALESCE(SUM(order_items.quantity * order_items.unit_price_cents), 0) "
        "FROM order_items WHERE order_items.order_id = orders.id)"
    )
    with op.batch_alter_table("orders") as batch_op:
        batch_op.alter_column("total_cents", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("total_cents")
