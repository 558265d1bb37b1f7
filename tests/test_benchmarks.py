"""The benchmark generator yields projects Alembic reads; the runner's arithmetic holds."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

# ``benchmarks`` lives beside ``src``, not in it: import it from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generate, run
from benchmarks.generate import Project, generate_project
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


def _result(whimbrel: float | None, alembic: float, target: float = 10.0) -> CaseResult:
    stats = {ALEMBIC: summarize([alembic, alembic * 1.1])}
    cold = {ALEMBIC: alembic * 2}
    if whimbrel is not None:
        stats[WHIMBREL] = summarize([whimbrel, whimbrel * 1.2])
        cold[WHIMBREL] = whimbrel * 3
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
    results = [_result(0.05, 0.6), _result(None, 0.6)]
    table = format_table(results).splitlines()
    assert table[0].split()[:2] == ["shape", "case"]
    assert set(table[1]) <= {"-", " "}
    assert "55.0 / 50.0 ms" in table[2] and "630 / 600 ms" in table[2]
    assert table[2].split()[-3:] == ["12.0x", "≥10x", "PASS"]
    assert table[3].split()[-1] == "n/a"
    cold = format_cold(results).splitlines()
    assert cold == [
        "cold linear heads: whimbrel 150 ms, alembic 1200 ms",
        "cold linear heads: alembic 1200 ms",
    ]


def test_results_to_json() -> None:
    data = results_to_json([_result(0.05, 0.6)], {"revisions": 5000})
    loaded = json.loads(json.dumps(data))
    (entry,) = loaded["results"]
    assert loaded["meta"] == {"revisions": 5000}
    assert entry["verdict"] == "PASS"
    assert entry["tools"][WHIMBREL]["samples"] == [0.05, pytest.approx(0.06)]


def test_parse_args() -> None:
    args = parse_args([])
    assert (args.revisions, args.repeat, args.shape) == (5000, 7, ("linear", "branchy"))
    args = parse_args(["--revisions", "50", "--shape", "branchy", "--case", "heads,history"])
    assert (args.revisions, args.shape, args.case) == (50, ("branchy",), ("heads", "history"))
    for bad in (["--shape", "round"], ["--repeat", "0"], ["--case", "upgrade"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_cases_are_the_spec() -> None:
    targets = {case.name: case.target for case in run.CASES}
    assert targets == {"--help": 2.0, "heads": 10.0, "history": 10.0}


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


def test_run_case_aborts_when_tools_disagree(tmp_path: Path) -> None:
    project = generate_project(tmp_path, revisions=6, shape="linear")
    fake = FakeRunner({WHIMBREL: f"{project.base} (head)", ALEMBIC: f"{project.heads[0]} (head)"})
    torn_down: list[Project] = []
    case = Case("heads", ("heads",), ("heads",), 10.0, verify_heads, teardown=torn_down.append)
    with pytest.raises(BenchmarkError):
        run_case(case, project, fake, repeat=2)
    assert torn_down == [project]
