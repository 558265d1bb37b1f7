"""CLI start-up stays lean: heavy modules load only in the command that needs them."""

from __future__ import annotations

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
