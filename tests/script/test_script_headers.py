from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from whimbrel.errors import ScriptError
from whimbrel.script.directory import Script, parse_script


def write(tmp_path: Path, source: str, name: str = "rev.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    revision: str = "a1"
    down: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    message: str | None = None
    create_date: str | None = None
    transactional: bool = True
    up_op: bool = False
    down_op: bool | None = False
    up_async: bool = False
    down_async: bool = False


VALID = [
    Case(
        "alembic-style",
        '''
        """Add orders table

        Revision ID: a1
        Revises: b0
        Create Date: 2026-11-24 10:00:00.000000
        """
        from alembic import op
        import sqlalchemy as sa

        revision = "a1"
        down_revision = "b0"
        branch_labels = None
        depends_on = None

        def upgrade():
            op.create_table("orders", sa.Column("id", sa.Integer()))

        def downgrade():
            op.drop_table("orders")
        ''',
        down=("b0",),
        message="Add orders table",
        create_date="2026-11-24 10:00:00.000000",
    ),
    Case(
        "annotated-union",
        """
        '''Single quoted docstring'''
        from typing import Sequence, Union

        revision: str = 'a1'
        down_revision: Union[str, Sequence[str], None] = ('b0', 'b1')
        branch_labels: Union[str, Sequence[str], None] = 'feature'
        depends_on: Union[str, Sequence[str], None] = ['d0']

        def upgrade() -> None:
            pass

        def downgrade() -> None:
            pass
        """,
        down=("b0", "b1"),
        labels=("feature",),
        depends=("d0",),
        message="Single quoted docstring",
    ),
    Case(
        "lists-and-pep604",
        """
        from collections.abc import Sequence
        revision: str = "a1"
        down_revision: str | Sequence[str] | None = ["b0", "b1"]
        branch_labels: str | Sequence[str] | None = ("x", "y")
        def upgrade() -> None: ...
        def downgrade() -> None: ...
        """,
        down=("b0", "b1"),
        labels=("x", "y"),
    ),
    Case(
        "no-docstring-no-downgrade",
        """
        revision = "a1"
        down_revision = None
        def upgrade(): pass
        """,
        down_op=None,
    ),
    Case(
        "op-parameter-async-not-transactional",
        '''
        """

        Message after blank lines
        second line
        """
        from whimbrel.operations import Operations
        revision = "a1"
        transactional = False
        async def upgrade(op: Operations) -> None:
            await op.run_sync(lambda c: None)
        def downgrade(op: Operations) -> None:
            pass
        ''',
        message="Message after blank lines",
        transactional=False,
        up_op=True,
        down_op=True,
        up_async=True,
    ),
    Case(
        "async-downgrade-with-default-op",
        """
        revision = "a1"
        def upgrade(op=None): pass
        async def downgrade(): pass
        """,
        up_op=True,
        down_async=True,
    ),
    Case(
        "later-assignment-wins-and-other-names-ignored",
        """
        import os
        revision = "zz"
        other = os.getcwd()
        x = y = 3
        revision = "a1"
        def upgrade(): pass
        def downgrade(): pass
        """,
    ),
]


@pytest.mark.parametrize("case", VALID, ids=[c.id for c in VALID])
def test_valid_headers(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case.source)
    script = parse_script(path)
    assert isinstance(script, Script)
    assert script.id == case.revision
    assert script.revision.revision == case.revision
    assert script.down_revisions == case.down
    assert script.revision.branch_labels == case.labels
    assert script.revision.depends_on == case.depends
    assert script.message == case.message
    assert script.revision.message == case.message
    assert script.create_date == case.create_date
    assert script.transactional is case.transactional
    assert script.upgrade_takes_op is case.up_op
    assert script.downgrade_takes_op is case.down_op
    assert script.has_downgrade is (case.down_op is not None)
    assert script.upgrade_is_async is case.up_async
    assert script.downgrade_is_async is case.down_async
    assert script.path == path
    assert script.revision.path == str(path)


def test_docstring_is_kept_whole(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '''
        """Title

            indented body
        Create Date: 2020-01-01
        """
        revision = "a1"
        def upgrade(): pass
        ''',
    )
    script = parse_script(path)
    assert script.doc == "Title\n\n    indented body\nCreate Date: 2020-01-01"
    assert script.create_date == "2020-01-01"


@dataclass(frozen=True)
class Broken:
    id: str
    source: str
    lineno: int | None
    match: str


BROKEN = [
    Broken(
        "syntax-error",
        """
        revision = "a1"

        def upgrade(:
            pass
        """,
        3,
        "syntax error",
    ),
    Broken(
        "syntax-error-in-body",
        """
        revision = "a1"
        def upgrade():
            x = = 1
        """,
        3,
        "syntax error",
    ),
    Broken(
        "missing-revision",
        """
        down_revision = None
        def upgrade(): pass
        """,
        None,
        "no 'revision' variable",
    ),
    Broken(
        "annotation-without-value-is-not-a-revision",
        """
        revision: str
        def upgrade(): pass
        """,
        None,
        "no 'revision' variable",
    ),
    Broken(
        "missing-upgrade",
        """
        revision = "a1"
        def downgrade(): pass
        """,
        None,
        "no upgrade\\(\\) function",
    ),
    Broken(
        "non-literal-down-revision",
        """
        import os
        revision = "a1"

        down_revision = os.environ["PARENT"]
        def upgrade(): pass
        """,
        4,
        "'down_revision' must be a literal",
    ),
    Broken(
        "non-literal-annotated-revision",
        """
        PREFIX = "a"
        revision: str = PREFIX + "1"
        def upgrade(): pass
        """,
        2,
        "'revision' must be a literal",
    ),
    Broken(
        "revision-not-a-string",
        """
        revision = 42
        def upgrade(): pass
        """,
        1,
        "'revision' must be a non-empty string, not int 42",
    ),
    Broken(
        "empty-revision",
        """
        revision = ""
        def upgrade(): pass
        """,
        1,
        "'revision' must be a non-empty string",
    ),
    Broken(
        "down-revision-a-number",
        """
        revision = "a1"
        down_revision = 3
        def upgrade(): pass
        """,
        2,
        "'down_revision' must be None, a string or a tuple",
    ),
    Broken(
        "branch-labels-with-non-string",
        """
        revision = "a1"
        branch_labels = ("ok", 1)
        def upgrade(): pass
        """,
        2,
        "'branch_labels' must be None",
    ),
    Broken(
        "depends-on-a-dict",
        """
        revision = "a1"
        depends_on = {"a": 1}
        def upgrade(): pass
        """,
        2,
        "'depends_on' must be None",
    ),
    Broken(
        "transactional-not-bool",
        """
        revision = "a1"
        transactional = "no"
        def upgrade(): pass
        """,
        2,
        "'transactional' must be True or False",
    ),
    Broken(
        "upgrade-takes-two-arguments",
        """
        revision = "a1"

        def upgrade(op, context):
            pass
        """,
        3,
        "upgrade\\(\\) must take no arguments or one",
    ),
    Broken(
        "downgrade-requires-keyword",
        """
        revision = "a1"
        def upgrade(): pass
        def downgrade(*, op): pass
        """,
        3,
        "downgrade\\(\\) must take no arguments or one",
    ),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c.id for c in BROKEN])
def test_broken_headers(tmp_path: Path, case: Broken) -> None:
    path = write(tmp_path, case.source)
    with pytest.raises(ScriptError, match=case.match) as info:
        parse_script(path)
    assert info.value.path == path
    assert info.value.lineno == case.lineno
    where = f"{path}:{case.lineno}" if case.lineno else str(path)
    assert str(info.value).startswith(f"{where}: ")


def test_null_bytes_and_bad_encoding(tmp_path: Path) -> None:
    path = tmp_path / "nul.py"
    path.write_bytes(b'revision = "a1"\x00\n')
    with pytest.raises(ScriptError) as info:
        parse_script(path)
    assert info.value.path == path
    path.write_bytes(b'revision = "\xff"\ndef upgrade(): pass\n')
    with pytest.raises(ScriptError):
        parse_script(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read file") as info:
        parse_script(tmp_path / "missing.py")
    assert info.value.lineno is None


def test_reading_headers_never_executes_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = write(
        tmp_path,
        f"""
        from pathlib import Path
        Path({str(marker)!r}).write_text("ran")
        raise SystemExit("must not run")

        revision = "a1"
        down_revision = None

        def upgrade():
            Path({str(marker)!r}).write_text("ran")
        """,
    )
    script = parse_script(path)
    assert script.id == "a1"
    assert not marker.exists()


def test_load_module_imports_fresh_each_time(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    path = write(
        tmp_path,
        f"""
        from pathlib import Path
        _p = Path({str(counter)!r})
        _p.write_text(str(int(_p.read_text()) + 1) if _p.exists() else "1")
        revision = "a1"
        def upgrade():
            return "up"
        """,
    )
    script = parse_script(path)
    assert not counter.exists()
    first = script.load_module()
    second = script.load_module()
    assert first is not second
    assert counter.read_text() == "2"
    assert first.upgrade() == "up"
    assert first.__name__.startswith("whimbrel_versions.a1_")
    import sys

    assert first.__name__ not in sys.modules


def test_load_module_error_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        revision = "a1"

        def upgrade(): pass

        raise RuntimeError("boom")
        """,
    )
    script = parse_script(path)
    with pytest.raises(ScriptError, match="RuntimeError: boom") as info:
        script.load_module()
    assert info.value.lineno == 5
    assert info.value.path == path
    assert isinstance(info.value.__cause__, RuntimeError)


def test_load_module_import_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        import whimbrel_no_such_module_xyz
        revision = "a1"
        def upgrade(): pass
        """,
    )
    with pytest.raises(ScriptError, match="ModuleNotFoundError") as info:
        parse_script(path).load_module()
    assert info.value.lineno == 1


def test_load_module_sees_an_edited_file(tmp_path: Path) -> None:
    """Compiled files are reused only while the file's size and mtime are unchanged."""
    import os

    source = 'revision = "a1"\ndef upgrade():\n    return "{}"\n'
    path = tmp_path / "a1.py"
    path.write_text(source.format("one"))
    old = os.stat(path).st_mtime_ns - 10 * 10**9
    os.utime(path, ns=(old, old))
    script = parse_script(path)
    assert script.load_module().upgrade() == "one"
    assert script.load_module().upgrade() == "one"  # from the cache
    path.write_text(source.format("two"))  # same size, new mtime
    os.utime(path, ns=(old + 10**9, old + 10**9))
    assert script.load_module().upgrade() == "two"
    path.write_text(source.format("three"))  # new size
    os.utime(path, ns=(old + 10**9, old + 10**9))
    assert script.load_module().upgrade() == "three"


def test_compiled_code_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-running process keeps at most _CODE_CACHE_SIZE compiled files, newest used."""
    import os

    from whimbrel.script import headers

    monkeypatch.setattr(headers, "_CODE_CACHE", type(headers._CODE_CACHE)())
    monkeypatch.setattr(headers, "_CODE_CACHE_SIZE", 3)
    scripts = []
    for n in range(5):
        path = write(tmp_path, f'revision = "r{n}"\ndef upgrade():\n    return {n}\n', f"r{n}.py")
        os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
        scripts.append(parse_script(path))
    for script in scripts[:3]:
        script.load_module()
    # Using r0 again makes r1 the least recently used one.
    assert scripts[0].load_module().upgrade() == 0
    for script in scripts[3:]:
        script.load_module()
    assert [Path(p).name for p in headers._CODE_CACHE] == ["r0.py", "r3.py", "r4.py"]
    # An evicted file still loads (and compiles again).
    assert scripts[1].load_module().upgrade() == 1
    assert len(headers._CODE_CACHE) == 3


def test_load_module_sees_a_same_size_edit_with_mtime_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python would trust the .pyc (same size, same mtime); the source's ctime says no."""
    import importlib.util
    import os
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    path = write(tmp_path, 'revision = "a1"\ndef upgrade():\n    return "old"\n', "a1.py")
    os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    script = parse_script(path)
    assert script.load_module().upgrade() == "old"
    assert Path(importlib.util.cache_from_source(str(path))).is_file()
    before = path.stat()
    path.write_text('revision = "a1"\ndef upgrade():\n    return "new"\n')
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert script.load_module().upgrade() == "new"
