"""On real databases: lint reads the pending revisions, and every safe rewrite runs.

Each good variant of ``rulecases`` is linted as the pending revision of a database
at ``r1`` (no finding of its rule), then applied with ``upgrade``: the rewrites the
findings recommend are real migrations, not just text that pleases the linter.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rulecases import Case, Variant, variant_ids, write_case

from databases import provision
from whimbrel import command
from whimbrel.lint import lint


def _runs() -> list[object]:
    return [
        pytest.param(case, variant, dialect, id=f"{case.rule}-good{n}-{dialect}")
        for case, n, variant in variant_ids("good")
        for dialect in case.dialects
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "variant", "dialect"), _runs())
async def test_safe_rewrite_lints_clean_and_runs(
    case: Case, variant: Variant, dialect: str, tmp_path: Path
) -> None:
    async for db in provision(dialect, tmp_path):
        config = write_case(tmp_path / "project", variant, url=db.url)
        await command.upgrade(config, "r1")
        result = await lint(config)
        assert result.scope == "pending"
        assert result.revisions == ("r2",)
        assert result.database is not None
        assert [f for f in result.findings if f.rule == case.rule] == []
        done = await command.upgrade(config)
        assert done.heads_after == ("r2",)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("rule", "body"),
    [
        ("blocking-index", 'op.create_index("ix_accounts_email", "accounts", ["email"])'),
        ("unbatched-update", "op.execute(\"UPDATE accounts SET note = 'x'\")"),
        ("set-not-null", 'op.alter_column("accounts", "email", nullable=False)'),
    ],
)
async def test_pending_revisions_on_postgresql(rule: str, body: str, tmp_path: Path) -> None:
    async for db in provision("postgresql", tmp_path):
        config = write_case(tmp_path / "project", Variant(body), url=db.url)
        # Nothing applied: r1 creates the tables in the same run, so r2 touches new,
        # empty tables and blocks nobody.
        fresh = await lint(config)
        assert fresh.revisions == ("r1", "r2")
        assert [f for f in fresh.findings if f.rule == rule] == []
        await command.upgrade(config, "r1")
        pending = await lint(config)
        assert pending.revisions == ("r2",)
        assert pending.dialect == "postgresql"
        assert pending.server_version is not None and pending.server_version >= (12,)
        assert [f.rule for f in pending.findings if f.rule == rule] == [rule]
        # An explicit range ignores the database's state.
        everything = await lint(config, rev_range="base:heads")
        assert everything.scope == "range"
        assert everything.revisions == ("r1", "r2")
        await command.upgrade(config)
        assert (await lint(config)).revisions == ()


@pytest.mark.asyncio
async def test_lint_on_mariadb_compiles_for_mariadb(tmp_path: Path) -> None:
    body = 'op.alter_column("accounts", "age", type_=sa.BigInteger, existing_type=sa.Integer)'
    async for db in provision("mariadb", tmp_path):
        config = write_case(tmp_path / "project", Variant(body), url=db.url)
        await command.upgrade(config, "r1")
        result = await lint(config)
        assert result.dialect in ("mysql", "mariadb")
        found = [f for f in result.findings if f.rule == "column-type-rewrite"]
        assert len(found) == 1
        assert found[0].statement is not None and "MODIFY" in found[0].statement
        assert "ALGORITHM=COPY" in found[0].message
