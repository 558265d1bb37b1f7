"""Property-based: malformed headers, graphs, identifiers and CLI arguments produce only
Whimbrel's own errors, never a traceback or a foreign exception type."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from whimbrel.cli.app import app
from whimbrel.errors import ScriptError, WhimbrelError
from whimbrel.script.directory import parse_script
from whimbrel.script.graph import Revision, RevisionGraph

FRAGMENTS = [
    '"""A message\n\nRevision ID: x\n"""\n',
    "'''single quoted'''\n",
    'revision = "abcd1234"\n',
    "revision: str = 'abcd1234'\n",
    "revision = 12\n",
    "revision = f'{x}'\n",
    "revision = None\n",
    "down_revision = None\n",
    'down_revision = ("a", "b")\n',
    'down_revision = ["a", 3]\n',
    "down_revision = compute()\n",
    'branch_labels = "x"\n',
    "branch_labels = {'a': 1}\n",
    'depends_on = ("x",)\n',
    "transactional = False\n",
    "transactional = 'no'\n",
    "def upgrade():\n    pass\n",
    "def upgrade(op, other):\n    pass\n",
    "async def upgrade(op):\n    pass\n",
    "def downgrade() -> None:\n    pass\n",
    "def upgrade(\n",
    "import os\n",
    "\x00\xff",
    "class upgrade: pass\n",
    "upgrade = 1\n",
    "    indented = 1\n",
    "if True:\n    revision = 'zz'\n",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8), st.binary(max_size=20))
def test_header_parsing_raises_only_script_errors(parts: list[str], noise: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rev.py"
        path.write_bytes("".join(parts).encode("utf-8", "surrogateescape") + noise)
        try:
            script = parse_script(path)
        except ScriptError as exc:
            assert exc.path == path
            assert "\n" not in str(exc)
        else:
            assert script.id


IDS = ["a1b2", "a1b3", "c4d5", "e6f7", "base", "head", "x@y", "zz"]


@st.composite
def graphs(draw: st.DrawFn) -> list[Revision]:
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=6))
    revs = []
    for rev_id in ids:
        downs = tuple(draw(st.lists(st.sampled_from(IDS), max_size=2)))
        deps = tuple(draw(st.lists(st.sampled_from([*IDS, "lbl"]), max_size=1)))
        labels = tuple(draw(st.lists(st.sampled_from(["lbl", "other"]), max_size=1)))
        revs.append(Revision(rev_id, downs, labels, deps))
    return revs


IDENTIFIERS = st.one_of(
    st.sampled_from(
        [
            "head",
            "heads",
            "base",
            "current",
            "+1",
            "-1",
            "+9",
            "-9",
            "lbl@head",
            "lbl@base",
            "lbl@+1",
            "other@-2",
            "a1b2+1",
            "a1b-1",
            "a1",
            "a1b",
            "nope@heads",
            "@",
            "+",
            "-0",
            "head-1",
            "heads+1",
            ":",
        ]
    ),
    st.text(alphabet="abcdef0123456789@+-:lbhe", max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(graphs(), IDENTIFIERS, st.lists(st.sampled_from(IDS), max_size=2))
def test_graph_and_identifiers_raise_only_revision_errors(
    revisions: list[Revision], identifier: str, current: list[str]
) -> None:
    try:
        graph = RevisionGraph(revisions)
    except WhimbrelError as exc:
        assert "\n" not in str(exc)
        return
    for call in (
        lambda: graph.resolve(identifier, current=current),
        lambda: graph.plan_upgrade(current, identifier),
        lambda: graph.plan_downgrade(current, identifier),
        lambda: graph.plan_stamp(current, [identifier]),
        lambda: graph.iterate(identifier, "base", current=current),
    ):
        try:
            call()
        except WhimbrelError as exc:
            assert "\n" not in str(exc)


WORDS = [
    "heads",
    "history",
    "branches",
    "show",
    "current",
    "upgrade",
    "downgrade",
    "stamp",
    "revision",
    "merge",
    "verify",
    "edit",
    "list-templates",
    "ensure-version",
    "head",
    "base",
    "+1",
    "-1",
    "-r",
    "base:head",
    ":",
    "zzzz",
    "-m",
    "msg",
    "--json",
    "-v",
    "--splice",
    "--head",
    "--rev-id",
    "x-y",
    "--purge",
    "--no-lock",
    "-x",
    "a=b",
    "a",
    "--url",
    "sqlite+aiosqlite:///other.db",
    "--resolve-dependencies",
    "-i",
    "--check-heads",
    "--bogus",
    "-q",
    "--traceback-not",
    "--depends-on",
    "--branch-label",
    "lbl",
]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5))
def test_cli_arguments_never_crash(tmp_path: Path, argv: list[str]) -> None:
    project = tmp_path / "proj"
    if not project.exists():
        runner = CliRunner()
        os.makedirs(project)
        old = os.getcwd()
        os.chdir(project)
        try:
            assert runner.invoke(app, ["init", "migrations"]).exit_code == 0
            assert (
                runner.invoke(app, ["revision", "-m", "first", "--rev-id", "aaaa1"]).exit_code == 0
            )
        finally:
            os.chdir(old)
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(project)
    try:
        result = runner.invoke(app, argv, env={"EDITOR": "true", "NO_COLOR": "1"})
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1, 2), (argv, result.output)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (argv, repr(result.exception))
    assert "Traceback" not in result.output
