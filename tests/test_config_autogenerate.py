"""The ``autogenerate`` table of the configuration: parsing, hooks, precedence."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from whimbrel.autogenerate.options import AutogenerateOptions, options_from_config
from whimbrel.cli.autogenerate_flags import settings_from_flags
from whimbrel.config import AUTOGENERATE_KEYS, AutogenerateSettings, Config, ConfigWarning
from whimbrel.configfile import _AUTOGENERATE_PARSERS
from whimbrel.errors import ConfigError

HOOKS = """\
def include_object(obj, name, type_, reflected, compare_to):
    return not name.startswith("legacy_")


def include_name(name, type_, parent_names):
    return name != "skipped"


def compare_type(column, reflected_type, metadata_type):
    return None


NOT_A_FUNCTION = 42
"""


def load(tmp_path: Path, text: str, name: str = "whimbrel.toml") -> Config:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return Config.load(path, environ={})


def test_every_key_has_a_parser_and_a_field() -> None:
    fields = tuple(f.name for f in dataclasses.fields(AutogenerateSettings))
    options = {f.name for f in dataclasses.fields(AutogenerateOptions)}
    assert fields == AUTOGENERATE_KEYS
    assert tuple(_AUTOGENERATE_PARSERS) == AUTOGENERATE_KEYS
    assert set(AUTOGENERATE_KEYS) <= options


def test_inline_table_in_whimbrel_toml(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        autogenerate = { include_schemas = true, compare_type = false, \
exclude_tables = ["tmp_*", "audit.*"], include_object = "hooks:include_object", \
line_length = 100, render_as_batch = true, user_module_prefix = "myapp.types." }
        """,
    )
    assert config.autogenerate == AutogenerateSettings(
        include_schemas=True,
        compare_type=False,
        exclude_tables=("tmp_*", "audit.*"),
        include_object="hooks:include_object",
        line_length=100,
        render_as_batch=True,
        user_module_prefix="myapp.types.",
    )


def test_sub_table_in_pyproject(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        [tool.whimbrel]
        script_location = "migrations"

        [tool.whimbrel.autogenerate]
        compare_server_default = false
        compare_comments = false
        detect_renames = false
        compare_type = "hooks:compare_type"
        include_name = "hooks:include_name"
        """,
        name="pyproject.toml",
    )
    assert config.autogenerate == AutogenerateSettings(
        compare_server_default=False,
        compare_comments=False,
        detect_renames=False,
        compare_type="hooks:compare_type",
        include_name="hooks:include_name",
    )


def test_no_table_means_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, 'script_location = "migrations"\n')
    assert config.autogenerate == AutogenerateSettings()
    assert options_from_config(config) == AutogenerateOptions()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "autogenerate = true",
            r"'autogenerate' must be a table such as \{ include_schemas = true \}, got true",
        ),
        (
            'autogenerate = { include_schemas = "yes" }',
            r"'autogenerate\.include_schemas' must be true or false, got 'yes'",
        ),
        (
            "autogenerate = { compare_type = 1 }",
            r"'autogenerate\.compare_type' must be true, false or an import path",
        ),
        (
            'autogenerate = { include_object = "hooks.include_object" }',
            r"'autogenerate\.include_object' must be an import path 'package\.module:function', "
            r"got 'hooks\.include_object' \(e\.g\. include_object = ",
        ),
        (
            'autogenerate = { exclude_tables = "tmp_*" }',
            r"'autogenerate\.exclude_tables' must be a list of non-empty strings",
        ),
        (
            "autogenerate = { line_length = 10 }",
            r"'autogenerate\.line_length' must be at least 40, got 10",
        ),
    ],
)
def test_wrong_values_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load(tmp_path, text)
    assert str(tmp_path / "whimbrel.toml") in str(caught.value)
    assert caught.value.key is not None and caught.value.key.startswith("autogenerate")


def test_unknown_sub_key_warns_with_the_closest_key(tmp_path: Path) -> None:
    with pytest.warns(ConfigWarning) as record:
        config = load(tmp_path, "autogenerate = { include_schema = true, compare_types = false }")
    messages = [str(w.message) for w in record]
    assert messages == [
        f"unknown key 'include_schema' in autogenerate of {tmp_path / 'whimbrel.toml'}; "
        "did you mean 'include_schemas'?",
        f"unknown key 'compare_types' in autogenerate of {tmp_path / 'whimbrel.toml'}; "
        "did you mean 'compare_type'?",
    ]
    assert config.warnings == tuple(messages)
    assert config.autogenerate == AutogenerateSettings()


def test_autogenerate_key_at_the_top_level_points_at_the_table(tmp_path: Path) -> None:
    with pytest.warns(ConfigWarning, match=r"did you mean 'autogenerate\.include_schemas'\?"):
        config = load(tmp_path, "include_schemas = true\n")
    assert config.autogenerate.include_schemas is None


def test_hooks_are_imported_lazily_through_prepend_sys_path(tmp_path: Path) -> None:
    (tmp_path / "src" / "myhooks").mkdir(parents=True)
    (tmp_path / "src" / "myhooks" / "__init__.py").write_text("")
    (tmp_path / "src" / "myhooks" / "ag.py").write_text(HOOKS)
    config = load(
        tmp_path,
        """\
        prepend_sys_path = ["src"]
        autogenerate = { include_object = "myhooks.ag:include_object", \
include_name = "myhooks.ag:include_name", compare_type = "myhooks.ag:compare_type" }
        """,
    )
    options = options_from_config(config)
    assert options.include_object is not None and options.include_name is not None
    assert options.include_object.__module__ == "myhooks.ag"
    assert not options.include_object(None, "legacy_users", "table", True, None)
    assert options.include_name("kept", "table", {"schema_name": None})
    assert callable(options.compare_type) and options.compare_type.__name__ == "compare_type"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nosuchpkg.hooks:include_object",
            r"^cannot import module 'nosuchpkg\.hooks' named by autogenerate\.include_object "
            r"in .*whimbrel\.toml: no module named 'nosuchpkg'; prepend_sys_path adds nothing",
        ),
        (
            "agbadhooks:missing",
            r"^autogenerate\.include_object 'agbadhooks:missing' in .*whimbrel\.toml: module "
            r"'agbadhooks' has no attribute 'missing'; check the name after the ':'$",
        ),
        (
            "agbadhooks:NOT_A_FUNCTION",
            r"^autogenerate\.include_object 'agbadhooks:NOT_A_FUNCTION' in .*whimbrel\.toml "
            r"names a int, not a function",
        ),
    ],
)
def test_a_wrong_hook_is_one_line_naming_the_key_and_file(
    tmp_path: Path, spec: str, message: str
) -> None:
    (tmp_path / "agbadhooks.py").write_text(HOOKS)
    config = load(
        tmp_path, f'prepend_sys_path = ["."]\nautogenerate = {{ include_object = "{spec}" }}\n'
    )
    if spec.startswith("nosuchpkg"):
        config.prepend_sys_path = ()
    with pytest.raises(ConfigError, match=message) as caught:
        options_from_config(config)
    assert "\n" not in str(caught.value)
    assert caught.value.key == "autogenerate.include_object"
    assert caught.value.path == tmp_path / "whimbrel.toml"


def test_command_line_flags_go_over_the_file() -> None:
    from_file = AutogenerateSettings(
        include_schemas=True, compare_type="hooks:compare_type", exclude_tables=("tmp_*",)
    )
    flags = settings_from_flags(compare_type=False, exclude_tables=["audit.*"])
    merged = from_file.overridden_by(flags)
    assert merged == AutogenerateSettings(
        include_schemas=True, compare_type=False, exclude_tables=("tmp_*", "audit.*")
    )
    assert from_file.overridden_by(settings_from_flags()) == from_file


def test_python_options_win_over_the_configuration(tmp_path: Path) -> None:
    from whimbrel.autogenerate.api import _options

    config = Config(
        script_location=tmp_path,
        autogenerate=AutogenerateSettings(include_schemas=True, compare_type=False),
        version_table="alembic_version",
    )
    assert _options(config, None).include_schemas is True
    assert _options(config, None).compare_type is False
    explicit = _options(config, AutogenerateOptions(line_length=120))
    assert explicit.include_schemas is False and explicit.compare_type is True
    assert explicit.line_length == 120
    # The version and history tables are left out whatever the options say.
    assert {"alembic_version", "whimbrel_history"} <= set(explicit.skip_tables)
    config.attributes["autogenerate_options"] = AutogenerateOptions(compare_comments=False)
    from_attributes = _options(config, None)
    assert from_attributes.compare_comments is False and from_attributes.include_schemas is False
