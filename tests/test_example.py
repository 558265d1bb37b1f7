"""The example shop in ``migrations_example/``: its graph, and Alembic's view of it.

The docs run against this project, so its shape is pinned here. Alembic reads the same
files (they are valid Alembic revisions), and runs them on SQLite, and renders them
for PostgreSQL and MariaDB, so the history is checked for real before Whimbrel's own
runtime exists.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import alembic.op
import anyio
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script as AlembicScript
from alembic.script import ScriptDirectory as AlembicScriptDirectory
from alembic.script.revision import Revision as AlembicRevision

import whimbrel
from whimbrel import command
from whimbrel.config import Config
from whimbrel.results import RevisionInfo

EXAMPLE = Path(__file__).resolve().parent.parent / "migrations_example"

HEAD = "7c3d5a9f0e42"
BASE = "a3c1f0e2b7d4"
BRANCH_POINT = "d92f3b7c0e18"
MERGE = "4d8a1e7f3b59"
PAYMENTS = ("e5a0b3c8d7f1", "e5a0f9c21b64")
INVENTORY = ("f17c4a8e2d90", "0b6e9d3a5c27")
TABLES = {
    "categories",
    "customers",
    "order_items",
    "orders",
    "payments",
    "products",
    "refunds",
    "stock_levels",
    "warehouses",
}


def copy_example(target: Path) -> Path:
    """A copy of the example without caches or databases, safe to write into."""
    shutil.copytree(
        EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.whimbrel-lock")
    )
    return target


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "shop")


def load_models(example: Path) -> ModuleType:
    """Import ``models.py`` under a private name, leaving ``sys.modules`` alone."""
    spec = importlib.util.spec_from_file_location("_example_shop_models", example / "models.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def whimbrel_history(example: Path) -> dict[str, RevisionInfo]:
    config = Config.load(example / "whimbrel.toml", environ={})
    result = anyio.run(lambda: command.history(config))
    return {info.revision: info for info in result.revisions}


# ------------------------------------------------------------------------ the graph


def test_graph_has_one_head_one_branch_point_and_one_merge(example: Path) -> None:
    revisions = whimbrel_history(example)

    assert len(revisions) == 13
    assert [r for r, i in revisions.items() if i.is_head] == [HEAD]
    assert [r for r, i in revisions.items() if i.is_base] == [BASE]
    assert [r for r, i in revisions.items() if i.is_branch_point] == [BRANCH_POINT]
    assert [r for r, i in revisions.items() if i.is_merge_point] == [MERGE]
    assert revisions[BRANCH_POINT].children == (PAYMENTS[0], INVENTORY[0])
    assert revisions[MERGE].down_revisions == (PAYMENTS[1], INVENTORY[1])
    assert all(not info.depends_on for info in revisions.values())


def test_branch_labels(example: Path) -> None:
    revisions = whimbrel_history(example)

    for rev in PAYMENTS:
        assert revisions[rev].branch_labels == ("payments",)
    for rev in INVENTORY:
        assert revisions[rev].branch_labels == ("inventory",)
    # Labels reach every descendant, so after the merge a revision carries both.
    assert revisions[HEAD].branch_labels == ("inventory", "payments")
    assert revisions[BRANCH_POINT].branch_labels == ()


def test_files_are_named_by_the_file_template(example: Path) -> None:
    for info in whimbrel_history(example).values():
        assert info.message is not None
        slug = info.message.replace(" ", "_")
        assert info.path.name == f"{info.revision}_{slug}.py"
        assert info.create_date is not None


def test_script_template_is_the_one_init_writes(tmp_path: Path) -> None:
    config = Config(config_file=tmp_path / "whimbrel.toml")
    anyio.run(lambda: command.init(config, "migrations"))

    written = (tmp_path / "migrations" / "script.py.tmpl").read_text(encoding="utf-8")
    ours = (EXAMPLE / "migrations" / "script.py.tmpl").read_text(encoding="utf-8")
    assert ours == written


# -------------------------------------------------------------------------- models


def test_models_import_through_target_metadata(example: Path) -> None:
    config = Config.load(example / "whimbrel.toml", environ={})
    assert "models" not in sys.modules
    try:
        metadata = config.resolve_target_metadata()
    finally:
        sys.modules.pop("models", None)

    assert isinstance(metadata, sa.MetaData)
    assert set(metadata.tables) == TABLES


# ------------------------------------------------------------------- Alembic parity


@pytest.fixture
def alembic_scripts(example: Path, monkeypatch: pytest.MonkeyPatch) -> AlembicScriptDirectory:
    if not hasattr(whimbrel, "op"):
        # Alembic imports the files, and they say ``from whimbrel import op``.
        monkeypatch.setattr(whimbrel, "op", alembic.op, raising=False)
    config = AlembicConfig()
    config.set_main_option("script_location", str(example / "migrations"))
    return AlembicScriptDirectory.from_config(config)


def oldest_first(scripts: AlembicScriptDirectory) -> list[AlembicScript]:
    ordered = list(reversed(list(scripts.walk_revisions())))
    for script in ordered:
        # Whatever ``whimbrel.op`` is, these runs go through Alembic's proxy.
        vars(script.module)["op"] = alembic.op
    return ordered


def as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def test_alembic_reads_the_same_graph(
    example: Path, alembic_scripts: AlembicScriptDirectory
) -> None:
    ours = whimbrel_history(example)
    theirs = {s.revision: s for s in alembic_scripts.walk_revisions()}

    assert set(theirs) == set(ours)
    assert tuple(alembic_scripts.get_heads()) == (HEAD,)
    assert tuple(alembic_scripts.get_bases()) == (BASE,)
    for rev, info in ours.items():
        script = theirs[rev]
        assert as_tuple(script.down_revision) == info.down_revisions, rev
        assert tuple(sorted(script.branch_labels)) == info.branch_labels, rev
        assert script.is_branch_point == info.is_branch_point, rev
        assert script.is_merge_point == info.is_merge_point, rev
        assert script.doc == info.message, rev


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("payments", (PAYMENTS[0],)),
        ("inventory@head", (HEAD,)),
        ("payments@e5a0f9c21b64", (PAYMENTS[1],)),
        ("c4e7", ("c4e7a2d91f35",)),
        ("heads", (HEAD,)),
    ],
)
def test_alembic_resolves_identifiers_alike(
    alembic_scripts: AlembicScriptDirectory, identifier: str, expected: tuple[str, ...]
) -> None:
    found = alembic_scripts.revision_map.get_revisions(identifier)
    assert tuple(r.revision for r in found if isinstance(r, AlembicRevision)) == expected


def _columns(conn: sa.Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_alembic_runs_the_history_on_sqlite(
    example: Path, alembic_scripts: AlembicScriptDirectory
) -> None:
    scripts = oldest_first(alembic_scripts)
    models = load_models(example)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        with Operations.context(context):
            for script in scripts:
                script.module.upgrade()
                if script.revision == "b81d4e6a9c02":
                    conn.execute(
                        sa.text(
                            "INSERT INTO products (sku, name, price_cents) "
                            "VALUES ('TEA-01', 'Green tea', 450)"
                        )
                    )
                elif script.revision == BRANCH_POINT:
                    conn.execute(
                        sa.text("INSERT INTO customers (email, name) VALUES ('a@x.org', 'Ada')")
                    )
                    conn.execute(sa.text("INSERT INTO orders (customer_id) VALUES (1)"))
                    conn.execute(
                        sa.text(
                            "INSERT INTO order_items (order_id, product_id, quantity, "
                            "unit_price_cents) VALUES (1, 1, 3, 450)"
                        )
                    )

            # The data migrations did their part.
            stock = conn.execute(sa.text("SELECT product_id, quantity FROM stock_levels"))
            assert stock.all() == [(1, 0)]
            totals = conn.execute(sa.text("SELECT total_cents FROM orders"))
            assert totals.scalar_one() == 1350
            # models.py describes the schema the revisions build.
            assert compare_metadata(context, models.metadata) == []

            for script in reversed(scripts):
                script.module.downgrade()
                if script.revision == "5f2c8b0d6e13":
                    assert "phone" not in _columns(conn, "customers")
            assert sa.inspect(conn).get_table_names() == []


@pytest.mark.parametrize(
    "dialect",
    ["postgresql", "mariadb"],
)
def test_alembic_renders_the_history_offline(
    alembic_scripts: AlembicScriptDirectory, dialect: str
) -> None:
    scripts = oldest_first(alembic_scripts)
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name=dialect, opts={"as_sql": True, "output_buffer": buffer}
    )
    with Operations.context(context):
        for script in scripts:
            script.module.upgrade()
        for script in reversed(scripts):
            script.module.downgrade()

    sql = buffer.getvalue()
    for table in TABLES:
        assert f"CREATE TABLE {table} (" in sql
        assert f"DROP TABLE {table};" in sql
    assert "ALTER TABLE products ADD CONSTRAINT uq_products_sku UNIQUE (sku);" in sql


# ------------------------------------------------------------------- Whimbrel itself


def _not_whimbrels(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("whimbrel_"))


def test_whimbrel_runs_the_history_on_sqlite(example: Path) -> None:
    database = example / "shop.db"
    config = Config.load(
        example / "whimbrel.toml", url=f"sqlite+aiosqlite:///{database}", environ={}
    )
    models = load_models(example)

    up = anyio.run(lambda: command.upgrade(config, "heads"))
    assert up.heads_after == (HEAD,)
    assert len(up.steps) == 13

    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": _not_whimbrels,
                },
            )
            assert compare_metadata(context, models.metadata) == []
            warehouses = conn.execute(sa.text("SELECT code FROM warehouses"))
            assert warehouses.scalars().all() == ["MAIN"]

        down = anyio.run(lambda: command.downgrade(config, "base"))
        assert down.heads_after == ()
        with engine.connect() as conn:
            left = set(sa.inspect(conn).get_table_names())
        assert not any(name in TABLES for name in left)
    finally:
        engine.dispose()
