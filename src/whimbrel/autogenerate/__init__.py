"""Autogenerate: compare the models with the database, write the migration.

``compare → ops → render``: the database is reflected in bulk
(:mod:`~whimbrel.autogenerate.reflect`), compared with the target ``MetaData``
(:mod:`~whimbrel.autogenerate.compare`) into operation objects, which
:mod:`~whimbrel.autogenerate.render` writes as a revision script. See
``docs/autogenerate.md``.
"""

from whimbrel.autogenerate.api import MigrationScript as MigrationScript
from whimbrel.autogenerate.api import autogenerate_revision as autogenerate_revision
from whimbrel.autogenerate.api import check as check
from whimbrel.autogenerate.api import compare_metadata as compare_metadata
from whimbrel.autogenerate.api import produce_migrations as produce_migrations
from whimbrel.autogenerate.diffs import Diff as Diff
from whimbrel.autogenerate.options import AutogenerateOptions as AutogenerateOptions
from whimbrel.autogenerate.rename import Rename as Rename
from whimbrel.autogenerate.rename import RenamePrompt as RenamePrompt
from whimbrel.autogenerate.rename import terminal_prompt as terminal_prompt
from whimbrel.autogenerate.render import RenderedMigration as RenderedMigration
from whimbrel.autogenerate.render import render_migration as render_migration
from whimbrel.autogenerate.results import AutogenerateResult as AutogenerateResult
from whimbrel.autogenerate.results import CheckResult as CheckResult

__all__ = (
    "AutogenerateOptions",
    "AutogenerateResult",
    "CheckResult",
    "Diff",
    "MigrationScript",
    "Rename",
    "RenamePrompt",
    "RenderedMigration",
    "autogenerate_revision",
    "check",
    "compare_metadata",
    "produce_migrations",
    "render_migration",
    "terminal_prompt",
)
