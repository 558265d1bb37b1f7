"""``adopt`` reads an Alembic configuration as Alembic does and writes Whimbrel's."""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig

from whimbrel.adopt import AdoptResult, adopt, adopt_sync
from whimbrel.adopt.urls import async_url
from whimbrel.config import Config, PostWriteHook
from whimbrel.errors import CommandError, ConfigError
from whimbrel.results import to_data

ENV_PY = """\
from alembic import context
from myapp.models import Base

config = context.config
target_metadata = Base.metadata
"""


def project(
    root: Path,
    ini: str | None = None,
    *,
    env: str = ENV_PY,
    pyproject: str | None = None,
    script_dir: str = "migrations",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if ini is not None:
        (root / "alembic.ini").write_text(textwrap.dedent(ini), encoding="utf-8")
    if pyproject is not None:
        (root / "pyproject.toml").write_text(textwrap.dedent(pyproject), encoding="utf-8")
    scripts = root / script_dir
    (scripts / "versions").mkdir(parents=True, exist_ok=True)
    (scripts / "env.py").write_text(env, encoding="utf-8")
    return root


def kinds(result: AdoptResult) -> dict[str, str]:
    return {note.topic: note.kind for note in result.notes}


def message(result: AdoptResult, topic: str) -> str:
    return next(n.message for n in result.notes if n.topic == topic)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------ alembic.ini


def test_generic_ini_becomes_whimbrel_toml(tmp_path: Path) -> None:
    root = project(
        tmp_path / "app",
        """\
        [alembic]
        script_location = %(here)s/migrations
        prepend_sys_path = .
        path_separator = os
        file_template = %%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s
        truncate_slug_length = 30
        timezone = UTC
        sqlalchemy.url = postgresql://app@localhost/app

        [loggers]
        keys = root
        """,
    )
    result = adopt_sync(root)
    assert result.written
    assert result.config_file == root / "whimbrel.toml"
    written = (root / "whimbrel.toml").read_text()
    assert 'script_location = "migrations"' in written
    assert 'version_table = "alembic_version"' in written
    config = Config.load(root / "whimbrel.toml", environ={})
    assert config.script_location == root / "migrations"
    assert config.prepend_sys_path == (root,)
    assert config.file_template == "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"
    assert config.truncate_slug_length == 30
    assert config.timezone == "UTC"
    assert config.url == "postgresql+asyncpg://app@localhost/app"
    assert config.target_metadata == "myapp.models:Base.metadata"
    assert config.version_table == "alembic_version"
    assert kinds(result)["sqlalchemy.url"] == "converted"
    assert "postgresql+asyncpg://" in message(result, "sqlalchemy.url")


def test_same_values_as_alembic_reads(tmp_path: Path) -> None:
    """Interpolation and path splitting match Alembic's own Config, key by key."""
    root = project(
        tmp_path / "app",
        """\
        [DEFAULT]
        base = %(here)s/db

        [alembic]
        script_location = %(base)s/scripts
        version_locations = %(here)s/db/a;%(here)s/db/b ; %(here)s/db/c
        path_separator = ;
        prepend_sys_path = src;.
        sqlalchemy.url = sqlite:///%(here)s/app%%20x.db
        recursive_version_locations = true
        """,
        script_dir="db/scripts",
    )
    ini = AlembicConfig(str(root / "alembic.ini"))
    result = adopt_sync(root)
    config = Config.load(result.config_file, environ={})
    assert str(config.script_location) == ini.get_main_option("script_location")
    assert [str(p) for p in config.version_locations] == ini.get_version_locations_list()
    expected = [str((root / p).resolve()) for p in ini.get_prepend_sys_paths_list() or ()]
    assert [str(p) for p in config.prepend_sys_path] == expected
    assert config.recursive_version_locations is True
    assert config.url == f"sqlite+aiosqlite:///{root}/app%20x.db"
    assert result.settings.version_locations == ("db/a", "db/b", "db/c")


@pytest.mark.parametrize(
    ("separator", "value", "expected"),
    [
        ("os", f"one{os.pathsep}two", ["one", "two"]),
        (":", "one:two", ["one", "two"]),
        (";", "one;two", ["one", "two"]),
        ("space", "one two", ["one", "two"]),
        ("newline", "\n    one\n    two", ["one", "two"]),
        (None, "one, two three", ["one", "two", "three"]),  # legacy: spaces and commas
    ],
)
def test_version_locations_split_like_alembic(
    tmp_path: Path, separator: str | None, value: str, expected: list[str]
) -> None:
    sep_line = f"path_separator = {separator}\n" if separator else ""
    root = project(
        tmp_path,
        f"[alembic]\nscript_location = migrations\n{sep_line}version_locations = {value}\n",
    )
    result = adopt_sync(root, write=False)
    assert result.settings.version_locations == tuple(expected)
    with pytest.warns(DeprecationWarning) if separator is None else _nothing():
        assert AlembicConfig(str(root / "alembic.ini")).get_version_locations_list() == expected


def test_deprecated_version_path_separator(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\nversion_path_separator = ;\n"
        "version_locations = a;b c\nprepend_sys_path = x:y\n",
    )
    result = adopt_sync(root, write=False)
    assert result.settings.version_locations == ("a", "b c")
    # version_path_separator does not apply to prepend_sys_path: legacy split on ':'.
    assert result.settings.prepend_sys_path == ("x", "y")


def test_legacy_prepend_sys_path_splits_on_colon(tmp_path: Path) -> None:
    root = project(
        tmp_path, "[alembic]\nscript_location = migrations\nprepend_sys_path = a:b, c\n"
    )
    assert adopt_sync(root, write=False).settings.prepend_sys_path == ("a", "b", "c")


def test_bad_path_separator_is_an_error(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\npath_separator = tab\nversion_locations = a\n",
    )
    with pytest.raises(ConfigError, match="'tab' is not a valid value for path_separator"):
        adopt_sync(root)


def test_broken_interpolation_names_file_and_key(tmp_path: Path) -> None:
    root = project(tmp_path, "[alembic]\nscript_location = migrations\nfile_template = %(rev)s\n")
    with pytest.raises(ConfigError, match="'file_template' cannot be interpolated") as info:
        adopt_sync(root)
    assert info.value.path == root / "alembic.ini"


def test_named_section(tmp_path: Path) -> None:
    root = project(tmp_path, "[reports]\nscript_location = migrations\n")
    with pytest.raises(ConfigError, match=r"no \[alembic\] section"):
        adopt_sync(root)
    assert adopt_sync(root, ini_section="reports").settings.script_location == "migrations"


def test_no_alembic_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no Alembic configuration"):
        adopt_sync(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        adopt_sync(tmp_path, alembic_ini="missing.ini")
    (tmp_path / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = sqlite://\n")
    with pytest.raises(ConfigError, match="no script_location"):
        adopt_sync(tmp_path)


def test_ini_elsewhere_and_here(tmp_path: Path) -> None:
    """``%(here)s`` is the ini file's directory; relative paths are from config_dir."""
    root = project(tmp_path / "app", None)
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "db.ini").write_text(
        "[alembic]\nscript_location = migrations\nprepend_sys_path = %(here)s\n"
    )
    result = adopt_sync(root, alembic_ini=conf / "db.ini")
    assert result.settings.script_location == "migrations"
    assert result.settings.prepend_sys_path == (conf.as_posix(),)


# --------------------------------------------------------------- pyproject.toml


def test_pyproject_template(tmp_path: Path) -> None:
    """The pyproject template: URL in alembic.ini, the rest in [tool.alembic]."""
    root = project(
        tmp_path,
        "[alembic]\nsqlalchemy.url = mysql+pymysql://root@localhost/app\n",
        pyproject="""\
        [project]
        name = "app"

        [tool.alembic]
        script_location = "%(here)s/migrations"
        prepend_sys_path = ["."]
        file_template = "%%(rev)s_%%(slug)s_x"
        truncate_slug_length = 20
        recursive_version_locations = true
        version_locations = ["%(here)s/migrations/versions", "%(here)s/more"]

        [[tool.alembic.post_write_hooks]]
        name = "ruff"
        type = "module"
        module = "ruff"
        options = "format REVISION_SCRIPT_FILENAME"
        """,
    )
    before = (root / "pyproject.toml").read_text()
    result = adopt_sync(root)
    assert result.config_file == root / "pyproject.toml"
    after = (root / "pyproject.toml").read_text()
    assert after.startswith(before)
    assert "[tool.whimbrel]" in after and "[[tool.whimbrel.post_write_hooks]]" in after
    config = Config.load(root / "pyproject.toml", environ={})
    assert config.url == "mysql+asyncmy://root@localhost/app"
    assert config.file_template == "%(rev)s_%(slug)s_x"
    assert config.truncate_slug_length == 20
    assert config.recursive_version_locations
    assert config.version_locations == (root / "migrations" / "versions", root / "more")
    assert config.post_write_hooks == (
        PostWriteHook("ruff", "module", "ruff", "format REVISION_SCRIPT_FILENAME"),
    )
    assert set(result.sources) >= {root / "alembic.ini", root / "pyproject.toml"}


def test_ini_wins_over_toml(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\n",
        pyproject='[tool.alembic]\nscript_location = "elsewhere"\ntimezone = "UTC"\n',
    )
    result = adopt_sync(root, write=False)
    assert result.settings.script_location == "migrations"
    assert result.settings.timezone == "UTC"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('version_locations = "a"', "'version_locations' must be a list of strings"),
        ("prepend_sys_path = [1]", "'prepend_sys_path' must be a list of strings"),
        ('truncate_slug_length = "40"', "'truncate_slug_length' must be an integer"),
        ("truncate_slug_length = true", "'truncate_slug_length' must be an integer"),
        ('recursive_version_locations = "true"', "must be true or false"),
        ("timezone = 5", "'timezone' must be a string"),
        ('file_template = "%(rev)s"', "cannot be interpolated as Alembic does"),
    ],
)
def test_toml_values_of_the_wrong_type(tmp_path: Path, line: str, message: str) -> None:
    root = project(
        tmp_path, None, pyproject=f'[tool.alembic]\nscript_location = "migrations"\n{line}\n'
    )
    with pytest.raises(ConfigError, match=message):
        adopt_sync(root)


def test_missing_script_directory_is_reported(tmp_path: Path) -> None:
    root = project(tmp_path, "[alembic]\nscript_location = gone\n")
    result = adopt_sync(root, write=False)
    assert kinds(result)["script_location"] == "manual"
    assert "does not exist" in message(result, "script_location")


def test_toml_only(tmp_path: Path) -> None:
    root = project(tmp_path, None, pyproject='[tool.alembic]\nscript_location = "migrations"\n')
    result = adopt_sync(root)
    assert Config.load(root / "pyproject.toml", environ={}).script_location == root / "migrations"
    assert kinds(result)["sqlalchemy.url"] == "manual"


def test_refuses_existing_whimbrel_configuration(tmp_path: Path) -> None:
    root = project(
        tmp_path, "[alembic]\nscript_location = migrations\n", pyproject="[tool.whimbrel]\n"
    )
    before = tree_digest(root)
    with pytest.raises(CommandError, match=r"already has a \[tool.whimbrel\] table"):
        adopt_sync(root)
    with pytest.raises(CommandError, match=r"already has a \[tool.whimbrel\] table"):
        adopt_sync(root, write=False)
    assert tree_digest(root) == before
    (root / "whimbrel.toml").write_text("")
    with pytest.raises(CommandError, match="already exists"):
        adopt_sync(root, into="whimbrel.toml")
    # Another file is fine.
    assert adopt_sync(root, into="other.toml").config_file == root / "other.toml"
    assert Config.load(root / "other.toml", environ={}).version_table == "alembic_version"


def test_pyproject_that_cannot_take_a_table(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\n",
        pyproject="tool = {black = {line-length = 99}}\n",
    )
    with pytest.raises(CommandError, match="would not be valid TOML"):
        adopt_sync(root)
    assert (root / "pyproject.toml").read_text() == "tool = {black = {line-length = 99}}\n"


def test_crlf_pyproject_stays_crlf(tmp_path: Path) -> None:
    root = project(tmp_path, "[alembic]\nscript_location = migrations\n")
    (root / "pyproject.toml").write_bytes(b'[project]\r\nname = "x"')
    adopt_sync(root)
    data = (root / "pyproject.toml").read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert Config.load(root / "pyproject.toml", environ={}).version_table == "alembic_version"


# ------------------------------------------------------------------ post-write hooks


def test_ini_post_write_hooks(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        [alembic]
        script_location = migrations

        [post_write_hooks]
        hooks = black, ruff fmt,custom,broken
        black.type = console_scripts
        black.entrypoint = black
        black.options = -l 79 REVISION_SCRIPT_FILENAME
        ruff.type = exec
        ruff.executable = %(here)s/.venv/bin/ruff
        ruff.options = check --fix
        ruff.cwd = %(here)s
        fmt.type = module
        fmt.module = ruff
        custom.type = my_hook
        broken.entrypoint = nothing
        """,
    )
    result = adopt_sync(root)
    config = Config.load(result.config_file, environ={})
    assert config.post_write_hooks == (
        PostWriteHook("black", "console_scripts", "black", "-l 79 REVISION_SCRIPT_FILENAME"),
        # Alembic puts the file first when the options do not name it.
        PostWriteHook(
            "ruff",
            "exec",
            f"{root.as_posix()}/.venv/bin/ruff",
            "REVISION_SCRIPT_FILENAME check --fix",
            cwd=root,
        ),
        PostWriteHook("fmt", "module", "ruff", "REVISION_SCRIPT_FILENAME"),
    )
    topics = kinds(result)
    assert topics["post_write_hooks: custom"] == "not-carried"
    assert topics["post_write_hooks: broken"] == "not-carried"


# ------------------------------------------------------------------ the URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+psycopg2://u@h:5433/db", "postgresql+asyncpg://u@h:5433/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("sqlite+pysqlite:////abs/app.db", "sqlite+aiosqlite:////abs/app.db"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("mysql://root@h/db", "mysql+asyncmy://root@h/db"),
        ("mysql+pymysql://root@h/db?charset=utf8mb4", "mysql+asyncmy://root@h/db?charset=utf8mb4"),
        ("mysql+mysqldb://root@h/db", "mysql+asyncmy://root@h/db"),
        ("mysql+aiomysql://root@h/db", "mysql+aiomysql://root@h/db"),
        ("mariadb+pymysql://root@h/db", "mariadb+asyncmy://root@h/db"),
        ("mssql+pyodbc://u:p@dsn", "mssql+aioodbc://u:p@dsn"),
        ("oracle+cx_oracle://u:p@h/db", "oracle+oracledb://u:p@h/db"),
        # The rest of the URL is kept byte for byte: quoting, odd passwords.
        ("postgresql://u:p%40ss%2Fw@h/db", "postgresql+asyncpg://u:p%40ss%2Fw@h/db"),
    ],
)
def test_async_url(url: str, expected: str) -> None:
    new, change = async_url(url)
    assert new == expected
    assert (change is None) == (url == expected)


@pytest.mark.parametrize("url", ["driver://user:pass@localhost/dbname", "nosuch://h/db", "::"])
def test_url_that_cannot_be_made_async(tmp_path: Path, url: str) -> None:
    root = project(tmp_path, f"[alembic]\nscript_location = migrations\nsqlalchemy.url = {url}\n")
    result = adopt_sync(root, write=False)
    assert kinds(result)["sqlalchemy.url"] == "manual"
    if url.startswith("driver://"):
        assert result.settings.url is None
        assert "placeholder" in message(result, "sqlalchemy.url")


def test_password_is_written_but_never_shown(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\n"
        "sqlalchemy.url = postgresql://app:s3cr%%40t@db/app?sslmode=require\n",
    )
    result = adopt_sync(root)
    assert Config.load(result.config_file, environ={}).url == (
        "postgresql+asyncpg://app:s3cr%40t@db/app?sslmode=require"
    )
    shown = json.dumps(to_data(result))
    assert "s3cr" not in shown
    assert "s3cr" not in result.toml and "***" in result.toml
    assert "sslmode" in " ".join(n.message for n in result.needs_attention)


def test_url_from_environment_in_env_py(tmp_path: Path) -> None:
    env = ENV_PY + (
        "import os\n"
        "config.set_main_option('sqlalchemy.url', os.getenv('APP_DB', 'sqlite:///dev.db'))\n"
    )
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///ignored.db\n",
        env=env,
    )
    result = adopt_sync(root)
    assert result.settings.url == "${APP_DB:-sqlite+aiosqlite:///dev.db}"
    loaded = Config.load(result.config_file, environ={"APP_DB": "postgresql+asyncpg://h/x"})
    assert loaded.url == "postgresql+asyncpg://h/x"
    assert Config.load(result.config_file, environ={}).url == "sqlite+aiosqlite:///dev.db"


# ------------------------------------------------------------------ env.py


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            "from myapp.models import Base\ntarget_metadata = Base.metadata\n",
            "myapp.models:Base.metadata",
        ),
        ("from myapp.db import metadata as md\ntarget_metadata = md\n", "myapp.db:metadata"),
        (
            "import myapp.models\ntarget_metadata = myapp.models.Base.metadata\n",
            "myapp.models:Base.metadata",
        ),
        (
            "import myapp.models as m\ntarget_metadata = m.Base.metadata\n",
            "myapp.models:Base.metadata",
        ),
        # `models` is a module on disk: the import path names it as a module.
        (
            "from myapp import models\ntarget_metadata = models.Base.metadata\n",
            "myapp.models:Base.metadata",
        ),
        # `registry` is no module on disk: an attribute of the package.
        (
            "from myapp import registry\ntarget_metadata = registry.metadata\n",
            "myapp:registry.metadata",
        ),
        (
            "from sqlalchemy import MetaData\nfrom myapp.models import Base\n"
            "target_metadata: MetaData = Base.metadata\n",
            "myapp.models:Base.metadata",
        ),
        (
            "try:\n    from myapp.models import Base\nexcept ImportError:\n    raise\n"
            "if True:\n    target_metadata = Base.metadata\n",
            "myapp.models:Base.metadata",
        ),
    ],
)
def test_target_metadata_found(tmp_path: Path, env: str, expected: str) -> None:
    root = project(
        tmp_path, "[alembic]\nscript_location = migrations\nprepend_sys_path = src\n", env=env
    )
    (root / "src" / "myapp").mkdir(parents=True)
    (root / "src" / "myapp" / "__init__.py").write_text("")
    (root / "src" / "myapp" / "models.py").write_text("")
    result = adopt_sync(root, write=False)
    assert result.settings.target_metadata == expected
    assert kinds(result)["target_metadata"] == "info"


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ("target_metadata = None\n", "target_metadata = None"),
        ("x = 1\n", "assigns no target_metadata"),
        (
            "from a import A\nfrom b import B\ntarget_metadata = [A.metadata, B.metadata]\n",
            "not a plain import path",
        ),
        ("target_metadata = get_metadata()\n", "not a plain import path"),
        ("target_metadata = Base.metadata\n", "'Base' is not imported"),
    ],
)
def test_target_metadata_to_add_by_hand(tmp_path: Path, env: str, why: str) -> None:
    root = project(tmp_path, "[alembic]\nscript_location = migrations\n", env=env)
    result = adopt_sync(root, write=False)
    assert result.settings.target_metadata is None
    assert kinds(result)["target_metadata"] == "manual"
    text = message(result, "target_metadata")
    assert why in text
    assert 'target_metadata = "myapp.models:Base.metadata"' in text


def test_env_options_carried_and_reported(tmp_path: Path) -> None:
    env = """\
from alembic import context
from sqlalchemy import engine_from_config, pool, text
from logging.config import fileConfig
from myapp.models import Base

config = context.config
fileConfig(config.config_file_name)
target_metadata = Base.metadata
opts = dict(transaction_per_migration=True, compare_type=True)

def include_object(obj, name, type_, reflected, compare_to):
    return name != "legacy"

def run_migrations_online():
    engine = engine_from_config(config.get_section(config.config_ini_section),
                                prefix="sqlalchemy.", poolclass=pool.NullPool, echo=True)
    with engine.connect() as connection:
        connection.execute(text("SET search_path TO app"))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=config.get_main_option("my_version_table"),
            version_table_schema="audit",
            include_object=include_object,
            include_schemas=True,
            render_as_batch=True,
            process_revision_directives=lambda *a: None,
            **opts,
        )
        with context.begin_transaction():
            context.run_migrations()

run_migrations_online()
"""
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\nmy_version_table = app_version\n"
        "sqlalchemy.pool_size = 5\n",
        env=env,
    )
    result = adopt_sync(root)
    config = Config.load(result.config_file, environ={})
    assert config.version_table == "app_version"
    assert config.version_table_schema == "audit"
    assert config.transaction_per_migration is True
    topics = kinds(result)
    for option in (
        "include_object",
        "include_schemas",
        "render_as_batch",
        "process_revision_directives",
        "compare_type",
    ):
        assert topics[f"env.py: {option}"] == "not-carried", option
    assert topics["env.py: logging"] == "info"
    assert topics["env.py: engine options"] == "not-carried"
    assert "create_engine" in message(result, "env.py: engine options")
    assert "on_connect" in message(result, "env.py: SQL on connect")
    assert topics["sqlalchemy.pool_size"] == "not-carried"
    assert topics["my_version_table"] == "info"
    line = next(n.line for n in result.notes if n.topic == "env.py: include_object")
    assert line is not None
    assert env.splitlines()[line - 1].strip().startswith("include_object=")


def test_autogenerate_options_point_at_whimbrels(tmp_path: Path) -> None:
    env = ENV_PY + "context.configure(include_object=skip, compare_server_default=True)\n"
    root = project(tmp_path, "[alembic]\nscript_location = migrations\n", env=env)
    result = adopt_sync(root, write=False)
    include_object = message(result, "env.py: include_object")
    assert "autogenerate = { include_object = ... }" in include_object
    assert "AutogenerateOptions(include_object=...)" in include_object
    text = message(result, "env.py: compare_server_default")
    assert "autogenerate = { compare_server_default = ... }" in text


def test_streaming_revisions_need_no_note(tmp_path: Path) -> None:
    # Whimbrel closes server-side cursors a revision leaves open, so yield_per in a
    # revision needs no transaction_per_migration on asyncpg.
    url = "postgresql+asyncpg://u@h/db"
    root = project(tmp_path, f"[alembic]\nscript_location = migrations\nsqlalchemy.url = {url}\n")
    versions = root / "migrations" / "versions"
    (versions / "b_stream.py").write_text("for row in session.query(T).yield_per(100): ...\n")
    result = adopt_sync(root, write=False)
    assert not [n for n in result.notes if n.topic == "transaction_per_migration"]


def test_env_values_computed_by_code(tmp_path: Path) -> None:
    env = ENV_PY + "import os\ncontext.configure(version_table=os.environ['VT'])\n"
    root = project(tmp_path, "[alembic]\nscript_location = migrations\n", env=env)
    result = adopt_sync(root, write=False)
    assert result.settings.version_table == "alembic_version"
    assert kinds(result)["version_table"] == "manual"
    assert "os.environ['VT']" in message(result, "version_table")


def test_multidb_and_async_templates_are_explained(tmp_path: Path) -> None:
    env = """\
import asyncio
from alembic import context
from sqlalchemy.ext.asyncio import async_engine_from_config
config = context.config
target_metadata = None
db_names = config.get_main_option("databases", "")

async def run_async_migrations():
    engine = async_engine_from_config(config.get_section(config.config_ini_section))
    async with engine.connect() as connection:
        await connection.run_sync(lambda c: None)

asyncio.run(run_async_migrations())
"""
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\ndatabases = one, two\n\n[one]\n"
        "sqlalchemy.url = sqlite:///one.db\n",
        env=env,
    )
    result = adopt_sync(root, write=False)
    topics = kinds(result)
    assert topics["env.py: multidb"] == "not-carried"
    assert topics["databases (multidb)"] == "not-carried"
    assert topics["env.py: async"] == "info"


def test_env_py_that_does_not_parse(tmp_path: Path) -> None:
    root = project(tmp_path, "[alembic]\nscript_location = migrations\n", env="def (:\n")
    result = adopt_sync(root)
    note = next(n for n in result.notes if n.topic == "env.py")
    assert note.kind == "manual" and note.line == 1


def test_package_resource_script_location(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = myapp:db/migrations\nprepend_sys_path = src\n",
        script_dir="src/myapp/db/migrations",
    )
    result = adopt_sync(root)
    assert result.settings.script_location == "src/myapp/db/migrations"
    assert kinds(result)["script_location"] == "converted"
    assert result.settings.target_metadata == "myapp.models:Base.metadata"


# ------------------------------------------------------------------ the contract


def test_write_false_and_revisions_untouched(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///a.db\n",
    )
    (root / "migrations" / "versions" / "abc_first.py").write_text("revision = 'abc'\n")
    before = tree_digest(root)
    dry = adopt_sync(root, write=False)
    assert not dry.written and tree_digest(root) == before
    done = adopt_sync(root)
    after = tree_digest(root)
    assert after.pop("whimbrel.toml")
    assert after.pop("migrations/script.py.tmpl")
    assert done.revision_template == dry.revision_template == root / "migrations/script.py.tmpl"
    assert after == before
    assert done.toml == dry.toml == (root / "whimbrel.toml").read_text()


@pytest.mark.asyncio
async def test_adopt_is_a_coroutine_and_its_result_is_json(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///a.db\n"
        "[post_write_hooks]\nhooks = b\nb.type = console_scripts\nb.entrypoint = black\n"
        "b.cwd = .\n",
    )
    result = await adopt(root)
    data = json.loads(json.dumps(to_data(result)))
    assert data["config_file"] == str(root / "whimbrel.toml")
    assert data["settings"]["url"] == "sqlite+aiosqlite:///a.db"
    assert data["settings"]["post_write_hooks"][0]["cwd"] == "."
    assert {n["kind"] for n in data["notes"]} <= {"converted", "manual", "not-carried", "info"}
    assert all(set(n) == {"kind", "topic", "message", "source", "line"} for n in data["notes"])


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None
