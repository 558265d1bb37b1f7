"""Revision file headers: what a file declares, read with :mod:`ast` without running it.

:class:`Script` is one file's header; :func:`parse_script` reads it; only
:meth:`Script.load_module` imports the file, when it is about to run.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import time
import types
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whimbrel.errors import (
    ScriptError,
)
from whimbrel.script.cache import RACY_NS, is_racy
from whimbrel.script.graph import Revision

if TYPE_CHECKING:
    pass

__all__ = ("Script", "file_checksum", "parse_script")


@dataclass(frozen=True, slots=True)
class Script:
    """A revision file, as read from its header without running it."""

    revision: Revision
    file: str
    doc: str | None
    create_date: str | None
    transactional: bool
    upgrade_takes_op: bool
    downgrade_takes_op: bool | None
    upgrade_is_async: bool
    downgrade_is_async: bool

    @property
    def id(self) -> str:
        return self.revision.revision

    @property
    def path(self) -> Path:
        # Built on demand: 5,000 Path objects cost more than reading the header cache.
        return Path(self.file)

    @property
    def down_revisions(self) -> tuple[str, ...]:
        return self.revision.down_revisions

    @property
    def message(self) -> str | None:
        return self.revision.message

    @property
    def has_downgrade(self) -> bool:
        return self.downgrade_takes_op is not None

    def load_module(self) -> types.ModuleType:
        """Import the revision file and return it as a fresh module object.

        The module is in ``sys.modules`` only while it executes, so loading a file
        twice gives two independent modules.

        Raises:
            ScriptError: The file cannot be imported, or raised while executing; the
                error names the line in the file and chains the original exception.
        """
        path = self.path
        import hashlib

        digest = hashlib.blake2b(self.file.encode(), digest_size=6).hexdigest()
        stem = re.sub(r"\W", "_", self.id)
        name = f"whimbrel_versions.{stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            raise ScriptError("cannot be imported as a Python module", path=path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            code, mentions_alembic = _compiled(self.file, spec.loader, name)
            names: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
            if mentions_alembic:
                from whimbrel.script.alembic_compat import alembic_names

                names = alembic_names()
            with names:
                # What importing the file does, minus re-reading it for every target.
                exec(code, module.__dict__)  # noqa: S102
        except SyntaxError as e:
            raise ScriptError(f"syntax error: {e.msg}", path=path, lineno=e.lineno) from e
        except Exception as e:
            raise ScriptError(
                f"importing the revision file failed: {type(e).__name__}: {e}",
                path=path,
                lineno=_traceback_line(e, self.file),
            ) from e
        finally:
            sys.modules.pop(name, None)
        return module


# Compiled revision files, by path: (size, mtime_ns, ctime_ns, code, mentions
# "alembic", SHA-256 of the bytes), keyed like the header cache. Fanning out over 200
# tenants loads each file 200 times; this reads, hashes and unmarshals it once. Least
# recently used entries are dropped past _CODE_CACHE_SIZE, so a long-running app that
# migrated at start-up keeps at most that many code objects (a few KB each).
_CODE_CACHE: OrderedDict[str, tuple[int, int, int, types.CodeType, bool, str]] = OrderedDict()
_CODE_CACHE_SIZE = 1024


def _cached(file: str) -> tuple[int, int, int, types.CodeType, bool, str] | None:
    """The cache entry of ``file`` if the file is unchanged since it was made."""
    st = os.stat(file)
    cached = _CODE_CACHE.get(file)
    if cached is not None and cached[:3] == (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
        _CODE_CACHE.move_to_end(file)
        return cached
    return None


def file_checksum(file: str) -> str:
    """SHA-256 of a revision file's bytes (the one read that compiled it, if unchanged)."""
    cached = _cached(file)
    if cached is not None:
        return cached[5]
    import hashlib

    with open(file, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _compiled(
    file: str, loader: importlib.machinery.SourceFileLoader, name: str
) -> tuple[types.CodeType, bool]:
    """The file's code object and whether it mentions alembic."""
    cached = _cached(file)
    if cached is not None:
        return cached[3], cached[4]
    st = os.stat(file)
    with open(file, "rb") as f:
        source = f.read()
    code = _code(file, source, st, loader, name)
    mentions_alembic = b"alembic" in source
    import hashlib

    checksum = hashlib.sha256(source).hexdigest()
    # Not cached when changed too recently on a coarse clock (as in the header cache).
    if not is_racy(st.st_mtime_ns, st.st_ctime_ns, time.time_ns() - RACY_NS):
        _CODE_CACHE[file] = (
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
            code,
            mentions_alembic,
            checksum,
        )
        _CODE_CACHE.move_to_end(file)
        while len(_CODE_CACHE) > _CODE_CACHE_SIZE:
            _CODE_CACHE.popitem(last=False)
    return code, mentions_alembic


def _code(
    file: str,
    source: bytes,
    st: os.stat_result,
    loader: importlib.machinery.SourceFileLoader,
    name: str,
) -> types.CodeType:
    """The file's code: from its .pyc when that is up to date, else compiled afresh.

    Python trusts a .pyc whose recorded source size and mtime match, so a same-size
    edit whose mtime was put back (``touch -r``, ``cp -p``, an archive extracted over
    the file) would run the old code. The source's ctime, which no user call can set,
    tells: a .pyc written before the source last changed is removed and rebuilt.
    """
    try:
        pyc = importlib.util.cache_from_source(file)
        stale = os.stat(pyc).st_mtime_ns <= st.st_ctime_ns
    except (OSError, NotImplementedError, ValueError):
        stale = False  # no .pyc: get_code compiles the source
    if stale:
        try:
            os.unlink(pyc)
        except OSError:
            # A .pyc we cannot replace: compile the source without it.
            return loader.source_to_code(source, file)
    code = loader.get_code(name)  # the .pyc beside the file when it is up to date
    if code is None:
        raise ScriptError("cannot be imported as a Python module", path=Path(file))
    return code


def _traceback_line(error: BaseException, filename: str) -> int | None:
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# --------------------------------------------------------------------- header parsing

_HEADER_NAMES = frozenset(
    {"revision", "down_revision", "branch_labels", "depends_on", "transactional"}
)
_CREATE_DATE = re.compile(r"^[ \t]*Create Date:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


def parse_script(path: Path, source: bytes | None = None) -> Script:
    """Read the header of the revision file at ``path`` without executing it.

    Args:
        path: The file; its text is read unless ``source`` is given.
        source: The file's content, when already read.

    Returns:
        The parsed script. Its ``revision`` node carries ``path``.

    Raises:
        ScriptError: The file cannot be read or parsed, lacks ``revision`` or an
            ``upgrade`` function, or a header variable is not a literal of the right
            type. The error carries the path and, when known, the line.
    """
    if source is None:
        try:
            source = path.read_bytes()
        except OSError as e:
            raise ScriptError(f"cannot read file: {e.strerror or e}", path=path) from e
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise ScriptError(f"syntax error: {e.msg}", path=path, lineno=e.lineno) from e
    except ValueError as e:  # null bytes, undecodable text
        raise ScriptError(f"cannot parse: {e}", path=path) from e

    values: dict[str, tuple[Any, int]] = {}
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            names = [node.target.id] if isinstance(node.target, ast.Name) else []
            value = node.value
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[node.name] = node
            continue
        else:
            continue
        for name in names:
            if name in _HEADER_NAMES:
                values[name] = (_literal(name, value, path), node.lineno)

    if "revision" not in values:
        raise ScriptError(
            "no 'revision' variable; add e.g. revision = \"1a2b3c4d5e6f\" at module level",
            path=path,
        )
    rev_id, line = values["revision"]
    if not isinstance(rev_id, str) or not rev_id.strip():
        raise ScriptError(
            f"'revision' must be a non-empty string, not {_describe(rev_id)}",
            path=path,
            lineno=line,
        )
    transactional, line = values.get("transactional", (True, 0))
    if not isinstance(transactional, bool):
        raise ScriptError(
            f"'transactional' must be True or False, not {_describe(transactional)}",
            path=path,
            lineno=line,
        )
    upgrade = functions.get("upgrade")
    if upgrade is None:
        raise ScriptError(
            "no upgrade() function; define 'def upgrade() -> None:' at module level",
            path=path,
        )
    downgrade = functions.get("downgrade")
    doc = ast.get_docstring(tree)
    create_date = None
    if doc is not None:
        found = _CREATE_DATE.search(doc)
        create_date = found.group(1) if found else None
    return Script(
        revision=Revision(
            revision=rev_id,
            down_revisions=_ids(values, "down_revision", path),
            branch_labels=_ids(values, "branch_labels", path),
            depends_on=_ids(values, "depends_on", path),
            message=_first_line(doc),
            path=str(path),
        ),
        file=str(path),
        doc=doc,
        create_date=create_date,
        transactional=transactional,
        upgrade_takes_op=_takes_op(upgrade, path),
        downgrade_takes_op=None if downgrade is None else _takes_op(downgrade, path),
        upgrade_is_async=isinstance(upgrade, ast.AsyncFunctionDef),
        downgrade_is_async=isinstance(downgrade, ast.AsyncFunctionDef),
    )


def _literal(name: str, node: ast.expr, path: Path) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        raise ScriptError(
            f"{name!r} must be a literal value, not an expression: Whimbrel reads it "
            "without running the file",
            path=path,
            lineno=node.lineno,
        ) from e


def _ids(values: dict[str, tuple[Any, int]], name: str, path: Path) -> tuple[str, ...]:
    value, line = values.get(name, (None, 0))
    if value is None:
        return ()
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, tuple | list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ScriptError(
        f"{name!r} must be None, a string or a tuple of non-empty strings, not {_describe(value)}",
        path=path,
        lineno=line,
    )


def _takes_op(fn: ast.FunctionDef | ast.AsyncFunctionDef, path: Path) -> bool:
    args = fn.args
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    if required > 1 or any(default is None for default in args.kw_defaults):
        raise ScriptError(
            f"{fn.name}() must take no arguments or one (op), "
            f"but it requires {max(required, 0)} positional and "
            f"{sum(d is None for d in args.kw_defaults)} keyword arguments",
            path=path,
            lineno=fn.lineno,
        )
    return positional > 0 or args.vararg is not None


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def _first_line(doc: str | None) -> str | None:
    if doc is None:
        return None
    return next((line.strip() for line in doc.splitlines() if line.strip()), None)
