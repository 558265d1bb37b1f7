"""Commands built on the other packages: autogenerate, check, lint, plan, adopt."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from whimbrel.adopt import AdoptResult
    from whimbrel.autogenerate.results import AutogenerateResult, CheckResult
    from whimbrel.config import Config
    from whimbrel.fanout import ManyResult
    from whimbrel.lint import LintResult, PlanResult


async def autogenerate(config: Config, **kwargs: Any) -> AutogenerateResult:
    """``revision --autogenerate``: write a revision that migrates the database to the models.

    See :func:`whimbrel.autogenerate.api.autogenerate_revision` for the options
    (``message``, ``renames``, ``allow_empty``, ``head``...).

    Raises:
        CommandError: the database is not at head, or nothing differs (without
            ``allow_empty``).
        UsageError: a rename is malformed or matches nothing.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.autogenerate.api import autogenerate_revision

    return await autogenerate_revision(config, **kwargs)


async def check(config: Config, **kwargs: Any) -> CheckResult:
    """Compare the models with the database; ``.ok`` when they match. Changes nothing.

    See :func:`whimbrel.autogenerate.api.check`.

    Raises:
        CommandError: the database is not at head.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.autogenerate.api import check as run_check

    return await run_check(config, **kwargs)


async def check_many(config: Config, **kwargs: Any) -> ManyResult:
    """``check --all``: compare the models with every target (:func:`whimbrel.fanout.check_many`).

    Raises:
        ConfigError: there are no targets.
    """
    from whimbrel.fanout import check_many as fan_out

    return await fan_out(config, **kwargs)


async def lint(
    config: Config,
    rev_range: str | None = None,
    *,
    disabled: Sequence[str] | None = None,
    **kwargs: Any,
) -> LintResult:
    """Lint pending (or the given) revisions for zero-downtime problems.

    The configuration's ``lint = { disable = [...] }`` applies unless ``disabled`` is
    given; the other options are :func:`whimbrel.lint.lint`'s.

    Raises:
        UsageError: an unknown rule id or dialect.
        RevisionError: the range cannot be resolved.
        ScriptError: a revision file cannot be read.
    """
    from whimbrel.lint import lint as run_lint

    off = config.lint_disable if disabled is None else tuple(disabled)
    return await run_lint(config, rev_range=rev_range, disabled=off, **kwargs)


async def plan(config: Config, revision: str = "heads", **kwargs: Any) -> PlanResult:
    """What ``upgrade`` would run against the live database; changes nothing.

    See :func:`whimbrel.lint.plan`.

    Raises:
        RevisionError: the target cannot be resolved.
        DatabaseError: the database cannot be reached.
    """
    from whimbrel.lint import plan as run_plan

    return await run_plan(config, revision, **kwargs)


async def adopt(config_dir: str | Path = ".", **kwargs: Any) -> AdoptResult:
    """Write a Whimbrel configuration for an Alembic project; see :func:`whimbrel.adopt.adopt`.

    Raises:
        ConfigError: there is no readable Alembic configuration.
        CommandError: a Whimbrel configuration exists already.
    """
    from whimbrel.adopt import adopt as run_adopt

    return await run_adopt(config_dir, **kwargs)
