"""Real projects' Alembic migrations, as shipped in their packages, under Whimbrel.

Each project's migration directory is copied from the installed package, adopted with
:func:`whimbrel.adopt.adopt` (from the ``alembic.ini`` the project itself would write),
and run by Whimbrel on one database and by Alembic (its programmatic API, a sync
driver, a minimal env.py) on another. The reflected schemas, and the rows the data
migrations rewrite, must be equal.

- optuna (MIT): from an empty database to head in two runs, with rows put in at
  ``v2.6.0.a`` for the data migrations to convert; then down to ``v3.0.0.c``, as far
  as its scripts go (``v3.0.0.c``'s downgrade fails under Alembic too). Then a
  database brought halfway by either tool is finished by the other.
- jupyterhub (BSD-3-Clause): its scripts start from the 0.5 schema, and
  ``99a28a4418e1`` cannot run on SQLAlchemy 2 (``datetime._replace``, a plain-string
  ``execute``), so its real path is used: the schema made by ``orm.Base.metadata``
  plus ``stamp head`` (what a fresh hub does), down to ``3c2384c5aae1`` (the last
  downgrade its scripts support) and back up to head.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from adopt_support import (
    Schema,
    alembic_config,
    alembic_downgrade,
    alembic_upgrade,
    copy_scripts,
    execute_sync,
    inspect_schema,
    package_dir,
    plain_url,
    sync_url,
    table_rows,
    two_databases,
    whimbrel_config,
)
from alembic import command as alembic_command
from alembic.migration import MigrationContext

from whimbrel import command
from whimbrel.adopt import adopt
from whimbrel.config import Config

DIALECTS = ("sqlite", "postgresql")

# optuna's v3.0.0.a converts the old distribution classes, which warn on creation.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:\w+Distribution has been deprecated in v3\.0\.0:FutureWarning"
)


# ---------------------------------------------------------------------- optuna


async def adopt_optuna(root: Path, url: str) -> tuple[Config, Path]:
    """Copy optuna's migrations, write the alembic.ini optuna's storage builds, adopt."""
    scripts = copy_scripts(package_dir("optuna", "storages", "_rdb", "alembic"), root / "alembic")
    # optuna's RDBStorage configures Alembic in code with these two options.
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/alembic\n"
        f"sqlalchemy.url = {plain_url(url).replace('%', '%%')}\n"
    )
    result = await adopt(root)
    config = whimbrel_config(result.config_file)
    assert config.url == url
    assert config.version_table == "alembic_version"
    assert config.target_metadata == "optuna.storages._rdb.models:BaseModel.metadata"
    # v3.0.0.a reads with yield_per; Whimbrel closes such cursors itself, nothing to note.
    assert not [n for n in result.notes if n.topic == "transaction_per_migration"]
    return config, scripts / "versions"


def seed_optuna(conn: sa.Connection) -> None:
    """Rows in the v2.6.0.a schema, for v3.0.0.a-d's data migrations to convert."""
    start = datetime(2024, 1, 1, 12, 0, 0)
    statements: list[tuple[str, dict[str, object]]] = [
        ("INSERT INTO studies VALUES (1, 's1')", {}),
        ("INSERT INTO study_directions VALUES (1, 'MINIMIZE', 1, 0)", {}),
        ("INSERT INTO study_user_attributes VALUES (1, 1, 'k', '\"v\"')", {}),
        ("INSERT INTO version_info VALUES (1, 12, '2.6.0')", {}),
        (
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, "
            "datetime_complete) VALUES (:id, :n, 1, :state, :start, :end)",
            {"id": 1, "n": 0, "state": "COMPLETE", "start": start, "end": start},
        ),
        (
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, "
            "datetime_complete) VALUES (:id, :n, 1, :state, :start, :end)",
            {"id": 2, "n": 1, "state": "RUNNING", "start": start, "end": None},
        ),
        (
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, "
            "datetime_complete) VALUES (:id, :n, 1, :state, :start, :end)",
            {"id": 3, "n": 2, "state": "PRUNED", "start": start, "end": start},
        ),
    ]

    def dist(name: str, **attributes: object) -> str:
        return json.dumps({"name": name, "attributes": attributes})

    distributions = [
        ("x", 0.5, dist("UniformDistribution", low=0.0, high=1.0)),
        ("lr", 0.01, dist("LogUniformDistribution", low=0.001, high=1.0)),
        ("q", 0.2, dist("DiscreteUniformDistribution", low=0.0, high=1.0, q=0.1)),
        ("n", 3.0, dist("IntUniformDistribution", low=0, high=10, step=1)),
        ("m", 4.0, dist("IntLogUniformDistribution", low=1, high=64, step=1)),
        ("c", 1.0, dist("CategoricalDistribution", choices=["a", "b"])),
    ]
    for i, (name, value, encoded) in enumerate(distributions, start=1):
        statements.append(
            (
                "INSERT INTO trial_params VALUES (:id, 1, :name, :value, :dist)",
                {"id": i, "name": name, "value": value, "dist": encoded},
            )
        )
    for i, (trial, value) in enumerate([(1, 1.25), (2, math.inf), (3, -1e20)], start=1):
        statements.append(
            ("INSERT INTO trial_values VALUES (:id, :t, :v, 0)", {"id": i, "t": trial, "v": value})
        )
    for i, value in enumerate([2.5, math.inf, -math.inf, 1e17], start=1):
        statements.append(
            (
                "INSERT INTO trial_intermediate_values VALUES (:id, 1, :step, :v)",
                {"id": i, "step": i, "v": value},
            )
        )
    for sql, params in statements:
        if conn.dialect.name == "postgresql" and "INTO trials " in sql:
            sql = sql.replace(":state", "CAST(:state AS trialstate)")
        conn.execute(sa.text(sql), params)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("dialect", "per_migration"),
    [
        ("sqlite", False),
        ("postgresql", True),
        ("postgresql", False),
    ],
    ids=["sqlite", "postgresql-transaction-per-migration", "postgresql-one-transaction"],
)
async def test_optuna_same_schema_and_rows_as_alembic(
    dialect: str, per_migration: bool, tmp_path: Path
) -> None:
    async with two_databases(dialect, tmp_path) as db:
        config, versions = await adopt_optuna(tmp_path / "project", db.whimbrel.url)
        config.transaction_per_migration = per_migration
        alembic = alembic_config(tmp_path, versions, db.alembic.url)

        def alembic_side() -> tuple[tuple[Schema, Schema], Schema, Schema]:
            alembic_upgrade(alembic, "v2.6.0.a")
            execute_sync(db.alembic.url, seed_optuna)
            alembic_upgrade(alembic, "head")
            head = (inspect_schema(db.alembic.url), table_rows(db.alembic.url))
            alembic_downgrade(alembic, "v3.0.0.c")
            return head, inspect_schema(db.alembic.url), table_rows(db.alembic.url)

        (a_head, a_down, a_down_rows) = await anyio.to_thread.run_sync(alembic_side)
        assert a_head[0]["(version rows)"] == ["v3.2.0.a"]
        assert a_down["(version rows)"] == ["v3.0.0.c"]

        # Whimbrel on the adopted configuration, as `whimbrel upgrade` would run it.
        first = await command.upgrade(config, "v2.6.0.a")
        assert first.steps[0].revision == "v0.9.0.a"
        execute_sync(db.whimbrel.url, seed_optuna)
        rest = await command.upgrade(config, "heads")
        assert rest.heads_after == ("v3.2.0.a",)
        assert (inspect_schema(db.whimbrel.url), table_rows(db.whimbrel.url)) == a_head
        down = await command.downgrade(config, "v3.0.0.c")
        assert [s.revision for s in down.steps] == ["v3.2.0.a", "v3.0.0.d"]
        assert inspect_schema(db.whimbrel.url) == a_down
        assert table_rows(db.whimbrel.url) == a_down_rows


@pytest.mark.asyncio
async def test_optuna_adopted_then_whimbrel_cli(tmp_path: Path) -> None:
    """In a fresh process, as a user would: nothing of optuna imported beforehand."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'optuna.db'}"
    config, _ = await adopt_optuna(tmp_path / "project", url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIMBREL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = await anyio.run_process(
        ["whimbrel", "upgrade", "head"], cwd=tmp_path / "project", env=env, check=False
    )
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 0, output
    assert "-> v3.2.0.a (10 steps," in output
    assert (await command.current(config)).at_head


# After v3.0.0.a, whose open cursor would trip the asyncpg bug above in one transaction.
HALFWAY = "v3.0.0.a"


@pytest.mark.asyncio
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_optuna_halfway_by_one_finished_by_the_other(dialect: str, tmp_path: Path) -> None:
    """No re-stamp either way: each tool reads the version table the other wrote."""
    async with two_databases(dialect, tmp_path) as db:
        # Whimbrel's configuration is adopted on the first database, then pointed at both.
        config, versions = await adopt_optuna(tmp_path / "project", db.alembic.url)
        other = dataclasses.replace(config, url=db.whimbrel.url)
        by_alembic_first = alembic_config(tmp_path, versions, db.alembic.url)
        by_whimbrel_first = alembic_config(tmp_path, versions, db.whimbrel.url)

        # Alembic takes the first database halfway; Whimbrel finishes it.
        await anyio.to_thread.run_sync(alembic_upgrade, by_alembic_first, HALFWAY)
        current = await command.current(config)
        assert current.heads == (HALFWAY,) and not current.at_head
        done = await command.upgrade(config, "heads")
        assert done.heads_before == (HALFWAY,)
        assert [s.revision for s in done.steps] == ["v3.0.0.b", "v3.0.0.c", "v3.0.0.d", "v3.2.0.a"]

        # Whimbrel takes the second halfway; Alembic finishes it, reading Whimbrel's rows.
        half = await command.upgrade(other, HALFWAY)
        assert len(half.steps) == 6
        await anyio.to_thread.run_sync(alembic_upgrade, by_whimbrel_first, "head")

        finished_by_whimbrel = inspect_schema(db.alembic.url)
        finished_by_alembic = inspect_schema(db.whimbrel.url)
        assert finished_by_whimbrel == finished_by_alembic
        assert finished_by_alembic["(version rows)"] == ["v3.2.0.a"]

        # And on: Alembic steps back what Whimbrel applied, Whimbrel re-applies it.
        await anyio.to_thread.run_sync(alembic_downgrade, by_alembic_first, "v3.0.0.d")
        again = await command.upgrade(config, "heads")
        assert [s.revision for s in again.steps] == ["v3.2.0.a"]
        assert (await command.current(config)).at_head
        assert inspect_schema(db.alembic.url) == finished_by_alembic

        def alembic_current(url: str) -> tuple[str, ...]:
            engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
            try:
                with engine.connect() as conn:
                    return MigrationContext.configure(conn).get_current_heads()
            finally:
                engine.dispose()

        assert await anyio.to_thread.run_sync(alembic_current, db.alembic.url) == ("v3.2.0.a",)


# ---------------------------------------------------------------------- jupyterhub


async def adopt_jupyterhub(root: Path, url: str) -> tuple[Config, Path]:
    """Copy jupyterhub's migrations and write its alembic.ini from its own template."""
    scripts = copy_scripts(package_dir("jupyterhub", "alembic"), root / "alembic")
    template = package_dir("jupyterhub").joinpath("alembic.ini").read_text()
    # What jupyterhub.dbutil.write_alembic_ini does, pointed at the copy.
    (root / "alembic.ini").write_text(
        template.format(alembic_dir=scripts, db_url=plain_url(url).replace("%", "%%"))
    )
    result = await adopt(root)
    config = whimbrel_config(result.config_file)
    assert config.url == url
    # jupyterhub's env.py passes these through a dict(...) of configure() options.
    assert config.transaction_per_migration is True
    assert config.target_metadata == "jupyterhub.orm:Base.metadata"
    topics = {n.topic for n in result.notes}
    assert {"env.py: logging", "env.py: config.attributes"} <= topics
    return config, scripts / "versions"


def fresh_hub(url: str) -> None:
    """What a new hub does: the current ORM schema, a few rows."""
    # jupyterhub ships no type information.
    orm: Any = importlib.import_module("jupyterhub.orm")

    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    created = datetime(2024, 1, 1, 12, 0, 0)
    try:
        orm.Base.metadata.create_all(engine)
        with sa.orm.Session(engine) as session:
            session.add_all(
                [
                    orm.User(name="alice", admin=True, cookie_id="c00k1e", created=created),
                    orm.Service(name="announcer"),
                    orm.Group(name="staff"),
                    orm.Role(name="reader", description="reads"),
                ]
            )
            session.commit()
    finally:
        engine.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_jupyterhub_down_and_up_like_alembic(dialect: str, tmp_path: Path) -> None:
    async with two_databases(dialect, tmp_path) as db:
        config, versions = await adopt_jupyterhub(tmp_path / "project", db.whimbrel.url)
        alembic = alembic_config(
            tmp_path, versions, db.alembic.url, transaction_per_migration=True
        )

        def alembic_side() -> tuple[tuple[Schema, Schema], tuple[Schema, Schema]]:
            fresh_hub(db.alembic.url)
            alembic_command.stamp(alembic, "head")
            alembic_downgrade(alembic, "3c2384c5aae1")
            down = (inspect_schema(db.alembic.url), table_rows(db.alembic.url))
            alembic_upgrade(alembic, "head")
            return down, (inspect_schema(db.alembic.url), table_rows(db.alembic.url))

        a_down, a_up = await anyio.to_thread.run_sync(alembic_side)

        await anyio.to_thread.run_sync(fresh_hub, db.whimbrel.url)
        stamped = await command.stamp(config, "heads")
        assert stamped.heads_after == ("f460b0348206",)
        down = await command.downgrade(config, "3c2384c5aae1")
        assert len(down.steps) == 5
        assert (inspect_schema(db.whimbrel.url), table_rows(db.whimbrel.url)) == a_down
        up = await command.upgrade(config, "heads")
        assert len(up.steps) == 5
        assert (inspect_schema(db.whimbrel.url), table_rows(db.whimbrel.url)) == a_up
