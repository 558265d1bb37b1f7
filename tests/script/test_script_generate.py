from __future__ import annotations

import ast
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from whimbrel.errors import CommandError, ConfigError, UsageError
from whimbrel.script.directory import ScriptDirectory, parse_script
from whimbrel.script.hooks import HookSpec
from whimbrel.script.templates import make_slug, render_revision

NOW = datetime(2026, 11, 24, 10, 5, 7, 123456)


@pytest.fixture
def location(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    return path


def test_generate_base_revision(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(
        rev_id="1a2b3c4d5e6f", message="Add orders table", down_revisions=(), now=NOW
    )
    assert script.path == location / "versions" / "1a2b3c4d5e6f_add_orders_table.py"
    assert script.id == "1a2b3c4d5e6f"
    assert script.down_revisions == ()
    assert script.message == "Add orders table"
    assert script.create_date == "2026-11-24 10:05:07.123456"
    assert script.upgrade_takes_op is False
    assert script.downgrade_takes_op is False
    text = script.path.read_text()
    assert text.startswith('"""Add orders table\n\nRevision ID: 1a2b3c4d5e6f\nRevises: None\n')
    assert "from whimbrel import op\n" in text
    assert 'revision: str = "1a2b3c4d5e6f"\n' in text
    assert "down_revision: str | Sequence[str] | None = None\n" in text
    assert "def upgrade() -> None:\n    pass\n" in text
    assert "def downgrade() -> None:\n    pass\n" in text
    compile(text, str(script.path), "exec")
    assert [s.id for s in scripts.scripts()] == ["1a2b3c4d5e6f"]


def test_generated_ids_are_random_hex(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    first = scripts.generate_revision(rev_id=None, message="one", down_revisions=())
    second = scripts.generate_revision(rev_id=None, message="two", down_revisions=[first.id])
    for script in (first, second):
        assert len(script.id) == 12
        int(script.id, 16)
    assert second.down_revisions == (first.id,)
    assert first.id != second.id


def test_round_trip_labels_depends_and_merge(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(
        rev_id="m1",
        message="merge heads",
        down_revisions=["a1", "b2"],
        branch_labels=["feature"],
        depends_on=["c3", "d4"],
        now=NOW,
    )
    text = script.path.read_text()
    assert 'down_revision: str | Sequence[str] | None = ("a1", "b2")\n' in text
    assert 'branch_labels: str | Sequence[str] | None = "feature"\n' in text
    assert 'depends_on: str | Sequence[str] | None = ("c3", "d4")\n' in text
    assert "Revises: a1, b2\n" in text
    assert script.down_revisions == ("a1", "b2")
    assert script.revision.branch_labels == ("feature",)
    assert script.revision.depends_on == ("c3", "d4")


@pytest.mark.parametrize(
    "message",
    [
        'He said "hi"',
        'ends with a quote"',
        "ends with an apostrophe'",
        'triple """ inside',
        "triple ''' inside",
        "back\\slash \\n not a newline",
        "unicode: café ñ 日本",
        "bell\x07 and carriage\rreturn",
        '""""',
    ],
)
def test_messages_round_trip(location: Path, message: str) -> None:
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(rev_id="r1", message=message, down_revisions=())
    assert script.message == message.splitlines()[0].strip()
    assert script.doc is not None and script.doc.startswith(message)


def test_bodies_imports_and_async_template(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(
        rev_id="r1",
        message="bodies",
        down_revisions=(),
        upgrade_body='op.add_column("t", sa.Column("c", sa.Integer()))\nif True:\n    x = 1',
        downgrade_body="    op.drop_column('t', 'c')\n",
        imports=["import datetime", "", "from decimal import Decimal"],
    )
    text = script.path.read_text()
    tree = ast.parse(text)
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    assert len(upgrade.body) == 2
    assert "    if True:\n        x = 1\n" in text
    assert "    op.drop_column('t', 'c')\n" in text
    assert "import datetime\nfrom decimal import Decimal\n" in text


def test_project_template_wins(location: Path) -> None:
    (location / "script.py.tmpl").write_text(
        '"""${message}"""\n'
        "revision = '${up_revision}'\n"
        "down_revision = ${down_revision}\n"
        "# cost: $$5 created ${create_date}\n"
        "async def upgrade(op):\n    ${upgrades}\n"
    )
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(
        rev_id="r2", message="custom", down_revisions=["r1"], now=NOW
    )
    assert script.upgrade_is_async and script.upgrade_takes_op
    assert not script.has_downgrade
    assert "# cost: $5 created 2026-11-24 10:05:07.123456\n" in script.path.read_text()


@pytest.mark.parametrize(
    ("template", "match"),
    [("x = ${nope}\n", r"unknown placeholder \$\{nope\}"), ("x = $\n", "malformed")],
)
def test_broken_project_template(location: Path, template: str, match: str) -> None:
    (location / "script.py.tmpl").write_text(template)
    scripts = ScriptDirectory(script_location=location)
    with pytest.raises(CommandError, match=match):
        scripts.generate_revision(rev_id="r1", message="m", down_revisions=())
    assert not (location / "versions").exists() or not list((location / "versions").iterdir())


@pytest.mark.parametrize(
    ("file_template", "expected"),
    [
        ("%(rev)s_%(slug)s", "abc_add_a_table.py"),
        (
            "%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d%(second).2d_%(rev)s",
            "20261124_100507_abc.py",
        ),
        ("%(epoch)s_%(rev)s", f"{int(NOW.timestamp())}_abc.py"),
    ],
)
def test_file_template_tokens(location: Path, file_template: str, expected: str) -> None:
    scripts = ScriptDirectory(script_location=location, file_template=file_template)
    script = scripts.generate_revision(
        rev_id="abc", message="Add a table!", down_revisions=(), now=NOW
    )
    assert script.path.name == expected


def test_empty_message_gives_no_trailing_underscore(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(rev_id="abc", message=None, down_revisions=())
    assert script.path.name == "abc.py"
    assert script.message == "empty message"


@pytest.mark.parametrize(
    ("file_template", "match"),
    [
        ("%(rev)s_%(bogus)s", "unknown token 'bogus'"),
        ("%(rev)d", "not a valid %-format"),
        ("%(rev)s/%(slug)s", "not a file name"),
    ],
)
def test_bad_file_template(location: Path, file_template: str, match: str) -> None:
    scripts = ScriptDirectory(script_location=location, file_template=file_template)
    with pytest.raises(ConfigError, match=match) as info:
        scripts.generate_revision(rev_id="abc", message="x", down_revisions=(), now=NOW)
    assert info.value.key == "file_template"


@pytest.mark.parametrize(
    ("message", "length", "slug"),
    [
        ("Add orders table", 40, "add_orders_table"),
        ("Add orders table", 12, "add_orders"),
        ("Add orders table", 10, "add_orders"),
        ("Add orders table", 9, "add"),
        ("Supercalifragilistic", 5, "super"),
        ("  Hello,   World!! -- v2.0 ", 40, "hello_world_v2_0"),
        ("snake_case_words here", 40, "snake_case_words_here"),
        ("", 40, ""),
        (None, 40, ""),
    ],
)
def test_slug(message: str | None, length: int, slug: str) -> None:
    assert make_slug(message, length) == slug


def test_slug_truncation_in_file_name(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location, truncate_slug_length=12)
    script = scripts.generate_revision(
        rev_id="abc", message="Add orders table for shop", down_revisions=()
    )
    assert script.path.name == "abc_add_orders.py"
    assert script.message == "Add orders table for shop"


def test_timezone(location: Path) -> None:
    scripts = ScriptDirectory(
        script_location=location, timezone="Asia/Tokyo", file_template="%(hour)d_%(rev)s"
    )
    aware = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    script = scripts.generate_revision(rev_id="t1", message="x", down_revisions=(), now=aware)
    assert script.create_date == "2026-01-01 09:00:00.000000+09:00"
    assert script.path.name == "9_t1.py"
    naive = scripts.generate_revision(
        rev_id="t2", message="x", down_revisions=(), now=datetime(2026, 1, 1, 3)
    )
    assert naive.create_date == "2026-01-01 03:00:00.000000+09:00"
    current = scripts.generate_revision(rev_id="t3", message="x", down_revisions=())
    assert current.create_date is not None and current.create_date.endswith("+09:00")


def test_unknown_timezone(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="Mars/Olympus") as info:
        scripts.generate_revision(rev_id="t1", message="x", down_revisions=())
    assert info.value.key == "timezone"


def test_refuses_to_overwrite(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location, file_template="%(slug)s")
    first = scripts.generate_revision(rev_id="a1", message="same", down_revisions=())
    before = first.path.read_text()
    with pytest.raises(CommandError, match="already exists"):
        scripts.generate_revision(rev_id="b2", message="same", down_revisions=["a1"])
    assert first.path.read_text() == before


@pytest.mark.parametrize("rev_id", ["a-b", "a b", "", "a/b", "../x", "a@b"])
def test_bad_rev_id(location: Path, rev_id: str) -> None:
    scripts = ScriptDirectory(script_location=location)
    with pytest.raises(UsageError, match="letters, digits and underscores"):
        scripts.generate_revision(rev_id=rev_id, message="x", down_revisions=())


def test_duplicate_rev_id(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    scripts.generate_revision(rev_id="a1", message="x", down_revisions=())
    with pytest.raises(UsageError, match="already used"):
        scripts.generate_revision(rev_id="a1", message="y", down_revisions=())


def test_several_version_locations(location: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "v_one", tmp_path / "v_two"
    scripts = ScriptDirectory(script_location=location, version_locations=[first, second])
    base = scripts.generate_revision(rev_id="a1", message="base", down_revisions=())
    assert base.path.parent == first
    other = scripts.generate_revision(
        rev_id="b1", message="other base", down_revisions=(), version_path=second
    )
    assert other.path.parent == second
    child = scripts.generate_revision(rev_id="b2", message="child", down_revisions=["b1"])
    assert child.path.parent == second
    orphan = scripts.generate_revision(rev_id="c1", message="c", down_revisions=["zz"])
    assert orphan.path.parent == first
    relative = scripts.generate_revision(
        rev_id="c2",
        message="c",
        down_revisions=(),
        version_path=second / ".." / "v_two",
    )
    assert relative.path.parent == second
    with pytest.raises(CommandError, match="not a configured version location"):
        scripts.generate_revision(
            rev_id="d1", message="d", down_revisions=(), version_path=tmp_path / "v_three"
        )
    assert not (tmp_path / "v_three").exists()
    assert sorted(s.id for s in scripts.scripts()) == ["a1", "b1", "b2", "c1", "c2"]


def test_generated_file_is_cached(location: Path) -> None:
    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(rev_id="a1", message="x", down_revisions=())
    assert scripts.scripts() == [script]
    assert parse_script(script.path) == script


def test_post_write_hook_runs_before_parsing(location: Path, tmp_path: Path) -> None:
    hook_script = tmp_path / "rename.py"
    hook_script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('before hook', 'after hook'))\n"
    )
    scripts = ScriptDirectory(
        script_location=location,
        post_write_hooks=[
            HookSpec(
                name="rewrite",
                type="exec",
                target=sys.executable,
                options=f"{hook_script} REVISION_SCRIPT_FILENAME",
            )
        ],
    )
    script = scripts.generate_revision(rev_id="a1", message="before hook", down_revisions=())
    assert script.message == "after hook"


def test_render_revision_single_string_sequences() -> None:
    text = render_revision(
        "${down_revision}|${branch_labels}|${depends_on}|${revises}",
        rev_id="x",
        message=None,
        down_revisions="abc",
        branch_labels=("it's",),
        depends_on=('q"uote', "b"),
        create_date="now",
    )
    assert text == """"abc"|"it's"|('q"uote', "b")|abc"""


def test_from_config(tmp_path: Path) -> None:
    from whimbrel.config import Config, PostWriteHook

    hook = PostWriteHook(name="h", type="module", target="ruff")
    config = Config(
        script_location=tmp_path / "m",
        version_locations=(tmp_path / "v",),
        recursive_version_locations=True,
        file_template="%(rev)s",
        truncate_slug_length=7,
        timezone="UTC",
        post_write_hooks=(hook,),
    )
    scripts = ScriptDirectory.from_config(config)
    assert scripts.script_location == tmp_path / "m"
    assert scripts.version_paths == (tmp_path / "v",)
    assert scripts.recursive_version_locations is True
    assert scripts.file_template == "%(rev)s"
    assert scripts.truncate_slug_length == 7
    assert scripts.timezone == "UTC"
    assert scripts.post_write_hooks == (hook,)
    default = ScriptDirectory.from_config(Config(script_location=tmp_path / "m"))
    assert default.version_paths == (tmp_path / "m" / "versions",)


def test_default_template_output_is_tidy(location: Path) -> None:
    import subprocess

    scripts = ScriptDirectory(script_location=location)
    script = scripts.generate_revision(
        rev_id="a1",
        message="tidy",
        down_revisions=(),
        upgrade_body='op.execute(sa.text("select 1"))',
        downgrade_body='op.execute(sa.text("select 2"))',
    )
    assert "from whimbrel import op\n\n# Revision identifiers" in script.path.read_text()
    for args in (
        ["check", "--isolated", "--no-cache", "--select", "E,F,I,W,UP"],
        ["format", "--isolated", "--no-cache", "--check"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, str(script.path)],
            capture_output=True,
            text=True,
            check=False,
            # From a user's project, where whimbrel is a third-party package.
            cwd=location,
        )
        assert done.returncode == 0, done.stdout + done.stderr
