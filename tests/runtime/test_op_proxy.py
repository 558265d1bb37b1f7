from __future__ import annotations

import pytest

from whimbrel import op
from whimbrel.errors import CommandError


def test_op_outside_a_migration_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="only available while a migration step runs"):
        op.execute("SELECT 1")
