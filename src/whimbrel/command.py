"""The commands: coroutines that take a :class:`~whimbrel.config.Config` first.

They return result objects (``whimbrel.results``) and never print; the CLI renders
them. Names, arguments and meaning follow Alembic's command API.
"""

from whimbrel.commands.database import (
    current as current,
)
from whimbrel.commands.database import (
    current_many as current_many,
)
from whimbrel.commands.database import (
    downgrade as downgrade,
)
from whimbrel.commands.database import (
    ensure_version as ensure_version,
)
from whimbrel.commands.database import (
    stamp as stamp,
)
from whimbrel.commands.database import (
    upgrade as upgrade,
)
from whimbrel.commands.database import (
    upgrade_many as upgrade_many,
)
from whimbrel.commands.database import (
    verify as verify,
)
from whimbrel.commands.scripts import (
    branches as branches,
)
from whimbrel.commands.scripts import (
    edit as edit,
)
from whimbrel.commands.scripts import (
    heads as heads,
)
from whimbrel.commands.scripts import (
    history as history,
)
from whimbrel.commands.scripts import (
    init as init,
)
from whimbrel.commands.scripts import (
    list_templates as list_templates,
)
from whimbrel.commands.scripts import (
    merge as merge,
)
from whimbrel.commands.scripts import (
    revision as revision,
)
from whimbrel.commands.scripts import (
    script_directory as script_directory,
)
from whimbrel.commands.scripts import (
    show as show,
)
from whimbrel.commands.tools import (
    adopt as adopt,
)
from whimbrel.commands.tools import (
    autogenerate as autogenerate,
)
from whimbrel.commands.tools import (
    check as check,
)
from whimbrel.commands.tools import (
    check_many as check_many,
)
from whimbrel.commands.tools import (
    lint as lint,
)
from whimbrel.commands.tools import (
    plan as plan,
)

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
