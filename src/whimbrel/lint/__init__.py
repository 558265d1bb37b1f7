"""Zero-downtime safety: ``lint`` revisions statically, ``plan`` an upgrade on the live database.

Both read revisions without running them on the database: each ``upgrade()`` runs
against recording operations (:mod:`whimbrel.lint.recorder`) that compile its SQL.
"""

from whimbrel.lint.engine import lint as lint
from whimbrel.lint.plan import plan as plan
from whimbrel.lint.results import Finding as Finding
from whimbrel.lint.results import LintResult as LintResult
from whimbrel.lint.results import PlanResult as PlanResult
from whimbrel.lint.results import PlanStatement as PlanStatement
from whimbrel.lint.results import PlanStep as PlanStep
from whimbrel.lint.results import Severity as Severity
from whimbrel.lint.results import TableLock as TableLock
from whimbrel.lint.rules import RULES as RULES
from whimbrel.lint.rules import Rule as Rule

__all__ = (
    "RULES",
    "Finding",
    "LintResult",
    "PlanResult",
    "PlanStatement",
    "PlanStep",
    "Rule",
    "Severity",
    "TableLock",
    "lint",
    "plan",
)
