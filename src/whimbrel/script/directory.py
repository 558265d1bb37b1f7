"""The directory of revision files: find them, read their headers, write new ones.

Headers are read statically with :mod:`ast`; a revision file is imported only by
:meth:`Script.load_module`, when it is about to run. Parsed headers are cached in
memory and in ``<script_location>/__pycache__/whimbrel-headers.bin``, keyed on each
file's size and modification time, so a new process re-parses only what changed.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import marshal
import os
import re
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whimbrel._version import __version__
from whimbrel.errors import (
    CommandError,
    DuplicateRevisionError,
    ScriptError,
    UnknownRevisionError,
    UsageError,
)
from whimbrel.script.graph import Revision

if TYPE_CHECKING:
    from whimbrel.config import Config
    from whimbrel.script.graph import RevisionGraph
    from whimbrel.script.hooks import PostWriteHookLike

__all__ = ("CACHE_NAME", "Script", "ScriptDirectory", "parse_script")

CACHE_NAME = "whimbrel-headers.bin"
# Bump when the parser or the entry layout changes; older files are then ignored.
_CACHE_FORMAT = f"whimbrel-headers/2 {__version__}"
# On file systems with coarse timestamps a file rewritten within the same tick keeps
# its mtime; such recent entries are not persisted (git calls this "racily clean").
_RACY_NS = 2_000_000_000
_REV_ID = re.compile(r"\w+")


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
        digest = hashlib.blake2b(str(self.path).encode(), digest_size=6).hexdigest()
        stem = re.sub(r"\W", "_", self.id)
        name = f"whimbrel_versions.{stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            raise ScriptError("cannot be imported as a Python module", path=self.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            if b"alembic" in self.path.read_bytes():
                from whimbrel.script.alembic_compat import alembic_names

                with alembic_names():
                    spec.loader.exec_module(module)
            else:
                spec.loader.exec_module(module)
        except SyntaxError as e:
            raise ScriptError(f"syntax error: {e.msg}", path=self.path, lineno=e.lineno) from e
        except Exception as e:
            raise ScriptError(
                f"importing the revision file failed: {type(e).__name__}: {e}",
                path=self.path,
                lineno=_traceback_line(e, str(self.path)),
            ) from e
        finally:
            sys.modules.pop(name, None)
        return module


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


# ------------------------------------------------------------------------ the cache

# A cache entry: the file's size and mtime_ns, and what was parsed from it.
_Entry = tuple[int, int, Script]


def _encode(size: int, mtime_ns: int, script: Script) -> list[object]:
    rev = script.revision
    return [
        size,
        mtime_ns,
        rev.revision,
        rev.down_revisions,
        rev.branch_labels,
        rev.depends_on,
        rev.message,
        script.doc,
        script.create_date,
        script.transactional,
        script.upgrade_takes_op,
        script.downgrade_takes_op,
        script.upgrade_is_async,
        script.downgrade_is_async,
    ]


def _dump_cache(entries: dict[str, _Entry]) -> bytes:
    """The cache file: a header line with a digest of the entries, then the entries.

    The digest lets a load trust every row without checking its types one by one,
    which is most of the cost of reading 5,000 entries.
    """
    racy_after = time.time_ns() - _RACY_NS
    rows = {
        key: _encode(*entry)
        for key, entry in entries.items()
        if entry[1] % 1_000_000 or entry[1] < racy_after
    }
    # marshal (the format of .pyc files, beside which this cache lives) loads several
    # times faster than JSON; the digest below guards against a damaged file.
    body = marshal.dumps(rows)
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    header = json.dumps({"format": _CACHE_FORMAT, "digest": digest}).encode()
    return header + b"\n" + body


def _load_cache_bytes(raw: bytes) -> dict[str, _Entry]:
    head, _, body = raw.partition(b"\n")
    header = json.loads(head)
    if header.get("format") != _CACHE_FORMAT:
        return {}
    if hashlib.blake2b(body, digest_size=16).hexdigest() != header.get("digest"):
        return {}
    entries: dict[str, _Entry] = {}
    for key, row in marshal.loads(body).items():
        size, mtime, rev, down, labels, deps, message, doc, cdate, *flags = row
        tx, up_op, down_op, up_async, down_async = flags
        revision = Revision(rev, tuple(down), tuple(labels), tuple(deps), message, key)
        script = Script(revision, key, doc, cdate, tx, up_op, down_op, up_async, down_async)
        entries[key] = (size, mtime, script)
    return entries


# ----------------------------------------------------------------- the directory


class ScriptDirectory:
    """The revision files of a project: reads them, caches their headers, writes new ones.

    ``version_locations`` defaults to ``<script_location>/versions``; relative paths
    are taken from the working directory.
    """

    def __init__(
        self,
        *,
        script_location: Path,
        version_locations: Sequence[Path] = (),
        recursive_version_locations: bool = False,
        file_template: str = "%(rev)s_%(slug)s",
        truncate_slug_length: int = 40,
        timezone: str | None = None,
        post_write_hooks: Sequence[PostWriteHookLike] = (),
    ) -> None:
        self.script_location = Path(script_location)
        self.version_locations = tuple(Path(p) for p in version_locations)
        self.recursive_version_locations = recursive_version_locations
        self.file_template = file_template
        self.truncate_slug_length = truncate_slug_length
        self.timezone = timezone
        self.post_write_hooks = tuple(post_write_hooks)
        self._entries: dict[str, _Entry] | None = None
        self._dirty = False
        self._graph: tuple[list[Script], RevisionGraph] | None = None
        self._last: list[Script] | None = None
        self._by_id: dict[str, list[Script]] | None = None

    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        """Build the script directory a loaded :class:`~whimbrel.config.Config` describes."""
        return cls(
            script_location=config.script_location,
            version_locations=config.version_locations,
            recursive_version_locations=config.recursive_version_locations,
            file_template=config.file_template,
            truncate_slug_length=config.truncate_slug_length,
            timezone=config.timezone,
            post_write_hooks=config.post_write_hooks,
        )

    @property
    def cache_path(self) -> Path:
        """Where parsed headers persist between processes."""
        return self.script_location / "__pycache__" / CACHE_NAME

    @property
    def version_paths(self) -> tuple[Path, ...]:
        """The directories searched for revision files."""
        return self.version_locations or (self.script_location / "versions",)

    def invalidate(self) -> None:
        """Forget everything cached in memory; the next call re-reads the disk cache."""
        self._entries = None
        self._dirty = False
        self._graph = None
        self._last = None
        self._by_id = None

    # ------------------------------------------------------------------ reading

    def scripts(self) -> list[Script]:
        """Return every revision file's script, sorted by path.

        Only files that changed since they were last parsed (by this or an earlier
        process) are read.

        Raises:
            CommandError: The script directory or a configured version location does
                not exist.
            ScriptError: A revision file is broken; the first one by path is reported
                after the others have been cached.
        """
        return self._scripts(missing_ok=False)

    def _scripts(self, *, missing_ok: bool) -> list[Script]:
        if not self.script_location.is_dir():
            raise CommandError(
                f"script directory {self.script_location} does not exist; run 'whimbrel init'"
            )
        found = self._scan(missing_ok=missing_ok)
        old = self._entries
        if old is None:
            old = self._load_cache()
        entries: dict[str, _Entry] = {}
        errors: list[ScriptError] = []
        parsed = False
        for key in sorted(found):
            size, mtime = found[key]
            entry = old.get(key)
            if entry is None or entry[0] != size or entry[1] != mtime:
                try:
                    script = parse_script(Path(key))
                except ScriptError as e:
                    errors.append(e)
                    continue
                entry = (size, mtime, script)
                parsed = True
            entries[key] = entry
        self._entries = entries
        if parsed or self._dirty or len(entries) != len(old):
            self._dirty = not self._save_cache(entries)
        if errors:
            raise errors[0]
        scripts = [entry[2] for entry in entries.values()]
        if self._last is None or not _same(self._last, scripts):
            self._last = scripts
            self._by_id = None
        return scripts

    def graph(self) -> RevisionGraph:
        """Return the revision graph of every script (rebuilt only when files changed).

        Raises:
            CommandError: As for :meth:`scripts`.
            ScriptError: As for :meth:`scripts`.
            RevisionError: The graph is invalid (a cycle, a duplicate id...).
        """
        from whimbrel.script.graph import RevisionGraph

        scripts = self.scripts()
        if self._graph is not None and _same(self._graph[0], scripts):
            return self._graph[1]
        graph = RevisionGraph(script.revision for script in scripts)
        self._graph = (scripts, graph)
        return graph

    def get_script(self, rev_id: str) -> Script:
        """Return the script whose revision id is exactly ``rev_id``.

        It is looked up in the result of the last :meth:`scripts` or :meth:`graph`
        call, so it matches the graph just built; without one the files are scanned
        first. :meth:`invalidate` makes the next call scan again.

        Raises:
            UnknownRevisionError: No file declares that id.
            DuplicateRevisionError: Several files declare it.
            CommandError: As for :meth:`scripts`.
            ScriptError: As for :meth:`scripts`.
        """
        if self._by_id is None:
            by_id: dict[str, list[Script]] = {}
            for script in self._last if self._last is not None else self.scripts():
                by_id.setdefault(script.id, []).append(script)
            self._by_id = by_id
        matches = self._by_id.get(rev_id, [])
        if not matches:
            raise UnknownRevisionError(rev_id)
        if len(matches) > 1:
            raise DuplicateRevisionError(rev_id, [s.path for s in matches])
        return matches[0]

    def _scan(self, *, missing_ok: bool) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for location in self.version_paths:
            try:
                self._scan_dir(os.path.abspath(location), found)
            except FileNotFoundError:
                if self.version_locations and not missing_ok:
                    raise CommandError(
                        f"version location {location} does not exist; create it or "
                        "correct 'version_locations'"
                    ) from None
                # The default versions directory appears with the first revision.
            except NotADirectoryError:
                raise CommandError(f"version location {location} is not a directory") from None
        return found

    def _scan_dir(self, directory: str, found: dict[str, tuple[int, int]]) -> None:
        with os.scandir(directory) as it:
            for entry in it:
                name = entry.name
                if name[0] == "." or name == "__pycache__":
                    continue
                if name.endswith(".py"):
                    if name == "__init__.py" or not entry.is_file():
                        continue
                    try:
                        st = entry.stat()
                    except FileNotFoundError:  # removed while we looked
                        continue
                    found[entry.path] = (st.st_size, st.st_mtime_ns)
                elif self.recursive_version_locations and entry.is_dir():
                    try:
                        self._scan_dir(entry.path, found)
                    except (FileNotFoundError, NotADirectoryError):
                        continue

    def _load_cache(self) -> dict[str, _Entry]:
        try:
            with open(self.cache_path, "rb") as f:
                return _load_cache_bytes(f.read())
        except Exception:
            # A missing, corrupt or foreign cache only costs a re-parse.
            return {}

    def _save_cache(self, entries: dict[str, _Entry]) -> bool:
        directory = self.cache_path.parent
        tmp = None
        try:
            import tempfile

            data = _dump_cache(entries)
            directory.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".whimbrel-headers-", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.cache_path)
        except (OSError, ValueError):
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return False
        return True

    # ------------------------------------------------------------------ writing

    def generate_revision(
        self,
        *,
        rev_id: str | None,
        message: str | None,
        down_revisions: Sequence[str],
        branch_labels: Sequence[str] = (),
        depends_on: Sequence[str] = (),
        version_path: Path | None = None,
        upgrade_body: str = "pass",
        downgrade_body: str = "pass",
        imports: Sequence[str] = (),
        now: datetime | None = None,
    ) -> Script:
        """Write a new revision file from the project's ``script.py.tmpl`` and parse it.

        Args:
            rev_id: The new revision id; a random 12-digit hex id when None.
            message: One line saying what the revision does; it names the file.
            down_revisions: Full ids of the parent revisions; empty for a new base.
            branch_labels: Labels declared by the new revision.
            depends_on: Revisions the new one depends on without descending from them.
            version_path: Which configured version location to write into; by default
                the one holding the first parent's file, else the first location.
            upgrade_body: Python statements of ``upgrade()``.
            downgrade_body: Python statements of ``downgrade()``.
            imports: Extra import lines placed after the template's imports.
            now: The creation time; the current time when None. A naive value is
                taken to be in the configured ``timezone``.

        Returns:
            The new file's script, parsed after the post-write hooks ran.

        Raises:
            UsageError: ``rev_id`` is malformed or already used.
            CommandError: The file exists, ``version_path`` is not configured, the
                template is broken or a post-write hook fails.
            ConfigError: ``timezone`` or ``file_template`` is invalid.
            ScriptError: An existing revision file, or the written one, is broken.
        """
        import uuid

        from whimbrel.script.hooks import run_post_write_hooks
        from whimbrel.script.templates import (
            render_revision,
            revision_file_name,
            revision_template,
            revision_time,
        )

        # A configured version location that does not exist yet is created below.
        existing = self._scripts(missing_ok=True)
        if rev_id is None:
            rev_id = uuid.uuid4().hex[-12:]
        elif not _REV_ID.fullmatch(rev_id):
            raise UsageError(
                f"revision id {rev_id!r} may hold only letters, digits and underscores"
            )
        if any(script.id == rev_id for script in existing):
            raise UsageError(f"revision id {rev_id!r} is already used; choose another")
        directory = self._target_directory(version_path, down_revisions, existing)
        when = revision_time(self.timezone, now)
        path = directory / revision_file_name(
            self.file_template,
            rev_id=rev_id,
            message=message,
            when=when,
            truncate_slug_length=self.truncate_slug_length,
        )
        template, template_name = revision_template(self.script_location)
        text = render_revision(
            template,
            template_name=template_name,
            rev_id=rev_id,
            message=message,
            down_revisions=down_revisions,
            branch_labels=branch_labels,
            depends_on=depends_on,
            create_date=when.isoformat(sep=" ", timespec="microseconds"),
            upgrade_body=upgrade_body,
            downgrade_body=downgrade_body,
            imports=imports,
        )
        directory.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="utf-8", newline="\n") as f:
                f.write(text)
        except FileExistsError:
            raise CommandError(f"{path} already exists; refusing to overwrite it") from None
        except OSError as e:
            raise CommandError(f"cannot write {path}: {e.strerror or e}") from e
        run_post_write_hooks(path, self.post_write_hooks)
        script = parse_script(path)
        if self._entries is not None:
            st = path.stat()
            self._entries[os.path.abspath(path)] = (st.st_size, st.st_mtime_ns, script)
            self._dirty = True
        self._last = self._by_id = None
        return script

    def _target_directory(
        self, version_path: Path | None, down_revisions: Sequence[str], existing: list[Script]
    ) -> Path:
        locations = [Path(os.path.abspath(p)) for p in self.version_paths]
        if version_path is not None:
            wanted = Path(version_path).resolve()
            for location in locations:
                if location.resolve() == wanted:
                    return location
            shown = ", ".join(str(p) for p in self.version_paths)
            raise CommandError(
                f"version path {version_path} is not a configured version location "
                f"({shown}); add it to 'version_locations'"
            )
        if len(locations) > 1 and down_revisions:
            parent = next((s for s in existing if s.id == down_revisions[0]), None)
            if parent is not None:
                for location in locations:
                    if parent.path.is_relative_to(location):
                        return location
        return locations[0]


def _same(a: list[Script], b: list[Script]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
