"""``adopt`` on projects made by ``alembic init``, then Whimbrel and Alembic on one database.

For the generic, async and pyproject templates: ``alembic init``, ``alembic revision``
with an ``op.create_table`` written in, ``adopt``, then ``whimbrel upgrade head``; and
Alembic's own CLI reads and continues the database Whimbrel migrated.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from adopt_support import ok
from alembic.migration import MigrationContext

from whimbrel import command
from whimbrel.adopt import adopt
from whimbrel.config import Config

TEMPLATES = ("generic", "async", "pyproject")

UPGRADE = """\
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    op.create_index(op.f("ix_users_name"), "users", ["name"], unique=True)
"""
DOWNGRADE = """\
    op.drop_index(op.f("ix_users_name"), table_name="users")
    op.drop_table("users")
"""


def alembic_project(root: Path, template: str) -> str:
    """``alembic init`` + one revision creating a table; return the revision id."""
    root.mkdir()
    ok(["alembic", "init", "-t", template, "migrations"], root)
    driver = "sqlite+aiosqlite" if template == "async" else "sqlite"
    ini = root / "alembic.ini"
    text = ini.read_text()
    text = re.sub(
        r"^sqlalchemy\.url = .*$",
        f"sqlalchemy.url = {driver}:///%(here)s/app.db",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    ini.write_text(text)
    out = ok(["alembic", "revision", "-m", "create users"], root)
    path = Path(re.findall(r"Generating (\S+\.py)", out)[0])
    source = path.read_text()
    for name, body in (("upgrade", UPGRADE), ("downgrade", DOWNGRADE)):
        source = re.sub(
            rf"(def {name}\(\) -> None:\n(?:    \"\"\".*\"\"\"\n)?)    pass\n",
            rf"\g<1>{body}",
            source,
        )
    assert "op.create_table" in source and "op.drop_table" in source
    path.write_text(source)
    return path.name.partition("_")[0]


@pytest.fixture(scope="module")
def made_by_alembic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """One pristine project per template (``alembic init`` takes a while); copy it."""
    base = tmp_path_factory.mktemp("alembic_init")
    return {t: (base / t, alembic_project(base / t, t)) for t in TEMPLATES}


def fresh_copy(
    made: dict[str, tuple[Path, str]], template: str, tmp_path: Path
) -> tuple[Path, str]:
    source, rev = made[template]
    root = tmp_path / "app"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root, rev


def alembic_heads(root: Path) -> tuple[str, ...]:
    engine = sa.create_engine(f"sqlite:///{root / 'app.db'}", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()


def tables(root: Path) -> list[str]:
    engine = sa.create_engine(f"sqlite:///{root / 'app.db'}", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return sorted(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("template", TEMPLATES)
async def test_adopt_then_whimbrel_then_alembic(
    template: str, tmp_path: Path, made_by_alembic: dict[str, tuple[Path, str]]
) -> None:
    root, rev = fresh_copy(made_by_alembic, template, tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    result = await adopt(root)
    expected = root / ("pyproject.toml" if template == "pyproject" else "whimbrel.toml")
    assert result.config_file == expected
    changed = {p for p in root.rglob("*") if p.is_file() and before.get(p) != p.read_bytes()}
    # and a revision template Alembic can run the files of: script.py.mako, translated
    assert changed == {expected, root / "migrations" / "script.py.tmpl"}
    assert result.revision_template == root / "migrations" / "script.py.tmpl"
    assert "from alembic import op" in result.revision_template.read_text()
    config = Config.load(expected, environ={})
    assert config.url == f"sqlite+aiosqlite:///{root.as_posix()}/app.db"
    assert config.script_location == root / "migrations"
    assert config.prepend_sys_path == (root,)
    assert config.version_table == "alembic_version"

    # Whimbrel upgrades (Alembic's env.py beside the revisions is left alone).
    done = await command.upgrade(config, "head")
    assert [s.revision for s in done.steps] == [rev]
    assert tables(root) == ["alembic_version", "users", "whimbrel_history"]

    # Alembic reads the database Whimbrel migrated, and continues it both ways.
    assert f"{rev} (head)" in ok(["alembic", "current"], root)
    ok(["alembic", "downgrade", "base"], root)
    assert tables(root) == ["alembic_version", "whimbrel_history"]
    assert (await command.current(config)).heads == ()
    again = await command.upgrade(config, "head")
    assert again.heads_after == (rev,)
    assert alembic_heads(root) == (rev,)


@pytest.mark.asyncio
@pytest.mark.parametrize("template", TEMPLATES)
async def test_whimbrel_cli_upgrade_after_adopt(
    template: str, tmp_path: Path, made_by_alembic: dict[str, tuple[Path, str]]
) -> None:
    root, rev = fresh_copy(made_by_alembic, template, tmp_path)
    await adopt(root)
    out = ok(["whimbrel", "upgrade", "head"], root)
    assert rev in out
    assert tables(root) == ["alembic_version", "users", "whimbrel_history"]
    assert f"{rev} (head)" in ok(["alembic", "current"], root)
