"""Revision files written for Alembic run unchanged, with or without Alembic installed.

The same two revisions (``from alembic import op``, ``import alembic``, ``op.*`` and
``batch_op.*``, ``op.get_context()``, ``op.get_bind()``, ``context.get_x_argument()``,
``context.config``, ``op.f``, ``op.inline_literal``) run under Alembic itself, under
Whimbrel in this process (Alembic installed) and under Whimbrel in a process where a
``sys.meta_path`` finder hides the ``alembic`` package; the three databases must end
up the same, and Alembic must work as before in the process Whimbrel ran in.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from adopt_support import (
    Schema,
    alembic_config,
    alembic_downgrade,
    alembic_upgrade,
    fresh_databases,
    inspect_schema,
    table_rows,
)

from whimbrel import command
from whimbrel.config import Config

FIRST = '''"""accounts, the Alembic way

Revision ID: a1
Revises:
Create Date: 2026-11-24 10:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa

import alembic
from alembic import context, op

revision: str = "a1"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    suffix = context.get_x_argument(as_dictionary=True).get("suffix", "none")
    assert f"suffix={suffix}" in context.get_x_argument()
    assert context.config is not None
    dialect = op.get_context().dialect.name
    accounts = op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20)),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
    )
    op.create_index(op.f("ix_accounts_status"), "accounts", ["status"])
    alembic.op.bulk_insert(
        accounts,
        [{"id": 1, "name": "a", "status": "new"}, {"id": 2, "name": "b", "status": "new"}],
    )
    op.execute(
        accounts.update()
        .where(accounts.c.id == op.inline_literal(2))
        .values(status=op.inline_literal("old"))
    )
    op.get_bind().execute(
        sa.text("INSERT INTO accounts (id, name, status) VALUES (3, :name, :status)"),
        {"name": f"c_{suffix}", "status": dialect},
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_accounts_status"), table_name="accounts")
    op.drop_table("accounts")
'''

SECOND = '''"""entries; accounts get a balance (batch mode)

Revision ID: a2
Revises: a1
Create Date: 2026-11-24 10:05:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("balance", sa.Integer, nullable=False, server_default="0"))
        batch_op.alter_column("status", existing_type=sa.String(20), type_=sa.String(40))
        batch_op.create_index("ix_accounts_name_status", ["name", "status"])
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", name=op.f("fk_entries_account_id_accounts")),
            nullable=False,
        ),
    )
    op.get_bind().execute(sa.text("INSERT INTO entries (id, account_id) VALUES (1, 3)"))


def downgrade():
    op.drop_table("entries")
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_index("ix_accounts_name_status")
        batch_op.alter_column("status", existing_type=sa.String(40), type_=sa.String(20))
        batch_op.drop_column("balance")
'''

# Whimbrel, in a process where `import alembic` fails.
HIDDEN = """\
import asyncio
import importlib.abc
import sys


class HideAlembic(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "alembic" or name.startswith("alembic."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, HideAlembic())
try:
    import alembic  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("alembic is importable; the test proves nothing")

from whimbrel import command
from whimbrel.config import Config

script_location, url, direction, target = sys.argv[1:]
config = Config(
    script_location=script_location,
    url=url,
    version_table="alembic_version",
    x_args={"suffix": "x"},
)
run = command.upgrade if direction == "up" else command.downgrade
result = asyncio.run(run(config, target))
print(" ".join(s.revision for s in result.steps))
assert not any(name == "alembic" or name.startswith("alembic.") for name in sys.modules)
"""


def write_scripts(root: Path) -> Path:
    versions = root / "versions"
    versions.mkdir(parents=True)
    (versions / "a1_accounts.py").write_text(FIRST)
    (versions / "a2_entries.py").write_text(SECOND)
    return versions


def whimbrel_without_alembic(script_location: Path, url: str, direction: str, target: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", HIDDEN, str(script_location), url, direction, target],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def snapshot(url: str) -> tuple[Schema, Schema]:
    return inspect_schema(url), table_rows(url)


@pytest.mark.asyncio
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_same_result_with_alembic_installed_or_not(dialect: str, tmp_path: Path) -> None:
    import alembic
    import alembic.context
    import alembic.op

    modules = {name: sys.modules[name] for name in ("alembic", "alembic.op", "alembic.context")}
    versions = write_scripts(tmp_path / "project")
    async with fresh_databases(dialect, tmp_path, "by_alembic", "installed", "hidden") as dbs:
        by_alembic, installed, hidden = dbs
        cfg = alembic_config(tmp_path, versions, by_alembic.url)
        cfg.cmd_opts = argparse.Namespace(x=["suffix=x"])
        alembic_upgrade(cfg, "heads")
        expected = snapshot(by_alembic.url)
        assert expected[1]["accounts"] == [
            (1, "a", "new", 0),
            (2, "b", "old", 0),
            (3, "c_x", dialect, 0),
        ]

        config = Config(
            script_location=tmp_path / "project",
            url=installed.url,
            version_table="alembic_version",
            x_args={"suffix": "x"},
        )
        up = await command.upgrade(config, "heads")
        assert [s.revision for s in up.steps] == ["a1", "a2"]
        assert snapshot(installed.url) == expected

        out = whimbrel_without_alembic(tmp_path / "project", hidden.url, "up", "heads")
        assert out == "a1 a2"
        assert snapshot(hidden.url) == expected

        # Back to base, each its own way; Alembic still works in this process.
        alembic_downgrade(cfg, "base")
        await command.downgrade(config, "base")
        assert (
            whimbrel_without_alembic(tmp_path / "project", hidden.url, "down", "base") == "a2 a1"
        )
        empty = snapshot(by_alembic.url)
        schema, rows = empty
        assert set(schema) - {"(enums)"} == {"alembic_version", "(version rows)"}
        assert rows == {}
        assert snapshot(installed.url) == empty
        assert snapshot(hidden.url) == empty

    # Neither tool changed the other: the real modules, the real proxies.
    assert {name: sys.modules[name] for name in modules} == modules
    assert alembic.op is modules["alembic.op"]
    assert alembic.context is modules["alembic.context"]
    # Outside a run Alembic's proxy is unset (NameError before any run, then None).
    with pytest.raises((NameError, AttributeError)):
        alembic.op.get_bind()
