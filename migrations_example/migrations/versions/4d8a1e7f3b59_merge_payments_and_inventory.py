"""merge payments and inventory

Revision ID: 4d8a1e7f3b59
Revises: e5a0f9c21b64, 0b6e9d3a5c27
Create Date: 2025-03-17 12:05:43.918027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from whimbrel import op

# Revision identifiers: Whimbrel reads these without running this file, so keep them
# literal values.
revision: str = "4d8a1e7f3b59"
down_revision: str | Sequence[str] | None = ("e5a0f9c21b64", "0b6e9d3a5c27")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
