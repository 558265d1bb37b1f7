"""create orders

Revision ID: c4e7a2d91f35
Revises: 2c5e8a1f4d70
Create Date: 2025-02-03 10:27:19.640032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "c4e7a2d91f35"
down_revision: str | Sequence[str] | None = "2c5e8a1f4d70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", name="fk_orders_customer_id_customers"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column(
            "placed_at",
            sa.DateTime(),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])


def downgrade() -> None:
    # The index goes with the table; MariaDB refuses to drop it on its own while the
    # foreign key uses it.
    op.drop_table("orders")
