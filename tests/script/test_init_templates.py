from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import pytest

from whimbrel.errors import CommandError
from whimbrel.script.directory import ScriptDirectory
from whimbrel.script.templates import (
    DEFAULT_URL,
    init_project,
    list_templates,
)

HOOKS = [
    {
        "name": "ruff_check",
        "type": "console_scripts",
        "entrypoint": "ruff",
        "options": "check --fix --exit-zero REVISION_SCRIPT_FILENAME",
        "optional": True,
    },
    {
        "name": "ruff_format",
        "type": "console_scripts",
        "entrypoint": "ruff",
        "options": "format REVISION_SCRIPT_FILENAME",
        "optional": True,
    },
]


def test_list_templates() -> None:
    templates = list_templates()
    assert [name for name, _ in templates] == ["default", "pyproject"]
    assert all(text and "\n" not in text for _, text in templates)


def test_default_template(tmp_path: Path) -> None:
    result = init_project(directory=tmp_path / "migrations")
    location = tmp_path / "migrations"
    config = tmp_path / "whimbrel.toml"
    assert result.config_file == config
    assert result.created == [
        location,
        location / "script.py.tmpl",
        location / "versions",
        location / "versions" / ".gitkeep",
        location / "README.md",
        config,
    ]
    data = tomllib.loads(config.read_text())
    assert data == {"script_location": "migrations", "url": DEFAULT_URL, "post_write_hooks": HOOKS}
    readme = (location / "README.md").read_text()
    assert "whimbrel.toml" in readme and "${" not in readme
    assert ScriptDirectory(script_location=location).scripts() == []


def test_default_template_round_trip(tmp_path: Path) -> None:
    init_project(directory=tmp_path / "migrations")
    scripts = ScriptDirectory(script_location=tmp_path / "migrations")
    script = scripts.generate_revision(rev_id="a1", message="first", down_revisions=())
    assert script.path.parent == tmp_path / "migrations" / "versions"
    assert [s.id for s in scripts.scripts()] == ["a1"]


def test_commented_settings_uncommented_are_top_level_keys(tmp_path: Path) -> None:
    # The commented keys sit above the hook tables: uncommented, they stay top-level.
    init_project(directory=tmp_path / "m")
    config = tmp_path / "whimbrel.toml"
    text = config.read_text()
    for key in ("target_metadata", "version_table", "autogenerate"):
        text = text.replace(f"# {key} = ", f"{key} = ")
    data = tomllib.loads(text)
    assert data["target_metadata"] == "myapp.models:Base.metadata"
    assert data["version_table"] == "whimbrel_version"
    assert data["autogenerate"]["exclude_tables"] == ["tmp_*"]
    assert [h["name"] for h in data["post_write_hooks"]] == ["ruff_check", "ruff_format"]


def test_config_dir_and_nested_directory(tmp_path: Path) -> None:
    config_dir = tmp_path / "project"
    result = init_project(directory=config_dir / "db" / "mig", config_dir=config_dir)
    assert result.config_file == config_dir / "whimbrel.toml"
    assert result.created[0] == config_dir / "db" / "mig"
    data = tomllib.loads(result.config_file.read_text())
    assert data["script_location"] == "db/mig"


def test_directory_outside_config_dir(tmp_path: Path) -> None:
    result = init_project(directory=tmp_path / "a" / "mig", config_dir=tmp_path / "b")
    data = tomllib.loads(result.config_file.read_text())
    assert data["script_location"] == "../a/mig"


def test_path_needing_escapes(tmp_path: Path) -> None:
    result = init_project(directory=tmp_path / 'we"ird\\dir')
    data = tomllib.loads(result.config_file.read_text())
    assert data["script_location"] == 'we"ird\\dir'


def test_existing_empty_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    result = init_project(directory=tmp_path / "migrations")
    assert tmp_path / "migrations" not in result.created
    assert (tmp_path / "migrations" / "versions" / ".gitkeep").is_file()


def test_pyproject_created(tmp_path: Path) -> None:
    result = init_project(directory=tmp_path / "migrations", template="pyproject")
    assert result.config_file == tmp_path / "pyproject.toml"
    assert result.config_file in result.created
    data = tomllib.loads(result.config_file.read_text())
    assert data == {
        "tool": {
            "whimbrel": {
                "script_location": "migrations",
                "url": DEFAULT_URL,
                "post_write_hooks": HOOKS,
            }
        }
    }


def test_pyproject_appended(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    original = '[project]\nname = "app"\n\n[tool.ruff]\nline-length = 99\n'
    pyproject.write_text(original)
    result = init_project(directory=tmp_path / "migrations", template="pyproject")
    assert result.config_file == pyproject
    assert pyproject not in result.created
    text = pyproject.read_text()
    assert text.startswith(original)
    data = tomllib.loads(text)
    assert data["project"] == {"name": "app"}
    assert data["tool"]["ruff"] == {"line-length": 99}
    assert data["tool"]["whimbrel"]["script_location"] == "migrations"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[tool.whimbrel]\nurl = 'x'\n", r"already has a \[tool.whimbrel\] table"),
        ("tool.whimbrel.url = 'x'\n", r"already has a \[tool.whimbrel\] table"),
        ("[project\n", "cannot read"),
        ("tool = { ruff = {} }\n", "not a plain table"),
    ],
)
def test_pyproject_errors(tmp_path: Path, content: str, match: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(content)
    with pytest.raises(CommandError, match=match):
        init_project(directory=tmp_path / "migrations", template="pyproject")
    assert pyproject.read_text() == content
    assert not (tmp_path / "migrations").exists()


def test_unknown_template(tmp_path: Path) -> None:
    with pytest.raises(
        CommandError, match="unknown template 'fancy'; the templates are default, pyproject"
    ):
        init_project(directory=tmp_path / "m", template="fancy")
    assert not (tmp_path / "m").exists()


def test_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not empty"):
        init_project(directory=tmp_path / "m")
    assert not (tmp_path / "whimbrel.toml").exists()


def test_directory_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "m").write_text("")
    with pytest.raises(CommandError, match="not a directory"):
        init_project(directory=tmp_path / "m")


def test_existing_whimbrel_toml(tmp_path: Path) -> None:
    (tmp_path / "whimbrel.toml").write_text("url = 'mine'\n")
    with pytest.raises(CommandError, match="already exists"):
        init_project(directory=tmp_path / "m")
    assert not (tmp_path / "m").exists()
    assert (tmp_path / "whimbrel.toml").read_text() == "url = 'mine'\n"


@pytest.mark.parametrize("template", ["default", "pyproject"])
def test_generated_config_loads(tmp_path: Path, template: str) -> None:
    from whimbrel.config import Config

    result = init_project(directory=tmp_path / "migrations", template=template)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = Config.load(result.config_file, environ={})
    assert config.script_location == tmp_path / "migrations"
    assert config.url == DEFAULT_URL
    assert config.version_paths == (tmp_path / "migrations" / "versions",)
    assert [(h.name, h.type, h.target, h.optional) for h in config.post_write_hooks] == [
        ("ruff_check", "console_scripts", "ruff", True),
        ("ruff_format", "console_scripts", "ruff", True),
    ]
    scripts = ScriptDirectory.from_config(config)
    assert scripts.scripts() == []


def test_packaged_templates_are_readable() -> None:
    from importlib.resources import files

    root = files("whimbrel.script").joinpath("templates")
    names = {entry.name for entry in root.iterdir()}
    assert "script.py.tmpl" in names
    init = {entry.name for entry in root.joinpath("init").iterdir()}
    assert init == {"README.md.tmpl", "whimbrel.toml.tmpl", "pyproject.toml.tmpl"}


@pytest.mark.parametrize("template", ["default", "pyproject"])
def test_settings_appended_after_init_are_read(tmp_path: Path, template: str) -> None:
    from whimbrel.config import Config

    result = init_project(directory=tmp_path / "migrations", template=template)
    with result.config_file.open("a") as f:
        f.write('target_metadata = "myapp.models:metadata"\ntruncate_slug_length = 12\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = Config.load(result.config_file, environ={})
    assert config.target_metadata == "myapp.models:metadata"
    assert config.truncate_slug_length == 12
    assert len(config.post_write_hooks) == 2


def test_setting_inside_a_hook_table_says_where_it_belongs(tmp_path: Path) -> None:
    from whimbrel.config import Config, ConfigWarning

    path = tmp_path / "whimbrel.toml"
    path.write_text(
        '[[post_write_hooks]]\nname = "f"\ntype = "exec"\nexecutable = "ruff"\n'
        'target_metadata = "myapp.models:metadata"\n'
    )
    with pytest.warns(ConfigWarning) as record:
        config = Config.load(path, environ={})
    assert [str(w.message) for w in record] == [
        f"key 'target_metadata' in post_write_hooks[0] of {path} is a top-level setting, "
        "ignored here; move it above the first [[post_write_hooks]] table"
    ]
    assert config.target_metadata is None
