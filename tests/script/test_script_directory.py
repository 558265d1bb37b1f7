from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from whimbrel.errors import (
    CommandError,
    DuplicateRevisionError,
    MissingReferenceError,
    ScriptError,
    UnknownRevisionError,
)
from whimbrel.script import cache as cache_module
from whimbrel.script import headers as headers_module
from whimbrel.script.directory import CACHE_NAME, Script, ScriptDirectory, parse_script
from whimbrel.script.graph import RevisionGraph


def revision_source(rev: str, down: str | None = None, message: str = "a step") -> str:
    return (
        f'"""{message}\n\nRevision ID: {rev}\n"""\n'
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n\n"
        "def upgrade():\n    pass\n\n"
        "def downgrade():\n    pass\n"
    )


def write_rev(directory: Path, rev: str, down: str | None = None, *, name: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name or f"{rev}_step.py")
    path.write_text(revision_source(rev, down))
    return path


def age(path: Path, seconds: int = 3600) -> None:
    """Move a file's mtime into the past, out of the racily-clean window."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def read_cache(path: Path) -> cache_module.CacheState:
    state = cache_module.load_cache_bytes(path.read_bytes())
    assert state is not None
    return state


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    seen: list[Path] = []
    real = headers_module.parse_script

    def counting(path: Path, source: bytes | None = None) -> Script:
        seen.append(path)
        return real(path, source)

    monkeypatch.setattr(headers_module, "parse_script", counting)
    yield seen


@pytest.fixture
def project(tmp_path: Path) -> Path:
    location = tmp_path / "migrations"
    versions = location / "versions"
    write_rev(versions, "a1")
    write_rev(versions, "b2", "a1")
    write_rev(versions, "c3", "b2")
    return location


def test_scripts_sorted_and_filtered(project: Path) -> None:
    versions = project / "versions"
    (versions / "__init__.py").write_text("")
    (versions / ".hidden.py").write_text("broken(")
    (versions / "notes.txt").write_text("x")
    (versions / "__pycache__").mkdir()
    (versions / "__pycache__" / "x.py").write_text("broken(")
    (versions / "sub").mkdir()
    write_rev(versions / "sub", "d4", "c3")
    scripts = ScriptDirectory(script_location=project).scripts()
    assert [s.id for s in scripts] == ["a1", "b2", "c3"]
    assert [s.path for s in scripts] == sorted(s.path for s in scripts)
    assert all(s.path.is_absolute() for s in scripts)


def test_recursive_version_locations(project: Path) -> None:
    write_rev(project / "versions" / "sub" / "deeper", "d4", "c3")
    scripts = ScriptDirectory(script_location=project, recursive_version_locations=True)
    assert [s.id for s in scripts.scripts()] == ["a1", "b2", "c3", "d4"]


def test_missing_script_location(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"does not exist; run 'whimbrel init'"):
        ScriptDirectory(script_location=tmp_path / "nope").scripts()


def test_missing_default_versions_is_empty(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    assert ScriptDirectory(script_location=tmp_path / "migrations").scripts() == []


def test_missing_configured_version_location(project: Path, tmp_path: Path) -> None:
    scripts = ScriptDirectory(
        script_location=project,
        version_locations=[project / "versions", tmp_path / "elsewhere"],
    )
    with pytest.raises(CommandError, match="elsewhere does not exist"):
        scripts.scripts()


def test_several_version_locations(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_rev(other, "x9", "c3")
    scripts = ScriptDirectory(
        script_location=project, version_locations=[project / "versions", other]
    )
    assert sorted(s.id for s in scripts.scripts()) == ["a1", "b2", "c3", "x9"]


def test_broken_file_reported_after_caching_the_rest(project: Path, parses: list[Path]) -> None:
    broken = project / "versions" / "0_broken.py"
    broken.write_text("revision = 'z'\n")
    scripts = ScriptDirectory(script_location=project)
    with pytest.raises(ScriptError, match="no upgrade") as info:
        scripts.scripts()
    assert info.value.path == broken
    assert len(parses) == 4
    parses.clear()
    broken.unlink()
    assert [s.id for s in scripts.scripts()] == ["a1", "b2", "c3"]
    assert parses == []


def test_second_call_parses_nothing(project: Path, parses: list[Path]) -> None:
    scripts = ScriptDirectory(script_location=project)
    first = scripts.scripts()
    assert len(parses) == 3
    parses.clear()
    second = scripts.scripts()
    assert parses == []
    assert second == first
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_changed_file_is_reparsed(project: Path, parses: list[Path]) -> None:
    scripts = ScriptDirectory(script_location=project)
    scripts.scripts()
    parses.clear()
    target = project / "versions" / "b2_step.py"
    target.write_text(revision_source("b2", "a1", message="a longer, edited message"))
    result = {s.id: s for s in scripts.scripts()}
    assert parses == [target]
    assert result["b2"].message == "a longer, edited message"


def test_same_size_new_mtime_is_reparsed(project: Path, parses: list[Path]) -> None:
    scripts = ScriptDirectory(script_location=project)
    scripts.scripts()
    parses.clear()
    target = project / "versions" / "a1_step.py"
    target.write_text(target.read_text().replace("a step", "b step"))
    age(target, 10)
    assert {s.id: s for s in scripts.scripts()}["a1"].message == "b step"
    assert parses == [target]


def test_added_and_removed_files(project: Path, parses: list[Path]) -> None:
    scripts = ScriptDirectory(script_location=project)
    scripts.scripts()
    parses.clear()
    (project / "versions" / "a1_step.py").unlink()
    added = write_rev(project / "versions", "d4", "c3")
    assert [s.id for s in scripts.scripts()] == ["b2", "c3", "d4"]
    assert parses == [added]
    cached = read_cache(scripts.cache_path)
    assert [Path(k).name for k in cached.keys] == ["b2_step.py", "c3_step.py", "d4_step.py"]
    assert sorted(n for _, names, _ in cached.listing for n in names) == [
        "b2_step.py",
        "c3_step.py",
        "d4_step.py",
    ]


def test_persisted_cache_used_by_new_instance(project: Path, parses: list[Path]) -> None:
    for path in (project / "versions").iterdir():
        age(path)
    first = ScriptDirectory(script_location=project).scripts()
    assert (project / "__pycache__" / CACHE_NAME).is_file()
    parses.clear()
    fresh = ScriptDirectory(script_location=project)
    second = fresh.scripts()
    assert parses == []
    assert second == first
    assert [s.path for s in second] == [s.path for s in first]
    assert [s.revision.path for s in second] == [str(s.path) for s in first]


def test_cache_not_rewritten_when_nothing_changed(project: Path) -> None:
    for path in (project / "versions").iterdir():
        age(path)
    ScriptDirectory(script_location=project).scripts()
    cache = project / "__pycache__" / CACHE_NAME
    before = cache.stat().st_mtime_ns
    os.utime(cache, ns=(before - 10**9, before - 10**9))
    ScriptDirectory(script_location=project).scripts()
    assert cache.stat().st_mtime_ns == before - 10**9


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json at all",
        b'{"format": "whimbrel-headers/0", "digest": "x"}\n{}',
        b"\x00\xff garbage",
        b'{"format": 1}\n[]',
    ],
)
def test_corrupt_cache_is_ignored(project: Path, parses: list[Path], content: bytes) -> None:
    for path in (project / "versions").iterdir():
        age(path)
    ScriptDirectory(script_location=project).scripts()
    cache = project / "__pycache__" / CACHE_NAME
    cache.write_bytes(content)
    parses.clear()
    assert [s.id for s in ScriptDirectory(script_location=project).scripts()] == [
        "a1",
        "b2",
        "c3",
    ]
    assert len(parses) == 3
    # ...and the cache is repaired.
    parses.clear()
    ScriptDirectory(script_location=project).scripts()
    assert parses == []


def test_tampered_cache_rows_are_ignored(project: Path, parses: list[Path]) -> None:
    for path in (project / "versions").iterdir():
        age(path)
    ScriptDirectory(script_location=project).scripts()
    cache = project / "__pycache__" / CACHE_NAME
    head, _, body = cache.read_bytes().partition(b"\n")
    # Same length, different id: only the digest can tell.
    cache.write_bytes(head + b"\n" + body.replace(b"a1", b"zz", 1))
    parses.clear()
    ids = [s.id for s in ScriptDirectory(script_location=project).scripts()]
    assert ids == ["a1", "b2", "c3"]
    assert len(parses) == 3


def test_unwritable_cache_is_ignored(project: Path) -> None:
    (project / "__pycache__").write_text("a file where the cache directory should be")
    assert len(ScriptDirectory(script_location=project).scripts()) == 3
    assert not list(project.glob("__pycache__*/*"))


def test_recent_files_on_coarse_clocks_are_not_persisted(
    project: Path, parses: list[Path]
) -> None:
    target = project / "versions" / "a1_step.py"
    for path in (project / "versions").iterdir():
        age(path)
    now = (time.time_ns() // 10**9) * 10**9
    os.utime(target, ns=(now, now))
    ScriptDirectory(script_location=project).scripts()
    cache = project / "__pycache__" / CACHE_NAME
    ScriptDirectory(script_location=project).graph()
    cached = read_cache(cache)
    stats = {n: st for _, names, sts in cached.listing for n, st in zip(names, sts, strict=True)}
    assert stats["a1_step.py"] == cache_module.UNTRUSTED
    assert stats["b2_step.py"] != cache_module.UNTRUSTED
    # The graph snapshot describes every file, so it is not kept either.
    assert cached.snapshot is None
    # The next process reads that file again, and only that one.
    parses.clear()
    ScriptDirectory(script_location=project).scripts()
    assert parses == [target]


def test_invalidate_drops_memory(project: Path, parses: list[Path]) -> None:
    for path in (project / "versions").iterdir():
        age(path)
    scripts = ScriptDirectory(script_location=project)
    scripts.scripts()
    scripts.cache_path.unlink()
    parses.clear()
    scripts.scripts()
    assert parses == []
    scripts.invalidate()
    scripts.scripts()
    assert len(parses) == 3


def test_get_script(project: Path, tmp_path: Path) -> None:
    scripts = ScriptDirectory(script_location=project)
    assert scripts.get_script("b2").down_revisions == ("a1",)
    with pytest.raises(UnknownRevisionError):
        scripts.get_script("b")
    write_rev(project / "versions", "b2", "a1", name="dup.py")
    # Looked up in the last scan, which the graph was built from...
    assert scripts.get_script("b2").path.name == "b2_step.py"
    # ...until the files are scanned again.
    scripts.scripts()
    with pytest.raises(DuplicateRevisionError):
        scripts.get_script("b2")
    write_rev(project / "versions", "e5", "b2")
    scripts.invalidate()
    assert scripts.get_script("e5").down_revisions == ("b2",)


def test_get_script_scans_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scripts = ScriptDirectory(script_location=project)
    scans: list[bool] = []
    real = scripts._scan

    def counting(*, missing_ok: bool) -> cache_module.Listing:
        scans.append(missing_ok)
        return real(missing_ok=missing_ok)

    monkeypatch.setattr(scripts, "_scan", counting)
    scripts.scripts()
    for rev in ("a1", "b2", "c3"):
        scripts.get_script(rev)
    assert len(scans) == 1


def test_generated_revision_is_found_by_get_script(project: Path) -> None:
    scripts = ScriptDirectory(script_location=project)
    scripts.get_script("a1")
    new = scripts.generate_revision(rev_id="d4", message="d", down_revisions=["c3"])
    assert scripts.get_script("d4") == new


def test_graph(project: Path) -> None:
    scripts = ScriptDirectory(script_location=project)
    built = scripts.graph()
    assert built.heads == ("c3",)
    assert scripts.graph() is built
    write_rev(project / "versions", "d4", "c3")
    assert scripts.graph().heads == ("d4",)


def test_parse_script_matches_scan(project: Path) -> None:
    for script in ScriptDirectory(script_location=project).scripts():
        assert parse_script(script.path) == script


def _aged_project(project: Path) -> None:
    for path in (project / "versions").iterdir():
        age(path)


def test_graph_snapshot_reused_by_new_instance(
    project: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _aged_project(project)
    write_rev(project / "versions", "d4", "b2")
    age(project / "versions" / "d4_step.py")
    first = ScriptDirectory(script_location=project).graph()
    parses.clear()

    def no_validation(self: RevisionGraph) -> None:
        raise AssertionError("the snapshot should make validation unnecessary")

    monkeypatch.setattr(RevisionGraph, "_check_cycles", no_validation)
    second = ScriptDirectory(script_location=project).graph()
    assert parses == []
    assert second.heads == first.heads == ("c3", "d4")
    assert [r.revision for r in second] == [r.revision for r in first]
    assert second.iterate() == first.iterate()
    assert second.plan_upgrade((), "heads") == first.plan_upgrade((), "heads")
    assert second.is_branch_point("b2")
    assert second.get("d4") == first.get("d4")


def test_graph_snapshot_dropped_when_a_file_changes(project: Path, parses: list[Path]) -> None:
    _aged_project(project)
    ScriptDirectory(script_location=project).graph()
    # c3 now descends from a1: same ids, a different graph.
    (project / "versions" / "c3_step.py").write_text(revision_source("c3", "a1"))
    age(project / "versions" / "c3_step.py", seconds=60)
    parses.clear()
    graph = ScriptDirectory(script_location=project).graph()
    assert [p.name for p in parses] == ["c3_step.py"]
    assert graph.heads == ("b2", "c3")
    assert graph.is_branch_point("a1")


def test_graph_snapshot_never_hides_an_invalid_graph(project: Path) -> None:
    _aged_project(project)
    ScriptDirectory(script_location=project).graph()
    write_rev(project / "versions", "e5", "zz")
    with pytest.raises(MissingReferenceError):
        ScriptDirectory(script_location=project).graph()
    (project / "versions" / "e5_step.py").unlink()
    assert ScriptDirectory(script_location=project).graph().heads == ("c3",)


def test_foreign_graph_snapshot_is_rebuilt(project: Path) -> None:
    _aged_project(project)
    scripts = ScriptDirectory(script_location=project)
    scripts.graph()
    nodes = [scripts.graph().get(r) for r in ("a1", "b2", "c3")]
    assert RevisionGraph.from_snapshot(nodes, ("graph/0", [], [])) is None
    assert RevisionGraph.from_snapshot(nodes, None) is None
    rebuilt = RevisionGraph.from_snapshot(nodes, scripts.graph().snapshot())
    assert rebuilt is not None
    assert rebuilt.heads == ("c3",)


def test_file_header_matches_get_script(project: Path) -> None:
    scripts = ScriptDirectory(script_location=project)
    scripts.graph()
    for rev in ("a1", "b2", "c3"):
        script = scripts.get_script(rev)
        assert scripts.file_header(rev) == (str(script.path), script.doc, script.create_date)
    with pytest.raises(UnknownRevisionError):
        scripts.file_header("zz")


def _full_source(
    rev: str,
    down: str | tuple[str, ...] | None,
    *,
    labels: tuple[str, ...] = (),
    depends: tuple[str, ...] = (),
) -> str:
    return (
        f'"""step {rev}"""\n'
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        f"depends_on = {depends!r}\n\n"
        "def upgrade():\n    pass\n\n"
        "def downgrade():\n    pass\n"
    )


def test_snapshot_graph_equals_a_validated_one(tmp_path: Path) -> None:
    """Branches, a merge, labels and depends_on survive the round trip through the cache."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    layout: dict[str, tuple[str | tuple[str, ...] | None, tuple[str, ...], tuple[str, ...]]] = {
        "a1": (None, (), ()),
        "b2": ("a1", ("core",), ()),
        "c3": ("b2", (), ()),
        "d4": ("b2", (), ()),
        "e5": (("c3", "d4"), (), ()),
        "x1": (None, ("extra",), ()),
        "x2": ("x1", (), ("c3",)),
    }
    for rev, (down, labels, depends) in layout.items():
        path = versions / f"{rev}_step.py"
        path.write_text(_full_source(rev, down, labels=labels, depends=depends))
        age(path)
    location = tmp_path / "migrations"
    built = ScriptDirectory(script_location=location).graph()
    cached = ScriptDirectory(script_location=location).graph()
    validated = RevisionGraph([built.get(r) for r in layout])
    for graph in (built, cached):
        assert graph.heads == validated.heads == ("e5", "x2")
        assert graph.bases == validated.bases
        assert graph.real_heads == validated.real_heads
        assert list(graph) == list(validated)
        for rev in layout:
            assert graph.children(rev) == validated.children(rev)
            assert graph.dependencies(rev) == validated.dependencies(rev)
            assert graph.branch_labels(rev) == validated.branch_labels(rev)
            assert graph.descendants([rev]) == validated.descendants([rev])
        assert graph.label_owner("extra") == "x1"
        assert graph.resolve("core@head") == validated.resolve("core@head")
        assert graph.plan_upgrade((), "heads") == validated.plan_upgrade((), "heads")
        assert graph.plan_downgrade(("e5", "x2"), "c3") == validated.plan_downgrade(
            ("e5", "x2"), "c3"
        )


def test_broken_file_is_reported_again_by_a_new_process(project: Path) -> None:
    """A file that failed to parse is never trusted by a later scan."""
    for path in (project / "versions").iterdir():
        age(path)
    broken = project / "versions" / "d4_broken.py"
    broken.write_text("revision = 'd4'\n")
    age(broken)
    for _ in range(2):
        with pytest.raises(ScriptError, match="no upgrade"):
            ScriptDirectory(script_location=project).scripts()
    broken.write_text(revision_source("d4", "c3"))
    age(broken, 60)
    assert [s.id for s in ScriptDirectory(script_location=project).scripts()][-1] == "d4"


def test_odd_entries_in_a_version_directory(project: Path) -> None:
    versions = project / "versions"
    (versions / "looks_like.py").mkdir()  # a directory named like a revision file
    (versions / "link_step.py").symlink_to(write_rev(project / "elsewhere", "d4", "c3"))
    for path in [*versions.iterdir(), *(project / "elsewhere").iterdir()]:
        if path.is_file():
            age(path)
    first = [s.id for s in ScriptDirectory(script_location=project).scripts()]
    assert first == ["a1", "b2", "c3", "d4"]
    # A second process takes the fast path and agrees.
    assert [s.id for s in ScriptDirectory(script_location=project).scripts()] == first


def test_file_removed_while_scanning(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.listdir

    def listdir_with_a_ghost(path: str) -> list[str]:
        return [*real(path), "zz_gone.py"]

    monkeypatch.setattr(os, "listdir", listdir_with_a_ghost)
    assert [s.id for s in ScriptDirectory(script_location=project).scripts()] == [
        "a1",
        "b2",
        "c3",
    ]


def test_file_headers_match_file_header(project: Path) -> None:
    scripts = ScriptDirectory(script_location=project)
    scripts.graph()
    ids = ["c3", "a1", "b2"]
    assert scripts.file_headers(ids) == [scripts.file_header(r) for r in ids]
    # Without a graph built, the same answer by the slower path.
    assert ScriptDirectory(script_location=project).file_headers(ids) == [
        scripts.file_header(r) for r in ids
    ]
    with pytest.raises(UnknownRevisionError):
        scripts.file_headers(["a1", "zz"])


def test_same_size_edit_with_mtime_put_back_is_reparsed(project: Path, parses: list[Path]) -> None:
    """``touch -r``, ``cp -p`` or ``rsync -t`` restore the mtime; the ctime still moves."""
    for path in (project / "versions").iterdir():
        age(path)
    target = project / "versions" / "c3_step.py"
    ScriptDirectory(script_location=project).graph()
    before = target.stat()
    # Same length, another parent: only the header differs.
    target.write_text(revision_source("c3", "a1"))
    assert target.stat().st_size == before.st_size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    parses.clear()
    graph = ScriptDirectory(script_location=project).graph()
    assert parses == [target]
    assert graph.get("c3").down_revisions == ("a1",)
    assert graph.heads == ("b2", "c3")
