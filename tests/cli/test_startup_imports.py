"""CLI start-up stays lean: heavy modules load only in the command that needs them."""

from __future__ import annotations

import subprocess
import sys


def test_cli_start_up_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, whimbrel, whimbrel.cli.app\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'rich', 'pydantic', 'alembic') "
        "if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
