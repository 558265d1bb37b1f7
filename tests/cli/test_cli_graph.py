"""``history --graph`` draws branches and merges."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from whimbrel.cli.app import app

EXAMPLE = Path(__file__).resolve().parents[2] / "migrations_example"


def test_history_graph_of_the_example() -> None:
    result = CliRunner().invoke(
        app, ["-c", str(EXAMPLE / "whimbrel.toml"), "history", "--graph"], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    merge = next(i for i, line in enumerate(lines) if "(mergepoint)" in line)
    branch = next(i for i, line in enumerate(lines) if "(branchpoint)" in line)
    assert lines[merge + 1] == "|\\"
    assert lines[branch - 1] == "|/"
    assert lines[merge + 2].startswith("| * ")
    between = lines[merge + 2 : branch - 1]
    assert len(between) == 4
    assert all(line.startswith(("| * ", "* | ")) for line in between)
    assert lines[-1].startswith("* ") and "create customers" in lines[-1]
