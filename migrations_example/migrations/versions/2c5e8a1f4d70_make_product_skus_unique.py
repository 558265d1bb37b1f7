"""make product skus unique

Revision ID: 2c5e8a1f4d70
Revises: b81d4e6a9c02
Create Date: 2025-01-20 16:03:51.112740
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "2c5e8a1f4d70"
down_revision: str | Sequence[str] | None = "b81d4e6a9c02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot add a constraint to an existing table: batch mode rebuilds the
    # table there, and is a plain ALTER TABLE on PostgreSQL and MariaDB.
    with op.batch_alter_table("products") as batch_op:
        batch_op.create_unique_constraint("uq_products_sku", ["sku"])


def downgrade() -> None:
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_constraint("uq_products_sku", type_="unique")
