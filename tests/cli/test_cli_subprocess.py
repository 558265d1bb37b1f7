"""The ``whimbrel`` program as users run it: real processes, output through pipes.

Both ``python -m whimbrel`` and the console script installed next to the interpreter
are exercised. Each process costs a fraction of a second, so these tests are few and
each checks much.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
import typer.core
import typer.main

from whimbrel import command
from whimbrel._version import __version__
from whimbrel.cli.app import app
from whimbrel.config import Config

SCRIPT = Path(sys.executable).parent / "whimbrel"
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


def environ() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WHIMBREL_") and k not in {"NO_COLOR", "FORCE_COLOR"}
    }
    # Help text is wrapped to the terminal width; keep it stable.
    env["COLUMNS"] = "100"
    return env


def whimbrel(
    *args: str, cwd: Path, module: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "whimbrel"] if module else [str(SCRIPT)]
    return subprocess.run(
        [*argv, *args],
        cwd=cwd,
        env={**environ(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_console_script_is_installed() -> None:
    assert SCRIPT.is_file()
    assert os.access(SCRIPT, os.X_OK)


@pytest.mark.parametrize("module", [True, False], ids=["python-m", "console-script"])
def test_help_lists_every_command(tmp_path: Path, module: bool) -> None:
    done = whimbrel("--help", cwd=tmp_path, module=module)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("Usage: whimbrel [OPTIONS] COMMAND [ARGS]...")
    listed = done.stdout.split("Commands:", 1)[1]
    assert set(COMMANDS) <= set(VISIBLE)
    for name in VISIBLE:
        assert f"\n  {name} " in listed
    assert "\x1b" not in done.stdout


def test_version(tmp_path: Path) -> None:
    done = whimbrel("--version", cwd=tmp_path, module=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"whimbrel {__version__}\n", "")


def test_round_trip(tmp_path: Path) -> None:
    """init, two revisions, heads and history; every output piped, so never coloured."""
    outputs: list[str] = []

    def ok(*args: str, module: bool = False) -> str:
        done = whimbrel(*args, cwd=tmp_path, module=module)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        outputs.append(done.stdout)
        return done.stdout

    assert "New project from template 'default'" in ok("init", "migrations")
    assert (tmp_path / "whimbrel.toml").is_file()
    first = json.loads(ok("revision", "-m", "create users", "--json"))
    versions = tmp_path / "migrations" / "versions"
    assert first["down_revisions"] == []
    assert Path(first["path"]).parent == versions
    second_text = ok("revision", "-m", "add email", "--rev-id", "bbbb0002", module=True)
    second_path = versions / "bbbb0002_add_email.py"
    assert second_text == f"Generated {second_path} (bbbb0002)\n"
    assert f'down_revision: str | Sequence[str] | None = "{first["revision"]}"' in (
        second_path.read_text()
    )
    assert ok("heads") == "bbbb0002 (head)\n"
    assert ok("history").splitlines() == [
        f"{first['revision']} -> bbbb0002 (head), add email",
        f"<base> -> {first['revision']}, create users",
    ]
    # Colour is for terminals only: a pipe gets plain text even without NO_COLOR.
    assert all("\x1b" not in text for text in outputs)


def test_exit_codes_and_error_lines(tmp_path: Path) -> None:
    project = tmp_path / "project"
    # Made in process: only the failing commands need a process of their own.
    anyio.run(command.init, Config(config_file=project / "whimbrel.toml"), "migrations")

    missing = whimbrel("heads", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("whimbrel: error: no Whimbrel configuration found")
    assert missing.stderr.count("\n") == 1

    unknown = whimbrel("show", "ffff9999", cwd=project, module=True)
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "whimbrel: error: no revision or branch label matches 'ffff9999'; "
        "run 'whimbrel history' to list revisions\n"
    )

    no_colon = whimbrel("history", "-r", "ffff", cwd=project)
    assert no_colon.returncode == 2
    assert no_colon.stderr.startswith("whimbrel: error: history range 'ffff' needs a colon")
    assert "Traceback" not in no_colon.stderr

    bad_option = whimbrel("heads", "--bogus", cwd=project)
    assert bad_option.returncode == 2
    assert "No such option: --bogus" in bad_option.stderr
    assert "Traceback" not in bad_option.stderr


def test_traceback_option(tmp_path: Path) -> None:
    done = whimbrel("--traceback", "heads", cwd=tmp_path, module=True)
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert "whimbrel.errors.ConfigError: no Whimbrel configuration found" in done.stderr
    assert "whimbrel: error:" not in done.stderr
