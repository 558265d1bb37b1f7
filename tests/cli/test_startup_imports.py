"""CLI start-up stays lean: heavy modules load only in the command that needs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_cli_start_up_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, whimbrel, whimbrel.cli.app\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'rich', 'pydantic', 'alembic') "
        "if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_only_the_invoked_subcommand_is_built() -> None:
    from whimbrel.cli.app import app, app_command_names, only_invoked_command

    everything = list(app.registered_commands)
    with only_invoked_command(["-c", "x.toml", "heads", "-v"]):
        assert [c.callback.__name__ for c in app.registered_commands if c.callback] == ["heads"]
    assert app.registered_commands == everything
    # A global option's value that happens to be a command name is not the command.
    with only_invoked_command(["--url", "history", "heads"]):
        assert app_command_names() == ["heads"]
    # Main help, unknown names and shell completion see every command.
    for argv in (["--help"], ["hedas"], []):
        with only_invoked_command(argv):
            assert app.registered_commands == everything


def test_completion_sees_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from whimbrel.cli.app import app, only_invoked_command

    monkeypatch.setenv("_WHIMBREL_COMPLETE", "complete_bash")
    with only_invoked_command(["heads"]):
        assert len(app.registered_commands) > 1


def test_global_option_value_named_like_a_command(tmp_path: Path) -> None:
    """``-x history heads`` runs ``heads``, with ``-x`` given the value ``history``."""
    out = subprocess.run(
        [sys.executable, "-m", "whimbrel", "-x", "history", "heads"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert "-x argument 'history' is not of the form key=value" in out.stderr
    assert "Traceback" not in out.stderr


def test_command_module_loads_each_command_on_first_use() -> None:
    code = (
        "import sys, inspect\n"
        "from whimbrel import command\n"
        "before = 'whimbrel.commands.database' in sys.modules\n"
        "heads = command.heads\n"
        "after_heads = 'whimbrel.commands.database' in sys.modules\n"
        "ok = all(inspect.iscoroutinefunction(getattr(command, n)) or n == 'script_directory'"
        " for n in command.__all__)\n"
        "print(before, after_heads, 'whimbrel.commands.database' in sys.modules, ok)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True", "True"]


def test_command_module_unknown_name() -> None:
    from whimbrel import command

    with pytest.raises(AttributeError, match="no attribute 'upgrde'"):
        command.upgrde  # noqa: B018
    assert set(command.__all__) <= set(dir(command))


def test_results_of_database_commands_load_on_first_use() -> None:
    code = (
        "import sys\n"
        "from whimbrel import results\n"
        "from whimbrel.results import HistoryResult\n"
        "before = 'whimbrel._run_results' in sys.modules\n"
        "from whimbrel.results import MigrationResult\n"
        "print(before, MigrationResult.__name__, 'MigrationResult' in dir(results))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "MigrationResult", "True"]


def _project(tmp_path: Path, revisions: int = 3) -> Path:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "whimbrel.toml").write_text('script_location = "migrations"\n')
    down = None
    for n in range(revisions):
        rev = f"r{n:03d}"
        (versions / f"{rev}_step.py").write_text(
            f'"""step {n}"""\nrevision = {rev!r}\ndown_revision = {down!r}\n\n'
            "def upgrade() -> None:\n    pass\n\n"
            "def downgrade() -> None:\n    pass\n"
        )
        # Out of the header cache's racily-clean window, even on a coarse clock.
        os.utime(versions / f"{rev}_step.py", (1_700_000_000, 1_700_000_000))
        down = rev
    return tmp_path


@pytest.mark.parametrize("command", ["heads", "history"])
def test_read_only_commands_load_only_what_they_use(tmp_path: Path, command: str) -> None:
    """With the header cache warm, heads and history parse nothing and plan nothing."""
    project = _project(tmp_path)
    code = (
        "import sys\n"
        "from whimbrel.cli.app import main\n"
        f"sys.argv = ['whimbrel', {command!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "unwanted = ('whimbrel.script.headers', 'whimbrel.script.planning',\n"
        "            'whimbrel._script_results', 'whimbrel._run_results', 'sqlalchemy')\n"
        "print('LOADED', *[m for m in unwanted if m in sys.modules])\n"
    )
    first = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project, check=True
    )
    # The first run parses the files (and so loads the header parser) to fill the cache.
    assert "whimbrel.script.headers" in first.stdout
    assert "r002" in first.stdout
    warm = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project, check=True
    )
    assert "r002" in warm.stdout
    assert warm.stdout.splitlines()[-1] == "LOADED"
