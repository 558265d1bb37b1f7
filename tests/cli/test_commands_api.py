"""The commands that need no database, through the Python API (``whimbrel.command``).

Every project is made the way a user makes one: ``command.init`` writes the layout and
``command.revision`` writes real revision files, which the tests then read back.
"""

from __future__ import annotations

import ast
import shlex
import sys
from pathlib import Path

import pytest

from whimbrel import command
from whimbrel.config import Config, ConfigWarning
from whimbrel.errors import (
    CommandError,
    MultipleHeadsError,
    RangeError,
    UnknownRevisionError,
    UsageError,
)
from whimbrel.results import (
    BranchesResult,
    EditResult,
    HeadsResult,
    HistoryResult,
    InitResult,
    RevisionInfo,
    ShowResult,
    TemplateInfo,
    to_data,
)

A, B, C, D, E = "aaaa0001", "bbbb0002", "cccc0003", "dddd0004", "eeee0005"


# --------------------------------------------------------------------------- helpers


async def make_project(root: Path) -> Config:
    """``init`` a project in ``root`` and load its configuration."""
    await command.init(Config(config_file=root / "whimbrel.toml"), "migrations")
    return Config.load(root / "whimbrel.toml")


async def linear(root: Path) -> Config:
    """A project with three revisions in a line: A <- B <- C."""
    cfg = await make_project(root)
    await command.revision(cfg, message="create users", rev_id=A)
    await command.revision(cfg, message="add email", rev_id=B)
    await command.revision(cfg, message="add index", rev_id=C)
    return cfg


async def forked(root: Path) -> Config:
    """A <- B (labelled ``core``) and A <- C: two heads, A a branch point."""
    cfg = await make_project(root)
    await command.revision(cfg, message="root", rev_id=A)
    await command.revision(cfg, message="core one", rev_id=B, branch_label="core")
    await command.revision(cfg, message="side", rev_id=C, head=A, splice=True)
    return cfg


def header(path: Path) -> dict[str, object]:
    """The module-level literal assignments of a revision file, parsed without running it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    values: dict[str, object] = {"__doc__": ast.get_docstring(tree)}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            assert node.value is not None
            values[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.FunctionDef):
            values[f"def {node.name}"] = True
    return values


def ids(infos: tuple[RevisionInfo, ...]) -> list[str]:
    return [info.revision for info in infos]


# ------------------------------------------------------------------ list_templates


@pytest.mark.asyncio
async def test_list_templates() -> None:
    templates = await command.list_templates()
    assert all(isinstance(t, TemplateInfo) for t in templates)
    names = [t.name for t in templates]
    assert names == sorted(names)
    assert {"default", "pyproject"} <= set(names)
    assert all(t.description for t in templates)
    # The config argument is accepted and ignored.
    assert await command.list_templates(Config()) == templates


# --------------------------------------------------------------------------- init


@pytest.mark.asyncio
async def test_init_default_template(tmp_path: Path) -> None:
    result = await command.init(Config(config_file=tmp_path / "whimbrel.toml"), "migrations")
    assert isinstance(result, InitResult)
    assert result.directory == tmp_path / "migrations"
    assert result.config_file == tmp_path / "whimbrel.toml"
    assert result.template == "default"
    for path in (
        tmp_path / "migrations",
        tmp_path / "migrations" / "versions",
        tmp_path / "migrations" / "script.py.tmpl",
        tmp_path / "whimbrel.toml",
    ):
        assert path in result.created
        assert path.exists()
    assert all(p.exists() for p in result.created)
    assert not (tmp_path / "migrations" / "__init__.py").exists()
    cfg = Config.load(result.config_file)
    assert cfg.script_location == tmp_path / "migrations"
    assert cfg.version_paths == (tmp_path / "migrations" / "versions",)
    assert cfg.warnings == ()


@pytest.mark.asyncio
async def test_init_without_config_writes_into_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = await command.init(None, "db")
    assert result.directory == tmp_path / "db"
    assert result.config_file == tmp_path / "whimbrel.toml"
    assert Config.load(cwd=tmp_path).script_location == tmp_path / "db"


@pytest.mark.asyncio
async def test_init_pyproject_template_and_package(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    result = await command.init(
        Config(config_file=tmp_path / "pyproject.toml"),
        tmp_path / "migrations",
        template="pyproject",
        package=True,
    )
    assert result.template == "pyproject"
    assert result.config_file == tmp_path / "pyproject.toml"
    # The existing pyproject is extended, not created.
    assert result.config_file not in result.created
    text = result.config_file.read_text()
    assert text.startswith('[project]\nname = "shop"\n')
    assert "[tool.whimbrel]" in text
    for init_file in (
        tmp_path / "migrations" / "__init__.py",
        tmp_path / "migrations" / "versions" / "__init__.py",
    ):
        assert init_file in result.created
        assert init_file.read_text() == ""
    assert Config.load(tmp_path / "pyproject.toml").script_location == tmp_path / "migrations"


@pytest.mark.asyncio
async def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "keep.txt").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        await command.init(Config(config_file=tmp_path / "whimbrel.toml"), "migrations")
    assert not (tmp_path / "whimbrel.toml").exists()


@pytest.mark.asyncio
async def test_init_refuses_an_existing_config(tmp_path: Path) -> None:
    await make_project(tmp_path)
    with pytest.raises(CommandError, match="already exists"):
        await command.init(Config(config_file=tmp_path / "whimbrel.toml"), "other")
    assert not (tmp_path / "other").exists()


@pytest.mark.asyncio
async def test_init_unknown_template(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unknown template 'nope'"):
        await command.init(
            Config(config_file=tmp_path / "whimbrel.toml"), "migrations", template="nope"
        )
    assert not (tmp_path / "migrations").exists()


# ----------------------------------------------------------------------- revision


@pytest.mark.asyncio
async def test_first_revision_is_a_base(tmp_path: Path) -> None:
    cfg = await make_project(tmp_path)
    info = await command.revision(cfg, message="Create users table")
    assert len(info.revision) == 12
    int(info.revision, 16)  # a hex id
    assert info.down_revisions == ()
    assert info.is_base and info.is_head
    assert not info.is_branch_point and not info.is_merge_point
    assert info.message == "Create users table"
    assert info.children == ()
    assert info.create_date is not None
    assert (
        info.path
        == tmp_path / "migrations" / "versions" / f"{info.revision}_create_users_table.py"
    )
    values = header(info.path)
    assert values["revision"] == info.revision
    assert values["down_revision"] is None
    assert values["branch_labels"] is None
    assert values["depends_on"] is None
    assert values["def upgrade"] and values["def downgrade"]
    doc = values["__doc__"]
    assert isinstance(doc, str)
    assert doc.startswith("Create users table")
    assert f"Revision ID: {info.revision}" in doc
    compile(info.path.read_text(), str(info.path), "exec")


@pytest.mark.asyncio
async def test_revision_follows_the_head(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    result = await command.heads(cfg)
    assert ids(result.heads) == [C]
    info = result.heads[0]
    assert info.down_revisions == (B,)
    assert not info.is_base
    assert header(info.path)["down_revision"] == B
    history = await command.history(cfg)
    assert ids(history.revisions) == [C, B, A]
    # The parent is no longer a head and knows its child.
    (b_info,) = (await command.show(cfg, B)).revisions
    assert not b_info.is_head
    assert b_info.children == (C,)


@pytest.mark.asyncio
async def test_two_revisions_with_generated_ids_differ(tmp_path: Path) -> None:
    cfg = await make_project(tmp_path)
    first = await command.revision(cfg, message="one")
    second = await command.revision(cfg, message="two")
    assert first.revision != second.revision
    assert second.down_revisions == (first.revision,)


@pytest.mark.asyncio
async def test_revision_without_message(tmp_path: Path) -> None:
    cfg = await make_project(tmp_path)
    info = await command.revision(cfg, rev_id=A)
    assert info.path.name == f"{A}.py"
    assert header(info.path)["revision"] == A


@pytest.mark.asyncio
async def test_head_base_starts_a_second_base(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    info = await command.revision(
        cfg, message="audit", rev_id=D, head="base", branch_label="audit"
    )
    assert info.down_revisions == ()
    assert info.is_base and info.is_head
    assert info.branch_labels == ("audit",)
    assert header(info.path)["branch_labels"] == "audit"
    assert sorted(ids((await command.heads(cfg)).heads)) == [C, D]


@pytest.mark.asyncio
async def test_head_label_at_head(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    info = await command.revision(cfg, message="core two", rev_id=D, head="core@head")
    assert info.down_revisions == (B,)
    # The label covers the revisions after the one declaring it.
    assert info.branch_labels == ("core",)
    assert header(info.path)["branch_labels"] is None
    assert sorted(ids((await command.heads(cfg)).heads)) == [C, D]


@pytest.mark.asyncio
async def test_head_with_several_heads_is_an_error(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    with pytest.raises(MultipleHeadsError) as caught:
        await command.revision(cfg, message="which")
    assert set(caught.value.heads) == {B, C}
    with pytest.raises(MultipleHeadsError):
        await command.revision(cfg, message="which", head="heads")
    assert len((await command.history(cfg)).revisions) == 3


@pytest.mark.asyncio
async def test_non_head_needs_splice(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(CommandError, match="--splice") as caught:
        await command.revision(cfg, message="fork", head=A)
    assert not isinstance(caught.value, UsageError)
    assert len((await command.history(cfg)).revisions) == 3

    info = await command.revision(cfg, message="fork", rev_id=D, head=A, splice=True)
    assert info.down_revisions == (A,)
    assert info.is_head
    assert sorted(ids((await command.heads(cfg)).heads)) == [C, D]
    (a_info,) = (await command.show(cfg, A)).revisions
    assert a_info.is_branch_point
    assert set(a_info.children) == {B, D}


@pytest.mark.asyncio
async def test_head_by_prefix(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    info = await command.revision(cfg, rev_id=D, head="cccc")
    assert info.down_revisions == (C,)


@pytest.mark.asyncio
async def test_unknown_head(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UnknownRevisionError) as caught:
        await command.revision(cfg, head="ffff9999")
    assert caught.value.identifier == "ffff9999"


@pytest.mark.asyncio
async def test_several_branch_labels(tmp_path: Path) -> None:
    cfg = await make_project(tmp_path)
    info = await command.revision(cfg, rev_id=A, branch_label=["core", "main"])
    assert info.branch_labels == ("core", "main")
    assert header(info.path)["branch_labels"] == ("core", "main")


@pytest.mark.asyncio
async def test_taken_branch_label_is_an_error(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    with pytest.raises(CommandError, match="'core' is already used by revision bbbb0002"):
        await command.revision(cfg, head="base", branch_label="core")
    with pytest.raises(CommandError, match="already used"):
        await command.revision(cfg, head="base", branch_label=A)


@pytest.mark.asyncio
async def test_depends_on_keeps_labels_and_resolves_prefixes(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    info = await command.revision(
        cfg, message="needs both", rev_id=D, head=C, depends_on=["core", "aaaa"]
    )
    assert info.depends_on == ("core", A)
    assert header(info.path)["depends_on"] == ("core", A)
    by_prefix = await command.revision(cfg, rev_id=E, head="base", depends_on="bbbb")
    assert by_prefix.depends_on == (B,)
    assert header(by_prefix.path)["depends_on"] == B
    # The files still form a valid graph.
    assert len((await command.history(cfg)).revisions) == 5


@pytest.mark.asyncio
async def test_depends_on_unknown_revision(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UnknownRevisionError):
        await command.revision(cfg, depends_on="ffff9999")
    assert len((await command.history(cfg)).revisions) == 3


@pytest.mark.asyncio
async def test_rev_id_already_used(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(CommandError, match="already exists"):
        await command.revision(cfg, rev_id=B)


@pytest.mark.parametrize("rev_id", ["a-b", "a@b", "a:b", "a+b", " ", "has space"])
@pytest.mark.asyncio
async def test_malformed_rev_id(tmp_path: Path, rev_id: str) -> None:
    cfg = await make_project(tmp_path)
    with pytest.raises(UsageError):
        await command.revision(cfg, rev_id=rev_id)
    assert not list((tmp_path / "migrations" / "versions").glob("*.py"))


@pytest.mark.parametrize("rev_id", ["base", "head", "heads", "current"])
@pytest.mark.asyncio
async def test_reserved_rev_id(tmp_path: Path, rev_id: str) -> None:
    cfg = await make_project(tmp_path)
    with pytest.raises(UsageError, match="reserved identifier"):
        await command.revision(cfg, rev_id=rev_id)
    assert not list((tmp_path / "migrations" / "versions").glob("*.py"))


@pytest.mark.asyncio
async def test_rev_id_that_is_a_branch_label(tmp_path: Path) -> None:
    """Found by QA: the file was written, and every later command failed."""
    cfg = await forked(tmp_path)
    before = sorted(p.name for p in (tmp_path / "migrations" / "versions").glob("*.py"))
    with pytest.raises(CommandError, match="'core' is already a branch label of revision"):
        await command.revision(cfg, rev_id="core", head=C)
    with pytest.raises(UsageError, match="cannot also be one of its branch labels"):
        await command.revision(cfg, rev_id="dddd0004", head=C, branch_label="dddd0004")
    after = sorted(p.name for p in (tmp_path / "migrations" / "versions").glob("*.py"))
    assert after == before
    assert sorted(ids((await command.heads(cfg)).heads)) == [B, C]


@pytest.mark.parametrize(
    ("label", "match"),
    [
        ("heads", "reserved identifier"),
        ("base", "reserved identifier"),
        ("-1", "reserved identifier"),
        ("+2", "reserved identifier"),
        ("a@b", "may not be empty or contain @"),
        ("a:b", "may not be empty or contain @"),
        ("two words", "may not be empty or contain @"),
        ("", "may not be empty or contain @"),
    ],
)
@pytest.mark.asyncio
async def test_unusable_branch_label(tmp_path: Path, label: str, match: str) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UsageError, match=match):
        await command.revision(cfg, branch_label=label)
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 3


@pytest.mark.asyncio
async def test_branch_label_given_twice(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UsageError, match="'x' is given twice"):
        await command.revision(cfg, branch_label=["x", "x"])


@pytest.mark.asyncio
async def test_a_file_that_breaks_the_graph_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever slips past the checks, the project is left as it was."""
    from whimbrel.commands import scripts as scripts_module

    cfg = await linear(tmp_path)
    monkeypatch.setattr(scripts_module, "_check_new_names", lambda *args: None)
    with pytest.raises(CommandError, match="would make the revision graph invalid"):
        await command.revision(cfg, rev_id="dddd0004", branch_label=A)
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 3
    assert ids((await command.heads(cfg)).heads) == [C]


@pytest.mark.asyncio
async def test_version_path(tmp_path: Path) -> None:
    await make_project(tmp_path)
    config_file = tmp_path / "whimbrel.toml"
    config_file.write_text(
        config_file.read_text()
        + '\nversion_locations = ["migrations/versions", "migrations/audit"]\n'
    )
    (tmp_path / "migrations" / "audit").mkdir()
    cfg = Config.load(config_file)
    first = await command.revision(cfg, rev_id=A)
    assert first.path.parent == tmp_path / "migrations" / "versions"
    # Relative paths are taken from the configuration file's directory.
    audit = await command.revision(
        cfg, rev_id=B, head="base", version_path="migrations/audit", branch_label="audit"
    )
    assert audit.path == tmp_path / "migrations" / "audit" / f"{B}.py"
    assert audit.path.exists()
    # A revision after it goes next to its parent.
    after = await command.revision(cfg, rev_id=C, head="audit@head")
    assert after.path.parent == tmp_path / "migrations" / "audit"
    absolute = await command.revision(
        cfg, rev_id=D, head=A, version_path=tmp_path / "migrations" / "versions"
    )
    assert absolute.path.parent == tmp_path / "migrations" / "versions"
    with pytest.raises(CommandError, match="not a configured version location"):
        await command.revision(cfg, rev_id=E, head=D, version_path="elsewhere")
    assert sorted(ids((await command.heads(cfg)).heads)) == [C, D]


# -------------------------------------------------------------------------- merge


@pytest.mark.asyncio
async def test_merge_heads(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    info = await command.merge(cfg, message="join", rev_id=D)
    assert set(info.down_revisions) == {B, C}
    assert info.is_merge_point and info.is_head
    assert not info.is_base
    assert info.message == "join"
    assert set(header(info.path)["down_revision"]) == {B, C}  # type: ignore[call-overload]
    assert ids((await command.heads(cfg)).heads) == [D]
    # Once merged, a plain revision has one head to follow again.
    after = await command.revision(cfg, rev_id=E)
    assert after.down_revisions == (D,)


@pytest.mark.asyncio
async def test_merge_explicit_revisions_with_label(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    info = await command.merge(cfg, [C, "core@head"], rev_id=D, branch_label="joined")
    assert info.down_revisions == (C, B)
    assert "joined" in info.branch_labels
    assert header(info.path)["branch_labels"] == "joined"


@pytest.mark.asyncio
async def test_merge_needs_two_revisions(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UsageError, match="nothing to merge"):
        await command.merge(cfg)
    with pytest.raises(UsageError, match="nothing to merge"):
        await command.merge(cfg, [C, "cccc0003"])
    empty = await make_project(tmp_path / "empty")
    with pytest.raises(UsageError, match="base"):
        await command.merge(empty)
    assert len((await command.history(cfg)).revisions) == 3


# -------------------------------------------------------------- heads and branches


@pytest.mark.asyncio
async def test_heads_of_an_empty_project(tmp_path: Path) -> None:
    cfg = await make_project(tmp_path)
    result = await command.heads(cfg)
    assert result == HeadsResult(heads=(), resolve_dependencies=False)


@pytest.mark.asyncio
async def test_heads_resolve_dependencies(tmp_path: Path) -> None:
    cfg = await make_project(tmp_path)
    await command.revision(cfg, rev_id=A, branch_label="core")
    await command.revision(cfg, rev_id=B, head="base", branch_label="reports", depends_on="core")
    result = await command.heads(cfg)
    assert result.resolve_dependencies is False
    assert sorted(ids(result.heads)) == [A, B]
    resolved = await command.heads(cfg, resolve_dependencies=True)
    assert resolved.resolve_dependencies is True
    assert ids(resolved.heads) == [B]
    assert resolved.heads[0].depends_on == ("core",)


@pytest.mark.asyncio
async def test_branches(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    result = await command.branches(cfg)
    assert isinstance(result, BranchesResult)
    (point,) = result.branch_points
    assert point.revision.revision == A
    assert point.revision.is_branch_point
    assert sorted(ids(point.children)) == [B, C]
    assert all(child.is_head for child in point.children)
    assert (await command.branches(await linear(tmp_path / "lin"))).branch_points == ()


# ------------------------------------------------------------------------ history


@pytest.mark.parametrize(
    ("rev_range", "expected", "lower", "upper"),
    [
        (None, [C, B, A], "base", "heads"),
        (f"{A}:{C}", [C, B, A], A, C),
        (f"{B}:{C}", [C, B], B, C),
        (f":{B}", [B, A], "base", B),
        (f"{B}:", [C, B], B, "heads"),
        ("bbbb:", [C, B], "bbbb", "heads"),
        (":", [C, B, A], "base", "heads"),
        (f"{B}:{B}", [B], B, B),
        ("base:head", [C, B, A], "base", "head"),
    ],
)
@pytest.mark.asyncio
async def test_history_ranges(
    tmp_path: Path, rev_range: str | None, expected: list[str], lower: str, upper: str
) -> None:
    cfg = await linear(tmp_path)
    result = await command.history(cfg, rev_range=rev_range)
    assert isinstance(result, HistoryResult)
    assert ids(result.revisions) == expected
    assert (result.lower, result.upper) == (lower, upper)


@pytest.mark.asyncio
async def test_history_range_without_colon(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UsageError, match="needs a colon"):
        await command.history(cfg, rev_range=B)


@pytest.mark.asyncio
async def test_history_reversed_range(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(RangeError, match="not an ancestor") as caught:
        await command.history(cfg, rev_range=f"{C}:{A}")
    assert caught.value.identifier == C


@pytest.mark.asyncio
async def test_history_of_a_fork_lists_both_branches(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    result = await command.history(cfg)
    assert sorted(ids(result.revisions[:2])) == [B, C]
    assert result.revisions[-1].revision == A
    only_core = await command.history(cfg, rev_range=":core@head")
    assert ids(only_core.revisions) == [B, A]


# ---------------------------------------------------------------------------- show


@pytest.mark.asyncio
async def test_show_head(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    result = await command.show(cfg, "head")
    assert isinstance(result, ShowResult)
    (info,) = result.revisions
    assert info.revision == C
    assert info.message == "add index"
    assert info.doc is not None and f"Revises: {B}" in info.doc
    assert info.path.exists()


@pytest.mark.asyncio
async def test_show_heads_and_label(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    assert sorted(ids((await command.show(cfg, "heads")).revisions)) == [B, C]
    assert ids((await command.show(cfg, "core@head")).revisions) == [B]
    assert ids((await command.show(cfg, ["core", "aaaa", B])).revisions) == [B, A]
    with pytest.raises(MultipleHeadsError):
        await command.show(cfg, "head")


@pytest.mark.asyncio
async def test_show_errors(tmp_path: Path) -> None:
    cfg = await linear(tmp_path)
    with pytest.raises(UnknownRevisionError):
        await command.show(cfg, "ffff9999")
    with pytest.raises(UsageError, match="base"):
        await command.show(cfg, "base")


# ---------------------------------------------------------------------------- edit


def recording_editor(tmp_path: Path, exit_code: int = 0) -> tuple[str, Path]:
    """An editor command that appends its argument to a file, and that file."""
    record = tmp_path / "edited.txt"
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(sys.argv[1] + '\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", record


@pytest.mark.asyncio
async def test_edit_opens_the_revision_file(tmp_path: Path) -> None:
    cfg = await linear(tmp_path / "project")
    editor, record = recording_editor(tmp_path)
    result = await command.edit(cfg, editor=editor)
    assert isinstance(result, EditResult)
    assert result.revision == C
    assert result.editor == editor
    assert result.path.name.startswith(C)
    assert record.read_text().splitlines() == [str(result.path)]
    other = await command.edit(cfg, "aaaa", editor=editor)
    assert other.revision == A
    assert record.read_text().splitlines()[-1] == str(other.path)


@pytest.mark.asyncio
async def test_edit_uses_visual_then_editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = await linear(tmp_path / "project")
    editor, record = recording_editor(tmp_path)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor)
    assert (await command.edit(cfg, B)).editor == editor
    monkeypatch.setenv("VISUAL", editor)
    monkeypatch.setenv("EDITOR", "false")
    assert (await command.edit(cfg, B)).editor == editor
    assert len(record.read_text().splitlines()) == 2


@pytest.mark.asyncio
async def test_edit_without_an_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = await linear(tmp_path)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    with pytest.raises(CommandError, match=r"no editor: set \$EDITOR"):
        await command.edit(cfg)


@pytest.mark.asyncio
async def test_edit_errors(tmp_path: Path) -> None:
    cfg = await linear(tmp_path / "project")
    failing, record = recording_editor(tmp_path, exit_code=3)
    with pytest.raises(CommandError, match="exited with code 3"):
        await command.edit(cfg, editor=failing)
    assert record.exists()
    with pytest.raises(CommandError, match="cannot start editor"):
        await command.edit(cfg, editor=str(tmp_path / "no-such-editor"))
    with pytest.raises(UsageError, match="base"):
        await command.edit(cfg, "base", editor=failing)
    with pytest.raises(UnknownRevisionError):
        await command.edit(cfg, "ffff9999", editor=failing)


# -------------------------------------------------------------- config and results


@pytest.mark.asyncio
async def test_config_with_unknown_key_warns_and_still_works(tmp_path: Path) -> None:
    await linear(tmp_path)
    config_file = tmp_path / "whimbrel.toml"
    config_file.write_text(config_file.read_text() + '\nsqlalchemy_url = "sqlite://"\n')
    with pytest.warns(ConfigWarning, match="unknown key 'sqlalchemy_url'"):
        cfg = Config.load(config_file)
    assert len(cfg.warnings) == 1
    assert ids((await command.heads(cfg)).heads) == [C]


@pytest.mark.asyncio
async def test_missing_script_directory(tmp_path: Path) -> None:
    cfg = Config(script_location=tmp_path / "nowhere")
    with pytest.raises(CommandError, match="does not exist"):
        await command.heads(cfg)


@pytest.mark.asyncio
async def test_results_are_frozen_and_serialise(tmp_path: Path) -> None:
    cfg = await forked(tmp_path)
    result = await command.heads(cfg)
    with pytest.raises(AttributeError):
        result.heads = ()  # type: ignore[misc]
    data = to_data(result)
    assert data["resolve_dependencies"] is False
    first = data["heads"][0]
    assert first["revision"] in {B, C}
    assert first["down_revisions"] == [A]
    assert first["path"] == str(result.heads[0].path)
    assert to_data(await command.list_templates())[0].keys() == {"name", "description"}
