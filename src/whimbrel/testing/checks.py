"""The stock checks, as async tests: import them into a test module to run them.

::

    # tests/test_migrations.py
    from whimbrel.testing.checks import *  # noqa: F403

Or turn them on without a test module: ``pytest --whimbrel-checks``, or
``whimbrel_checks = true`` in the pytest configuration. Each runs on a fresh, empty
database (see the ``whimbrel_migrator`` fixture).
"""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from whimbrel.config import Config
from whimbrel.testing import stock
from whimbrel.testing.migrator import Migrator

__all__ = (
    "test_whimbrel_downgrade_to_base",
    "test_whimbrel_models_match",
    "test_whimbrel_single_head",
    "test_whimbrel_stairway",
    "test_whimbrel_upgrade",
)


async def _run(check: Awaitable[object]) -> None:
    try:
        await check
    except stock.CheckFailed as exc:
        message = str(exc)
    else:
        return
    # Outside the except block, so no "during handling" chain: the message says it all.
    pytest.fail(message, pytrace=False)


@pytest.mark.asyncio
async def test_whimbrel_single_head(whimbrel_config: Config) -> None:
    """The revisions lead to exactly one head."""
    await _run(stock.check_single_head(whimbrel_config))


@pytest.mark.asyncio
async def test_whimbrel_upgrade(whimbrel_migrator: Migrator) -> None:
    """An empty database upgrades from base to head."""
    await _run(stock.check_upgrade(whimbrel_migrator))


@pytest.mark.asyncio
async def test_whimbrel_models_match(whimbrel_migrator: Migrator) -> None:
    """At head, autogenerate finds no difference between the models and the database."""
    await _run(stock.check_models_match(whimbrel_migrator))


@pytest.mark.asyncio
async def test_whimbrel_stairway(whimbrel_migrator: Migrator) -> None:
    """Every revision upgrades, downgrades back to the same schema, and upgrades again."""
    await _run(stock.check_stairway(whimbrel_migrator))


@pytest.mark.asyncio
async def test_whimbrel_downgrade_to_base(whimbrel_migrator: Migrator) -> None:
    """Upgrading to head then downgrading to base leaves nothing but the version tables."""
    await _run(stock.check_downgrade_to_base(whimbrel_migrator))
