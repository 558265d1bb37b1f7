"""create payments

Revision ID: e5a0b3c8d7f1
Revises: d92f3b7c0e18
Create Date: 2025-03-10 14:15:08.551276
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "e5a0b3c8d7f1"
down_revision: str | Sequence[str] | None = "d92f3b7c0e18"
branch_labels: str | Sequence[str] | None = "payments"
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_payments_order_id_orders"),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("provider_reference", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column(
            "created_at",
            sa.DateTime(),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
    )
    op.create_index("ix_payments_order_id", "payments", ["order_id"])


def downgrade() -> None:
    # The index goes with the table (see create_orders).
    op.drop_table("payments")
