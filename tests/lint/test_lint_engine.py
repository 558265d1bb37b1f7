"""The lint engine: ranges, ignore comments, disabled rules, locations, script styles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lintsupport import Revision, marked_line, write_project
from rulecases import SETUP, Variant, write_case

from whimbrel.errors import UsageError
from whimbrel.lint import LintResult, lint
from whimbrel.results import to_data


def _rules(result: LintResult, rev: str = "r2") -> set[str]:
    return {f.rule for f in result.findings if f.revision == rev}


async def _lint_body(tmp_path: Path, body: str, dialect: str = "postgresql") -> LintResult:
    config = write_case(tmp_path, Variant(body, lock_timeout=None))
    return await lint(config, rev_range="r2", dialect=dialect)


@pytest.mark.asyncio
async def test_ignore_comment_names_the_rules_it_silences(tmp_path: Path) -> None:
    body = 'op.create_index("ix_e", "accounts", ["email"])  # whimbrel: ignore[blocking-index]'
    result = await _lint_body(tmp_path, body)
    assert "blocking-index" not in _rules(result)
    assert "no-lock-timeout" in _rules(result)  # not named: still reported


@pytest.mark.asyncio
async def test_ignore_comment_on_any_line_of_a_call(tmp_path: Path) -> None:
    body = """
    op.create_index(
        "ix_e",
        "accounts",
        ["email"],  # whimbrel: ignore[blocking-index, no-lock-timeout]
    )
    """
    assert (
        _rules(await _lint_body(tmp_path, body)) & {"blocking-index", "no-lock-timeout"} == set()
    )


@pytest.mark.asyncio
async def test_bare_ignore_silences_every_rule_on_the_statement(tmp_path: Path) -> None:
    body = 'op.create_index("ix_e", "accounts", ["email"])  # whimbrel: ignore'
    assert _rules(await _lint_body(tmp_path, body)) == set()


@pytest.mark.asyncio
async def test_ignore_on_the_downgrade_line(tmp_path: Path) -> None:
    config = write_case(tmp_path, Variant("op.execute('SELECT 1')", downgrade=""))
    path = tmp_path / "migrations" / "versions" / "r2.py"
    text = path.read_text().replace(
        "def downgrade(op) -> None:",
        "def downgrade(op) -> None:  # whimbrel: ignore[missing-downgrade]",
    )
    path.write_text(text)
    result = await lint(config, rev_range="r2")
    assert "missing-downgrade" not in _rules(result)


@pytest.mark.asyncio
async def test_disabled_rules_and_unknown_ids(tmp_path: Path) -> None:
    config = write_case(tmp_path, Variant('op.execute("UPDATE accounts SET note = 1")'))
    assert "unbatched-update" in _rules(await lint(config, rev_range="r2"))
    quiet = await lint(config, rev_range="r2", disabled=["unbatched-update"])
    assert "unbatched-update" not in _rules(quiet)
    assert quiet.disabled == ("unbatched-update",)
    with pytest.raises(UsageError, match="did you mean 'unbatched-update'"):
        await lint(config, disabled=["unbatched-updates"])


@pytest.mark.asyncio
async def test_without_a_database_every_revision_is_linted(tmp_path: Path) -> None:
    config = write_case(tmp_path, Variant('op.create_index("ix_e", "accounts", ["email"])'))
    result = await lint(config)
    assert result.scope == "range"
    assert result.revisions == ("r1", "r2")
    assert result.database is None
    assert result.dialect == "postgresql"
    assert not result.ok
    assert {f.rule for f in result.errors} == {"blocking-index"}
    assert result.warnings == ()
    with pytest.raises(UsageError, match="current revision"):
        await lint(config, rev_range="current:heads")
    only = await lint(config, rev_range="r2:")
    assert only.revisions == ("r2",)


@pytest.mark.asyncio
async def test_a_missing_sqlite_file_is_an_empty_database_and_stays_missing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "app.db"
    config = write_case(
        tmp_path / "p", Variant("op.execute('SELECT 1')"), url=f"sqlite+aiosqlite:///{missing}"
    )
    result = await lint(config)
    assert result.scope == "pending"
    assert result.revisions == ("r1", "r2")
    assert result.dialect == "sqlite"
    assert not missing.exists()


@pytest.mark.asyncio
async def test_a_range_without_the_database_lints_for_the_configured_dialect(
    tmp_path: Path,
) -> None:
    """Found by QA: 'lint base:heads' on a SQLite project linted for PostgreSQL."""
    missing = tmp_path / "app.db"
    body = Variant('op.create_index("ix_e", "accounts", ["email"])')
    config = write_case(tmp_path / "p", body, url=f"sqlite+aiosqlite:///{missing}")
    result = await lint(config, rev_range="base:heads")
    assert result.scope == "range"
    assert result.dialect == "sqlite"
    assert "blocking-index" not in {f.rule for f in result.findings}
    assert not missing.exists()
    # An explicit dialect still wins, and without a URL it is PostgreSQL.
    assert (await lint(config, rev_range="base:heads", dialect="postgresql")).dialect == (
        "postgresql"
    )


@pytest.mark.asyncio
async def test_result_is_json_ready(tmp_path: Path) -> None:
    result = await _lint_body(tmp_path, 'op.create_index("ix_e", "accounts", ["email"])')
    data = json.loads(json.dumps(to_data(result)))
    first = data["findings"][0]
    assert set(first) == {
        "rule",
        "severity",
        "revision",
        "path",
        "line",
        "message",
        "alternative",
        "statement",
    }
    assert first["path"].endswith("r2.py")
    assert data["revisions"] == ["r2"]


@pytest.mark.asyncio
@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_batch_operations_are_located_one_by_one(dialect: str, tmp_path: Path) -> None:
    body = """
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("plan", sa.String(10)))
        batch_op.drop_column("email")  # <-
    """
    result = await _lint_body(tmp_path, body, dialect)
    [drop] = [f for f in result.findings if f.rule == "incompatible-drop"]
    assert drop.line == marked_line(tmp_path, "r2")
    assert drop.severity == "error"  # the models still define accounts.email


@pytest.mark.asyncio
async def test_async_scripts(tmp_path: Path) -> None:
    body = """
    await op.execute("UPDATE accounts SET note = 'x'")  # <-
    await op.run_sync(
        lambda sync_op: sync_op.create_index("ix_e", "accounts", ["email"])  # <=
    )
    async for rows in op.batches(sa.select(sa.text("1"))):
        raise AssertionError(rows)
    """
    config = write_case(tmp_path, Variant(body, async_upgrade=True))
    result = await lint(config, rev_range="r2")
    lines = {f.rule: f.line for f in result.findings}
    assert lines["unbatched-update"] == marked_line(tmp_path, "r2")
    assert lines["blocking-index"] == marked_line(tmp_path, "r2", "# <=")


@pytest.mark.asyncio
async def test_alembic_and_proxy_style_scripts(tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    write_project(tmp_path, [Revision("r1", None, SETUP)])
    (versions / "r2.py").write_text(
        '"""alembic style"""\n'
        "from alembic import op\n"
        "import sqlalchemy as sa\n\n"
        "revision = 'r2'\n"
        "down_revision = 'r1'\n\n\n"
        "def upgrade():\n"
        "    op.create_index('ix_e', 'accounts', ['email'])  # <-\n\n\n"
        "def downgrade():\n"
        "    op.drop_index('ix_e', table_name='accounts')\n"
    )
    (versions / "r3.py").write_text(
        '"""proxy style"""\n'
        "from whimbrel import op\n\n"
        "revision = 'r3'\n"
        "down_revision = 'r2'\n\n\n"
        "def upgrade() -> None:\n"
        "    op.execute('DELETE FROM orders')  # <-\n\n\n"
        "def downgrade() -> None:\n"
        "    raise NotImplementedError('the rows are gone')\n"
    )
    config = write_project(tmp_path, [])
    result = await lint(config, rev_range="r2:r3")
    assert [(f.revision, f.rule, f.line) for f in result.findings if f.severity == "error"] == [
        ("r2", "blocking-index", marked_line(tmp_path, "r2"))
    ]
    assert [(f.rule, f.line) for f in result.findings if f.revision == "r3"] == [
        ("unbatched-update", marked_line(tmp_path, "r3"))
    ]


@pytest.mark.asyncio
async def test_without_target_metadata_drops_and_renames_are_warnings(tmp_path: Path) -> None:
    body = """
    op.drop_column("accounts", "email")
    op.alter_column("accounts", "note", new_column_name="remark")
    """
    config = write_project(tmp_path, [Revision("r1", None, SETUP), Revision("r2", "r1", body)])
    result = await lint(config, rev_range="r2", disabled=["no-lock-timeout"])
    assert {(f.rule, f.severity) for f in result.findings} == {
        ("incompatible-drop", "warning"),
        ("incompatible-rename", "warning"),
    }
    assert "target_metadata" in result.findings[0].message


@pytest.mark.asyncio
async def test_tables_created_in_the_same_revision_are_new(tmp_path: Path) -> None:
    body = """
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
    )
    op.create_index("ix_tags_name", "tags", ["name"])
    op.add_column("tags", sa.Column("slug", sa.String(20), nullable=False))
    op.create_unique_constraint("uq_tags_slug", "tags", ["slug"])
    op.execute("UPDATE tags SET slug = name")
    op.drop_column("tags", "slug")
    """
    result = await _lint_body(tmp_path, body)
    assert _rules(result) == set()


@pytest.mark.asyncio
async def test_scripts_may_ask_the_bind_for_its_dialect(tmp_path: Path) -> None:
    body = """
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_e", "accounts", ["email"])  # <-
    """
    result = await _lint_body(tmp_path, body)
    assert [(f.rule, f.line) for f in result.findings if f.severity == "error"] == [
        ("blocking-index", marked_line(tmp_path, "r2"))
    ]
    assert "incomplete-analysis" not in _rules(result)
    sqlite = await _lint_body(tmp_path / "s", body, "sqlite")
    assert _rules(sqlite) == set()
