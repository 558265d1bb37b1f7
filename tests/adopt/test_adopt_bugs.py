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
from adopt_support import (
    alembic_config,
    alembic_upgrade,
    connection,
    fresh_databases,
    table_names,
)

from databases import TestDatabase
from whimbrel import command
from whimbrel.config import Config


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


def helper_project(tmp_path: Path) -> tuple[str, Path]:
    """A revision calling a helper module that does ``from alembic import op``."""
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
    return helper, scripts


def alembic_state() -> dict[str, object]:
    """What Alembic's proxy modules hold between runs."""
    import alembic.context
    import alembic.op

    return {
        "modules": {name: sys.modules.get(name) for name in ("alembic", "alembic.op")},
        "op": {k: v for k, v in vars(alembic.op).items() if k in ("_proxy", "__getattr__")},
        "context": {
            k: v
            for k, v in vars(alembic.context).items()
            if k in ("_proxy", "__getattr__", "config")
        },
    }


@pytest.mark.asyncio
async def test_helper_holding_alembic_op_after_alembic_ran(tmp_path: Path) -> None:
    helper, scripts = helper_project(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        async with fresh_databases("sqlite", tmp_path, "a", "w", "b") as (first, second, third):
            alembic_upgrade(alembic_config(tmp_path, scripts / "versions", first.url), "heads")
            held = vars(sys.modules[helper])["op"]
            before = alembic_state()
            config = Config(script_location=scripts, url=second.url)
            await command.upgrade(config)
            assert (await command.current(config)).heads == ("h1",)
            # Nothing left behind, and Alembic runs the same helper again afterwards.
            assert alembic_state() == before
            assert vars(sys.modules[helper])["op"] is held
            alembic_upgrade(alembic_config(tmp_path, scripts / "versions", third.url), "heads")
            for db in (first, second, third):
                assert "t_sqlite" in table_names(db.url)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(helper, None)


@pytest.mark.asyncio
async def test_helper_imported_by_whimbrel_first_still_works_under_alembic(
    tmp_path: Path,
) -> None:
    helper, scripts = helper_project(tmp_path)
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop(helper, None)
    try:
        async with fresh_databases("sqlite", tmp_path, "w", "a", "v") as (first, second, third):
            config = Config(script_location=scripts, url=first.url)
            await command.upgrade(config)
            # The helper was imported under Whimbrel: it holds Whimbrel's stand-in,
            # which must hand Alembic's own op to Alembic's run.
            assert "under Whimbrel" in repr(vars(sys.modules[helper])["op"])
            alembic_upgrade(alembic_config(tmp_path, scripts / "versions", second.url), "heads")
            assert "t_sqlite" in table_names(second.url)
            # And Whimbrel again after Alembic.
            await command.upgrade(Config(script_location=scripts, url=third.url))
            for db in (first, third):
                assert "t_sqlite" in table_names(db.url)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(helper, None)


def test_alembic_op_outside_any_run_still_raises_alembics_error() -> None:
    import alembic.op

    before = alembic_state()
    with pytest.raises((NameError, AttributeError)):
        alembic.op.get_bind()
    assert alembic_state() == before


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


@pytest.mark.asyncio
async def test_concurrent_runs_share_alembics_proxy_and_restore_it(tmp_path: Path) -> None:
    import anyio

    helper, scripts = helper_project(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        async with fresh_databases("sqlite", tmp_path, "a", "w1", "w2", "w3") as dbs:
            alembic_upgrade(alembic_config(tmp_path, scripts / "versions", dbs[0].url), "heads")
            before = alembic_state()
            async with anyio.create_task_group() as tg:
                for db in dbs[1:]:
                    tg.start_soon(command.upgrade, Config(script_location=scripts, url=db.url))
            assert alembic_state() == before
            assert all("t_sqlite" in table_names(db.url) for db in dbs)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(helper, None)
