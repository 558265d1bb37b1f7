from __future__ import annotations

import os
import shutil
import stat
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from whimbrel.errors import CommandError
from whimbrel.script.hooks import (
    HookSpec,
    PostWriteHookWarning,
    default_post_write_hooks,
    hook_command,
    run_post_write_hooks,
)

APPEND = (
    "import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write(' '.join(sys.argv[2:]) + '\\n')\n"
)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "rev file.py"
    path.write_text("x = 1\n")
    return path


def test_exec_hook_with_an_executable_script(tmp_path: Path, target: Path) -> None:
    tool = tmp_path / "append-tool"
    tool.write_text(f"#!{sys.executable}\n{APPEND}")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    hook = HookSpec(
        name="append",
        type="exec",
        target=str(tool),
        options="REVISION_SCRIPT_FILENAME --flag='two words'",
    )
    results = run_post_write_hooks(target, [hook])
    assert target.read_text() == "x = 1\n--flag=two words\n"
    assert [r.name for r in results] == ["append"]
    assert results[0].returncode == 0
    assert results[0].args == (str(tool), str(target), "--flag=two words")


def test_exec_hook_found_on_path_and_cwd(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "whereami"
    tool.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        "open(sys.argv[1], 'a').write(os.path.basename(os.getcwd()) + '\\n')\n"
    )
    tool.chmod(0o755)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    run_post_write_hooks(target, [HookSpec(name="w", type="exec", target="whereami", cwd=workdir)])
    assert target.read_text().splitlines()[-1] == "work"


def test_hooks_run_in_order(tmp_path: Path, target: Path) -> None:
    script = tmp_path / "append.py"
    script.write_text(APPEND)
    hooks = [
        HookSpec(
            name=f"h{i}",
            type="exec",
            target=sys.executable,
            options=f"{script} REVISION_SCRIPT_FILENAME line{i}",
        )
        for i in range(3)
    ]
    results = run_post_write_hooks(target, hooks)
    assert target.read_text() == "x = 1\nline0\nline1\nline2\n"
    assert [r.name for r in results] == ["h0", "h1", "h2"]


def test_module_hook(tmp_path: Path, target: Path) -> None:
    (tmp_path / "appender_mod.py").write_text(APPEND)
    hook = HookSpec(
        name="mod",
        type="module",
        target="appender_mod",
        options="REVISION_SCRIPT_FILENAME from-module",
        cwd=tmp_path,
    )
    run_post_write_hooks(target, [hook])
    assert target.read_text().endswith("from-module\n")
    assert hook_command(hook, target)[:3] == [sys.executable, "-m", "appender_mod"]


def test_console_scripts_hook(target: Path) -> None:
    # pytest is installed next to this interpreter with a console script.
    hook = HookSpec(name="cs", type="console_scripts", target="pytest", options="--version")
    (result,) = run_post_write_hooks(target, [hook])
    assert result.returncode == 0
    assert "pytest" in result.stdout + result.stderr


def test_console_scripts_via_entry_point(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Find no script file anywhere, so the entry point itself is run.
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    hook = HookSpec(name="cs", type="console_scripts", target="pytest", options="--version")
    command = hook_command(hook, target)
    assert command[:2] == [sys.executable, "-c"]
    (entry_point,) = entry_points(group="console_scripts", name="pytest")
    assert command[3:] == ["pytest", entry_point.module, entry_point.attr, "--version"]
    (result,) = run_post_write_hooks(target, [hook])
    assert result.returncode == 0
    assert "pytest" in result.stdout + result.stderr


def test_failing_hook(tmp_path: Path, target: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(
        "import sys\nprint('noise on stdout')\n"
        "sys.stderr.write('\\nbad things happened\\nmore detail\\n')\nsys.exit(3)\n"
    )
    after = tmp_path / "after.py"
    after.write_text(APPEND)
    hooks = [
        HookSpec(name="failing", type="exec", target=sys.executable, options=str(script)),
        HookSpec(
            name="after",
            type="exec",
            target=sys.executable,
            options=f"{after} REVISION_SCRIPT_FILENAME ran",
        ),
    ]
    with pytest.raises(CommandError) as info:
        run_post_write_hooks(target, hooks)
    message = str(info.value)
    assert "'failing'" in message
    assert "exit code 3" in message
    assert "bad things happened" in message
    assert "more detail" not in message
    assert target.read_text() == "x = 1\n"


def test_failing_hook_without_stderr(tmp_path: Path, target: Path) -> None:
    hook = HookSpec(
        name="quiet",
        type="exec",
        target=sys.executable,
        options="-c 'import sys; print(\"only stdout\"); sys.exit(1)'",
    )
    with pytest.raises(CommandError, match=r"exit code 1 .*: only stdout"):
        run_post_write_hooks(target, [hook])


@pytest.mark.parametrize(
    ("hook", "match"),
    [
        (HookSpec(name="x", type="exec", target="no-such-tool-whimbrel"), "not found"),
        (
            HookSpec(name="x", type="console_scripts", target="no-such-script-whimbrel"),
            "no console script named",
        ),
        (HookSpec(name="x", type="shell", target="ls"), "unknown type 'shell'"),
        (HookSpec(name="x", type="module", target="m", options="'unclosed"), "cannot be split"),
    ],
)
def test_hook_errors(target: Path, hook: HookSpec, match: str) -> None:
    with pytest.raises(CommandError, match=match):
        run_post_write_hooks(target, [hook])


def test_default_hooks_are_ruff() -> None:
    hooks = default_post_write_hooks()
    assert [(h.name, h.type, h.target, h.optional) for h in hooks] == [
        ("ruff_check", "console_scripts", "ruff", True),
        ("ruff_format", "console_scripts", "ruff", True),
    ]
    assert all("REVISION_SCRIPT_FILENAME" in h.options for h in hooks)


def test_config_post_write_hook_is_accepted(tmp_path: Path, target: Path) -> None:
    from whimbrel.config import PostWriteHook

    script = tmp_path / "append.py"
    script.write_text(APPEND)
    hook = PostWriteHook(
        name="cfg",
        type="exec",
        target=sys.executable,
        options=f"{script} REVISION_SCRIPT_FILENAME cfg",
    )
    run_post_write_hooks(target, [hook])
    assert target.read_text().endswith("cfg\n")


def test_default_ruff_hooks_run(tmp_path: Path) -> None:
    path = tmp_path / "messy.py"
    path.write_text("import os\nx   =   [1,2]\n")
    run_post_write_hooks(path, default_post_write_hooks())
    assert path.read_text() == "x = [1, 2]\n"


@pytest.mark.parametrize(
    ("kind", "missing", "problem"),
    [
        ("exec", "no-such-tool-xyz", "executable 'no-such-tool-xyz' not found"),
        (
            "console_scripts",
            "no-such-tool-xyz",
            "no console script named 'no-such-tool-xyz' is installed",
        ),
        ("module", "no_such_module_xyz", "module 'no_such_module_xyz' is not installed"),
    ],
)
def test_optional_hook_without_its_program_warns_and_the_rest_run(
    tmp_path: Path, target: Path, kind: str, missing: str, problem: str
) -> None:
    (tmp_path / "appender_ok.py").write_text(APPEND)
    hooks = [
        HookSpec(name="gone", type=kind, target=missing, optional=True),
        HookSpec(
            name="after",
            type="module",
            target="appender_ok",
            options="REVISION_SCRIPT_FILENAME ran",
            cwd=tmp_path,
        ),
    ]
    with pytest.warns(PostWriteHookWarning) as record:
        results = run_post_write_hooks(target, hooks)
    assert [r.name for r in results] == ["after"]
    assert target.read_text() == "x = 1\nran\n"
    (warning,) = record
    message = str(warning.message)
    assert message.startswith(f"post-write hook 'gone': {problem}; skipped it, rev file.py")
    assert "\n" not in message


@pytest.mark.parametrize("kind", ["exec", "console_scripts", "module"])
def test_required_hook_without_its_program_fails(target: Path, kind: str) -> None:
    hook = HookSpec(name="gone", type=kind, target="no_such_tool_xyz")
    with pytest.raises(CommandError, match="post-write hook 'gone'"):
        run_post_write_hooks(target, [hook])


def test_optional_hook_that_fails_is_still_an_error(tmp_path: Path, target: Path) -> None:
    (tmp_path / "fails_mod.py").write_text("raise SystemExit(3)\n")
    hook = HookSpec(name="f", type="module", target="fails_mod", cwd=tmp_path, optional=True)
    with pytest.raises(CommandError, match="failed with exit code 3"):
        run_post_write_hooks(target, [hook])
