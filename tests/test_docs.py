"""Every example in ``docs/`` (and the example project's README) runs as written.

Each page runs in a fresh workspace holding a copy of ``migrations_example/``; its
blocks run in order, so a page can tell a story (``init``, then ``revision``...).

- ``console`` blocks: each ``$ `` line is a command, the lines after it its expected
  output (stdout and stderr together). A block is one ``bash`` session, with the
  venv's ``whimbrel`` and ``python`` first on ``PATH``. In expected output ``...``
  stands for any text within a line, and a line that is just ``...`` for any number
  of lines. A command must exit 0 unless its expected output has an error line
  (``whimbrel: error:``, click's ``Error:`` or a traceback), and then it must not;
  a command followed by ``$ echo $?`` shows its status itself.
- ``python`` blocks run as a script in a fresh interpreter.
- ``toml`` blocks are loaded with :meth:`whimbrel.config.Config.load`.

HTML comments just before a block change that:

- ``<!-- cwd: DIR -->``: run in ``DIR`` of the workspace (created if missing); the
  default is ``migrations_example``.
- ``<!-- file: PATH -->``: write the block to ``PATH`` (from the block's directory)
  instead of running it; a glob matching exactly one file replaces that file.
- ``<!-- skip: REASON -->``: do not run the block.
- ``<!-- known-bug: REASON -->``: the block shows the intended behaviour, which
  Whimbrel does not have yet. The page is reported as xfail while it fails, and fails
  once it passes, so the marker gets removed.

- ``<!-- needs: op.NAME, ... -->``: the block needs these operations.

A block using a ``whimbrel`` subcommand or an operation this build lacks is not run,
and the page fails, naming the block.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup, TyperOption

from whimbrel.cli.app import app
from whimbrel.config import Config
from whimbrel.operations.base import Operations

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "migrations_example"
PAGES = [*sorted(DOCS.glob("*.md")), EXAMPLE / "README.md"]
BIN = Path(sys.executable).parent
DEFAULT_CWD = "migrations_example"
TIMEOUT = 120

_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*([\w-]+)\s*:\s*(.*?)\s*-->$")
_KNOWN_MARKERS = frozenset({"cwd", "file", "skip", "known-bug", "needs"})
_STATUS = re.compile(r"\n@@doc-status (\d+)@@\n")
_ERROR_LINE = re.compile(r"^(?:whimbrel: error:|Error:|Traceback \(most recent call last\):)")
# whimbrel's global options that take a value: the word after them is no subcommand.
_VALUE_OPTIONS = frozenset({"-c", "--config", "--url", "-x"})


# ---------------------------------------------------------------------- the pages


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Command:
    line: str
    expected: tuple[str, ...]


def parse_blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with the markers just before each."""
    blocks: list[Block] = []
    markers: dict[str, str] = {}
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        marker = _MARKER.match(line.strip())
        if fence:
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(f"{page}:{i + 1}: unclosed code block")
            text = "\n".join(lines[i + 1 : end])
            blocks.append(Block(page, i + 1, fence.group(1), text, markers))
            markers = {}
            i = end
        elif marker and marker.group(1) in _KNOWN_MARKERS:
            markers = {**markers, marker.group(1): marker.group(2)}
        elif line.strip():
            markers = {}
        i += 1
    return blocks


def parse_console(block: Block) -> list[Command]:
    """The ``$ `` commands of a console block and the output each expects."""
    commands: list[tuple[list[str], list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append(([line[2:]], []))
        elif not commands:
            raise ValueError(f"{block.where}: console block must start with '$ '")
        elif commands[-1][0][-1].endswith("\\") and not commands[-1][1]:
            commands[-1][0].append(line)
        else:
            commands[-1][1].append(line)
    for _, out in commands:
        while out and not out[-1].strip():
            out.pop()
    return [Command("\n".join(cmd), tuple(out)) for cmd, out in commands]


def matches(expected: tuple[str, ...], actual: str) -> bool:
    """Whether output matches its expectation, ``...`` standing for what varies."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?"
        if line.rstrip() == "..."
        else re.escape(line.rstrip()).replace(re.escape("..."), r"[^\n]*?") + r"\n"
        for line in expected
    )
    text = "".join(f"{line.rstrip()}\n" for line in actual.splitlines())
    return re.fullmatch(pattern, text) is not None


def expects_error(command: Command) -> bool:
    """Whether a command's expected output shows it failing."""
    return any(_ERROR_LINE.match(line) for line in command.expected)


def whimbrel_subcommands(command_line: str) -> list[str]:
    """The whimbrel subcommands a shell command line runs."""
    try:
        words = shlex.split(command_line.replace("\\\n", " "))
    except ValueError:
        return []
    found: list[str] = []
    for i, word in enumerate(words):
        if Path(word).name != "whimbrel":
            continue
        rest = iter(words[i + 1 :])
        for arg in rest:
            if arg in _VALUE_OPTIONS:
                next(rest, None)
            elif arg in {";", "&&", "||", "|"}:
                break
            elif not arg.startswith("-"):
                found.append(arg)
                break
    return found


def available_subcommands() -> frozenset[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return frozenset(group.commands)


def missing_operations(needs: str) -> list[str]:
    """The operations of a ``needs`` marker that ``whimbrel.op`` does not have."""
    names = [name.strip().removeprefix("op.") for name in needs.split(",") if name.strip()]
    return [name for name in names if not hasattr(Operations, name)]


# ---------------------------------------------------------------------- running


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIMBREL_")}
    env.pop("VISUAL", None)
    env.pop("EDITOR", None)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
        COLUMNS="80",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@dataclass
class PageRun:
    workspace: Path
    scratch: Path
    available: frozenset[str]
    failures: list[str] = field(default_factory=list)
    known_bugs: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def directory(self, block: Block) -> Path:
        path = (self.workspace / block.markers.get("cwd", DEFAULT_CWD)).resolve()
        assert path.is_relative_to(self.workspace), f"{block.where}: cwd leaves the workspace"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, block: Block) -> None:
        if "skip" in block.markers:
            return
        missing = missing_operations(block.markers.get("needs", ""))
        if missing:
            self.pending.append(f"{block.where} (needs op.{missing[0]}, not in this build yet)")
            return
        problems = self.problems(block)
        if "known-bug" in block.markers:
            if problems:
                self.known_bugs.append(f"{block.where}: {block.markers['known-bug']}")
            else:
                self.failures.append(
                    f"{block.where}: passes now; remove its known-bug marker "
                    f"({block.markers['known-bug']})"
                )
        else:
            self.failures.extend(problems)

    def problems(self, block: Block) -> list[str]:
        if "file" in block.markers:
            written = self.write_file(block)
            return self.check_toml(block, written) if block.lang == "toml" else []
        if block.lang == "console":
            return self.run_console(block)
        if block.lang == "python":
            return self.run_python(block)
        if block.lang == "toml":
            return self.check_toml(block, None)
        return []

    def write_file(self, block: Block) -> Path:
        base = self.directory(block)
        name = block.markers["file"]
        found = sorted(base.glob(name)) if any(c in name for c in "*?[") else []
        assert len(found) <= 1, f"{block.where}: {name} matches {len(found)} files"
        target = found[0] if found else base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text + "\n", encoding="utf-8")
        return target

    def run_console(self, block: Block) -> list[str]:
        commands = parse_console(block)
        missing = sorted(
            {
                sub
                for cmd in commands
                if not expects_error(cmd)
                for sub in whimbrel_subcommands(cmd.line)
                if sub not in self.available
            }
        )
        if missing:
            self.pending.append(
                f"{block.where} (needs 'whimbrel {missing[0]}', not in this build yet)"
            )
            return []
        script = ["exec 2>&1"]
        for cmd in commands:
            script += [
                cmd.line,
                "__doc_status=$?",
                "printf '\\n@@doc-status %s@@\\n' \"$__doc_status\"",
                '(exit "$__doc_status")',
            ]
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
            cwd=self.directory(block),
            env=environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        parts = _STATUS.split(done.stdout)
        outputs, statuses = parts[0:-1:2], [int(s) for s in parts[1::2]]
        problems: list[str] = []
        for i, cmd in enumerate(commands):
            if i >= len(statuses):
                problems.append(f"{block.where}: the session ended before `{cmd.line}`")
                break
            output, status = outputs[i], statuses[i]
            if not matches(cmd.expected, output):
                diff = "\n".join(
                    difflib.unified_diff(
                        list(cmd.expected),
                        output.splitlines(),
                        "expected",
                        "actual",
                        lineterm="",
                    )
                )
                problems.append(f"{block.where}: `{cmd.line}` printed otherwise:\n{diff}")
            shown = i + 1 < len(commands) and commands[i + 1].line.strip() == "echo $?"
            if not shown and expects_error(cmd) != (status != 0):
                problems.append(f"{block.where}: `{cmd.line}` exited with status {status}")
        return problems

    def run_python(self, block: Block) -> list[str]:
        snippet = self.scratch / f"{block.page.stem}_{block.line}.py"
        snippet.write_text(block.text + "\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(snippet)],
            cwd=self.directory(block),
            env=environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            return [f"{block.where}: the example failed:\n{done.stdout}{done.stderr}"]
        return []

    def check_toml(self, block: Block, path: Path | None) -> list[str]:
        try:
            data = tomllib.loads(block.text)
        except tomllib.TOMLDecodeError as exc:
            return [f"{block.where}: invalid TOML: {exc}"]
        if path is None:
            name = "pyproject.toml" if "tool" in data or "project" in data else "whimbrel.toml"
            path = self.scratch / f"{block.page.stem}_{block.line}" / name
            path.parent.mkdir(parents=True)
            path.write_text(block.text + "\n", encoding="utf-8")
        try:
            Config.load(path, environ={})
        except Exception as exc:  # a ConfigError, or a ConfigWarning made an error
            return [f"{block.where}: Config.load failed: {type(exc).__name__}: {exc}"]
        return []


def copy_example(target: Path) -> None:
    shutil.copytree(
        EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.whimbrel-lock")
    )


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    copy_example(workspace / DEFAULT_CWD)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run = PageRun(workspace.resolve(), scratch, available_subcommands())

    for block in parse_blocks(page):
        run.run(block)

    if run.failures:
        pytest.fail("\n\n".join(run.failures), pytrace=False)
    if run.known_bugs:
        pytest.xfail("; ".join(run.known_bugs))
    if run.pending:
        # Every command and operation exists now: a block that cannot run is a failure.
        pytest.fail("not run: " + "; ".join(run.pending), pytrace=False)


# ---------------------------------------------------------------- the runner itself


def test_docs_exist_and_have_examples() -> None:
    names = {p.name for p in DOCS.glob("*.md")}
    assert {"index.md", "quickstart.md", "identifiers.md", "commands.md"} <= names
    for page in PAGES:
        assert any(b.lang in {"console", "python"} for b in parse_blocks(page)), page


def test_markers_are_spelled_right() -> None:
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            marker = _MARKER.match(line.strip())
            if marker and marker.group(1) not in _KNOWN_MARKERS:
                pytest.fail(f"{page.name}:{number}: unknown marker {marker.group(1)!r}")


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (("a", "b"), "a\nb\n", True),
        (("a", "b"), "a\nb", True),
        (("a",), "a\nb\n", False),
        ((), "", True),
        (("Path: .../x.py",), "Path: /tmp/p/x.py\n", True),
        (("Path: .../x.py",), "Path: /tmp/p/y.py\n", False),
        (("first", "...", "last"), "first\nlast\n", True),
        (("first", "...", "last"), "first\n1\n2\nlast\n", True),
        (("trailing  ",), "trailing\n", True),
        (("a.b",), "axb\n", False),
    ],
)
def test_matches(expected: tuple[str, ...], actual: str, ok: bool) -> None:
    assert matches(expected, actual) is ok


def test_parse_console_splits_commands_and_output(tmp_path: Path) -> None:
    block = Block(tmp_path, 1, "console", "$ a \\\n  --b\nout\n$ c\n\n$ d")
    assert parse_console(block) == [
        Command("a \\\n  --b", ("out",)),
        Command("c", ()),
        Command("d", ()),
    ]


@pytest.mark.parametrize(
    ("line", "subcommands"),
    [
        ("whimbrel heads", ["heads"]),
        ("whimbrel -c x.toml --url sqlite:// -x a=b history -r base:", ["history"]),
        ("whimbrel --version", []),
        ("cd shop && whimbrel -q upgrade head", ["upgrade"]),
        ("ls migrations", []),
    ],
)
def test_whimbrel_subcommands(line: str, subcommands: list[str]) -> None:
    assert whimbrel_subcommands(line) == subcommands


def test_commands_page_covers_every_command_and_option() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    missing = [
        f"global option {opt}"
        for param in group.params
        for opt in param.opts
        if f"`{opt}" not in text
    ]
    for name, sub in group.commands.items():
        if sub.hidden:
            continue
        if f"### `whimbrel {name}`" not in text:
            missing.append(f"a section for 'whimbrel {name}'")
        missing += [
            f"'{name}' option {opt}"
            for param in sub.params
            if isinstance(param, TyperOption)
            for opt in param.opts
            if opt not in {"-h", "--help"} and opt not in text
        ]
    assert not missing, "docs/commands.md does not mention: " + ", ".join(missing)
