"""The ``whimbrel`` command line, in process, through typer's test runner.

Projects are made with the CLI itself (``init`` then ``revision``) in ``tmp_path``.
Every command is checked in text and in ``--json``; errors must be one
``whimbrel: error:`` line on stderr with the right exit code and no traceback.
"""

from __future__ import annotations

import io
import json
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
from typer.testing import CliRunner, Result

from whimbrel._version import __version__
from whimbrel.cli import output
from whimbrel.cli.app import app
from whimbrel.config import mask_url
from whimbrel.errors import ConfigError, UnknownRevisionError, UsageError

A, B, C, D, E = "aaaa0001", "bbbb0002", "cccc0003", "dddd0004", "eeee0005"
SECRET = "s3cr3t-pw"
SECRET_URL = f"postgresql+asyncpg://scott:{SECRET}@db.example.com:5432/shop"
# The commands this suite covers; the help must list these and every other visible one.
COMMANDS = (
    "init",
    "list-templates",
    "revision",
    "merge",
    "heads",
    "branches",
    "history",
    "show",
    "edit",
)


def _visible_commands() -> tuple[str, ...]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return tuple(name for name, cmd in group.commands.items() if not cmd.hidden)


VISIBLE = _visible_commands()
# Whatever the developer's shell has set must not leak into the tests.
CLEAN_ENV: dict[str, str | None] = {
    "WHIMBREL_CONFIG": None,
    "WHIMBREL_URL": None,
    "VISUAL": None,
    "EDITOR": None,
}

runner = CliRunner()


def run(
    *args: str | Path, env: Mapping[str, str | None] | None = None, catch: bool = True
) -> Result:
    return runner.invoke(
        app,
        [str(a) for a in args],
        env={**CLEAN_ENV, **(env or {})},
        catch_exceptions=catch,
        prog_name="whimbrel",
    )


def ok(result: Result) -> str:
    """Assert success with nothing on stderr and return stdout."""
    assert result.exit_code == 0, result.output
    assert result.exception is None, result.output
    assert result.stderr == "", result.stderr
    assert "\x1b" not in result.output
    return result.stdout


def error(result: Result, code: int = 1) -> str:
    """Assert a one-line error and the exit code; return the message."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("whimbrel: error: "), lines[0]
    return lines[0].removeprefix("whimbrel: error: ")


def as_json(result: Result) -> Any:
    return json.loads(ok(result))


def init(root: Path) -> Path:
    config = root / "whimbrel.toml"
    ok(run("-c", config, "init", "migrations"))
    return config


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """An initialised project without revisions; the path of its configuration."""
    return init(tmp_path)


@pytest.fixture
def linear(empty: Path) -> Path:
    """A <- B <- C."""
    ok(run("-c", empty, "revision", "-m", "create users", "--rev-id", A))
    ok(run("-c", empty, "revision", "-m", "add email", "--rev-id", B))
    ok(run("-c", empty, "revision", "-m", "add index", "--rev-id", C))
    return empty


@pytest.fixture
def forked(empty: Path) -> Path:
    """A <- B (labelled core) and A <- C."""
    ok(run("-c", empty, "revision", "-m", "root", "--rev-id", A))
    ok(run("-c", empty, "revision", "-m", "core one", "--rev-id", B, "--branch-label", "core"))
    ok(run("-c", empty, "revision", "-m", "side", "--rev-id", C, "--head", A, "--splice"))
    return empty


def versions(config: Path) -> Path:
    return config.parent / "migrations" / "versions"


# ---------------------------------------------------------------- global options


def test_version() -> None:
    assert ok(run("--version")) == f"whimbrel {__version__}\n"


def test_help_lists_every_command() -> None:
    text = ok(run("--help"))
    assert text.startswith("Usage: whimbrel ")
    assert set(COMMANDS) <= set(VISIBLE)
    for name in VISIBLE:
        assert f"\n  {name} " in text
    # The underscore alias works but is not listed.
    assert "list_templates" not in text
    assert ok(run("-h")) == text


def test_no_arguments_shows_help() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Commands:" in result.output


def test_unknown_option_is_bad_usage(linear: Path) -> None:
    result = run("-c", linear, "heads", "--bogus")
    assert result.exit_code == 2
    assert "No such option: --bogus" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_unknown_command_is_bad_usage() -> None:
    result = run("upgrayedd")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_missing_argument_is_bad_usage(linear: Path) -> None:
    result = run("-c", linear, "show")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_config_option_with_relative_path(linear: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(linear.parent.parent)
    relative = Path(linear.parent.name) / linear.name
    assert ok(run("-c", relative, "heads")) == f"{C} (head)\n"
    assert ok(run("--config", relative, "heads")) == f"{C} (head)\n"


def test_whimbrel_config_env(
    linear: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert ok(run("heads", env={"WHIMBREL_CONFIG": str(linear)})) == f"{C} (head)\n"
    # -c wins over the environment.
    message = error(run("-c", "missing.toml", "heads", env={"WHIMBREL_CONFIG": str(linear)}))
    assert str(elsewhere / "missing.toml") in message


def test_config_found_walking_up(linear: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(versions(linear))
    assert ok(run("heads")) == f"{C} (head)\n"


def test_missing_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    message = error(run("heads"))
    assert message.startswith("no Whimbrel configuration found")
    assert "whimbrel init" in message
    message = error(run("-c", tmp_path / "nope.toml", "history"))
    assert f"{tmp_path / 'nope.toml'} does not exist" in message
    env_message = error(run("heads", env={"WHIMBREL_CONFIG": str(tmp_path / "gone.toml")}))
    assert "$WHIMBREL_CONFIG" in env_message


def test_invalid_config_value(empty: Path) -> None:
    empty.write_text(empty.read_text() + "\ntruncate_slug_length = 0\n")
    message = error(run("-c", empty, "heads"))
    assert "'truncate_slug_length' must be at least 1" in message


def test_config_warning_is_one_line(linear: Path) -> None:
    linear.write_text(linear.read_text() + '\nscript_locaton = "elsewhere"\n')
    result = run("-c", linear, "heads")
    assert result.exit_code == 0
    assert result.stdout == f"{C} (head)\n"
    assert result.stderr == (
        f"whimbrel: warning: unknown key 'script_locaton' in {linear}; "
        "did you mean 'script_location'?\n"
    )
    # Warnings go to stderr, so JSON on stdout stays parseable.
    result = run("-c", linear, "heads", "--json")
    assert [h["revision"] for h in json.loads(result.stdout)["heads"]] == [C]
    assert result.stderr.startswith("whimbrel: warning: unknown key 'script_locaton'")
    # -q prints only errors.
    quiet = run("-q", "-c", linear, "heads")
    assert quiet.exit_code == 0
    assert quiet.output == ""


def test_quiet_suppresses_output_but_not_errors(empty: Path) -> None:
    result = run("-q", "-c", empty, "revision", "-m", "silent", "--rev-id", A)
    assert ok(result) == ""
    assert (versions(empty) / f"{A}_silent.py").exists()
    for args in (["heads"], ["history"], ["show", "head"], ["heads", "--json"]):
        assert ok(run("--quiet", "-c", empty, *args)) == ""
    assert ok(run("-q", "list-templates")) == ""
    assert error(run("-q", "-c", empty, "show", "ffff9999")).startswith("no revision")


def test_bad_x_argument_is_bad_usage(linear: Path) -> None:
    message = error(run("-c", linear, "-x", "novalue", "heads"), code=2)
    assert "-x argument 'novalue' is not of the form key=value" in message
    assert ok(run("-c", linear, "-x", "data=true", "-x", "k=v", "heads")) == f"{C} (head)\n"


# --------------------------------------------------------------------- tracebacks


def test_no_traceback_by_default(linear: Path) -> None:
    result = run("-c", linear, "show", "ffff9999")
    message = error(result)
    assert message == (
        "no revision or branch label matches 'ffff9999'; run 'whimbrel history' to list revisions"
    )


def test_traceback_option_lets_the_exception_through(linear: Path) -> None:
    result = run("--traceback", "-c", linear, "show", "ffff9999")
    assert result.exit_code == 1
    assert isinstance(result.exception, UnknownRevisionError)
    assert result.exception.identifier == "ffff9999"
    assert "whimbrel: error:" not in result.output
    with pytest.raises(UsageError, match="needs a colon"):
        run("--traceback", "-c", linear, "history", "-r", "ffff", catch=False)


def test_traceback_option_for_a_config_error(tmp_path: Path) -> None:
    result = run("--traceback", "-c", tmp_path / "nope.toml", "heads")
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigError)
    assert result.exception.path == tmp_path / "nope.toml"


# ----------------------------------------------------------------------- init


def test_init_text(tmp_path: Path) -> None:
    config = tmp_path / "whimbrel.toml"
    text = ok(run("-c", config, "init", "migrations"))
    lines = text.splitlines()
    assert f"  created {tmp_path / 'migrations'}" in lines
    assert f"  created {tmp_path / 'migrations' / 'script.py.tmpl'}" in lines
    assert f"  created {config}" in lines
    assert lines[-1] == (
        f"New project from template 'default': edit {config} (url, target_metadata), "
        "then 'whimbrel revision -m ...'."
    )
    assert config.is_file()
    assert ok(run("-c", config, "heads")) == ""


def test_init_json(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    data = as_json(
        run(
            "-c",
            tmp_path / "pyproject.toml",
            "init",
            "db",
            "--template",
            "pyproject",
            "--package",
            "--json",
        )
    )
    assert data["directory"] == str(tmp_path / "db")
    assert data["config_file"] == str(tmp_path / "pyproject.toml")
    assert data["template"] == "pyproject"
    assert str(tmp_path / "db" / "__init__.py") in data["created"]
    assert str(tmp_path / "db" / "versions" / "__init__.py") in data["created"]
    assert all(Path(p).exists() for p in data["created"])
    assert "[tool.whimbrel]" in (tmp_path / "pyproject.toml").read_text()


def test_init_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ok(run("init", "-t", "default", "migrations"))
    assert (tmp_path / "whimbrel.toml").is_file()
    assert (tmp_path / "migrations" / "versions").is_dir()


def test_init_errors(empty: Path) -> None:
    message = error(run("-c", empty, "init", "other"))
    assert f"{empty} already exists" in message
    message = error(run("-c", empty.parent / "sub" / "whimbrel.toml", "init", "x", "-t", "nope"))
    assert message.startswith("unknown template 'nope'; the templates are default, pyproject")
    assert not (empty.parent / "sub").exists()


def test_list_templates() -> None:
    text = ok(run("list-templates"))
    lines = text.splitlines()
    assert lines[0] == "Available templates:"
    assert any(line.split()[0] == "default" for line in lines[1:3])
    assert any(line.split()[0] == "pyproject" for line in lines[1:3])
    assert lines[-1] == "whimbrel init --template NAME DIRECTORY"
    assert ok(run("list_templates")) == text
    data = as_json(run("list-templates", "--json"))
    assert {t["name"] for t in data} == {"default", "pyproject"}
    assert all(t["description"] for t in data)


# ------------------------------------------------------------------- revision


def test_revision_text(empty: Path) -> None:
    text = ok(run("-c", empty, "revision", "-m", "Create users", "--rev-id", A))
    path = versions(empty) / f"{A}_create_users.py"
    assert text == f"Generated {path} ({A})\n"
    assert path.is_file()
    assert 'revision: str = "aaaa0001"' in path.read_text()


def test_revision_json(linear: Path) -> None:
    data = as_json(run("-c", linear, "revision", "-m", "more", "--json"))
    assert data["down_revisions"] == [C]
    assert data["message"] == "more"
    assert data["is_head"] is True and data["is_base"] is False
    assert data["branch_labels"] == [] and data["depends_on"] == []
    assert Path(data["path"]).is_file()
    assert data["path"].endswith(f"{data['revision']}_more.py")
    assert set(data) == {
        "revision",
        "down_revisions",
        "branch_labels",
        "depends_on",
        "message",
        "path",
        "doc",
        "create_date",
        "is_head",
        "is_base",
        "is_branch_point",
        "is_merge_point",
        "children",
    }


def test_revision_options(forked: Path) -> None:
    base = as_json(
        run(
            "-c",
            forked,
            "revision",
            "--head",
            "base",
            "--rev-id",
            D,
            "--branch-label",
            "x",
            "--json",
        )
    )
    assert base["down_revisions"] == [] and base["branch_labels"] == ["x"]
    dep = as_json(
        run(
            "-c",
            forked,
            "revision",
            "--head",
            "core@head",
            "--rev-id",
            E,
            "--depends-on",
            "x",
            "--depends-on",
            "cccc",
            "--json",
        )
    )
    assert dep["down_revisions"] == [B]
    assert dep["depends_on"] == ["x", C]


def test_revision_version_path(empty: Path) -> None:
    empty.write_text(
        empty.read_text() + '\nversion_locations = ["migrations/versions", "migrations/extra"]\n'
    )
    (empty.parent / "migrations" / "extra").mkdir()
    data = as_json(
        run("-c", empty, "revision", "--rev-id", A, "--version-path", "migrations/extra", "--json")
    )
    assert data["path"] == str(empty.parent / "migrations" / "extra" / f"{A}.py")
    message = error(run("-c", empty, "revision", "--rev-id", B, "--version-path", "nowhere"))
    assert "is not a configured version location" in message


def test_revision_with_several_heads_needs_head(forked: Path) -> None:
    message = error(run("-c", forked, "revision", "-m", "which"))
    assert message.startswith("'head' is ambiguous")
    assert sorted(p.name for p in versions(forked).glob("*.py")) == sorted(
        [f"{A}_root.py", f"{B}_core_one.py", f"{C}_side.py"]
    )
    ok(run("-c", forked, "revision", "-m", "which", "--head", "core@head"))


def test_error_messages_are_not_mangled_by_url_masking(forked: Path) -> None:
    # Bug: the CLI passes every error message through mask_url(), which reads a
    # message holding ':' then '@' as "user:password@host" and hides what lies between:
    # "'head' is ambiguous:***@head' or a revision id, ...".
    message = error(run("-c", forked, "revision", "-m", "which"))
    assert message == (
        f"'head' is ambiguous: there are 2 heads ({B}, {C}); name one with 'label@head' "
        "or a revision id, use 'heads' for all, or 'whimbrel merge heads' to join them"
    )


def test_revision_non_head_needs_splice(linear: Path) -> None:
    message = error(run("-c", linear, "revision", "--head", A))
    assert "--splice" in message
    data = as_json(run("-c", linear, "revision", "--head", A, "--splice", "--json"))
    assert data["down_revisions"] == [A]


def test_revision_errors(linear: Path) -> None:
    assert "no revision or branch label matches 'ffff9999'" in error(
        run("-c", linear, "revision", "--head", "ffff9999")
    )
    assert "already exists" in error(run("-c", linear, "revision", "--rev-id", B))
    assert "may not be empty or contain" in error(
        run("-c", linear, "revision", "--rev-id", "a-b"), code=2
    )
    assert "already used" in error(
        run("-c", linear, "revision", "--head", "base", "--branch-label", A)
    )
    assert "reserved identifier" in error(
        run("-c", linear, "revision", "--rev-id", "head"), code=2
    )
    assert "reserved identifier" in error(
        run("-c", linear, "revision", "--branch-label", "heads"), code=2
    )


# ---------------------------------------------------------------------- merge


def test_merge_text(forked: Path) -> None:
    text = ok(run("-c", forked, "merge", "-m", "join", "--rev-id", D))
    assert text == f"Generated {versions(forked) / f'{D}_join.py'} ({D})\n"
    assert ok(run("-c", forked, "heads")) == f"{D} (core) (head) (mergepoint)\n"


def test_merge_json(forked: Path) -> None:
    data = as_json(
        run("-c", forked, "merge", C, "core", "--rev-id", D, "--branch-label", "j", "--json")
    )
    assert data["down_revisions"] == [C, B]
    assert data["is_merge_point"] is True
    assert "j" in data["branch_labels"]


def test_merge_needs_two(linear: Path) -> None:
    message = error(run("-c", linear, "merge"), code=2)
    assert message.startswith("nothing to merge: heads resolves to cccc0003")


# ---------------------------------------------------------------------- heads


def test_heads_text(forked: Path) -> None:
    assert ok(run("-c", forked, "heads")).splitlines() == [
        f"{B} (core) (head)",
        f"{C} (head)",
    ]


def test_heads_verbose(forked: Path) -> None:
    text = ok(run("-c", forked, "heads", "-v"))
    assert text.count("Rev: ") == 2
    assert text.startswith(f"Rev: {B} (core) (head)\n")
    assert f"\n\nRev: {C} (head)\n" in text
    assert f"Parent: {A}" in text
    assert "Branch names: core" in text
    assert f"Path: {versions(forked) / f'{B}_core_one.py'}" in text
    assert "    core one" in text
    assert ok(run("-c", forked, "heads", "--verbose")) == text


def test_heads_json(forked: Path) -> None:
    data = as_json(run("-c", forked, "heads", "--json"))
    assert data["resolve_dependencies"] is False
    assert [h["revision"] for h in data["heads"]] == [B, C]
    assert data["heads"][0]["branch_labels"] == ["core"]
    assert all(h["is_head"] and h["down_revisions"] == [A] for h in data["heads"])


def test_heads_resolve_dependencies(empty: Path) -> None:
    ok(run("-c", empty, "revision", "--rev-id", A, "--branch-label", "core"))
    ok(run("-c", empty, "revision", "--rev-id", B, "--head", "base", "--depends-on", "core"))
    assert ok(run("-c", empty, "heads")).splitlines() == [
        f"{A} (core) (head)",
        f"{B} (head) (depends on core)",
    ]
    assert ok(run("-c", empty, "heads", "--resolve-dependencies")).splitlines() == [
        f"{B} (head) (depends on core)"
    ]
    data = as_json(run("-c", empty, "heads", "--resolve-dependencies", "--json"))
    assert data["resolve_dependencies"] is True
    assert [h["revision"] for h in data["heads"]] == [B]
    assert data["heads"][0]["depends_on"] == ["core"]


# ------------------------------------------------------------------- branches


def test_branches_text(forked: Path) -> None:
    assert ok(run("-c", forked, "branches")).splitlines() == [
        f"{A} (branchpoint)",
        f"          -> {B} (core) (head), core one",
        f"          -> {C} (head), side",
    ]
    verbose = ok(run("-c", forked, "branches", "-v"))
    assert f"Rev: {A} (branchpoint)" in verbose
    assert f"Branches into: {B}, {C}" in verbose
    assert f"          -> {C} (head), side" in verbose


def test_branches_json(forked: Path) -> None:
    data = as_json(run("-c", forked, "branches", "--json"))
    (point,) = data["branch_points"]
    assert point["revision"]["revision"] == A
    assert point["revision"]["is_branch_point"] is True
    assert point["revision"]["children"] == [B, C]
    assert [c["revision"] for c in point["children"]] == [B, C]


def test_branches_of_a_line(linear: Path) -> None:
    assert ok(run("-c", linear, "branches")) == ""
    assert as_json(run("-c", linear, "branches", "--json")) == {"branch_points": []}


# -------------------------------------------------------------------- history


def test_history_text(linear: Path) -> None:
    assert ok(run("-c", linear, "history")).splitlines() == [
        f"{B} -> {C} (head), add index",
        f"{A} -> {B}, add email",
        f"<base> -> {A}, create users",
    ]


def test_history_merge_text(forked: Path) -> None:
    ok(run("-c", forked, "merge", "--rev-id", D, "-m", "join"))
    assert ok(run("-c", forked, "history")).splitlines()[0] == (
        f"({B}, {C}) -> {D} (core) (head) (mergepoint), join"
    )


@pytest.mark.parametrize(
    ("rev_range", "expected"),
    [
        (f"{A}:{B}", [B, A]),
        (f":{B}", [B, A]),
        (f"{B}:", [C, B]),
        ("bbbb:head", [C, B]),
        (":", [C, B, A]),
    ],
)
def test_history_ranges(linear: Path, rev_range: str, expected: list[str]) -> None:
    data = as_json(run("-c", linear, "history", "-r", rev_range, "--json"))
    assert [r["revision"] for r in data["revisions"]] == expected
    text = ok(run("-c", linear, "history", "--rev-range", rev_range))
    assert [line.split(" -> ")[1].split()[0].rstrip(",") for line in text.splitlines()] == (
        expected
    )


def test_history_json(linear: Path) -> None:
    data = as_json(run("-c", linear, "history", "--json"))
    assert data["lower"] == "base" and data["upper"] == "heads"
    assert [r["revision"] for r in data["revisions"]] == [C, B, A]
    assert data["revisions"][2]["is_base"] is True
    assert data["revisions"][1]["children"] == [C]
    data = as_json(run("-c", linear, "history", "-r", f"{B}:", "--json"))
    assert data["lower"] == B and data["upper"] == "heads"


def test_history_verbose(linear: Path) -> None:
    text = ok(run("-c", linear, "history", "-v"))
    assert text.count("Rev: ") == 3
    assert text.index(f"Rev: {C}") < text.index(f"Rev: {B}") < text.index(f"Rev: {A}")
    assert "Parent: <base>" in text


def test_history_range_errors(linear: Path) -> None:
    message = error(run("-c", linear, "history", "-r", B), code=2)
    assert message == f"history range {B!r} needs a colon: start:end, start: or :end"
    message = error(run("-c", linear, "history", "-r", f"{C}:{A}"))
    assert "is not an ancestor of" in message
    assert "older:newer" in message
    assert "no revision" in error(run("-c", linear, "history", "-r", "ffff9999:"))


# ----------------------------------------------------------------------- show


def test_show_text(linear: Path) -> None:
    text = ok(run("-c", linear, "show", "head"))
    path = versions(linear) / f"{C}_add_index.py"
    lines = text.splitlines()
    assert lines[:3] == [f"Rev: {C} (head)", f"Parent: {B}", f"Path: {path}"]
    assert lines[3] == ""
    assert lines[4] == "    add index"
    assert f"    Revision ID: {C}" in lines


def test_show_several(forked: Path) -> None:
    text = ok(run("-c", forked, "show", "heads"))
    assert text.count("Rev: ") == 2
    assert ok(run("-c", forked, "show", "core@head")).startswith(f"Rev: {B} (core) (head)\n")
    data = as_json(run("-c", forked, "show", "aaaa", "core", "--json"))
    assert [r["revision"] for r in data["revisions"]] == [A, B]
    assert data["revisions"][0]["is_branch_point"] is True
    assert data["revisions"][0]["children"] == [B, C]


def test_show_errors(forked: Path) -> None:
    assert error(run("-c", forked, "show", "ffff9999")).startswith(
        "no revision or branch label matches 'ffff9999'"
    )
    assert "ambiguous" in error(run("-c", forked, "show", "head"))
    assert "names no revision" in error(run("-c", forked, "show", "base"), code=2)


# ----------------------------------------------------------------------- edit


def editor_command(tmp_path: Path, exit_code: int = 0) -> tuple[str, Path]:
    record = tmp_path / "edited.txt"
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(sys.argv[1] + '\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", record


def test_edit(linear: Path, tmp_path: Path) -> None:
    editor, record = editor_command(tmp_path)
    ok(run("-c", linear, "edit", env={"EDITOR": editor}))
    ok(run("-c", linear, "edit", "aaaa", env={"VISUAL": editor}))
    assert record.read_text().splitlines() == [
        str(versions(linear) / f"{C}_add_index.py"),
        str(versions(linear) / f"{A}_create_users.py"),
    ]


def test_edit_renders_its_result(linear: Path, tmp_path: Path) -> None:
    # Bug: `whimbrel edit` throws its EditResult away. output.render() has an
    # EditResult branch ("edited PATH") that nothing reaches, and edit is the one
    # command without --json (STYLE.md: "--json everywhere").
    editor, _ = editor_command(tmp_path)
    path = versions(linear) / f"{C}_add_index.py"
    assert ok(run("-c", linear, "edit", env={"EDITOR": editor})) == f"edited {path}\n"
    data = as_json(run("-c", linear, "edit", B, "--json", env={"EDITOR": editor}))
    assert data == {
        "revision": B,
        "path": str(versions(linear) / f"{B}_add_email.py"),
        "editor": editor,
    }


def test_edit_errors(linear: Path, tmp_path: Path) -> None:
    message = error(run("-c", linear, "edit"))
    assert message == "no editor: set $EDITOR (or $VISUAL) and try again"
    failing, _ = editor_command(tmp_path, exit_code=4)
    assert "exited with code 4" in error(run("-c", linear, "edit", env={"EDITOR": failing}))
    assert "no revision" in error(run("-c", linear, "edit", "ffff9999", env={"EDITOR": failing}))


# ------------------------------------------------------------ secrets in output


def test_url_option_is_never_echoed(tmp_path: Path, linear: Path) -> None:
    results = [
        run("--url", SECRET_URL, "-c", tmp_path / "nope.toml", "heads"),
        run("--url", SECRET_URL, "-c", linear, "show", "ffff9999"),
        run("--url", SECRET_URL, "-c", linear, "heads"),
        run("--url", SECRET_URL, "-c", linear, "heads", "--json"),
        run("-c", linear, "history", "-r", "x", env={"WHIMBREL_URL": SECRET_URL}),
    ]
    for result in results:
        assert SECRET not in result.output
    assert [r.exit_code for r in results] == [1, 1, 0, 0, 2]


def test_url_in_an_error_message_is_masked(linear: Path) -> None:
    message = error(run("-c", linear, "revision", "--rev-id", SECRET_URL), code=2)
    assert SECRET not in message
    assert "scott:***@db.example.com" in message


def test_url_in_the_config_is_never_shown(empty: Path) -> None:
    text = empty.read_text().replace("sqlite+aiosqlite:///app.db", SECRET_URL)
    empty.write_text(text + f'\nsqlalchemy = "{SECRET_URL}"\n')
    result = run("-c", empty, "heads")
    assert result.exit_code == 0
    assert "did you mean 'url'?" in result.stderr
    assert SECRET not in result.output
    empty.write_text(text + "\ntimezone = 7\n")
    message = error(run("-c", empty, "heads"))
    assert "'timezone' must be a string" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "url",
    [
        # Neither reaches the network: an unknown dialect, then a port that is no number.
        f"nosuchdialect://scott:{SECRET}@db.example.com/shop",
        f"postgresql+asyncpg://scott:{SECRET}@db.example.com:notaport/shop",
    ],
)
@pytest.mark.parametrize("source", ["config", "option", "env"])
def test_database_url_in_an_error_is_masked(empty: Path, url: str, source: str) -> None:
    args: list[str | Path] = ["-c", empty]
    env: dict[str, str | None] = {}
    if source == "config":
        empty.write_text(empty.read_text().replace("sqlite+aiosqlite:///app.db", url))
    elif source == "option":
        args += ["--url", url]
    else:
        env["WHIMBREL_URL"] = url
    message = error(run(*args, "current", env=env))
    assert message.startswith("cannot use database URL ")
    assert "scott:***@db.example.com" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (SECRET_URL, "postgresql+asyncpg://scott:***@db.example.com:5432/shop"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("mysql://root@localhost/db", "mysql://root@localhost/db"),
        ("postgresql://u:p%40ss@h/db?password=x", "postgresql://u:***@h/db?password=***"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


# --------------------------------------------------------------------- colour


def test_no_colour_in_captured_output(forked: Path) -> None:
    for args in (["heads"], ["history"], ["branches"], ["show", "heads"]):
        assert "\x1b" not in ok(run("-c", forked, *args))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert output.use_colour() is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert output.use_colour() is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert output.use_colour() is False


def test_masking_keeps_the_punctuation_after_a_url(empty: Path) -> None:
    # Bug: the colon after the URL was read as part of its database name and came back
    # quoted: "cannot connect to postgresql+asyncpg://scott:***@127.0.0.1:1/shop%3A [Errno".
    url = f"postgresql+asyncpg://scott:{SECRET}@127.0.0.1:1/shop"
    message = error(run("-c", empty, "--url", url, "current"))
    assert "scott:***@127.0.0.1:1/shop: " in message
    assert "%3A" not in message
    assert SECRET not in message
