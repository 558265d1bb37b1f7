"""The ``script.py.tmpl`` adopt writes, and its notes about env.py and post-write hooks."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

import pytest
from adopt_support import package_dir
from alembic import util as alembic_util

import whimbrel.adopt.writer
from whimbrel.adopt import AdoptResult, adopt_sync
from whimbrel.adopt.convert import HISTORY_TABLE
from whimbrel.adopt.template import plan_template, translate_mako
from whimbrel.config import Config
from whimbrel.errors import CommandError
from whimbrel.script.templates import render_revision, revision_template

ALEMBIC_TEMPLATES = package_dir("alembic", "templates")
INI = "[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///a.db\n"
ENV_PY = """\
from alembic import context
from myapp.models import Base

config = context.config
target_metadata = Base.metadata
"""


def project(root: Path, *, mako: str | None = None, env: str = ENV_PY, ini: str = INI) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text(ini)
    (root / "migrations" / "env.py").write_text(env)
    if mako is not None:
        (root / "migrations" / "script.py.mako").write_text(mako)
    return root


def note(result: AdoptResult, topic: str) -> tuple[str, str, int | None]:
    found = [n for n in result.notes if n.topic == topic]
    assert len(found) == 1, [str(n) for n in result.notes]
    return found[0].kind, found[0].message, found[0].line


def stock_mako(name: str) -> str:
    return (ALEMBIC_TEMPLATES / name / "script.py.mako").read_text()


# -------------------------------------------------------------- script.py.mako


@pytest.mark.parametrize("name", ["generic", "async", "pyproject", "pyproject_async"])
def test_alembic_stock_templates_translate_to_what_alembic_renders(
    name: str, tmp_path: Path
) -> None:
    mako = stock_mako(name)
    template = translate_mako(mako)
    # Any: template_to_file takes them as **kw next to a bool keyword.
    values: dict[str, Any] = {
        "message": "add users",
        "up_revision": "ae1027a6acf1",
        "create_date": "2026-01-05 10:00:00",
        "imports": "from sqlalchemy.dialects import postgresql",
        "upgrades": 'op.execute("SELECT 1")',
        "downgrades": 'op.execute("SELECT 2")',
    }
    by_whimbrel = render_revision(
        template,
        rev_id=values["up_revision"],
        message=values["message"],
        down_revisions=("1975ea83b712", "3d9f2c81a0b4"),
        depends_on=("0b3e8d2f9c1a",),
        create_date=values["create_date"],
        imports=(values["imports"],),
        upgrade_body=values["upgrades"],
        downgrade_body=values["downgrades"],
    )
    # Rendered as `alembic revision` renders it (ScriptDirectory.generate_revision).
    alembic_util.template_to_file(
        ALEMBIC_TEMPLATES / name / "script.py.mako",
        tmp_path / "by_alembic.py",
        "utf-8",
        **values,
        down_revision=("1975ea83b712", "3d9f2c81a0b4"),
        branch_labels=None,
        depends_on="0b3e8d2f9c1a",
        comma=alembic_util.format_as_comma,
    )
    by_alembic = (tmp_path / "by_alembic.py").read_text()
    assert ast.dump(ast.parse(by_whimbrel)) == ast.dump(ast.parse(by_alembic))
    assert "from alembic import op" in by_whimbrel


def test_generic_mako_becomes_script_py_tmpl(tmp_path: Path) -> None:
    root = project(tmp_path, mako=stock_mako("generic"))
    result = adopt_sync(root)
    written = root / "migrations" / "script.py.tmpl"
    assert result.revision_template == written
    assert written.read_text() == translate_mako(stock_mako("generic"))
    assert revision_template(root / "migrations") == (written.read_text(), str(written))
    kind, message, _ = note(result, "script.py.mako")
    assert kind == "converted"
    assert "from whimbrel import op" in message  # how to switch once Alembic is retired


def test_dollars_and_mako_comments(tmp_path: Path) -> None:
    mako = stock_mako("generic").replace(
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\n## a Mako comment, dropped\nPRICE = '$5'\n",
    )
    template = translate_mako(mako)
    assert "Mako comment" not in template
    rendered = render_revision(
        template, rev_id="a1", message="m", down_revisions=(), create_date="d"
    )
    assert "PRICE = '$5'" in rendered


@pytest.mark.parametrize(
    ("mako", "line", "reason"),
    [
        (stock_mako("multidb"), 1, "tag"),
        ("x = 1\n% if imports:\n${imports}\n% endif\n", 2, "control line"),
        ("x = 1\n<%! import re %>\n", 2, "tag"),
        ("x = 1\ny = ${config.get_main_option('x')}\n", 2, "expression"),
        ("x = 1 + \\\n  2\n", 1, "continuation"),
    ],
)
def test_mako_logic_gets_whimbrels_default_with_alembics_op(
    tmp_path: Path, mako: str, line: int, reason: str
) -> None:
    root = project(tmp_path, mako=mako)
    result = adopt_sync(root)
    kind, message, found_line = note(result, "script.py.mako")
    assert kind == "manual" and reason in message and "by hand" in message
    text = (root / "migrations" / "script.py.tmpl").read_text()
    assert "from alembic import op" in text and "from whimbrel import" not in text
    assert found_line == line


def test_no_mako_gets_whimbrels_default_with_alembics_op(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = adopt_sync(root)
    text = (root / "migrations" / "script.py.tmpl").read_text()
    default, _ = revision_template(tmp_path / "nowhere")
    assert text == default.replace("from whimbrel import op", "from alembic import op")
    assert text != default
    assert note(result, "script.py.tmpl")[0] == "converted"


@pytest.mark.parametrize(
    ("own", "kind"),
    [("from alembic import op\n", "info"), ("from whimbrel import op\n", "manual")],
)
def test_an_existing_script_py_tmpl_is_kept(tmp_path: Path, own: str, kind: str) -> None:
    root = project(tmp_path, mako=stock_mako("generic"))
    (root / "migrations" / "script.py.tmpl").write_text(own)
    result = adopt_sync(root)
    assert (root / "migrations" / "script.py.tmpl").read_text() == own
    assert result.revision_template is None
    assert note(result, "script.py.tmpl")[0] == kind


def test_dry_run_writes_no_template(tmp_path: Path) -> None:
    root = project(tmp_path, mako=stock_mako("generic"))
    result = adopt_sync(root, write=False)
    assert result.revision_template == root / "migrations" / "script.py.tmpl"
    assert not result.revision_template.exists()


def test_no_script_directory_no_template(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text(INI.replace("migrations", "missing"))
    result = adopt_sync(tmp_path)
    assert result.revision_template is None
    assert plan_template(tmp_path / "missing").text is None


def test_the_template_is_removed_when_the_configuration_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, mako=stock_mako("generic"))

    def fail(target: Path, existing: str | None, text: str) -> None:
        raise CommandError(f"cannot write {target}")

    monkeypatch.setattr(whimbrel.adopt.writer, "write", fail)
    with pytest.raises(CommandError):
        adopt_sync(root)
    assert not (root / "migrations" / "script.py.tmpl").exists()
    adopt_sync(root, write=False)  # and adopt can run again


# ----------------------------------------------------------------- the notes


def test_history_table_is_whimbrels_default() -> None:
    assert HISTORY_TABLE == Config().history_table


@pytest.mark.parametrize(
    ("env", "kind", "line"),
    [
        (ENV_PY, "manual", None),
        (ENV_PY.replace("Base.metadata", "None"), "info", None),
        (
            ENV_PY
            + textwrap.dedent(
                """\

                def include_name(name, type_, parent_names):
                    return True


                context.configure(target_metadata=target_metadata, include_name=include_name)
                """
            ),
            "manual",
            11,  # the configure() call that passes it
        ),
    ],
)
def test_env_py_include_name_note(tmp_path: Path, env: str, kind: str, line: int | None) -> None:
    result = adopt_sync(project(tmp_path, env=env))
    found_kind, message, found_line = note(result, "env.py: whimbrel_history")
    assert (found_kind, found_line) == (kind, line)
    assert HISTORY_TABLE in message
    assert ("passes include_name already" in message) == (line is not None)


def test_carried_hooks_say_they_are_required(tmp_path: Path) -> None:
    ini = INI + "[post_write_hooks]\nhooks = fmt\nfmt.type = module\nfmt.module = ruff\n"
    result = adopt_sync(project(tmp_path, ini=ini))
    kind, message, _ = note(result, "post_write_hooks: fmt")
    assert kind == "info"
    assert "optional = true" in message and "exit 1" in message
    assert not result.settings.post_write_hooks[0].optional
