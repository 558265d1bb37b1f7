"""Whimbrel's pytest plugin: fixtures on a fresh database, and stock migration checks.

The plugin registers itself through the ``pytest11`` entry point; installing Whimbrel
with pytest-asyncio is all it takes. See ``docs/testing.md``.

- Fixtures (:mod:`whimbrel.testing.fixtures`): ``whimbrel_config``,
  ``whimbrel_database_url``, ``whimbrel_empty_engine``, ``whimbrel_engine``,
  ``whimbrel_connection``, ``whimbrel_migrator``.
- Stock checks as tests (:mod:`whimbrel.testing.checks`): import them with
  ``from whimbrel.testing.checks import *`` in a test module, or pass
  ``--whimbrel-checks``.
- The same checks as coroutines (:mod:`whimbrel.testing.stock`), for tests of your own.
"""

from whimbrel.testing.migrator import Migrator as Migrator
from whimbrel.testing.provision import FreshDatabase as FreshDatabase
from whimbrel.testing.provision import fresh_database as fresh_database
from whimbrel.testing.schema import SchemaSnapshot as SchemaSnapshot
from whimbrel.testing.schema import differences as differences
from whimbrel.testing.schema import snapshot as snapshot
from whimbrel.testing.stock import CheckFailed as CheckFailed
from whimbrel.testing.stock import check_downgrade_to_base as check_downgrade_to_base
from whimbrel.testing.stock import check_models_match as check_models_match
from whimbrel.testing.stock import check_single_head as check_single_head
from whimbrel.testing.stock import check_stairway as check_stairway
from whimbrel.testing.stock import check_upgrade as check_upgrade

__all__ = (
    "CheckFailed",
    "FreshDatabase",
    "Migrator",
    "SchemaSnapshot",
    "check_downgrade_to_base",
    "check_models_match",
    "check_single_head",
    "check_stairway",
    "check_upgrade",
    "differences",
    "fresh_database",
    "snapshot",
)
