"""Whimbrel bugs met while running real Alembic projects, each the smallest reproduction.

Each test is ``xfail(strict=True)`` while the bug is there: once fixed, it passes, the
run fails, and the marker must go.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from adopt_support import alembic_config, alembic_upgrade, connection, fresh_databases

from databases import TestDatabase
from whimbrel import command
from whimbrel.config import Config

CAPTURED_OP = (
    "Whimbrel bug: a helper module that does `from alembic import op` keeps the `op` it "
    "got on first import; imported first by Alembic it holds Alembic's proxy, which "
    "Whimbrel never sets, so the same revisions fail under Whimbrel in that process"
)


def revision(rev: str, down: str | None, body: str, imports: str = "") -> str:
    return (
        f'"""{rev}\n\nRevision ID: {rev}\n"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n"
        f"{imports}\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(body), '    ')}\n\n"
        "def downgrade():\n    pass\n"
    )


def project(root: Path, *revisions: str) -> Path:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    for i, text in enumerate(revisions):
        (versions / f"r{i}.py").write_text(text)
    return root / "migrations"


def test_revision_importing_a_module_that_imports_alembic_submodules(tmp_path: Path) -> None:
    # What jupyterhub.orm does at its top.
    (tmp_path / "hubmodels.py").write_text(
        "import alembic.command\nimport alembic.config\n"
        "from alembic.script import ScriptDirectory\n"
    )
    scripts = project(
        tmp_path,
        revision(
            "j1",
            None,
            "op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))",
            "import hubmodels",
        ),
    )
    code = textwrap.dedent(
        f"""\
        import asyncio
        from whimbrel import command
        from whimbrel.config import Config

        config = Config(
            script_location={str(scripts)!r},
            url="sqlite+aiosqlite:///{tmp_path / "app.db"}",
            prepend_sys_path=[{str(tmp_path)!r}],
        )
        asyncio.run(command.upgrade(config))
        import alembic.command
        """
    )
    # A fresh process: nothing imported the helper before the revision did.
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.xfail(strict=True, reason=CAPTURED_OP)
@pytest.mark.asyncio
async def test_helper_holding_alembic_op_after_alembic_ran(tmp_path: Path) -> None:
    # Meltano's meltano/migrations/utils/dialect_typing.py does this.
    helper = f"helper_{tmp_path.name}"
    (tmp_path / f"{helper}.py").write_text(
        "from alembic import op\n\n\ndef dialect_name():\n    return op.get_bind().dialect.name\n"
    )
    scripts = project(
        tmp_path,
        revision(
            "h1",
            None,
            "op.create_table(f't_{dialect_name()}', sa.Column('id', sa.Integer))",
            f"from {helper} import dialect_name",
        ),
    )
    sys.path.insert(0, str(tmp_path))
    try:
        async with fresh_databases("sqlite", tmp_path, "a", "w") as (first, second):
            alembic_upgrade(alembic_config(tmp_path, scripts / "versions", first.url), "heads")
            config = Config(script_location=scripts, url=second.url)
            await command.upgrade(config)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(helper, None)


@pytest.mark.asyncio
async def test_batch_op_helpers(database: TestDatabase, tmp_path: Path) -> None:
    scripts = project(
        tmp_path,
        revision(
            "b1",
            None,
            "op.create_table('t', sa.Column('id', sa.Integer), sa.Column('x', sa.Integer))",
        ),
        revision(
            "b2",
            "b1",
            """\
            with op.batch_alter_table("t") as batch_op:
                assert batch_op.get_context().dialect.name
                batch_op.create_index(batch_op.f("ix_t_x"), ["x"])
                batch_op.execute(sa.text("UPDATE t SET x = 1 WHERE id = 0"))
                batch_op.execute(
                    sa.table("t", sa.column("x")).update().values(x=batch_op.inline_literal(2))
                )
            """,
        ),
    )
    await command.upgrade(Config(script_location=scripts, url=database.url))


@pytest.mark.asyncio
async def test_current_then_upgrade_on_one_connection(tmp_path: Path) -> None:
    scripts = project(
        tmp_path,
        revision(
            "c1", None, "op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))"
        ),
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    config = Config(script_location=scripts, url=url)
    async with connection(url) as conn:
        assert not conn.in_transaction()
        await command.current(config, connection=conn)
        await command.upgrade(config, connection=conn)
    assert (await command.current(config)).heads == ("c1",)
