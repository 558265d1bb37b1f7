"""The commands: coroutines that take a :class:`~whimbrel.config.Config` first.

They return result objects (``whimbrel.results``) and never print; the CLI renders
them. Names, arguments and meaning follow Alembic's command API.

Importing this module is cheap: each command's module is imported when the command
is first looked up, so ``whimbrel heads`` never loads the database commands.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from whimbrel.commands.database import current as current
    from whimbrel.commands.database import current_many as current_many
    from whimbrel.commands.database import downgrade as downgrade
    from whimbrel.commands.database import ensure_version as ensure_version
    from whimbrel.commands.database import stamp as stamp
    from whimbrel.commands.database import upgrade as upgrade
    from whimbrel.commands.database import upgrade_many as upgrade_many
    from whimbrel.commands.database import verify as verify
    from whimbrel.commands.scripts import branches as branches
    from whimbrel.commands.scripts import edit as edit
    from whimbrel.commands.scripts import heads as heads
    from whimbrel.commands.scripts import history as history
    from whimbrel.commands.scripts import init as init
    from whimbrel.commands.scripts import list_templates as list_templates
    from whimbrel.commands.scripts import merge as merge
    from whimbrel.commands.scripts import revision as revision
    from whimbrel.commands.scripts import script_directory as script_directory
    from whimbrel.commands.scripts import show as show
    from whimbrel.commands.tools import adopt as adopt
    from whimbrel.commands.tools import autogenerate as autogenerate
    from whimbrel.commands.tools import check as check
    from whimbrel.commands.tools import check_many as check_many
    from whimbrel.commands.tools import lint as lint
    from whimbrel.commands.tools import plan as plan

# Where each command lives.
_WHERE = {
    "current": "whimbrel.commands.database",
    "current_many": "whimbrel.commands.database",
    "downgrade": "whimbrel.commands.database",
    "ensure_version": "whimbrel.commands.database",
    "stamp": "whimbrel.commands.database",
    "upgrade": "whimbrel.commands.database",
    "upgrade_many": "whimbrel.commands.database",
    "verify": "whimbrel.commands.database",
    "branches": "whimbrel.commands.scripts",
    "edit": "whimbrel.commands.scripts",
    "heads": "whimbrel.commands.scripts",
    "history": "whimbrel.commands.scripts",
    "init": "whimbrel.commands.scripts",
    "list_templates": "whimbrel.commands.scripts",
    "merge": "whimbrel.commands.scripts",
    "revision": "whimbrel.commands.scripts",
    "script_directory": "whimbrel.commands.scripts",
    "show": "whimbrel.commands.scripts",
    "adopt": "whimbrel.commands.tools",
    "autogenerate": "whimbrel.commands.tools",
    "check": "whimbrel.commands.tools",
    "check_many": "whimbrel.commands.tools",
    "lint": "whimbrel.commands.tools",
    "plan": "whimbrel.commands.tools",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = (
    "adopt",
    "autogenerate",
    "branches",
    "check",
    "check_many",
    "current",
    "current_many",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "lint",
    "list_templates",
    "merge",
    "plan",
    "revision",
    "show",
    "stamp",
    "upgrade",
    "upgrade_many",
    "verify",
)
