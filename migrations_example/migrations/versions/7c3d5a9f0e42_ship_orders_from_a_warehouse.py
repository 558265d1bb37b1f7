"""ship orders from a warehouse

Revision ID: 7c3d5a9f0e42
Revises: 6a9e3c1f8b24
Create Date: 2025-05-06 09:36:58.481652
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "7c3d5a9f0e42"
down_revision: str | Sequence[str] | None = "6a9e3c1f8b24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("warehouse_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_orders_warehouse_id_warehouses", "warehouses", ["warehouse_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_constraint("fk_orders_warehouse_id_warehouses", type_="foreignkey")
        batch_op.drop_column("warehouse_id")
