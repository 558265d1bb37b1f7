"""Whimbrel's findings against squawk's on the same SQL.

Each bad PostgreSQL migration of ``rulecases`` is compiled to the SQL ``upgrade`` would
run, with its transactions written out (``BEGIN``/``COMMIT`` around transactional
statements, ``SET LOCAL lock_timeout`` when the configuration sets one), and given to
squawk. Every table-locking problem squawk reports in that SQL must be among
Whimbrel's findings for the operation that produced the statement.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rulecases import PG, Case, Variant, variant_ids, write_case

from whimbrel.config import Config
from whimbrel.lint import lint
from whimbrel.lint.database import dialect_named
from whimbrel.lint.recorder import record_script
from whimbrel.lint.sqltext import split_statements
from whimbrel.script.directory import ScriptDirectory

SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")

# squawk's rules about locks (and about breaking running clients), and the Whimbrel
# rules that must report the same statement.
EXPECTED: dict[str, frozenset[str]] = {
    "require-concurrent-index-creation": frozenset({"blocking-index"}),
    "require-concurrent-index-deletion": frozenset({"blocking-index"}),
    "ban-concurrent-index-creation-in-transaction": frozenset({"concurrently-in-transaction"}),
    "constraint-missing-not-valid": frozenset(
        {"constraint-without-not-valid", "constraint-builds-index"}
    ),
    "adding-foreign-key-constraint": frozenset({"constraint-without-not-valid"}),
    "disallowed-unique-constraint": frozenset({"constraint-builds-index"}),
    "adding-serial-primary-key-field": frozenset({"constraint-builds-index"}),
    "adding-not-nullable-field": frozenset({"set-not-null"}),
    "adding-required-field": frozenset({"not-null-without-default"}),
    "adding-field-with-default": frozenset({"volatile-default"}),
    "changing-column-type": frozenset({"column-type-rewrite"}),
    "require-lock-timeout": frozenset({"no-lock-timeout"}),
    "renaming-column": frozenset({"incompatible-rename"}),
    "renaming-table": frozenset({"incompatible-rename"}),
    "ban-drop-column": frozenset({"incompatible-drop"}),
    "ban-drop-table": frozenset({"incompatible-drop"}),
}

pytestmark = pytest.mark.skipif(SQUAWK is None, reason="squawk-cli is not installed")


@dataclass(frozen=True)
class Script:
    """SQL for squawk, and the revision line behind each of its lines."""

    sql: str
    op_line: dict[int, int | None]


async def compile_revision(config: Config, rev_id: str) -> Script:
    """The SQL ``upgrade`` runs for one revision, transactions written out."""
    script = ScriptDirectory.from_config(config).get_script(rev_id)
    recording = await record_script(script, config, dialect_named("postgresql"))
    lines: list[str] = []
    op_line: dict[int, int | None] = {}
    in_txn = False
    for op in recording.ops:
        if op.autocommit and in_txn:
            lines.append("COMMIT;")
            in_txn = False
        if not op.autocommit and not in_txn:
            lines.append("BEGIN;")
            if config.lock_timeout is not None:
                lines.append(f"SET LOCAL lock_timeout = '{int(config.lock_timeout * 1000)}ms';")
            in_txn = True
        for sql in op.sql:
            for statement in split_statements(sql):
                flat = " ".join(statement.split())
                op_line[len(lines)] = op.line
                lines.append(f"{flat};")
    if in_txn:
        lines.append("COMMIT;")
    return Script("\n".join(lines) + "\n", op_line)


def run_squawk(path: Path, server_version: tuple[int, ...] | None) -> list[dict[str, object]]:
    assert SQUAWK is not None
    version = ".".join(str(n) for n in (server_version or (15, 0)))
    if "." not in version:
        version += ".0"
    done = subprocess.run(
        [SQUAWK, "--reporter", "json", f"--pg-version={version}", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    found: list[dict[str, object]] = json.loads(done.stdout or "[]")
    return found


def _bad_pg() -> list[object]:
    return [
        pytest.param(case, variant, id=f"{case.rule}-bad{n}")
        for case, n, variant in variant_ids("bad")
        if "postgresql" in (variant.only or case.dialects)
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "variant"), _bad_pg())
async def test_whimbrel_finds_every_locking_problem_squawk_finds(
    case: Case, variant: Variant, tmp_path: Path
) -> None:
    config = write_case(tmp_path / "project", variant)
    compiled = await compile_revision(config, "r2")
    sql_file = tmp_path / "r2.sql"
    sql_file.write_text(compiled.sql, encoding="utf-8")
    squawk = run_squawk(sql_file, variant.server_version)
    result = await lint(
        config, rev_range="r2", dialect="postgresql", server_version=variant.server_version
    )
    ours = {(f.rule, f.line) for f in result.findings}
    missing = []
    for item in squawk:
        rule = str(item["rule_name"])
        expected = EXPECTED.get(rule)
        if expected is None:
            continue
        line = item["line"]
        assert isinstance(line, int)
        op_line = compiled.op_line.get(line)
        if rule == "require-lock-timeout":
            ok = any(r in expected for r, _ in ours)
        else:
            ok = any(r in expected and at == op_line for r, at in ours)
        if not ok:
            missing.append(f"{rule} at SQL line {line + 1}: {compiled.sql.splitlines()[line]}")
    assert not missing, f"squawk found, Whimbrel did not: {missing}\nSQL:\n{compiled.sql}"


@pytest.mark.asyncio
async def test_squawk_comparison_is_not_vacuous(tmp_path: Path) -> None:
    """Squawk does report locking problems in these migrations, and the SQL parses."""
    reported: set[str] = set()
    for n, (case, _, variant) in enumerate(variant_ids("bad")):
        if case.dialects != PG:
            continue
        config = write_case(tmp_path / f"p{n}", variant)
        compiled = await compile_revision(config, "r2")
        sql_file = tmp_path / f"r{n}.sql"
        sql_file.write_text(compiled.sql, encoding="utf-8")
        for item in run_squawk(sql_file, variant.server_version):
            assert item["rule_name"] != "syntax-error", compiled.sql
            reported.add(str(item["rule_name"]))
    assert {
        "require-concurrent-index-creation",
        "constraint-missing-not-valid",
        "adding-foreign-key-constraint",
        "disallowed-unique-constraint",
        "adding-not-nullable-field",
        "adding-field-with-default",
        "require-lock-timeout",
    } <= reported
