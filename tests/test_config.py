from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from whimbrel.config import (
    Config,
    ConfigWarning,
    PostWriteHook,
    mask_url,
)
from whimbrel.errors import ConfigError, UsageError

NO_ENV: Mapping[str, str] = {}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(
    tmp_path: Path, text: str, *, name: str = "whimbrel.toml", environ: Mapping[str, str] = NO_ENV
) -> Config:
    return Config.load(write(tmp_path / name, text), environ=environ)


# ------------------------------------------------------------------------ discovery


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"whimbrel.toml": ""}, "whimbrel.toml", id="whimbrel-toml-at-root"),
        pytest.param(
            {"pyproject.toml": "[tool.whimbrel]\n"}, "pyproject.toml", id="pyproject-at-root"
        ),
        pytest.param(
            {"a/pyproject.toml": "[project]\nname = 'x'\n", "whimbrel.toml": ""},
            "whimbrel.toml",
            id="pyproject-without-table-skipped",
        ),
        pytest.param(
            {
                "a/pyproject.toml": "[tool.ruff]\nline-length = 99\n",
                "pyproject.toml": "[tool.whimbrel]",
            },
            "pyproject.toml",
            id="pyproject-with-other-tools-skipped",
        ),
        pytest.param(
            {"pyproject.toml": "[tool.whimbrel]\n", "whimbrel.toml": ""},
            "whimbrel.toml",
            id="whimbrel-toml-before-pyproject-in-one-dir",
        ),
        pytest.param(
            {"a/b/pyproject.toml": "[tool.whimbrel]\n", "whimbrel.toml": ""},
            "a/b/pyproject.toml",
            id="nearest-wins",
        ),
        pytest.param(
            {"a/b/c/whimbrel.toml": "", "whimbrel.toml": ""},
            "a/b/c/whimbrel.toml",
            id="in-cwd-itself",
        ),
    ],
)
def test_discovery_walks_up_from_cwd(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    cwd = tmp_path / "a" / "b" / "c"
    cwd.mkdir(parents=True, exist_ok=True)

    config = Config.load(cwd=cwd, environ=NO_ENV)

    assert config.config_file == (tmp_path / expected).resolve()


def test_discovery_reads_the_table_of_the_found_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "app"

        [tool.whimbrel]
        version_table = "app_version"
        """,
    )
    nested = tmp_path / "src" / "app"
    nested.mkdir(parents=True)

    config = Config.load(cwd=nested, environ=NO_ENV)

    assert config.version_table == "app_version"
    assert config.warnings == ()


def test_nothing_found_names_cwd_and_what_to_do(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError) as info:
        Config.load(cwd=tmp_path, environ=NO_ENV)
    message = str(info.value)
    assert f"no Whimbrel configuration found in {tmp_path.resolve()} or its parents" in message
    assert "whimbrel init" in message
    assert "-c PATH" in message


def test_cwd_defaults_to_process_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "whimbrel.toml", 'version_table = "here"\n')
    monkeypatch.chdir(tmp_path)
    assert Config.load(environ=NO_ENV).version_table == "here"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("custom.toml", 'version_table = "v"\n'),
        ("whimbrel.toml", 'version_table = "v"\n'),
        ("pyproject.toml", '[project]\nname = "x"\n[tool.whimbrel]\nversion_table = "v"\n'),
        ("pyproject.prod.toml", '[tool.whimbrel]\nversion_table = "v"\n'),
    ],
)
def test_explicit_path_of_either_kind(tmp_path: Path, name: str, text: str) -> None:
    # A decoy that discovery would pick must be ignored.
    write(tmp_path / "whimbrel.toml.d" / "whimbrel.toml", 'version_table = "decoy"\n')
    path = write(tmp_path / "conf" / name, text)

    config = Config.load(path, cwd=tmp_path / "whimbrel.toml.d", environ=NO_ENV)

    assert config.version_table == "v"
    assert config.config_file == path.resolve()


def test_whimbrel_toml_holding_only_a_tool_table_is_read_as_a_pyproject(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[tool.whimbrel]\nversion_table = "v"\n')
    assert config.version_table == "v"
    assert config.warnings == ()


def test_explicit_relative_path_is_taken_from_cwd(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "w.toml", 'history_table = "h"\n')
    config = Config.load("conf/w.toml", cwd=tmp_path, environ=NO_ENV)
    assert config.history_table == "h"
    assert config.config_file == (tmp_path / "conf" / "w.toml").resolve()


def test_explicit_pyproject_without_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.black]\nline-length = 88\n")
    with pytest.raises(ConfigError, match=r"has no \[tool\.whimbrel\] table") as info:
        Config.load(path, environ=NO_ENV)
    assert info.value.path == path.resolve()
    assert str(path.resolve()) in str(info.value)


def test_missing_explicit_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="does not exist") as info:
        Config.load(missing, environ=NO_ENV)
    assert str(missing) in str(info.value)
    assert info.value.path == missing


def test_unreadable_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        Config.load(tmp_path, environ=NO_ENV)


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "whimbrel.toml"
    path.write_bytes(b'url = "\xff"\n')
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        Config.load(path, environ=NO_ENV)


def test_whimbrel_config_env_var(tmp_path: Path) -> None:
    path = write(tmp_path / "elsewhere" / "prod.toml", 'version_table = "prod"\n')
    write(tmp_path / "whimbrel.toml", 'version_table = "discovered"\n')
    environ = {"WHIMBREL_CONFIG": str(path)}

    assert Config.load(cwd=tmp_path, environ=environ).version_table == "prod"
    explicit = write(tmp_path / "explicit.toml", 'version_table = "explicit"\n')
    assert Config.load(explicit, cwd=tmp_path, environ=environ).version_table == "explicit"
    # An empty variable counts as unset.
    assert Config.load(cwd=tmp_path, environ={"WHIMBREL_CONFIG": ""}).version_table == (
        "discovered"
    )


def test_whimbrel_config_env_var_missing_file_says_where_it_came_from(tmp_path: Path) -> None:
    environ = {"WHIMBREL_CONFIG": "gone.toml"}
    with pytest.raises(ConfigError, match=r"gone\.toml \(from \$WHIMBREL_CONFIG\) does not exist"):
        Config.load(cwd=tmp_path, environ=environ)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "whimbrel.toml", 'url = "x"\nversion_table = \n')
    with pytest.raises(ConfigError) as info:
        Config.load(path, environ=NO_ENV)
    message = str(info.value)
    assert str(path) in message
    assert "line 2" in message
    assert info.value.path == path


def test_toml_syntax_error_in_a_pyproject_found_walking_up(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.whimbrel\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        Config.load(cwd=tmp_path, environ=NO_ENV)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool = 1\n", "'tool' must be a table"),
        ("[tool]\nwhimbrel = 3\n", r"'tool.whimbrel' must be a table"),
    ],
)
def test_malformed_tool_table(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError, match=message):
        Config.load(path, environ=NO_ENV)


# --------------------------------------------------------------------------- values


def test_defaults_from_an_empty_file(tmp_path: Path) -> None:
    config = load_text(tmp_path, "")
    assert config.script_location == (tmp_path / "migrations").resolve()
    assert config.version_paths == ((tmp_path / "migrations" / "versions").resolve(),)
    assert config.version_locations == ()
    assert config.recursive_version_locations is False
    assert config.file_template == "%(rev)s_%(slug)s"
    assert config.truncate_slug_length == 40
    assert config.timezone is None
    assert config.url is None
    assert config.target_metadata is None
    assert config.version_table == "whimbrel_version"
    assert config.version_table_schema is None
    assert config.history_table == "whimbrel_history"
    assert config.transaction_per_migration is False
    assert config.prepend_sys_path == ()
    assert config.post_write_hooks == ()
    assert config.attributes == {}
    assert config.x_args == {}
    assert config.warnings == ()


def test_every_key_is_read(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        """
        script_location = "db/migrations"
        version_locations = ["db/versions", "plugins/versions"]
        recursive_version_locations = true
        file_template = "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"
        truncate_slug_length = 20
        timezone = "Europe/Paris"
        url = "sqlite+aiosqlite:///app.db"
        target_metadata = "app.models:Base.metadata"
        version_table = "v"
        version_table_schema = "meta"
        history_table = "h"
        transaction_per_migration = true
        prepend_sys_path = ["src", "."]
        """,
    )
    base = tmp_path.resolve()
    assert config.script_location == base / "db" / "migrations"
    assert config.version_locations == (base / "db/versions", base / "plugins/versions")
    assert config.version_paths == config.version_locations
    assert config.recursive_version_locations is True
    assert config.file_template == "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"
    assert config.truncate_slug_length == 20
    assert config.timezone == "Europe/Paris"
    assert config.url == "sqlite+aiosqlite:///app.db"
    assert config.target_metadata == "app.models:Base.metadata"
    assert config.version_table == "v"
    assert config.version_table_schema == "meta"
    assert config.history_table == "h"
    assert config.transaction_per_migration is True
    assert config.prepend_sys_path == (base / "src", base)
    assert config.warnings == ()


def test_paths_are_relative_to_the_config_file_not_cwd(tmp_path: Path) -> None:
    write(
        tmp_path / "proj" / "pyproject.toml",
        """
        [tool.whimbrel]
        script_location = "../shared/migrations"
        version_locations = ["versions"]
        prepend_sys_path = ["src"]

        [[tool.whimbrel.post_write_hooks]]
        name = "fmt"
        type = "exec"
        executable = "fmt"
        cwd = "tools"
        """,
    )
    cwd = tmp_path / "proj" / "deep" / "er"
    cwd.mkdir(parents=True)

    config = Config.load(cwd=cwd, environ=NO_ENV)

    proj = (tmp_path / "proj").resolve()
    assert config.script_location == tmp_path.resolve() / "shared" / "migrations"
    assert config.version_locations == (proj / "versions",)
    assert config.prepend_sys_path == (proj / "src",)
    assert config.post_write_hooks[0].cwd == proj / "tools"
    assert all(p.is_absolute() for p in (config.script_location, *config.version_paths))


def test_absolute_paths_stay_absolute(tmp_path: Path) -> None:
    target = (tmp_path / "abs" / "migrations").resolve()
    config = load_text(tmp_path / "conf", f"script_location = {str(target)!r}\n")
    assert config.script_location == target


# --------------------------------------------------------------------------- the url


@pytest.mark.parametrize(
    ("value", "environ", "expected"),
    [
        ("postgresql://${USER_}@h/db", {"USER_": "bob"}, "postgresql://bob@h/db"),
        ("${DB_URL}", {"DB_URL": "sqlite:///x.db"}, "sqlite:///x.db"),
        ("${DB_URL:-sqlite:///dev.db}", {}, "sqlite:///dev.db"),
        ("${DB_URL:-sqlite:///dev.db}", {"DB_URL": "sqlite:///p.db"}, "sqlite:///p.db"),
        ("${DB_URL:-sqlite:///dev.db}", {"DB_URL": ""}, "sqlite:///dev.db"),
        ("${DB_URL:-}", {}, ""),
        ("${EMPTY}", {"EMPTY": ""}, ""),
        (
            "postgresql+asyncpg://${U}:${P}@${H:-localhost}:${PORT:-5432}/app",
            {"U": "u", "P": "p$w", "PORT": "6543"},
            "postgresql+asyncpg://u:p$w@localhost:6543/app",
        ),
        ("sqlite:///$HOME/no-braces.db", {"HOME": "/root"}, "sqlite:///$HOME/no-braces.db"),
    ],
)
def test_url_env_expansion(
    tmp_path: Path, value: str, environ: Mapping[str, str], expected: str
) -> None:
    config = load_text(tmp_path, f"url = {value!r}\n", environ=environ)
    assert config.url == expected


def test_url_missing_variable_names_it_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "whimbrel.toml", 'url = "postgresql://u:${DB_PASSWORD}@h/db"\n')
    with pytest.raises(ConfigError) as info:
        Config.load(path, environ={"OTHER": "x"})
    message = str(info.value)
    assert "DB_PASSWORD" in message
    assert "'url'" in message
    assert str(path) in message
    assert "${DB_PASSWORD:-default}" in message
    assert info.value.key == "url"


def test_url_malformed_reference(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"malformed \$\{\.\.\.\} reference"):
        load_text(tmp_path, 'url = "postgresql://${USER@h/db"\n')


def test_url_override_skips_expanding_the_file_value(tmp_path: Path) -> None:
    config = Config.load(
        write(tmp_path / "whimbrel.toml", 'url = "${UNSET_VARIABLE}"\n'),
        url="sqlite:///cli.db",
        environ=NO_ENV,
    )
    assert config.url == "sqlite:///cli.db"


@pytest.mark.parametrize(
    ("argument", "environ", "in_file", "expected"),
    [
        ("sqlite:///arg.db", {"WHIMBREL_URL": "sqlite:///env.db"}, True, "sqlite:///arg.db"),
        (None, {"WHIMBREL_URL": "sqlite:///env.db"}, True, "sqlite:///env.db"),
        (None, {"WHIMBREL_URL": ""}, True, "sqlite:///file.db"),
        (None, {}, True, "sqlite:///file.db"),
        ("sqlite:///arg.db", {}, False, "sqlite:///arg.db"),
        (None, {"WHIMBREL_URL": "sqlite:///env.db"}, False, "sqlite:///env.db"),
        (None, {}, False, None),
    ],
)
def test_url_precedence(
    tmp_path: Path,
    argument: str | None,
    environ: Mapping[str, str],
    in_file: bool,
    expected: str | None,
) -> None:
    text = 'url = "sqlite:///file.db"\n' if in_file else ""
    path = write(tmp_path / "whimbrel.toml", text)
    assert Config.load(path, url=argument, environ=environ).url == expected


def test_environ_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHIMBREL_TEST_DB", "sqlite:///from-os.db")
    monkeypatch.delenv("WHIMBREL_URL", raising=False)
    monkeypatch.delenv("WHIMBREL_CONFIG", raising=False)
    config = Config.load(write(tmp_path / "whimbrel.toml", 'url = "${WHIMBREL_TEST_DB}"\n'))
    assert config.url == "sqlite:///from-os.db"


# --------------------------------------------------------------------------- masking

SECRET = "s3cr3t"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"postgresql+asyncpg://scott:{SECRET}@localhost/test",
            "postgresql+asyncpg://scott:***@localhost/test",
        ),
        (
            f"mysql+asyncmy://root:{SECRET}@db:3306/app?charset=utf8mb4",
            "mysql+asyncmy://root:***@db:3306/app?charset=utf8mb4",
        ),
        (f"postgresql://u:{SECRET}@ss@host/db", "postgresql://u:***@host/db"),
        (f"postgresql://u:{SECRET}/x?y@host/db", "postgresql://u:***@host/db"),
        (f"postgresql://u:{SECRET}@host:notaport/db", "postgresql://u:***@host:notaport/db"),
        (f"u:{SECRET}@host/db", "u:***@host/db"),
        (
            f"postgresql://u@h/db?password={SECRET}&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        (f"postgresql://u:{SECRET}@h/db?PWD={SECRET}", "postgresql://u:***@h/db?PWD=***"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    masked = mask_url(url)
    assert masked == expected
    assert SECRET not in masked


def test_masked_url_of_a_config(tmp_path: Path) -> None:
    assert Config().masked_url() is None
    config = load_text(
        tmp_path,
        'url = "postgresql+asyncpg://app:${PGPASSWORD}@db/app"\n',
        environ={"PGPASSWORD": SECRET},
    )
    assert config.url is not None and SECRET in config.url
    assert config.masked_url() == "postgresql+asyncpg://app:***@db/app"


def test_config_errors_never_show_the_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, f'url = "postgresql://u:{SECRET}@${{HOST}}/db"\n')
    assert SECRET not in str(info.value)


# ---------------------------------------------------------------------------- x args


@pytest.mark.parametrize(
    ("x_args", "expected"),
    [
        ((), {}),
        (["data=true"], {"data": "true"}),
        (["a=1", "b=2", "a=3"], {"a": "3", "b": "2"}),
        (["dsn=postgresql://u@h/db?x=1"], {"dsn": "postgresql://u@h/db?x=1"}),
        (["empty="], {"empty": ""}),
        ([" spaced =v "], {"spaced": "v "}),
        ("tenant=acme", {"tenant": "acme"}),
        ({"tenant": "acme"}, {"tenant": "acme"}),
    ],
)
def test_x_args(
    tmp_path: Path, x_args: Sequence[str] | Mapping[str, str], expected: dict[str, str]
) -> None:
    config = Config.load(write(tmp_path / "whimbrel.toml", ""), x_args=x_args, environ=NO_ENV)
    assert config.x_args == expected
    for key, value in expected.items():
        assert config.get_x_argument(key) == value


@pytest.mark.parametrize("item", ["novalue", "=value", ""])
def test_x_args_without_key_value_form(tmp_path: Path, item: str) -> None:
    path = write(tmp_path / "whimbrel.toml", "")
    with pytest.raises(UsageError, match="is not of the form key=value"):
        Config.load(path, x_args=["ok=1", item], environ=NO_ENV)


def test_get_x_argument_default() -> None:
    config = Config(x_args={"a": "1"})
    assert config.get_x_argument("a") == "1"
    assert config.get_x_argument("b") is None
    assert config.get_x_argument("b", "fallback") == "fallback"
    config.x_args["b"] = "2"
    assert config.get_x_argument("b") == "2"


# ------------------------------------------------------------------------ type errors


@pytest.mark.parametrize(
    ("line", "key", "fragment"),
    [
        ("script_location = 1", "script_location", "must be a string, got 1"),
        ('script_location = ""', "script_location", "must not be empty"),
        (
            'version_locations = "versions"',
            "version_locations",
            "must be a list of strings, got 'versions'",
        ),
        ('version_locations = ["a", 2]', "version_locations", "must be a list of strings"),
        ('version_locations = [""]', "version_locations", "must be a list of strings"),
        (
            'recursive_version_locations = "yes"',
            "recursive_version_locations",
            "must be true or false, got 'yes'",
        ),
        (
            "recursive_version_locations = 1",
            "recursive_version_locations",
            "must be true or false, got 1",
        ),
        ("file_template = 5", "file_template", "must be a string"),
        ('file_template = "%(rev)s_%(msg)s"', "file_template", "unknown token 'msg'"),
        ('file_template = "%(rev)s_%(slug)"', "file_template", "not a valid %-format template"),
        ('truncate_slug_length = "abc"', "truncate_slug_length", "must be an integer, got 'abc'"),
        ("truncate_slug_length = true", "truncate_slug_length", "must be an integer, got true"),
        ("truncate_slug_length = 4.5", "truncate_slug_length", "must be an integer, got 4.5"),
        ("truncate_slug_length = 0", "truncate_slug_length", "must be at least 1"),
        ("timezone = 1", "timezone", "must be a string"),
        ('timezone = "Mars/Olympus_Mons"', "timezone", "names no known time zone"),
        ('timezone = "../etc/passwd"', "timezone", "names no known time zone"),
        ('timezone = ""', "timezone", "must not be empty"),
        ('url = ["sqlite://"]', "url", "must be a string"),
        ("target_metadata = 1", "target_metadata", "must be a string"),
        (
            'target_metadata = "app.models"',
            "target_metadata",
            "must be an import path 'package.module:attr'",
        ),
        ('target_metadata = "app models:Base"', "target_metadata", "must be an import path"),
        ("version_table = false", "version_table", "must be a string, got false"),
        ('version_table = "  "', "version_table", "must not be empty"),
        ("version_table_schema = 3", "version_table_schema", "must be a string"),
        ("history_table = {}", "history_table", "must be a string, got a table"),
        (
            'transaction_per_migration = "true"',
            "transaction_per_migration",
            "must be true or false, got 'true'",
        ),
        ('prepend_sys_path = "."', "prepend_sys_path", "must be a list of strings, got '.'"),
        ('post_write_hooks = "ruff"', "post_write_hooks", "must be an array of tables"),
        ("post_write_hooks = [1]", "post_write_hooks", "must be an array of tables"),
    ],
)
def test_type_errors(tmp_path: Path, line: str, key: str, fragment: str) -> None:
    path = write(tmp_path / "whimbrel.toml", line + "\n")
    with pytest.raises(ConfigError) as info:
        Config.load(path, environ=NO_ENV)
    message = str(info.value)
    assert message.startswith(f"{path}: {key!r} ")
    assert fragment in message
    assert info.value.key == key
    assert info.value.path == path


def test_type_error_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, 'truncate_slug_length = "abc"\n')
    assert str(info.value).endswith("(e.g. truncate_slug_length = 40)")


def test_type_error_in_pyproject_names_the_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.whimbrel]\ntransaction_per_migration = 1\n")
    with pytest.raises(ConfigError) as info:
        Config.load(path, environ=NO_ENV)
    assert str(info.value).startswith(f"{path} [tool.whimbrel]: 'transaction_per_migration'")


# ----------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("script_locaton", "; did you mean 'script_location'?"),
        ("version_location", "; did you mean 'version_locations'?"),
        ("truncate_slug_len", "; did you mean 'truncate_slug_length'?"),
        ("sqlalchemy", "; did you mean 'url'?"),
        ("zzz", "; it is ignored"),
    ],
)
def test_unknown_key_warns_with_a_suggestion(tmp_path: Path, key: str, expected: str) -> None:
    path = write(tmp_path / "whimbrel.toml", f'{key} = "x"\nversion_table = "v"\n')
    with pytest.warns(ConfigWarning) as record:
        config = Config.load(path, environ=NO_ENV)
    message = f"unknown key {key!r} in {path}{expected}"
    assert [str(w.message) for w in record] == [message]
    assert config.warnings == (message,)
    assert config.version_table == "v"
    # stacklevel points at the caller of Config.load.
    assert record[0].filename == __file__


def test_unknown_key_in_pyproject(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.whimbrel]\nurl = "sqlite://"\nurll = 1\n')
    with pytest.warns(ConfigWarning, match=r"did you mean 'url'\?"):
        config = Config.load(path, environ=NO_ENV)
    assert config.warnings == (
        f"unknown key 'urll' in {path} [tool.whimbrel]; did you mean 'url'?",
    )


def test_tool_table_in_whimbrel_toml_is_explained(tmp_path: Path) -> None:
    path = write(
        tmp_path / "whimbrel.toml",
        'version_table = "v"\n[tool.whimbrel]\nhistory_table = "h"\n',
    )
    with pytest.warns(ConfigWarning, match=r"belongs in pyproject\.toml"):
        config = Config.load(path, environ=NO_ENV)
    assert config.history_table == "whimbrel_history"


def test_several_unknown_keys_each_warn(tmp_path: Path) -> None:
    path = write(tmp_path / "whimbrel.toml", "a = 1\nb = 2\n")
    with pytest.warns(ConfigWarning) as record:
        config = Config.load(path, environ=NO_ENV)
    assert len(record) == 2
    assert len(config.warnings) == 2


# -------------------------------------------------------------------------- timezone


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"])
def test_valid_timezones(tmp_path: Path, name: str) -> None:
    assert load_text(tmp_path, f'timezone = "{name}"\n').timezone == name


# ------------------------------------------------------------------- post-write hooks


def test_post_write_hooks_of_every_type(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """
        [tool.whimbrel]

        [[tool.whimbrel.post_write_hooks]]
        name = "ruff_format"
        type = "console_scripts"
        entrypoint = "ruff"
        options = "format REVISION_SCRIPT_FILENAME"

        [[tool.whimbrel.post_write_hooks]]
        name = "black"
        type = "module"
        module = "black"

        [[tool.whimbrel.post_write_hooks]]
        name = "custom"
        type = "exec"
        executable = "./bin/fmt"
        options = "--in-place 'REVISION_SCRIPT_FILENAME'"
        cwd = "."
        """,
    )
    config = Config.load(path, environ=NO_ENV)
    assert config.post_write_hooks == (
        PostWriteHook("ruff_format", "console_scripts", "ruff", "format REVISION_SCRIPT_FILENAME"),
        PostWriteHook("black", "module", "black"),
        PostWriteHook(
            "custom",
            "exec",
            "./bin/fmt",
            "--in-place 'REVISION_SCRIPT_FILENAME'",
            cwd=tmp_path.resolve(),
        ),
    )
    assert config.post_write_hooks[1].options == "REVISION_SCRIPT_FILENAME"


def test_post_write_hooks_inline_array_in_whimbrel_toml(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        'post_write_hooks = [{name = "r", type = "module", module = "ruff", options = "x"}]\n',
    )
    assert config.post_write_hooks == (PostWriteHook("r", "module", "ruff", "x"),)


@pytest.mark.parametrize(
    ("hook", "key", "fragment"),
    [
        ('type = "exec"\nexecutable = "x"', "post_write_hooks[0]", "has no 'name'"),
        ('name = "h"\nexecutable = "x"', "post_write_hooks[0]", "has no 'type'"),
        (
            'name = ""\ntype = "exec"\nexecutable = "x"',
            "post_write_hooks[0].name",
            "must not be empty",
        ),
        (
            'name = "h"\ntype = "shell"\nexecutable = "x"',
            "post_write_hooks[0].type",
            "must be one of 'exec', 'console_scripts', 'module', got 'shell'",
        ),
        (
            'name = "h"\ntype = "exec"',
            "post_write_hooks[0]",
            "is of type 'exec' and needs 'executable'",
        ),
        ('name = "h"\ntype = "console_scripts"', "post_write_hooks[0]", "needs 'entrypoint'"),
        (
            'name = "h"\ntype = "module"\nexecutable = "x"',
            "post_write_hooks[0]",
            "takes 'module', not 'executable'",
        ),
        (
            'name = "h"\ntype = "module"\nmodule = 3',
            "post_write_hooks[0].module",
            "must be a string, got 3",
        ),
        (
            'name = "h"\ntype = "exec"\nexecutable = "x"\noptions = ["a"]',
            "post_write_hooks[0].options",
            "must be a string",
        ),
        (
            'name = "h"\ntype = "exec"\nexecutable = "x"\noptions = "\'unclosed"',
            "post_write_hooks[0].options",
            "cannot be split into arguments",
        ),
        (
            'name = "h"\ntype = "exec"\nexecutable = "x"\ncwd = false',
            "post_write_hooks[0].cwd",
            "must be a string",
        ),
    ],
)
def test_post_write_hook_errors(tmp_path: Path, hook: str, key: str, fragment: str) -> None:
    path = write(tmp_path / "whimbrel.toml", f"[[post_write_hooks]]\n{hook}\n")
    with pytest.raises(ConfigError) as info:
        Config.load(path, environ=NO_ENV)
    assert str(info.value).startswith(f"{path}: {key!r} ")
    assert fragment in str(info.value)
    assert info.value.key == key


def test_post_write_hook_names_must_be_unique(tmp_path: Path) -> None:
    hook = '[[post_write_hooks]]\nname = "fmt"\ntype = "module"\nmodule = "black"\n'
    with pytest.raises(ConfigError, match=r"'post_write_hooks\[1\]\.name' repeats the hook name"):
        load_text(tmp_path, hook + hook)


def test_post_write_hook_unknown_key_warns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "whimbrel.toml",
        '[[post_write_hooks]]\nname = "h"\ntype = "module"\nmodule = "m"\noptons = "-q"\n',
    )
    with pytest.warns(ConfigWarning) as record:
        config = Config.load(path, environ=NO_ENV)
    assert config.warnings == (
        f"unknown key 'optons' in post_write_hooks[0] of {path}; did you mean 'options'?",
    )
    assert len(record) == 1


# ---------------------------------------------------------------- target metadata


@pytest.fixture
def clean_imports() -> Iterator[None]:
    modules = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


def write_models(root: Path, package: str, body: str) -> None:
    write(root / package / "__init__.py", "")
    write(root / package / "models.py", body)


@pytest.mark.usefixtures("clean_imports")
def test_resolve_target_metadata_with_prepend_sys_path(tmp_path: Path) -> None:
    write_models(
        tmp_path / "src",
        "wb_app_ok",
        """
        class Base:
            metadata = {"tables": ["users"]}
        """,
    )
    config = load_text(
        tmp_path,
        'prepend_sys_path = ["src"]\ntarget_metadata = "wb_app_ok.models:Base.metadata"\n',
    )
    before = list(sys.path)

    metadata = config.resolve_target_metadata()

    assert metadata == {"tables": ["users"]}
    assert sys.path == before
    assert sys.modules["wb_app_ok.models"].__file__ == str(
        (tmp_path / "src" / "wb_app_ok" / "models.py").resolve()
    )


@pytest.mark.usefixtures("clean_imports")
def test_extended_sys_path_adds_and_removes(tmp_path: Path) -> None:
    already = str(tmp_path / "already")
    sys.path.append(already)
    config = Config(prepend_sys_path=(tmp_path / "new", Path(already)))
    with config.extended_sys_path():
        assert sys.path[0] == str(tmp_path / "new")
        assert sys.path.count(already) == 1
    assert str(tmp_path / "new") not in sys.path
    assert already in sys.path


@pytest.mark.usefixtures("clean_imports")
@pytest.mark.parametrize(
    ("target", "models", "fragment"),
    [
        (None, None, "target_metadata is not set"),
        ("not-an-import-path", None, "is not of the form 'package.module:attr'"),
        ("wb_missing_pkg.models:metadata", None, "cannot import module 'wb_missing_pkg.models'"),
        ("wb_app_a.nope:metadata", "metadata = 1\n", "no module named 'wb_app_a.nope'"),
        (
            "wb_app_b.models:Base.metadata",
            "class Base:\n    pass\n",
            "has no attribute 'Base.metadata'",
        ),
        ("wb_app_c.models:metadata", "raise RuntimeError('boom')\n", "failed: RuntimeError: boom"),
        (
            "wb_app_d.models:metadata",
            "import wb_not_installed_dep\n",
            "failed: ModuleNotFoundError",
        ),
        ("wb_app_e.models:metadata", "def broken(:\n", "failed: SyntaxError"),
    ],
)
def test_resolve_target_metadata_failures(
    tmp_path: Path, target: str | None, models: str | None, fragment: str
) -> None:
    if target is not None and models is not None:
        write_models(tmp_path / "src", target.split(".")[0], models)
    config = Config(
        target_metadata=target,
        prepend_sys_path=(tmp_path / "src",),
        config_file=tmp_path / "whimbrel.toml",
    )
    before = list(sys.path)
    with pytest.raises(ConfigError) as info:
        config.resolve_target_metadata()
    assert fragment in str(info.value)
    assert str(tmp_path / "whimbrel.toml") in str(info.value)
    assert info.value.key == "target_metadata"
    assert sys.path == before


def test_missing_module_message_mentions_prepend_sys_path(tmp_path: Path) -> None:
    config = Config(target_metadata="wb_nowhere:metadata", prepend_sys_path=(tmp_path,))
    with pytest.raises(ConfigError, match="prepend_sys_path adds") as info:
        config.resolve_target_metadata()
    assert str(tmp_path) in str(info.value)
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


# ------------------------------------------------------------------ built in Python


def test_config_built_directly() -> None:
    config = Config(
        script_location=Path("db"),
        url="sqlite+aiosqlite://",
        attributes={"connection": object()},
    )
    assert config.version_paths == (Path("db/versions"),)
    assert config.config_file is None
    assert config.url == "sqlite+aiosqlite://"
    config.attributes["engine"] = "e"
    assert set(config.attributes) == {"connection", "engine"}


def test_config_built_directly_normalises_untyped_values() -> None:
    raw: dict[str, object] = {
        "script_location": "db",
        "version_locations": ["a", "b"],
        "prepend_sys_path": ["src"],
        "config_file": "whimbrel.toml",
    }
    config = Config(**raw)  # type: ignore[arg-type]
    assert config.script_location == Path("db")
    assert config.version_locations == (Path("a"), Path("b"))
    assert config.prepend_sys_path == (Path("src"),)
    assert config.config_file == Path("whimbrel.toml")
    hook = PostWriteHook("h", "exec", "x", cwd="tools")  # type: ignore[arg-type]
    assert hook.cwd == Path("tools")


def test_post_write_hook_is_frozen() -> None:
    hook = PostWriteHook("h", "exec", "x")
    with pytest.raises(AttributeError):
        hook.name = "other"  # type: ignore[misc]


# ---------------------------------------------------------------------- the docs

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"
DOC_BLOCKS = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)


def test_docs_have_toml_examples() -> None:
    assert len(DOC_BLOCKS) >= 3
    assert any("[tool.whimbrel]" in block for block in DOC_BLOCKS)


@pytest.mark.parametrize("block", DOC_BLOCKS)
def test_docs_toml_blocks_load(tmp_path: Path, block: str) -> None:
    name = "pyproject.toml" if "[tool.whimbrel]" in block else "whimbrel.toml"
    config = Config.load(write(tmp_path / name, block), environ=NO_ENV)
    assert config.warnings == ()
    assert config.config_file == (tmp_path / name).resolve()
