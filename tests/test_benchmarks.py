"""The benchmark generator yields projects Alembic reads; the runner's arithmetic holds."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import shutil
import sqlite3
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

# ``benchmarks`` lives beside ``src``, not in it: import it from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cli_floor, generate, run, runtime
from benchmarks.databases import (
    Postgres,
    PostgresDatabase,
    SchemaState,
    SqliteDatabase,
    parse_catalogue,
    state_from_rows,
)
from benchmarks.generate import Project, ProjectConfig, generate_project
from benchmarks.harness import FLOOR, Runner, WithFloor, floor_verdict, subprocess_env
from benchmarks.run import (
    ALEMBIC,
    WHIMBREL,
    BenchmarkError,
    Case,
    CaseResult,
    Stats,
    format_cold,
    format_table,
    parse_args,
    parse_rev_ids,
    results_to_json,
    run_case,
    speedup,
    summarize,
    verdict,
    verify_heads,
    verify_history,
)

N = 30


def alembic_config(project: Project) -> Config:
    # alembic.ini's relative script_location and url resolve against the cwd, as they
    # do for the CLI; callers chdir into the project first (see ``in_project``).
    assert Path.cwd() == project.root
    cfg = Config(str(project.alembic_ini))
    # env.py must leave the test process's logging alone.
    cfg.attributes["configure_logger"] = False
    return cfg


def script_directory(project: Project) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(project))


@pytest.fixture
def in_project(monkeypatch: pytest.MonkeyPatch) -> Callable[[Project], Project]:
    def enter(project: Project) -> Project:
        monkeypatch.chdir(project.root)
        return project

    return enter


@pytest.fixture(params=generate.SHAPES)
def project(
    request: pytest.FixtureRequest, tmp_path: Path, in_project: Callable[[Project], Project]
) -> Project:
    shape: str = request.param
    return in_project(generate_project(tmp_path / shape, revisions=N, shape=shape, seed=7))


# -- generator -----------------------------------------------------------------------


def test_alembic_reads_every_revision_and_one_head(project: Project) -> None:
    script = script_directory(project)
    revs = list(script.walk_revisions())
    assert len(revs) == N == len(project.revisions)
    assert {r.revision for r in revs} == set(project.revisions)
    assert script.get_heads() == list(project.heads)
    assert script.get_bases() == [project.base]
    assert all(re.fullmatch(r"[0-9a-f]{12}", rev) for rev in project.revisions)


def test_project_files(project: Project) -> None:
    assert (project.script_location / "env.py").is_file()
    assert (project.script_location / "script.py.mako").is_file()
    assert len(list(project.versions_dir.glob("*.py"))) == N
    toml = project.whimbrel_toml.read_text()
    assert 'script_location = "migrations"' in toml
    assert 'url = "sqlite+aiosqlite:///bench.db"' in toml


def test_linear_is_a_chain(tmp_path: Path, in_project: Callable[[Project], Project]) -> None:
    project = in_project(generate_project(tmp_path, revisions=N, shape="linear"))
    script = script_directory(project)
    revs = list(script.walk_revisions())
    assert not any(r.is_merge_point or r.is_branch_point for r in revs)
    assert project.merges == project.branch_points == ()


def test_branchy_forks_and_merges(
    tmp_path: Path, in_project: Callable[[Project], Project]
) -> None:
    project = in_project(generate_project(tmp_path, revisions=N, shape="branchy", seed=3))
    script = script_directory(project)
    merges = {r.revision for r in script.walk_revisions() if r.is_merge_point}
    forks = {r.revision for r in script.walk_revisions() if r.is_branch_point}
    assert merges and merges == set(project.merges)
    assert forks and forks == set(project.branch_points)
    for rev in merges:
        down = script.get_revision(rev).down_revision
        assert isinstance(down, tuple) and len(down) == 2


def test_revision_file_header(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=4, shape="linear")
    first, second = project.revisions[:2]
    (path,) = project.versions_dir.glob(f"{second}_*.py")
    text = path.read_text()
    assert text.startswith(f'"""add column c00001 to t00001\n\nRevision ID: {second}\n')
    assert f"Revises: {first}\nCreate Date: " in text
    assert "from alembic import op\n" in text and "import sqlalchemy as sa\n" in text
    assert "def upgrade() -> None:" in text and "def downgrade() -> None:" in text


@pytest.mark.parametrize("shape", generate.SHAPES)
def test_deterministic_for_a_seed(tmp_path: Path, shape: str) -> None:
    def snapshot(project: Project) -> dict[str, str]:
        return {p.name: p.read_text() for p in project.versions_dir.glob("*.py")}

    a = generate_project(tmp_path / "a", revisions=N, shape=shape, seed=11)
    b = generate_project(tmp_path / "b", revisions=N, shape=shape, seed=11)
    c = generate_project(tmp_path / "c", revisions=N, shape=shape, seed=12)
    assert snapshot(a) == snapshot(b)
    assert a.revisions == b.revisions
    assert not set(a.revisions) & set(c.revisions)


def test_tables_are_unique_and_about_a_third(project: Project) -> None:
    text = "".join(p.read_text() for p in project.versions_dir.glob("*.py"))
    tables = re.findall(r'op\.create_table\(\n\s+"(\w+)"', text)
    indexes = re.findall(r'op\.create_index\("(\w+)"', text)
    assert len(tables) == len(set(tables))
    assert len(indexes) == len(set(indexes))
    assert N // 3 - len(project.merges) <= len(tables) <= N // 3 + 2


def test_upgrade_and_downgrade_on_sqlite(project: Project) -> None:
    cfg = alembic_config(project)

    def tables() -> set[str]:
        with sqlite3.connect(project.root / "bench.db") as db:
            rows = db.execute("select name from sqlite_master where type = 'table'")
            return {name for (name,) in rows}

    command.upgrade(cfg, "head")
    created = tables() - {"alembic_version"}
    assert len(created) >= N // 3 - len(project.merges)
    command.downgrade(cfg, "base")
    assert tables() == {"alembic_version"}


def test_refuses_to_clobber(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_project(foreign, revisions=3, shape="linear", overwrite=True)
    assert (foreign / "keep.txt").read_text() == "mine"

    ours = tmp_path / "ours"
    generate_project(ours, revisions=3, shape="linear")
    with pytest.raises(FileExistsError):
        generate_project(ours, revisions=3, shape="linear")
    again = generate_project(ours, revisions=5, shape="linear", overwrite=True)
    assert len(list(again.versions_dir.glob("*.py"))) == 5


@pytest.mark.parametrize(
    ("revisions", "shape"), [(0, "linear"), (5, "circular")], ids=["zero", "shape"]
)
def test_rejects_bad_arguments(tmp_path: Path, revisions: int, shape: str) -> None:
    with pytest.raises(ValueError):
        generate_project(tmp_path, revisions=revisions, shape=shape)


def test_generate_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert generate.main([str(out), "--revisions", "9", "--shape", "branchy", "--seed", "2"]) == 0
    assert "wrote 9 revisions" in capsys.readouterr().out
    assert len(list((out / "migrations" / "versions").glob("*.py"))) == 9


# -- runner: pure parts --------------------------------------------------------------

ALEMBIC_HEADS = "3f2a9c0d1e4b (head)\n"
ALEMBIC_HISTORY = (
    "9b20f801c1a2 -> 3f2a9c0d1e4b (head), create index ix_t00001_c00001\n"
    "<base> -> 9b20f801c1a2, create table t00001\n"
)


def test_parse_rev_ids() -> None:
    assert parse_rev_ids(ALEMBIC_HEADS) == {"3f2a9c0d1e4b"}
    assert parse_rev_ids(ALEMBIC_HISTORY) == {"3f2a9c0d1e4b", "9b20f801c1a2"}
    verbose = "Rev: 3f2a9c0d1e4b (head)\nParent: 9b20f801c1a2\nPath: /x/3f2a9c0d1e4b_y.py\n"
    assert parse_rev_ids(verbose) == {"3f2a9c0d1e4b", "9b20f801c1a2"}
    # 13 hex digits, upper case and shorter runs are not revision ids.
    assert parse_rev_ids("3f2a9c0d1e4b0 3F2A9C0D1E4B abc123 t00001") == frozenset()


def test_summarize_and_speedup() -> None:
    stats = summarize([0.5, 0.1, 0.3, 0.2])
    assert stats == Stats(median=0.25, minimum=0.1, samples=(0.5, 0.1, 0.3, 0.2))
    with pytest.raises(ValueError):
        summarize([])
    assert speedup(1.0, 0.1) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        speedup(1.0, 0.0)


@pytest.mark.parametrize(
    ("ratio", "target", "expected"),
    [(10.0, 10.0, "PASS"), (9.99, 10.0, "MISS"), (2.5, 2.0, "PASS"), (None, 2.0, "n/a")],
)
def test_verdict(ratio: float | None, target: float, expected: str) -> None:
    assert verdict(ratio, target) == expected


def _result(
    whimbrel: float | None, alembic: float, target: float = 10.0, floor: float | None = None
) -> CaseResult:
    stats = {ALEMBIC: summarize([alembic, alembic * 1.1])}
    cold = {ALEMBIC: alembic * 2}
    if whimbrel is not None:
        stats[WHIMBREL] = summarize([whimbrel, whimbrel * 1.2])
        cold[WHIMBREL] = whimbrel * 3
    if floor is not None:
        stats[FLOOR] = summarize([floor, floor * 1.1])
        cold[FLOOR] = floor * 4
    return CaseResult("heads", "linear", 5000, target, stats, cold)


def test_case_result_ratios() -> None:
    result = _result(0.05, 0.6)
    assert result.ratio == pytest.approx(0.63 / 0.055)
    assert result.min_ratio == pytest.approx(12.0)
    assert result.verdict == "PASS"
    assert _result(0.1, 0.6).verdict == "MISS"
    alone = _result(None, 0.6)
    assert alone.ratio is None and alone.min_ratio is None and alone.verdict == "n/a"


def test_format_table_and_cold() -> None:
    # No result has the floor (--alembic-only, or an old run): the table is as it was.
    results = [_result(0.05, 0.6), _result(None, 0.6)]
    table = format_table(results).splitlines()
    assert table[0].split()[:2] == ["shape", "case"]
    assert "floor" not in table[0]
    assert set(table[1]) <= {"-", " "}
    assert "55.0 / 50.0 ms" in table[2] and "630 / 600 ms" in table[2]
    assert table[2].split()[-3:] == ["12.0x", "≥10x", "PASS"]
    assert table[3].split()[-1] == "n/a"
    cold = format_cold(results).splitlines()
    assert cold == [
        "cold linear heads: whimbrel 150 ms, alembic 1200 ms",
        "cold linear heads: alembic 1200 ms",
    ]
    with_floor = [_result(0.05, 0.6, floor=0.04), _result(None, 0.6, floor=0.04)]
    assert format_cold(with_floor).splitlines() == [
        "cold linear heads: whimbrel 150 ms, alembic 1200 ms, floor 160 ms",
        "cold linear heads: alembic 1200 ms, floor 160 ms",
    ]


def test_format_table_with_the_floor() -> None:
    # whimbrel 55 ms, alembic 630 ms, floor 42 ms (medians): alembic/whimbrel 11.5x,
    # alembic/floor 15.0x, whimbrel/floor 1.31x.
    results = [_result(0.05, 0.6, floor=0.04), _result(None, 0.6, floor=0.04)]
    table = format_table(results).splitlines()
    header = re.split(r"\s{2,}", table[0])
    assert header == [
        "shape",
        "case",
        "whimbrel med/min",
        "alembic med/min",
        "floor med/min",
        "ratio med",
        "ratio min",
        "alembic/floor",
        "whimbrel/floor",
        "target",
        "result",
    ]
    assert set(table[1]) <= {"-", " "}
    row = re.split(r"\s{2,}", table[2])
    assert row == [
        "linear",
        "heads",
        "55.0 / 50.0 ms",
        "630 / 600 ms",
        "42.0 / 40.0 ms",
        "11.5x",
        "12.0x",
        "15.0x",
        "1.31x",
        "≥10x",
        "PASS",
    ]
    alone = re.split(r"\s{2,}", table[3])
    assert alone[2] == "—" and alone[4] == "42.0 / 40.0 ms"
    assert alone[-4:] == ["15.0x", "—", "≥10x", "n/a"]
    # The verdict is still alembic/whimbrel's: a floor far below Whimbrel changes nothing,
    # and neither does an alembic/floor under the target.
    slow = _result(0.1, 0.6, floor=0.01)
    assert slow.verdict == "MISS" and slow.over_floor(WHIMBREL) == pytest.approx(0.11 / 0.0105)
    assert re.split(r"\s{2,}", format_table([slow]).splitlines()[2])[-3:] == [
        "10.48x",
        "≥10x",
        "MISS",
    ]
    bounded = _result(0.05, 0.6, floor=0.1)
    assert bounded.over_floor(ALEMBIC) == pytest.approx(6.0) and bounded.verdict == "PASS"


def test_results_to_json() -> None:
    data = results_to_json([_result(0.05, 0.6)], {"revisions": 5000})
    loaded = json.loads(json.dumps(data))
    (entry,) = loaded["results"]
    assert loaded["meta"] == {"revisions": 5000}
    assert entry["verdict"] == "PASS"
    assert entry["tools"][WHIMBREL]["samples"] == [0.05, pytest.approx(0.06)]
    assert FLOOR not in entry["tools"] and entry["alembic_over_floor"] is None


def test_results_to_json_with_the_cli_floor() -> None:
    data = results_to_json([_result(0.05, 0.6, floor=0.04)], {})
    (entry,) = json.loads(json.dumps(data))["results"]
    assert entry["tools"][FLOOR] == {
        "median": pytest.approx(0.042),
        "min": 0.04,
        "samples": [0.04, pytest.approx(0.044)],
    }
    assert entry["alembic_over_floor"] == pytest.approx(0.63 / 0.042)
    assert entry["whimbrel_over_floor"] == pytest.approx(0.055 / 0.042)
    assert entry["cold_seconds"][FLOOR] == pytest.approx(0.16)
    assert entry["max_over_floor"] is None  # the cli floor is information, not judged
    assert entry["verdict"] == "PASS" and entry["target"] == 10.0


def test_parse_args() -> None:
    args = parse_args([])
    assert args.suite == "cli"
    assert (args.revisions, args.repeat, args.shape) == ((5000,), 7, ("linear", "branchy"))
    args = parse_args(["--revisions", "50", "--shape", "branchy", "--case", "heads,history"])
    assert (args.revisions, args.shape, args.case) == ((50,), ("branchy",), ("heads", "history"))
    for bad in (["--shape", "round"], ["--repeat", "0"], ["--case", "upgrade"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_parse_args_runtime_suite() -> None:
    args = parse_args(["--suite", "runtime"])
    assert (args.revisions, args.repeat, args.shape) == ((200, 1000), 3, ("linear",))
    assert args.dialect == ("sqlite", "postgresql")
    assert args.postgres_url is None  # a database of the run's own, wb_bench_<pid>
    args = parse_args(["--suite", "runtime", "--postgres-url", "postgresql://u@h:1/wb_bench"])
    assert args.postgres_url == Postgres("h", 1, "u", None, "wb_bench")
    args = parse_args(
        ["--suite", "runtime", "--revisions", "20,40", "--dialect", "sqlite", "--case", "upgrade"]
    )
    assert (args.revisions, args.dialect, args.case) == ((20, 40), ("sqlite",), ("upgrade",))
    for bad in (
        ["--suite", "runtime", "--case", "heads"],
        ["--suite", "runtime", "--dialect", "oracle"],
        ["--suite", "runtime", "--revisions", "200,x"],
        ["--suite", "runtime", "--revisions", "0"],
        ["--suite", "runtime", "--shape", "linear,branchy"],
        ["--suite", "runtime", "--postgres-url", "postgresql://postgres@localhost/prod"],
        ["--suite", "bench"],
    ):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_cases_are_the_spec() -> None:
    targets = {case.name: case.target for case in run.CASES}
    assert targets == {"--help": 2.0, "heads": 10.0, "history": 10.0}
    # The floor is reported beside the tools, never judged.
    assert all(case.max_over_floor is None for case in run.CASES)


def test_cli_cases_carry_the_floor() -> None:
    assert run.CLI_FLOOR.is_file() and run.CLI_FLOOR.name == "cli_floor.py"
    assert Path(cli_floor.__file__).resolve() == run.CLI_FLOOR
    for case in run.CASES:
        floor = case.argv(FLOOR)
        assert floor is not None
        script, command_ = floor
        assert Path(script) == run.CLI_FLOOR and Path(script).is_absolute()
        assert command_ == case.name == case.whimbrel[0] == case.alembic[0]
    assert run.cli_floor_argv("heads") == (str(run.CLI_FLOOR), "heads")


def test_cli_runner_adds_the_floor_unless_alembic_only() -> None:
    fake = FakeRunner({WHIMBREL: "w", ALEMBIC: "a"})
    runner = run.cli_runner(parse_args([]), fake, {"PATH": "/bin"})
    assert isinstance(runner, WithFloor)
    assert runner.client == Path(sys.executable) and runner.env == {"PATH": "/bin"}
    assert runner.tools == (WHIMBREL, ALEMBIC, FLOOR)
    alone = FakeRunner({ALEMBIC: "a"}, tools=(ALEMBIC,))
    assert run.cli_runner(parse_args(["--alembic-only"]), alone, {}) is alone


def test_cli_floor_notes() -> None:
    notes = run.cli_floor_notes()
    lines = notes.splitlines()
    assert all(len(line) <= 99 for line in lines)
    assert lines[0].startswith("floor: `python benchmarks/cli_floor.py <command>`")
    flat = " ".join(line.strip() for line in lines)
    assert "stat-validated cache" in flat
    assert "alembic/floor (medians) is the best alembic/whimbrel" in flat
    assert "the target cannot be met here" in flat
    assert any(line.startswith("  alembic/floor") for line in lines)  # second note indented


# -- runner: verification and orchestration, with a fake in place of the CLIs ----------


def test_verify_heads_and_history(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=N, shape="branchy", seed=1)
    (head,) = project.heads
    verify_heads(project, {WHIMBREL: f"{head} (head)\n", ALEMBIC: f"{head} (head)\n"})
    with pytest.raises(BenchmarkError, match="do not report the same"):
        verify_heads(project, {WHIMBREL: f"{project.base} (head)\n", ALEMBIC: head})
    everything = " ".join(project.revisions)
    verify_history(project, {WHIMBREL: everything, ALEMBIC: everything})
    with pytest.raises(BenchmarkError):
        verify_history(project, {WHIMBREL: everything, ALEMBIC: ALEMBIC_HEADS})


def test_verify_ignores_the_floor_but_not_the_tools(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=N, shape="branchy", seed=1)
    (head,) = project.heads
    heads = f"{head} (head)\n"
    everything = " ".join(project.revisions)
    # The floor reports no revision id (heads) or whatever its file names hold (history).
    for floor_output in ("30 revision files checked\n", "", f"{project.base}\n"):
        verify_heads(project, {WHIMBREL: heads, ALEMBIC: heads, FLOOR: floor_output})
        verify_history(project, {WHIMBREL: everything, ALEMBIC: everything, FLOOR: floor_output})
    # Still strict for both tools, floor or not.
    with pytest.raises(BenchmarkError, match="do not report the same") as info:
        verify_heads(project, {WHIMBREL: f"{project.base}\n", ALEMBIC: heads, FLOOR: heads})
    assert "whimbrel" in str(info.value) and "floor" not in str(info.value)
    with pytest.raises(BenchmarkError):
        verify_heads(project, {WHIMBREL: heads, ALEMBIC: "", FLOOR: heads})
    with pytest.raises(BenchmarkError):
        verify_history(project, {WHIMBREL: heads, ALEMBIC: everything, FLOOR: everything})


@dataclass
class FakeRunner:
    outputs: Mapping[str, str]
    tools: tuple[str, ...] = (WHIMBREL, ALEMBIC)
    calls: list[str] = field(default_factory=list)
    root: Path | None = None
    caches_seen: list[bool] = field(default_factory=list)

    def run(self, tool: str, argv: tuple[str, ...], cwd: Path) -> tuple[float, str]:
        self.calls.append(tool)
        self.caches_seen.append((cwd / ".whimbrel-cache").exists())
        # Each run leaves a cache behind, as the real tools do.
        (cwd / ".whimbrel-cache").mkdir(exist_ok=True)
        return (0.01 if tool == WHIMBREL else 0.2), self.outputs[tool]


def test_run_case_interleaves_after_cold_and_warm_up(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=6, shape="linear")
    (head,) = project.heads
    fake = FakeRunner({WHIMBREL: f"{head} (head)", ALEMBIC: f"{head} (head)"})
    events: list[str] = []
    case = Case(
        "heads",
        ("heads",),
        ("heads",),
        target=10.0,
        verify=verify_heads,
        setup=lambda p: events.append("setup"),
        teardown=lambda p: events.append("teardown"),
        before_each=lambda p, tool: events.append(tool),
    )
    result = run_case(case, project, fake, repeat=3)
    assert fake.calls == [WHIMBREL, ALEMBIC] * 5  # cold, warm-up, 3 timed
    assert fake.caches_seen[:2] == [False, False]  # cold runs find no cache
    assert all(fake.caches_seen[2:])
    assert events == ["setup", *fake.calls, "teardown"]
    assert len(result.stats[WHIMBREL].samples) == 3
    assert result.ratio == pytest.approx(20.0)
    assert result.cold == {WHIMBREL: 0.01, ALEMBIC: 0.2}


def test_run_case_times_the_cli_floor_and_checks_only_the_tools(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=6, shape="linear")
    (head,) = project.heads
    fake = FakeRunner(
        {WHIMBREL: f"{head} (head)", ALEMBIC: f"{head} (head)", FLOOR: "6 revision files checked"},
        tools=(WHIMBREL, ALEMBIC, FLOOR),
    )
    heads = next(case for case in run.CASES if case.name == "heads")
    result = run_case(heads, project, fake, repeat=2)
    assert fake.calls == [WHIMBREL, ALEMBIC, FLOOR] * 4  # cold, warm-up, 2 timed
    assert set(result.stats) == set(result.cold) == {WHIMBREL, ALEMBIC, FLOOR}
    assert result.max_over_floor is None and result.target == 10.0
    assert result.over_floor(ALEMBIC) == pytest.approx(1.0)  # the fake's floor takes 0.2 s
    assert result.verdict == "PASS"  # 0.2 / 0.01: still alembic/whimbrel alone


def test_run_case_aborts_when_tools_disagree(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=6, shape="linear")
    fake = FakeRunner({WHIMBREL: f"{project.base} (head)", ALEMBIC: f"{project.heads[0]} (head)"})
    torn_down: list[Project] = []
    case = Case("heads", ("heads",), ("heads",), 10.0, verify_heads, teardown=torn_down.append)
    with pytest.raises(BenchmarkError):
        run_case(case, project, fake, repeat=2)
    assert torn_down == [project]


def test_run_case_times_the_floor_where_the_case_names_it(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=3, shape="linear")
    fake = FakeRunner({WHIMBREL: "w", ALEMBIC: "a", FLOOR: "p"}, tools=(WHIMBREL, ALEMBIC, FLOOR))
    checked: list[tuple[str, str]] = []
    case = Case(
        "upgrade",
        ("upgrade", "head"),
        ("upgrade", "head"),
        target=None,
        after_each=lambda p, tool, out: checked.append((tool, out)),
        floor=("-f", "up.sql"),
        max_over_floor=1.3,
    )
    result = run_case(case, project, fake, repeat=2, dialect="postgresql")
    assert fake.calls == [WHIMBREL, ALEMBIC, FLOOR] * 4  # cold, warm-up, 2 timed
    assert checked == [(WHIMBREL, "w"), (ALEMBIC, "a"), (FLOOR, "p")] * 4
    assert result.dialect == "postgresql" and result.max_over_floor == 1.3
    assert result.over_floor(WHIMBREL) == pytest.approx(0.01 / 0.2)
    # A case without a floor leaves psql out even when the runner has it.
    fake.calls.clear()
    no_floor = Case("heads", ("heads",), ("heads",), target=10.0)
    result = run_case(no_floor, project, fake, repeat=1)
    assert FLOOR not in fake.calls and FLOOR not in result.stats
    assert result.max_over_floor is None


# -- runtime suite: generated configuration ---------------------------------------------


def test_project_config_async_env_and_own_whimbrel_scripts(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://bench:p%40ss@db.example:5433/wb_bench"
    config = ProjectConfig(
        alembic_url=url, whimbrel_url=url, env="async", whimbrel_scripts="wb_scripts"
    )
    project = generate_project(tmp_path, revisions=3, shape="linear", config=config)
    env_py = (project.script_location / "env.py").read_text()
    for piece in ("async_engine_from_config", "connection.run_sync(do_run_migrations)"):
        assert piece in env_py
    assert "asyncio.run(run_async_migrations())" in env_py
    # ``%`` survives ConfigParser interpolation.
    assert Config(str(project.alembic_ini)).get_main_option("sqlalchemy.url") == url
    toml = tomllib.loads(project.whimbrel_toml.read_text())
    assert toml == {
        "script_location": "wb_scripts",
        "version_locations": ["migrations/versions"],
        "url": url,
    }
    assert (project.root / "wb_scripts").is_dir()
    assert not (project.root / "wb_scripts" / "env.py").exists()
    with pytest.raises(ValueError, match="env"):
        generate_project(
            tmp_path / "bad", revisions=3, shape="linear", config=ProjectConfig(env="trio")
        )


def test_project_knows_its_schema(project: Project) -> None:
    text = "".join(p.read_text() for p in project.versions_dir.glob("*.py"))
    tables = re.findall(r'op\.create_table\(\n\s+"(\w+)"', text)
    assert sorted(project.tables) == sorted(tables)
    assert sorted(project.indexes) == sorted(re.findall(r'op\.create_index\("(\w+)"', text))
    assert all(name.startswith("ix_") for name in project.indexes)
    assert project.columns == 2 * len(tables) + text.count("op.add_column(")


def test_project_config_for_each_dialect() -> None:
    server = Postgres(user="u", password="pw", database="wb_bench_x")
    sqlite = runtime.project_config("sqlite", server)
    assert sqlite.alembic_url == sqlite.whimbrel_url == "sqlite+aiosqlite:///bench.db"
    pg = runtime.project_config("postgresql", server)
    assert (
        pg.alembic_url == pg.whimbrel_url == "postgresql+asyncpg://u:pw@127.0.0.1:5432/wb_bench_x"
    )
    assert pg.env == "async" and pg.whimbrel_scripts == runtime.WHIMBREL_SCRIPTS
    with pytest.raises(ValueError):
        runtime.project_config("oracle", server)


# -- runtime suite: pure parts ------------------------------------------------------------


def test_postgres_from_url() -> None:
    server = Postgres.from_url("postgresql://me:s%2Fcret@db.example:6543/wb_bench_2")
    assert server == Postgres("db.example", 6543, "me", "s/cret", "wb_bench_2")
    assert server.url() == "postgresql+asyncpg://me:s%2Fcret@db.example:6543/wb_bench_2"
    assert server.url("postgresql") == "postgresql://me:s%2Fcret@db.example:6543/wb_bench_2"
    assert Postgres.from_url("postgresql+asyncpg://") == Postgres()
    args = Postgres().psql_args("postgres")
    assert args[args.index("-d") + 1] == "postgres"
    assert args[args.index("-v") + 1] == "ON_ERROR_STOP=1" and "-q" in args
    with pytest.raises(ValueError, match="must start with 'wb_bench'"):
        Postgres.from_url("postgresql://postgres@localhost/postgres")
    with pytest.raises(ValueError, match="not a postgresql"):
        Postgres.from_url("mysql://root@localhost/wb_bench")


def _state(tables: set[str], indexes: set[str], columns: int, versions: set[str]) -> SchemaState:
    return SchemaState(frozenset(tables), frozenset(indexes), columns, frozenset(versions))


def test_state_from_rows_leaves_out_bookkeeping() -> None:
    state = state_from_rows(
        ["t00001", "alembic_version", "whimbrel_version", "whimbrel_history", "sqlite_sequence"],
        ["ix_t00001_c00001", "t00001_pkey", "alembic_version_pkc"],
        ["t00001", "t00001", "t00001", "alembic_version", "whimbrel_history"],
        ["abc"],
    )
    assert state == _state({"t00001"}, {"ix_t00001_c00001"}, 3, {"abc"})


def test_parse_catalogue() -> None:
    found = parse_catalogue("t\tt00001\ni\tix_a\nc\tt00001\nc\tt00001\n")
    assert found == {"t": ["t00001"], "i": ["ix_a"], "c": ["t00001", "t00001"]}
    with pytest.raises(BenchmarkError, match="unexpected catalogue row"):
        parse_catalogue("t00001\n")


def test_expected_and_check_state(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=5, shape="linear")
    head = runtime.expected_state(project, at_head=True)
    # t00001 (id, name, c00001), t00002 (id, name, c00002)
    assert head == _state({"t00001", "t00002"}, {"ix_t00001_c00001"}, 6, set(project.heads))
    base = runtime.expected_state(project, at_head=False)
    assert base == _state(set(), set(), 0, set())
    runtime.check_state(WHIMBREL, "upgrade head", head, head)
    wrong = _state({"t00001", "t09999"}, set(), 5, {project.base})
    with pytest.raises(BenchmarkError) as info:
        runtime.check_state(WHIMBREL, "upgrade head", wrong, head)
    message = str(info.value)
    assert "after `upgrade head` by whimbrel" in message
    assert "missing t00002; unexpected t09999" in message
    assert "missing ix_t00001_c00001" in message
    assert "5 columns, expected 6" in message
    assert f"rows in whimbrel_version, expected 1; missing {project.heads[0]}" in message
    with pytest.raises(BenchmarkError, match="rows in alembic_version"):
        runtime.check_state(FLOOR, "downgrade base", _state(set(), set(), 0, {"x"}), base)


def test_sqlite_database_reset_snapshot_and_state(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bench.db")
    assert db.state("alembic_version") == _state(set(), set(), 0, set())
    with contextlib.closing(sqlite3.connect(db.path)) as conn:
        conn.executescript(
            "create table t1 (id integer primary key, name text, c1 int);"
            "create index ix_t1_c1 on t1 (c1);"
            "create table alembic_version (version_num varchar(32) primary key);"
            "insert into alembic_version values ('abc');"
        )
    migrated = _state({"t1"}, {"ix_t1_c1"}, 3, {"abc"})
    assert db.state("alembic_version") == migrated
    assert db.state("whimbrel_version") == _state({"t1"}, {"ix_t1_c1"}, 3, set())
    db.save(ALEMBIC)
    db.reset()
    assert not db.path.exists()
    db.restore(ALEMBIC)
    assert db.state("alembic_version") == migrated
    db.drop()
    assert list(tmp_path.iterdir()) == []


def test_offline_ini_swaps_only_the_url(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=2, shape="linear")
    ini = runtime.offline_ini(project, "postgresql://")
    before = project.alembic_ini.read_text().splitlines()
    after = ini.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("sqlalchemy.url = sqlite:///bench.db", "sqlalchemy.url = postgresql://")]


def _runtime_result(whimbrel: float | None, floor: float | None) -> CaseResult:
    stats = {ALEMBIC: summarize([1.65, 1.7])}
    if whimbrel is not None:
        stats[WHIMBREL] = summarize([whimbrel, whimbrel * 1.1])
    if floor is not None:
        stats[FLOOR] = summarize([floor, floor * 1.1])
    return CaseResult(
        "upgrade", "linear", 1000, None, stats, max_over_floor=1.3, dialect="postgresql"
    )


def test_floor_ratios_and_verdict() -> None:
    result = _runtime_result(1.2, 1.0)
    assert result.over_floor(WHIMBREL) == pytest.approx(1.26 / 1.05)
    assert result.over_floor(ALEMBIC) == pytest.approx(1.675 / 1.05)
    assert result.over_floor(ALEMBIC, minimum=True) == pytest.approx(1.65)
    assert result.ratio == pytest.approx(1.675 / 1.26)
    assert result.verdict == "PASS" and result.target_label == "≤1.3x floor"
    assert _runtime_result(1.4, 1.0).verdict == "MISS"  # 1.47 / 1.05
    assert _runtime_result(None, 1.0).verdict == "n/a"
    assert _runtime_result(1.2, None).verdict == "n/a"
    both = CaseResult("x", "linear", 1, 10.0, result.stats, max_over_floor=1.3)
    assert both.target_label == "≥10x, ≤1.3x floor" and both.verdict == "MISS"


@pytest.mark.parametrize(
    ("over", "limit", "expected"),
    [(1.3, 1.3, "PASS"), (1.31, 1.3, "MISS"), (0.9, 1.3, "PASS"), (None, 1.3, "n/a")],
)
def test_floor_verdict(over: float | None, limit: float, expected: str) -> None:
    assert floor_verdict(over, limit) == expected


def test_format_runtime_table() -> None:
    lines = runtime.format_runtime_table([_runtime_result(1.2, 1.0)]).splitlines()
    assert lines[0].split()[:3] == ["dialect", "N", "case"]
    row = lines[2]
    assert row.split()[:3] == ["postgresql", "1000", "upgrade"]
    assert "1260 / 1200 ms" in row and "1675 / 1650 ms" in row and "1050 / 1000 ms" in row
    assert "1.3x (1.4x)" in row  # alembic/whimbrel, medians (minima)
    assert "1.20x (1.20x)" in row and "1.60x (1.65x)" in row
    assert row.split()[-3:] == ["≤1.3x", "floor", "PASS"]


# -- runtime suite: SQLite end to end, Alembic in-process ----------------------------------


@dataclass
class InProcessAlembic:
    """Stands in for the alembic CLI: same argv, run in this process (no start-up cost)."""

    tools: tuple[str, ...] = (ALEMBIC,)
    stop_at: str | None = None
    fail_on: str | None = None
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, tool: str, argv: tuple[str, ...], cwd: Path) -> tuple[float, str]:
        assert tool == ALEMBIC
        self.calls.append(argv)
        args = list(argv)
        ini = "alembic.ini"
        if args[0] == "-c":
            ini, args = args[1], args[2:]
        sql = "--sql" in args
        verb, target = (a for a in args if a != "--sql")
        if verb == "upgrade" and self.stop_at is not None:
            target = self.stop_at
        if verb == self.fail_on:
            raise BenchmarkError(f"`alembic {verb}` exited 1")
        out = io.StringIO()
        with contextlib.chdir(cwd):
            cfg = Config(ini, output_buffer=out)
            cfg.attributes["configure_logger"] = False
            getattr(command, verb)(cfg, target, sql=sql)
        return 0.01, out.getvalue()


def test_runtime_suite_on_sqlite(tmp_path: Path) -> None:
    suite = runtime.Suite(dialects=("sqlite",), revisions=(7,), repeat=1)
    fake = InProcessAlembic()
    progress: list[str] = []
    results = runtime.run_suite(
        suite, fake, work_dir=tmp_path, psql=None, env={}, progress=progress.append
    )
    assert [(r.dialect, r.revisions, r.case, r.verdict) for r in results] == [
        ("sqlite", 7, "upgrade", "n/a"),
        ("sqlite", 7, "downgrade", "n/a"),
    ]
    assert all(r.target == runtime.SQLITE_SPEEDUP for r in results)
    # No sqlite3 client given: no floor, as before.
    assert all(FLOOR not in r.stats and r.max_over_floor is None for r in results)
    # upgrade: cold, warm-up, 1 timed; downgrade: its setup's upgrade, then the same three.
    verbs = [argv[0] for argv in fake.calls]
    assert verbs == ["upgrade"] * 4 + ["downgrade"] * 3
    project_dir = tmp_path / "runtime-sqlite-linear-7-s0"
    assert (project_dir / "migrations" / "versions").is_dir()
    assert not list(project_dir.glob("bench.db*"))  # dropped at the end


def test_runtime_suite_aborts_when_a_run_falls_short(tmp_path: Path) -> None:
    suite = runtime.Suite(dialects=("sqlite",), revisions=(5,), cases=("upgrade",), repeat=1)
    project = generate_project(tmp_path / "peek", revisions=5, shape="linear")
    fake = InProcessAlembic(stop_at=project.revisions[-2])  # same seed, same ids
    with pytest.raises(BenchmarkError, match=r"5 columns, expected 6"):
        runtime.run_suite(suite, fake, work_dir=tmp_path, psql=None, env={})
    assert len(fake.calls) == 1  # the cold run already aborts


def test_runtime_suite_keeps_finished_cases_when_one_fails(tmp_path: Path) -> None:
    suite = runtime.Suite(dialects=("sqlite",), revisions=(4,), repeat=1)
    results: list[CaseResult] = []
    with pytest.raises(BenchmarkError, match="alembic downgrade"):
        runtime.run_suite(
            suite,
            InProcessAlembic(fail_on="downgrade"),
            work_dir=tmp_path,
            psql=None,
            env={},
            results=results,
        )
    assert [r.case for r in results] == ["upgrade"]
    assert not list((tmp_path / "runtime-sqlite-linear-4-s0").glob("bench.db*"))


def test_floor_scripts_from_alembic_offline(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1/wb_bench"
    config = ProjectConfig(alembic_url=url, whimbrel_url=url, env="async")
    project = generate_project(tmp_path, revisions=6, shape="linear", config=config)
    scripts = runtime.write_floor_scripts(project, InProcessAlembic(), url="postgresql://")
    up, down = scripts.upgrade.read_text(), scripts.downgrade.read_text()
    assert up.startswith("BEGIN;") and up.rstrip().endswith("COMMIT;")
    assert up.count("CREATE TABLE t0") == 2 and "CREATE INDEX ix_t00001_c00001" in up
    assert f"'{project.heads[0]}'" in up
    assert "DROP TABLE t00001" in down and "DROP INDEX ix_t00002_c00002" in down
    floor = runtime.psql_floor(Postgres())
    assert floor(scripts.upgrade)[-2:] == ("-f", str(scripts.upgrade))
    # Constructing the database runs nothing: no server is needed here.
    db = PostgresDatabase(Postgres(), Path("/usr/bin/psql"), {})
    upgrade, downgrade = runtime.runtime_cases(
        project, db, InProcessAlembic(), floor=floor, scripts=scripts
    )
    assert upgrade.argv(FLOOR) == floor(scripts.upgrade)
    assert downgrade.argv(FLOOR) == floor(scripts.downgrade)
    for case in (upgrade, downgrade):
        assert case.target is None
        assert case.max_over_floor == runtime.POSTGRES_MAX_OVER_FLOOR


# -- runtime suite: the SQLite floor, run by the real sqlite3 shell ------------------------

SQLITE_URL = "sqlite+aiosqlite:///bench.db"


@pytest.fixture
def sqlite_client() -> Path:
    found = shutil.which("sqlite3")
    assert found is not None, "the SQLite floor tests need the sqlite3 shell on PATH"
    return Path(found)


def _sqlite_project(root: Path, revisions: int) -> Project:
    config = ProjectConfig(
        alembic_url=SQLITE_URL,
        whimbrel_url=SQLITE_URL,
        env="async",
        whimbrel_scripts=runtime.WHIMBREL_SCRIPTS,
    )
    return generate_project(root, revisions=revisions, shape="linear", config=config)


def test_floor_scripts_for_sqlite_have_no_transaction(tmp_path: Path) -> None:
    project = _sqlite_project(tmp_path, 6)
    scripts = runtime.write_floor_scripts(project, InProcessAlembic(), url="sqlite://")
    assert "sqlalchemy.url = sqlite://\n" in (project.root / "alembic-offline.ini").read_text()
    up, down = scripts.upgrade.read_text(), scripts.downgrade.read_text()
    for sql in (up, down):
        assert not re.search(r"^(BEGIN|COMMIT)", sql, re.MULTILINE)
    assert up.startswith("CREATE TABLE alembic_version")
    assert up.count("CREATE TABLE t0") == 2 and "CREATE INDEX ix_t00001_c00001" in up
    assert "ALTER TABLE t00002 ADD COLUMN c00002" in up
    assert f"SET version_num='{project.heads[0]}'" in up
    assert "ALTER TABLE t00002 DROP COLUMN c00002" in down
    assert "DROP TABLE t00001" in down and "DROP INDEX ix_t00001_c00001" in down
    last = f"DELETE FROM alembic_version WHERE alembic_version.version_num = '{project.base}'"
    assert last in down


@dataclass
class CannedSql:
    """Stands in for ``alembic … --sql``: prints ``sql`` whatever the argv."""

    sql: str
    tools: tuple[str, ...] = (ALEMBIC,)

    def run(self, tool: str, argv: tuple[str, ...], cwd: Path) -> tuple[float, str]:
        assert tool == ALEMBIC and "--sql" in argv
        return 0.01, self.sql


def test_floor_scripts_are_checked_per_dialect(tmp_path: Path) -> None:
    project = _sqlite_project(tmp_path, 3)
    body = "CREATE TABLE t (id INTEGER);\nUPDATE alembic_version SET version_num='x';\n"
    in_transaction = f"BEGIN;\n\n{body}\nCOMMIT;\n"
    # SQLite: the floor brings its own transaction, so the script must not have one.
    with pytest.raises(BenchmarkError, match="transaction of its own for sqlite"):
        runtime.write_floor_scripts(project, CannedSql(in_transaction), url="sqlite://")
    scripts = runtime.write_floor_scripts(project, CannedSql(body), url="sqlite://")
    assert scripts.upgrade.read_text() == scripts.downgrade.read_text() == body
    # PostgreSQL: the script is the transaction.
    with pytest.raises(BenchmarkError, match="wrote no transaction"):
        runtime.write_floor_scripts(project, CannedSql(body), url="postgresql://")
    scripts = runtime.write_floor_scripts(project, CannedSql(in_transaction), url="postgresql://")
    assert scripts.upgrade.read_text() == in_transaction
    # Either way a script that leaves the version table alone is not the tools' work.
    with pytest.raises(BenchmarkError, match="no version-table update"):
        runtime.write_floor_scripts(
            project, CannedSql("CREATE TABLE t (id INT);"), url="sqlite://"
        )
    with pytest.raises(ValueError, match="no floor"):
        runtime.write_floor_scripts(project, CannedSql(body), url="mysql://")


def test_sqlite_floor_argv() -> None:
    floor = runtime.sqlite_floor(Path("/w/bench.db"))
    assert floor(Path("/w/floor-upgrade.sql")) == (
        "-bail",
        "/w/bench.db",
        "BEGIN;",
        '.read "/w/floor-upgrade.sql"',
        "COMMIT;",
    )
    # Dot-command arguments in double quotes take C escapes.
    assert floor(Path('/a b/"q"\\x.sql'))[3] == '.read "/a b/\\"q\\"\\\\x.sql"'


def test_sqlite_floor_runs_in_one_transaction_and_leaves_the_tools_state(
    tmp_path: Path, sqlite_client: Path
) -> None:
    # A directory name the dot-command quoting must survive.
    project = _sqlite_project(tmp_path / 'odd dir "q"\\x', 7)
    scripts = runtime.write_floor_scripts(project, InProcessAlembic(), url="sqlite://")
    db = SqliteDatabase(project.root / runtime.SQLITE_FILE)
    floor = runtime.sqlite_floor(db.path)
    runner = WithFloor(InProcessAlembic(), sqlite_client, {})
    assert runner.tools == (ALEMBIC, FLOOR)

    runner.run(FLOOR, floor(scripts.upgrade), project.root)
    at_head = runtime.expected_state(project, at_head=True)
    assert at_head.tables and at_head.indexes and at_head.versions == {project.heads[0]}
    state = db.state(runtime.VERSION_TABLES[FLOOR])
    assert state == at_head
    runtime.check_state(FLOOR, "upgrade head", state, at_head)

    runner.run(FLOOR, floor(scripts.downgrade), project.root)
    assert db.state("alembic_version") == runtime.expected_state(project, at_head=False)

    # A failing statement stops the script (-bail), exits non-zero and commits nothing.
    db.reset()
    broken = project.root / "broken.sql"
    text = scripts.upgrade.read_text()
    cut = text.index("CREATE INDEX")
    broken.write_text(text[:cut] + "CREATE TABLE t00001 (id INTEGER);\n" + text[cut:])
    with pytest.raises(BenchmarkError, match="exited 1"):
        runner.run(FLOOR, floor(broken), project.root)
    assert db.state("alembic_version") == SchemaState(frozenset(), frozenset(), 0, frozenset())


def test_with_floor_runs_the_client_and_delegates_the_tools(tmp_path: Path) -> None:
    fake = FakeRunner({WHIMBREL: "w", ALEMBIC: "a", FLOOR: "fake floor"})
    fake.tools = (WHIMBREL, ALEMBIC, FLOOR)
    runner = WithFloor(fake, Path(sys.executable), {})
    assert runner.tools == (WHIMBREL, ALEMBIC, FLOOR)  # the floor once, last
    assert runner.run(WHIMBREL, ("heads",), tmp_path)[1] == "w"
    elapsed, out = runner.run(FLOOR, ("-c", "import os; print(os.getcwd())"), tmp_path)
    assert out.strip() == str(tmp_path) and elapsed > 0
    assert fake.calls == [WHIMBREL]  # the floor went to the client, not the wrapped runner
    with pytest.raises(BenchmarkError, match="exited 3"):
        runner.run(FLOOR, ("-c", "raise SystemExit(3)"), tmp_path)


@pytest.fixture
def floor_project(tmp_path: Path) -> Project:
    return generate_project(tmp_path / "floor", revisions=20, shape="branchy", seed=5)


def test_cli_floor_scan_stats_every_revision_file(
    floor_project: Project, in_project: Callable[[Project], Project]
) -> None:
    in_project(floor_project)
    (floor_project.versions_dir / "__pycache__").mkdir()  # Alembic's .pyc: not a revision
    (floor_project.versions_dir / "README").write_text("not a revision either")
    names, stats = cli_floor.scan()
    files = sorted(p.name for p in floor_project.versions_dir.glob("*.py"))
    assert sorted(names) == files and len(files) == 20
    expected = [os.stat(floor_project.versions_dir / name) for name in names]
    assert stats == tuple((st.st_size, st.st_mtime_ns, st.st_ctime_ns) for st in expected)


def test_cli_floor_runs_heads_and_history_in_a_project(floor_project: Project) -> None:
    runner = WithFloor(Runner({}, {}), Path(sys.executable), subprocess_env())
    floors = {case.name: case.floor for case in run.CASES if case.floor is not None}
    assert set(floors) == {"--help", "heads", "history"}
    files = sorted(p.name for p in floor_project.versions_dir.glob("*.py"))
    assert len(files) == 20

    elapsed, out = runner.run(FLOOR, floors["history"], floor_project.root)
    lines = out.splitlines()
    assert sorted(lines) == files  # one line per revision file, nothing else
    assert elapsed > 0
    # ``<id>_<slug>.py``: every revision's file, yet no id stands alone to be parsed.
    assert {line[:12] for line in lines} == set(floor_project.revisions)
    assert parse_rev_ids(out) == frozenset()

    elapsed, out = runner.run(FLOOR, floors["heads"], floor_project.root)
    assert out == "20 revision files checked\n" and elapsed > 0

    _, out = runner.run(FLOOR, floors["--help"], floor_project.root)
    assert "heads" in out and "history" in out and "Usage:" in out

    # Run where there is no project, it fails (exit status 1): the run aborts.
    with pytest.raises(BenchmarkError, match="exited 1"):
        runner.run(FLOOR, floors["heads"], floor_project.versions_dir)


def test_sqlite_cases_keep_the_speedup_target_and_report_the_floor(
    tmp_path: Path, sqlite_client: Path
) -> None:
    project = _sqlite_project(tmp_path, 4)
    scripts = runtime.write_floor_scripts(project, InProcessAlembic(), url="sqlite://")
    db = SqliteDatabase(project.root / runtime.SQLITE_FILE)
    floor = runtime.sqlite_floor(db.path)
    runner = WithFloor(InProcessAlembic(), sqlite_client, {})
    upgrade, downgrade = runtime.runtime_cases(project, db, runner, floor=floor, scripts=scripts)
    assert upgrade.argv(FLOOR) == floor(scripts.upgrade)
    assert downgrade.argv(FLOOR) == floor(scripts.downgrade)
    for case in (upgrade, downgrade):
        assert case.target == runtime.SQLITE_SPEEDUP and case.max_over_floor is None
    # Without sqlite3 the cases are as before: a target, no floor.
    bare, _ = runtime.runtime_cases(project, db, InProcessAlembic())
    assert bare.floor is None and bare.target == runtime.SQLITE_SPEEDUP


def test_runtime_suite_on_sqlite_with_the_floor(tmp_path: Path, sqlite_client: Path) -> None:
    suite = runtime.Suite(dialects=("sqlite",), revisions=(7,), repeat=2)
    fake = InProcessAlembic()
    results = runtime.run_suite(
        suite, fake, work_dir=tmp_path, psql=None, sqlite3=sqlite_client, env={}
    )
    assert [(r.case, r.target, r.max_over_floor) for r in results] == [
        ("upgrade", runtime.SQLITE_SPEEDUP, None),
        ("downgrade", runtime.SQLITE_SPEEDUP, None),
    ]
    for r in results:
        assert set(r.stats) == {ALEMBIC, FLOOR} and set(r.cold) == {ALEMBIC, FLOOR}
        assert len(r.stats[FLOOR].samples) == 2
        assert r.over_floor(ALEMBIC) is not None
        assert r.verdict == "n/a"  # judged by alembic/whimbrel only; whimbrel is absent
    # The offline SQL first, then Alembic's own runs; the floor's go to sqlite3.
    assert fake.calls[:2] == [
        ("-c", "alembic-offline.ini", "upgrade", "head", "--sql"),
        ("-c", "alembic-offline.ini", "downgrade", "head:base", "--sql"),
    ]
    assert [argv[0] for argv in fake.calls[2:]] == ["upgrade"] * 5 + ["downgrade"] * 4
    project_dir = tmp_path / "runtime-sqlite-linear-7-s0"
    assert (project_dir / "floor-upgrade.sql").is_file()
    assert not list(project_dir.glob("bench.db*"))  # dropped, snapshots too
    table = runtime.format_runtime_table(results).splitlines()
    assert "floor med/min" in table[0]
    upgrade_row = table[2].split()
    assert upgrade_row[:3] == ["sqlite", "7", "upgrade"] and upgrade_row[-2:] == ["≥10x", "n/a"]


def test_sqlite_result_is_judged_by_speedup_with_the_floor_beside() -> None:
    stats = {
        WHIMBREL: summarize([0.2, 0.2]),
        ALEMBIC: summarize([1.5, 1.5]),
        FLOOR: summarize([0.1, 0.1]),
    }
    result = CaseResult("upgrade", "linear", 200, runtime.SQLITE_SPEEDUP, stats, dialect="sqlite")
    # 7.5x: a MISS however close to the floor Whimbrel is; alembic/floor 15x bounds it.
    assert result.verdict == "MISS" and result.target_label == "≥10x"
    assert result.over_floor(WHIMBREL) == pytest.approx(2.0)
    assert result.over_floor(ALEMBIC) == pytest.approx(15.0)
    row = runtime.format_runtime_table([result]).splitlines()[2]
    assert "7.5x (7.5x)" in row and "2.00x (2.00x)" in row and "15.00x (15.00x)" in row
    assert row.split()[-2:] == ["≥10x", "MISS"]
    entry = results_to_json([result], {})["results"][0]
    assert entry["max_over_floor"] is None
    assert entry["alembic_over_floor"] == pytest.approx(15.0)
    assert entry["tools"][FLOOR]["median"] == 0.1


def test_floor_clients_and_notes() -> None:
    everywhere = {"sqlite3": "/usr/bin/sqlite3", "psql": "/usr/bin/psql"}
    clients = run.floor_clients(("sqlite", "postgresql"), everywhere.get)
    assert clients == {"sqlite": Path("/usr/bin/sqlite3"), "postgresql": Path("/usr/bin/psql")}
    notes = run.floor_notes(clients)
    assert "`psql -f floor-upgrade.sql`" in notes and "whimbrel/floor ≤1.3x" in notes
    assert '"BEGIN;" ".read floor-upgrade.sql" "COMMIT;"' in notes
    assert "information only" in notes
    no_sqlite3 = {"psql": "/usr/bin/psql"}
    clients = run.floor_clients(("sqlite",), no_sqlite3.get)
    assert clients == {"sqlite": None}
    notes = run.floor_notes(clients)
    assert "no floor measured (sqlite3 is not on PATH)" in notes and "psql" not in notes
    with pytest.raises(BenchmarkError, match="psql is not on PATH"):
        run.floor_clients(("sqlite", "postgresql"), {"sqlite3": "/usr/bin/sqlite3"}.get)


def test_exclusive_lock_serialises_runs(tmp_path: Path) -> None:
    lock = tmp_path / "work" / ".lock"
    with run.exclusive(lock):
        assert lock.read_text() == f"{os.getpid()}\n"
        with lock.open() as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert lock.read_text() == ""
    with lock.open() as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
