"""The stock checks as coroutines, in process, on small projects and every database.

What a downgrade leaves behind is found and named with the revision that created it;
the schema comparison itself is tested without a database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from stocksupport import write_revision

from databases import TestDatabase
from whimbrel.config import Config
from whimbrel.script.graph import Revision, RevisionGraph
from whimbrel.testing import (
    CheckFailed,
    Migrator,
    SchemaSnapshot,
    check_downgrade_to_base,
    check_models_match,
    check_single_head,
    check_stairway,
    check_upgrade,
    differences,
)
from whimbrel.testing.schema import TableShape
from whimbrel.testing.stock import _downgrade_target

ITEMS = "aaaa00000001"
EXTRAS = "bbbb00000002"


MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Index("ix_items_name", "name"),
)
extras = sa.Table("extras", metadata, sa.Column("id", sa.Integer(), primary_key=True))
"""


def make_project(
    tmp_path: Path, url: str, *, extras_downgrade: str, models: str | None = None
) -> Config:
    project = tmp_path / "project"
    project.mkdir()
    settings = f'script_location = "migrations"\nurl = "{url}"\n'
    if models is not None:
        # A module name of its own: imported models stay in sys.modules.
        module = f"models_{uuid.uuid4().hex}"
        (project / f"{module}.py").write_text(models)
        settings += f'target_metadata = "{module}:metadata"\nprepend_sys_path = ["."]\n'
    (project / "whimbrel.toml").write_text(settings)
    write_revision(
        project,
        ITEMS,
        None,
        "create items",
        '    op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True),'
        ' sa.Column("name", sa.String(50)))',
        '    op.drop_table("items")',
    )
    write_revision(
        project,
        EXTRAS,
        ITEMS,
        "add extras",
        '    op.create_table("extras", sa.Column("id", sa.Integer(), primary_key=True))\n'
        '    op.create_index("ix_items_name", "items", ["name"])',
        extras_downgrade,
    )
    return Config.load(project / "whimbrel.toml", environ={})


@pytest_asyncio.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database.url)
    yield engine
    await engine.dispose()


@pytest.mark.asyncio
async def test_a_sound_project_passes(engine: AsyncEngine, tmp_path: Path) -> None:
    config = make_project(
        tmp_path,
        engine.url.render_as_string(hide_password=False),
        extras_downgrade='    op.drop_index("ix_items_name", table_name="items")\n'
        '    op.drop_table("extras")',
        models=MODELS,
    )
    migrator = Migrator(config, engine)

    assert await check_single_head(config) == EXTRAS
    await check_upgrade(migrator)
    await migrator.downgrade("base")
    await check_models_match(migrator)
    await migrator.downgrade("base")
    await check_stairway(migrator)
    await migrator.downgrade("base")
    await check_downgrade_to_base(migrator)
    assert await migrator.current() == ()


@pytest.mark.asyncio
async def test_leaks_are_named_with_their_revision(engine: AsyncEngine, tmp_path: Path) -> None:
    config = make_project(
        tmp_path, engine.url.render_as_string(hide_password=False), extras_downgrade="    pass"
    )
    migrator = Migrator(config, engine)

    with pytest.raises(CheckFailed) as stairway:
        await check_stairway(migrator)
    await migrator.downgrade(ITEMS)
    await migrator.execute("DROP TABLE extras")
    await migrator.downgrade("base")
    with pytest.raises(CheckFailed) as base:
        await check_downgrade_to_base(migrator)

    assert stairway.value.revision == EXTRAS
    assert str(stairway.value) == (
        f"whimbrel stairway check: downgrading revision {EXTRAS} ('add extras', "
        f"migrations/versions/{EXTRAS}_add_extras.py) did not give the schema back as it was "
        "before its upgrade: table extras is left behind; table items: index ix_items_name on "
        "(name) is left behind. Make downgrade() undo exactly what upgrade() does"
    )
    assert base.value.revision == EXTRAS
    assert str(base.value) == (
        "whimbrel downgrade to base check: after upgrading to head and downgrading to base, "
        "the database is not empty: table extras is left behind (created by revision "
        f"{EXTRAS} ('add extras', migrations/versions/{EXTRAS}_add_extras.py)). Each "
        "revision's downgrade() should drop what its upgrade() created"
    )


@pytest.mark.asyncio
async def test_a_failing_upgrade_is_named(tmp_path: Path) -> None:
    config = make_project(tmp_path, "sqlite+aiosqlite://", extras_downgrade="    pass")
    write_revision(
        config.script_location.parent,
        "cccc00000003",
        EXTRAS,
        "break things",
        '    op.add_column("nowhere", sa.Column("x", sa.Integer()))',
        "    pass",
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(CheckFailed) as failed:
            await check_upgrade(Migrator(config, engine))
    finally:
        await engine.dispose()

    assert failed.value.revision == "cccc00000003"
    message = str(failed.value)
    assert message.startswith(
        "whimbrel upgrade check: upgrading an empty database to head failed at revision "
        "cccc00000003 ('break things', migrations/versions/cccc00000003_break_things.py): "
        "upgrade of cccc00000003 (break things) failed: "
    )
    assert "nowhere" in message
    assert "\n" not in message


@pytest.mark.asyncio
async def test_models_that_differ_are_listed(tmp_path: Path) -> None:
    models = MODELS.replace('sa.Column("name", sa.String(50)),', "").replace(
        'sa.Index("ix_items_name", "name"),', ""
    )
    config = make_project(
        tmp_path, "sqlite+aiosqlite://", extras_downgrade="    pass", models=models
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(CheckFailed) as failed:
            await check_models_match(Migrator(config, engine))
        config.target_metadata = None
        with pytest.raises(pytest.skip.Exception, match="target_metadata is not set"):
            await check_models_match(Migrator(config, engine))
    finally:
        await engine.dispose()

    assert failed.value.revision == EXTRAS
    message = str(failed.value)
    assert message.startswith(
        f"whimbrel models check: at head (revision {EXTRAS} ('add extras', "
        f"migrations/versions/{EXTRAS}_add_extras.py)) the database differs from the models "
        "(models_"
    )
    assert "name" in message
    assert "ix_items_name" in message
    assert message.endswith(
        "Write a revision for the change (whimbrel revision --autogenerate -m ...) or fix the "
        "models"
    )


@pytest.mark.asyncio
async def test_no_revisions_is_a_skip(tmp_path: Path) -> None:
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "whimbrel.toml").write_text('script_location = "migrations"\n')
    config = Config.load(tmp_path / "whimbrel.toml", environ={})

    with pytest.raises(pytest.skip.Exception, match="has no revisions yet"):
        await check_single_head(config)


def test_downgrade_target_takes_out_one_revision_only() -> None:
    graph = RevisionGraph(
        [
            Revision("a"),
            Revision("b", ("a",)),
            Revision("c", ("a",)),
            Revision("m", ("b", "c")),
        ]
    )
    assert _downgrade_target(graph, "a") == "base"
    # b and c are siblings: taking out c must leave b applied.
    plan = graph.plan_downgrade(("b", "c"), _downgrade_target(graph, "c"))
    assert plan.revisions == ("c",)
    plan = graph.plan_downgrade(("m",), _downgrade_target(graph, "m"))
    assert plan.revisions == ("m",)
    assert set(plan.heads_after) == {"b", "c"}


def test_differences_in_words() -> None:
    before = SchemaSnapshot(
        {
            "items": TableShape(
                {"id": "INTEGER NOT NULL", "name": "VARCHAR(50) NULL"},
                frozenset({"primary key on (id)"}),
            ),
            "gone": TableShape(),
        },
        frozenset({"enum type mood"}),
    )
    after = SchemaSnapshot(
        {
            "items": TableShape(
                {"id": "INTEGER NOT NULL", "name": "VARCHAR(80) NULL", "note": "TEXT NULL"},
                frozenset({"primary key on (id)", "index ix_items_name on (name)"}),
            ),
            "new": TableShape(),
        },
        frozenset({"sequence items_seq"}),
    )
    assert differences(before, before) == []
    assert differences(before, after) == [
        "table new is left behind",
        "table gone is gone",
        "column items.note is left behind",
        "column items.name changed from VARCHAR(50) NULL to VARCHAR(80) NULL",
        "table items: index ix_items_name on (name) is left behind",
        "sequence items_seq is left behind",
        "enum type mood is gone",
    ]
