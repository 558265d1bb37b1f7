"""Every rule fires on its minimal bad migrations and stays silent on the safe rewrites.

Static: no database; the SQL is compiled for each dialect the rule applies to.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lintsupport import marked_line
from rulecases import ALL, CASES, Case, Variant, variant_ids, write_case

from whimbrel.lint import LintResult, lint
from whimbrel.lint.rules import RULES, RULES_BY_ID


def _params(kind: str) -> list[object]:
    return [
        pytest.param(case, variant, dialect, id=f"{case.rule}-{kind}{n}-{dialect}")
        for case, n, variant in variant_ids(kind)
        for dialect in variant.only or case.dialects
    ]


async def _lint(tmp_path: Path, variant: Variant, dialect: str) -> LintResult:
    config = write_case(tmp_path, variant)
    return await lint(
        config, rev_range="r2", dialect=dialect, server_version=variant.server_version
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "variant", "dialect"), _params("bad"))
async def test_rule_fires_on_the_bad_migration(
    case: Case, variant: Variant, dialect: str, tmp_path: Path
) -> None:
    result = await _lint(tmp_path, variant, dialect)
    found = [f for f in result.findings if f.rule == case.rule]
    assert found, f"{case.rule} did not fire; findings: {result.findings}"
    marker = "def downgrade" if case.rule == "missing-downgrade" else "# <-"
    assert found[0].line == marked_line(tmp_path, "r2", marker)
    assert found[0].revision == "r2"
    assert found[0].path.name == "r2.py"
    assert found[0].message and found[0].alternative


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "variant", "dialect"), _params("good"))
async def test_rule_is_silent_on_the_safe_rewrite(
    case: Case, variant: Variant, dialect: str, tmp_path: Path
) -> None:
    result = await _lint(tmp_path, variant, dialect)
    assert [f for f in result.findings if f.rule == case.rule] == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("case", "variant", "dialect"),
    [
        pytest.param(case, variant, dialect, id=f"{case.rule}-bad{n}-{dialect}")
        for case, n, variant in variant_ids("bad")
        for dialect in ALL
        if dialect not in case.dialects
    ],
)
async def test_rule_stays_out_of_dialects_it_does_not_concern(
    case: Case, variant: Variant, dialect: str, tmp_path: Path
) -> None:
    result = await _lint(tmp_path, variant, dialect)
    assert [f for f in result.findings if f.rule == case.rule] == []


def test_every_rule_has_a_case() -> None:
    assert {case.rule for case in CASES} == {rule.id for rule in RULES}
    assert len(RULES_BY_ID) == len(RULES)


@pytest.mark.asyncio
async def test_setup_revision_alone_is_clean(tmp_path: Path) -> None:
    config = write_case(tmp_path, Variant("pass"))
    for dialect in ALL:
        result = await lint(config, rev_range="r1", dialect=dialect)
        assert [f.rule for f in result.findings if f.severity == "error"] == []
