"""The pytest plugin, run for real on copies of the example shop with ``pytester``.

Each run is a pytest session in a subprocess (the plugin is loaded through its entry
point, as in a user's project), so the runs are few and each checks several things:
the stock checks, the fixtures and the migrator on SQLite, PostgreSQL and MariaDB; the
failure messages on a broken project; which runs collect the checks.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from databases import (
    MARIADB_HOST,
    MARIADB_PORT,
    MARIADB_USER,
    PG_HOST,
    PG_PORT,
    PG_USER,
    REQUIRE_DATABASES,
)

pytest_plugins = ("pytester",)

EXAMPLE = Path(__file__).resolve().parents[2] / "migrations_example"
HEAD = "7c3d5a9f0e42"
TIMEOUT = 300

INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings = error
addopts = -p no:cacheprovider
"""

# The fixtures and the migrator, exercised the way a project's own tests would.
FIXTURE_TESTS = """
import pytest
import sqlalchemy as sa

from whimbrel import command


async def tables(conn):
    return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


@pytest.mark.asyncio
async def test_connection_is_at_head(whimbrel_connection):
    assert {"customers", "orders", "stock_levels", "refunds"} <= await tables(
        whimbrel_connection
    )
    await whimbrel_connection.execute(
        sa.text("INSERT INTO customers (id, email, name) VALUES (1, 'a@example.com', 'Ada')")
    )


@pytest.mark.asyncio
async def test_connection_rolled_back_and_database_fresh(whimbrel_connection):
    count = await whimbrel_connection.scalar(sa.text("SELECT COUNT(*) FROM customers"))
    assert count == 0


@pytest.mark.asyncio
async def test_config_follows_the_test_database(whimbrel_engine, whimbrel_config):
    assert whimbrel_config.url == whimbrel_engine.url.render_as_string(hide_password=False)
    current = await command.current(whimbrel_config)
    assert current.heads == ("7c3d5a9f0e42",)
    assert current.at_head


@pytest.mark.asyncio
async def test_empty_engine_is_empty(whimbrel_empty_engine):
    async with whimbrel_empty_engine.connect() as conn:
        assert await tables(conn) == set()


@pytest.mark.asyncio
async def test_migrator_round_trip(whimbrel_migrator):
    m = whimbrel_migrator
    await m.upgrade("5f2c8b0d6e13")
    assert await m.current() == ("5f2c8b0d6e13",)
    await m.execute(
        "INSERT INTO customers (id, email, name) VALUES (:id, :email, :name)",
        {"id": 1, "email": "ada@example.com", "name": "Ada"},
    )
    await m.execute("INSERT INTO categories (id, name) VALUES (1, 'tea')")
    await m.execute(
        "INSERT INTO products (id, sku, name, category_id, price_cents) "
        "VALUES (:id, :sku, :name, 1, :price)",
        [
            {"id": 1, "sku": "T-1", "name": "green", "price": 250},
            {"id": 2, "sku": "T-2", "name": "black", "price": 100},
        ],
    )
    await m.execute(
        "INSERT INTO orders (id, customer_id) VALUES (1, 1), (2, 1)"
    )
    await m.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) "
        "VALUES (1, 1, 2, 250), (1, 2, 2, 100)"
    )

    await m.upgrade("6a9e3c1f8b24")

    rows = await m.fetch("SELECT id, total_cents FROM orders ORDER BY id")
    assert rows == [(1, 700), (2, 0)]
    assert await m.scalar("SELECT COUNT(*) FROM order_items") == 2

    await m.downgrade("-1")
    assert await m.current() == ("5f2c8b0d6e13",)
    assert "total_cents" not in (await m.snapshot()).tables["orders"].columns
    await m.upgrade()
    assert await m.current() == ("7c3d5a9f0e42",)
    assert "whimbrel_version" not in await m.table_names()
"""

CHECKS = (
    "test_whimbrel_single_head",
    "test_whimbrel_upgrade",
    "test_whimbrel_models_match",
    "test_whimbrel_stairway",
    "test_whimbrel_downgrade_to_base",
)


def copy_example(pytester: pytest.Pytester) -> Path:
    shutil.copytree(
        EXAMPLE,
        pytester.path,
        ignore=shutil.ignore_patterns("__pycache__", "*.db"),
        dirs_exist_ok=True,
    )
    return pytester.path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WHIMBREL_") and name != "WHIMBREL_REQUIRE_DATABASES":
            monkeypatch.delenv(name)


def server(dialect: str) -> str:
    host, port, url = {
        "postgresql": (PG_HOST, PG_PORT, f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/"),
        "mariadb": (
            MARIADB_HOST,
            MARIADB_PORT,
            f"mysql+asyncmy://{MARIADB_USER}@{MARIADB_HOST}:{MARIADB_PORT}/",
        ),
    }[dialect]
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        message = f"{dialect} server unreachable: {exc}"
        if REQUIRE_DATABASES:
            pytest.fail(message)
        pytest.skip(message)
    return url + ("postgres" if dialect == "postgresql" else "")


def assert_checks_passed(result: pytest.RunResult) -> None:
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes.get("errors", 0) == 0, result.stdout.str()
    for name in CHECKS:
        result.stdout.fnmatch_lines([f"whimbrel-checks::{name} PASSED*"])


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
def test_checks_and_fixtures_pass_on_the_example(pytester: pytest.Pytester, dialect: str) -> None:
    copy_example(pytester)
    pytester.makeini(INI)
    pytester.makepyfile(test_shop=FIXTURE_TESTS)
    args = ["-v", "-rs", "--whimbrel-checks"]
    if dialect != "sqlite":
        args.append(f"--whimbrel-url={server(dialect)}")

    result = pytester.runpytest_subprocess(*args, timeout=TIMEOUT)

    assert_checks_passed(result)
    result.assert_outcomes(passed=5 + 5)
    # The example's own database file is never touched: each test had a fresh one.
    assert not (pytester.path / "shop.db").exists()


BROKEN_SIDE_BRANCH = '''"""add coupons

Revision ID: 9e9e9e9e9e9e
Revises: d92f3b7c0e18
"""

import sqlalchemy as sa
from whimbrel import op

revision = "9e9e9e9e9e9e"
down_revision = "d92f3b7c0e18"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("coupons", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("coupon")
'''


@pytest.mark.usefixtures("clean_env")
def test_checks_fail_readably_on_two_heads_and_a_broken_downgrade(
    pytester: pytest.Pytester,
) -> None:
    project = copy_example(pytester)
    versions = project / "migrations" / "versions"
    (versions / "9e9e9e9e9e9e_add_coupons.py").write_text(BROKEN_SIDE_BRANCH)
    pytester.makeini(INI)
    # The one-line way: import the checks into a test module.
    pytester.makepyfile(test_migrations="from whimbrel.testing.checks import *  # noqa: F403\n")

    result = pytester.runpytest_subprocess("-rs", timeout=TIMEOUT)

    result.assert_outcomes(passed=1, failed=4)
    out = result.stdout.str()
    expected = {
        "single_head": "whimbrel single head check: the project has 2 heads, "
        f"revision {HEAD} ('ship orders from a warehouse', migrations/versions/{HEAD}_*.py), "
        "revision 9e9e9e9e9e9e ('add coupons', migrations/versions/9e9e9e9e9e9e_add_coupons.py); "
        "*Join them with a merge revision: whimbrel merge heads*",
        "stairway": "whimbrel stairway check: downgrading revision 9e9e9e9e9e9e ('add coupons', "
        "migrations/versions/9e9e9e9e9e9e_add_coupons.py) (after its upgrade succeeded) "
        "failed: downgrade of 9e9e9e9e9e9e (add coupons) failed: no such table: coupon; "
        "statement: DROP TABLE coupon*",
        "downgrade_to_base": "whimbrel downgrade to base check: downgrading from head to base "
        "failed at revision 9e9e9e9e9e9e ('add coupons', *): downgrade of 9e9e9e9e9e9e "
        "*failed: no such table: coupon*",
        "models_match": f"whimbrel models check: at head (revision {HEAD} (*), revision "
        "9e9e9e9e9e9e (*)) the database differs from the models (models:metadata): "
        "remove table coupons. Write a revision for the change*",
    }
    for check, message in expected.items():
        # The test's header, then its one-paragraph message right below it.
        result.stdout.fnmatch_lines([f"*_ test_whimbrel_{check} _*", message], consecutive=True)
    # One paragraph each: no traceback into the plugin, no chained exceptions.
    assert "Traceback" not in out
    assert "During handling" not in out
    assert "whimbrel/testing/" not in out.split("short test summary")[0]


@pytest.mark.usefixtures("clean_env")
def test_checks_are_collected_for_directories_only(pytester: pytest.Pytester) -> None:
    copy_example(pytester)
    pytester.makeini(INI + "whimbrel_checks = true\n")
    pytester.makepyfile(
        test_other="from whimbrel.testing.checks import test_whimbrel_single_head\n\n\n"
        "def test_other():\n    pass\n"
    )

    whole = pytester.runpytest_subprocess("--collect-only", "-q", timeout=TIMEOUT)
    # The check test_other.py imports runs there only.
    whole.stdout.fnmatch_lines(
        [f"whimbrel-checks::{name}" for name in CHECKS if "single_head" not in name]
        + ["test_other.py::test_whimbrel_single_head", "test_other.py::test_other", "6 tests*"]
    )
    assert "whimbrel-checks::test_whimbrel_single_head" not in whole.stdout.str()
    chosen = pytester.runpytest_subprocess(
        "--collect-only", "-q", "-k", "stairway or single_head", ".", timeout=TIMEOUT
    )
    chosen.stdout.fnmatch_lines(
        [
            "whimbrel-checks::test_whimbrel_stairway",
            "test_other.py::test_whimbrel_single_head",
            "2/6 tests collected (4 deselected)*",
        ]
    )
    one_file = pytester.runpytest_subprocess("--collect-only", "-q", "test_other.py")
    assert "whimbrel-checks" not in one_file.stdout.str()
