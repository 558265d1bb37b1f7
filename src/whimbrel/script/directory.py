"""The directory of revision files: find them, read their headers, write new ones.

Headers are read statically with :mod:`ast`; a revision file is imported only by
:meth:`Script.load_module`, when it is about to run. Parsed headers are cached in
memory and in ``<script_location>/__pycache__/whimbrel-headers.bin``, keyed on each
file's size and modification time, so a new process re-parses only what changed.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import time
import zlib
from collections.abc import Sequence
from operator import attrgetter
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import TYPE_CHECKING, cast

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
    from datetime import datetime

    from whimbrel.config import Config
    from whimbrel.script.graph import RevisionGraph
    from whimbrel.script.headers import Script as Script
    from whimbrel.script.headers import parse_script as parse_script
    from whimbrel.script.hooks import PostWriteHookLike

__all__ = ("CACHE_NAME", "Script", "ScriptDirectory", "parse_script")

CACHE_NAME = "whimbrel-headers.bin"
# Bump when the parser or the layout changes; older files are then ignored.
_CACHE_FORMAT = f"whimbrel-headers/5 {__version__}"
# On file systems with coarse timestamps a file rewritten within the same tick keeps
# its mtime; such recent entries are not trusted (git calls this "racily clean").
_RACY_NS = 2_000_000_000
# The key a cache stores for a file it does not vouch for: never a real (size, mtime).
_UNTRUSTED = (-1, -1)
_REV_ID = re.compile(r"\w+")
_STAT_DIR_FD = os.stat in os.supports_dir_fd
_mode = attrgetter("st_mode")
_size = attrgetter("st_size")
_mtime = attrgetter("st_mtime_ns")


def __getattr__(name: str) -> object:
    # The header parser (and its imports) is needed only when a file changed.
    if name in ("Script", "parse_script"):
        from whimbrel.script import headers

        return getattr(headers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------ the cache

# What a file's header holds, as plain data (marshal-able): see _encode and _decode.
_Row = tuple[
    str,  # revision
    tuple[str, ...],  # down_revisions
    tuple[str, ...],  # branch_labels
    tuple[str, ...],  # depends_on
    str | None,  # message
    str | None,  # doc
    str | None,  # create_date
    bool,  # transactional
    bool,  # upgrade_takes_op
    bool | None,  # downgrade_takes_op
    bool,  # upgrade_is_async
    bool,  # downgrade_is_async
]
# The graph's part of the rows (fields 0-4) as columns, and the rest (fields 5-11)
# as one tuple per row.
_NODE_FIELDS = 5
_Nodes = tuple[
    tuple[str, ...],
    tuple[tuple[str, ...], ...],
    tuple[tuple[str, ...], ...],
    tuple[tuple[str, ...], ...],
    tuple[str | None, ...],
]
_Details = tuple[str | None, str | None, bool, bool, bool | None, bool, bool]
# What a scan found: for each directory searched, in the order searched, the names of
# its revision files (in the order the file system lists them) and each file's
# (size, mtime_ns). Plain tuples, so comparing a scan with a cached one is one ``==``.
_DirListing = tuple[str, tuple[str, ...], tuple[tuple[int, int], ...]]
_Listing = tuple[_DirListing, ...]


def _encode(script: Script) -> _Row:
    rev = script.revision
    return (
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
    )


def _stats_by_path(listing: _Listing) -> dict[str, tuple[int, int]]:
    join = os.path.join
    return {
        join(directory, name): stat
        for directory, names, stats in listing
        for name, stat in zip(names, stats, strict=True)
    }


def _stat_all(directory: str, names: list[str]) -> list[os.stat_result | None]:
    """Stat each name in ``directory``; None for a name removed meanwhile."""
    if not names:
        return []
    stat = os.stat
    if _STAT_DIR_FD:
        fd = os.open(directory, os.O_RDONLY)
        try:
            try:
                return [stat(name, dir_fd=fd) for name in names]
            except FileNotFoundError:
                return [_stat_or_none(name, fd) for name in names]
        finally:
            os.close(fd)
    join = os.path.join
    return [_stat_or_none(join(directory, name), None) for name in names]


def _stat_or_none(name: str, dir_fd: int | None) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return None


def _is_reg(st: os.stat_result) -> bool:
    return S_ISREG(st.st_mode)


def _replace_stat(listing: _Listing, key: str, stat: tuple[int, int]) -> _Listing:
    """``listing`` with ``key``'s (size, mtime) set to ``stat``; a new file is added."""
    directory, name = os.path.split(key)
    out = list(listing)
    for i, (where, names, stats) in enumerate(out):
        if where == directory:
            if name in names:
                at = names.index(name)
                out[i] = (where, names, (*stats[:at], stat, *stats[at + 1 :]))
            else:
                out[i] = (where, (*names, name), (*stats, stat))
            return tuple(out)
    return (*out, (directory, (name,), (stat,)))


class _CacheState:
    """The headers of every file in a listing, and the graph snapshot built from them.

    ``keys`` are the files' absolute paths, sorted; the headers are kept as columns
    by field (``nodes``: what the graph needs; ``details``: the rest, one tuple per
    file), and a state read from disk decodes ``details`` only when first asked.
    """

    __slots__ = ("_details", "_details_raw", "keys", "listing", "nodes", "snapshot")

    def __init__(
        self,
        listing: _Listing,
        keys: tuple[str, ...],
        nodes: _Nodes,
        details: tuple[_Details, ...] | None,
        *,
        details_raw: memoryview | None = None,
        snapshot: object = None,
    ) -> None:
        self.listing = listing
        self.keys = keys
        self.nodes = nodes
        self._details = details
        self._details_raw = details_raw
        # RevisionGraph.snapshot() of exactly these rows, in this order; None if not built.
        self.snapshot = snapshot

    @classmethod
    def empty(cls) -> _CacheState:
        return cls((), (), ((), (), (), (), ()), ())

    @classmethod
    def from_rows(cls, listing: _Listing, rows: dict[str, _Row]) -> _CacheState:
        keys = tuple(sorted(rows))
        ordered = [rows[key] for key in keys]
        nodes = cast(
            "_Nodes",
            tuple(zip(*(row[:_NODE_FIELDS] for row in ordered), strict=True))
            or ((), (), (), (), ()),
        )
        details = cast("tuple[_Details, ...]", tuple(row[_NODE_FIELDS:] for row in ordered))
        return cls(listing, keys, nodes, details)

    @property
    def details(self) -> tuple[_Details, ...]:
        details = self._details
        if details is None:
            assert self._details_raw is not None  # set when details is None
            details = self._details = marshal.loads(self._details_raw)
            self._details_raw = None
        return details

    def row(self, index: int) -> _Row:
        ids, downs, labels, depends, messages = self.nodes
        return (
            ids[index],
            downs[index],
            labels[index],
            depends[index],
            messages[index],
            *self.details[index],
        )

    def rows(self) -> dict[str, _Row]:
        return {key: self.row(i) for i, key in enumerate(self.keys)}

    def revision(self, index: int) -> Revision:
        ids, downs, labels, depends, messages = self.nodes
        return Revision(
            ids[index],
            downs[index],
            labels[index],
            depends[index],
            messages[index],
            self.keys[index],
        )

    def revisions(self) -> list[Revision]:
        # tuple.__new__ over zipped columns: no Python-level __new__ per node.
        new = tuple.__new__
        return [new(Revision, row) for row in zip(*self.nodes, self.keys, strict=True)]


def _dump_cache(state: _CacheState) -> bytes:
    """The cache file: a header line, then three marshal sections.

    The sections are the listing, the graph's part (keys, node columns and the
    snapshot) and the details; the header line gives each one's length and CRC32,
    which lets a load trust every row without checking its types one by one, and
    check the details only if it reads them. A file modified in the last couple of
    seconds on a clock with whole-millisecond mtimes is stored with a key no scan
    matches (the next process parses it again), and the graph snapshot is then left
    out, since it describes the whole listing.
    """
    racy_after = time.time_ns() - _RACY_NS
    racy = False
    listing: list[_DirListing] = []
    for directory, names, stats in state.listing:
        kept = []
        for stat in stats:
            if stat[1] % 1_000_000 or stat[1] < racy_after:
                kept.append(stat)
            else:
                kept.append(_UNTRUSTED)
                racy = True
        listing.append((directory, names, tuple(kept)))
    # The snapshot holds only tuples, lists, dicts and strings (RevisionGraph.snapshot).
    snapshot = cast("tuple[str, ...] | None", None if racy else state.snapshot)
    # marshal (the format of .pyc files, beside which this cache lives) loads several
    # times faster than JSON; the CRCs guard against a damaged file.
    sections = (
        marshal.dumps(tuple(listing)),
        marshal.dumps((state.keys, state.nodes, snapshot)),
        marshal.dumps(state.details),
    )
    fields = " ".join(f"{len(section)} {zlib.crc32(section):08x}" for section in sections)
    return f"{_CACHE_FORMAT} {fields}\n".encode() + b"".join(sections)


def _section(body: memoryview, start: int, length: str, crc: str) -> memoryview | None:
    view = body[start : start + int(length)]
    if len(view) != int(length) or f"{zlib.crc32(view):08x}" != crc:
        return None
    return view


def _load_cache_bytes(raw: bytes) -> _CacheState | None:
    end = raw.find(b"\n", 0, 200)
    if end < 0:
        return None
    fields = raw[:end].decode("ascii").split(" ")
    if len(fields) != 8 or " ".join(fields[:2]) != _CACHE_FORMAT:
        return None
    body = memoryview(raw)[end + 1 :]
    a, b, c = int(fields[2]), int(fields[4]), int(fields[6])
    if a + b + c != len(body):
        return None
    listing_bytes = _section(body, 0, fields[2], fields[3])
    graph_bytes = _section(body, a, fields[4], fields[5])
    details_bytes = _section(body, a + b, fields[6], fields[7])
    if listing_bytes is None or graph_bytes is None or details_bytes is None:
        return None
    keys, nodes, snapshot = marshal.loads(graph_bytes)
    # The details are decoded when first needed (heads needs one row of 5,000).
    return _CacheState(
        marshal.loads(listing_bytes),
        keys,
        nodes,
        None,
        details_raw=details_bytes,
        snapshot=snapshot,
    )


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
        # What the last scan found, and the headers of those files (None: not read).
        self._state: _CacheState | None = None
        # The disk cache does not match _state yet.
        self._dirty = False
        # Built on demand from _state, and dropped whenever the listing changes.
        self._revisions: dict[str, Revision] = {}
        self._scripts_by_key: dict[str, Script] = {}
        self._index: dict[str, int] | None = None
        self._graph: RevisionGraph | None = None
        self._by_id: dict[str, list[str]] | None = None

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
        self._state = None
        self._dirty = False
        self._forget_built()

    def _forget_built(self) -> None:
        self._revisions = {}
        self._scripts_by_key = {}
        self._index = None
        self._graph = None
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
        state = self._refresh(missing_ok=False)
        return [self._script(key) for key in state.keys]

    def _refresh(self, *, missing_ok: bool) -> _CacheState:
        """Scan the version locations and bring the headers in memory up to date."""
        if not self.script_location.is_dir():
            raise CommandError(
                f"script directory {self.script_location} does not exist; run 'whimbrel init'"
            )
        found = self._scan(missing_ok=missing_ok)
        old = self._state
        if old is None:
            old = self._load_cache()
        if found == old.listing:
            # Nothing was added, removed or touched: the fast path of every read.
            self._state = old
            return old
        from whimbrel.script import headers

        old_stats = _stats_by_path(old.listing)
        old_index = {key: i for i, key in enumerate(old.keys)}
        rows: dict[str, _Row] = {}
        errors: list[ScriptError] = []
        for key, stat in sorted(_stats_by_path(found).items()):
            at = old_index.get(key)
            if at is not None and old_stats.get(key) == stat:
                rows[key] = old.row(at)
                continue
            try:
                rows[key] = _encode(headers.parse_script(Path(key)))
            except ScriptError as e:
                errors.append(e)
                # Keyed as untrusted: a broken file is read again next time.
                found = _replace_stat(found, key, _UNTRUSTED)
        state = _CacheState.from_rows(found, rows)
        self._state = state
        self._forget_built()
        self._dirty = True
        self._save_cache()
        if errors:
            raise errors[0]
        return state

    def _key_index(self, key: str) -> int:
        index = self._index
        if index is None:
            assert self._state is not None  # _refresh ran
            index = self._index = {k: i for i, k in enumerate(self._state.keys)}
        return index[key]

    def _revision(self, key: str) -> Revision:
        revision = self._revisions.get(key)
        if revision is None:
            assert self._state is not None  # _refresh ran
            at = self._key_index(key)
            graph = self._graph
            if graph is not None:
                # The node the graph holds (one file per id in a valid graph).
                revision = graph.get(self._state.nodes[0][at])
            else:
                revision = self._state.revision(at)
            self._revisions[key] = revision
        return revision

    def _script(self, key: str) -> Script:
        script = self._scripts_by_key.get(key)
        if script is None:
            from whimbrel.script.headers import Script

            assert self._state is not None  # _refresh ran
            details = self._state.details[self._key_index(key)]
            script = Script(self._revision(key), key, *details)
            self._scripts_by_key[key] = script
        return script

    def graph(self) -> RevisionGraph:
        """Return the revision graph of every script (rebuilt only when files changed).

        The graph's derived state (resolved dependencies, the topological order) is
        kept in the disk cache beside the headers, so a process that finds no file
        changed skips validating and ordering the revisions again.

        Raises:
            CommandError: As for :meth:`scripts`.
            ScriptError: As for :meth:`scripts`.
            RevisionError: The graph is invalid (a cycle, a duplicate id...).
        """
        from whimbrel.script.graph import RevisionGraph

        state = self._refresh(missing_ok=False)
        if self._graph is not None:
            return self._graph
        revisions = state.revisions()
        graph = None
        if state.snapshot is not None:
            graph = RevisionGraph.from_snapshot(revisions, state.snapshot)
        if graph is None:
            graph = RevisionGraph(revisions)
            state.snapshot = graph.snapshot()
            self._dirty = True
            self._save_cache()
        self._graph = graph
        return graph

    def file_header(self, rev_id: str) -> tuple[str, str | None, str | None]:
        """The file, docstring and create date of a revision, as :meth:`get_script` has them.

        For listing thousands of revisions: no :class:`Script` object is built.

        Raises:
            UnknownRevisionError: As for :meth:`get_script`.
            DuplicateRevisionError: As for :meth:`get_script`.
        """
        key = self._key(rev_id)
        assert self._state is not None  # _key refreshed
        details = self._state.details[self._key_index(key)]
        return key, details[0], details[1]

    def file_headers(self, rev_ids: Sequence[str]) -> list[tuple[str, str | None, str | None]]:
        """:meth:`file_header` of each id, in order; for thousands of ids at once.

        Raises:
            UnknownRevisionError: As for :meth:`get_script`.
            DuplicateRevisionError: As for :meth:`get_script`.
        """
        graph = self._graph
        if graph is None or self._state is None:
            return [self.file_header(rev_id) for rev_id in rev_ids]
        details = self._state.details
        index = self._index
        if index is None:
            index = self._index = {k: i for i, k in enumerate(self._state.keys)}
        out: list[tuple[str, str | None, str | None]] = []
        get = graph.get
        for rev_id in rev_ids:
            path = get(rev_id).path if rev_id in graph else None
            at = index.get(path) if isinstance(path, str) else None
            if at is None or not isinstance(path, str):
                out.append(self.file_header(rev_id))
                continue
            row = details[at]
            out.append((path, row[0], row[1]))
        return out

    def get_script(self, rev_id: str) -> Script:
        """Return the script whose revision id is exactly ``rev_id``.

        It is looked up in what the last :meth:`scripts` or :meth:`graph` call read,
        so it matches the graph just built; without one the files are scanned first.
        :meth:`invalidate` makes the next call scan again.

        Raises:
            UnknownRevisionError: No file declares that id.
            DuplicateRevisionError: Several files declare it.
            CommandError: As for :meth:`scripts`.
            ScriptError: As for :meth:`scripts`.
        """
        return self._script(self._key(rev_id))

    def _key(self, rev_id: str) -> str:
        graph = self._graph
        if graph is not None and rev_id in graph:
            # A valid graph has one file per id, and knows it.
            path = graph.get(rev_id).path
            if isinstance(path, str):
                return path
        if self._by_id is None:
            state = self._state if self._state is not None else self._refresh(missing_ok=False)
            by_id: dict[str, list[str]] = {}
            for key, rev in zip(state.keys, state.nodes[0], strict=True):
                by_id.setdefault(rev, []).append(key)
            self._by_id = by_id
        matches = self._by_id.get(rev_id, [])
        if not matches:
            raise UnknownRevisionError(rev_id)
        if len(matches) > 1:
            raise DuplicateRevisionError(rev_id, [Path(key) for key in matches])
        return matches[0]

    def _scan(self, *, missing_ok: bool) -> _Listing:
        found: list[_DirListing] = []
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
        return tuple(found)

    def _scan_dir(self, directory: str, found: list[_DirListing]) -> None:
        # One stat per file is the whole cost of a warm run: os.listdir plus stat
        # relative to the directory's descriptor is about a third cheaper than
        # os.scandir with DirEntry.stat().
        names = os.listdir(directory)
        files = [n for n in names if n.endswith(".py") and n[0] != "." and n != "__init__.py"]
        subdirs = (
            [n for n in names if not n.endswith(".py") and n[0] != "." and n != "__pycache__"]
            if self.recursive_version_locations
            else []
        )
        stats = _stat_all(directory, files)
        if None in stats or not all(map(S_ISREG, map(_mode, stats))):
            kept = [
                n for n, st in zip(files, stats, strict=True) if st is not None and _is_reg(st)
            ]
            regular = [st for st in stats if st is not None and _is_reg(st)]
        else:
            kept, regular = files, cast("list[os.stat_result]", stats)
        # Built with C-level map and zip: a comprehension costs twice as much here.
        keys = tuple(zip(map(_size, regular), map(_mtime, regular), strict=True))
        found.append((directory, tuple(kept), keys))
        for name, st in zip(subdirs, _stat_all(directory, subdirs), strict=True):
            if st is not None and S_ISDIR(st.st_mode):
                try:
                    self._scan_dir(os.path.join(directory, name), found)
                except (FileNotFoundError, NotADirectoryError):
                    continue

    def _load_cache(self) -> _CacheState:
        try:
            with open(self.cache_path, "rb", buffering=0) as f:
                state = _load_cache_bytes(f.readall())
        except Exception:
            # A missing, corrupt or foreign cache only costs a re-parse.
            state = None
        return state if state is not None else _CacheState.empty()

    def _save_cache(self) -> None:
        if self._state is None or not self._dirty:
            return
        directory = self.cache_path.parent
        tmp = None
        try:
            import tempfile

            data = _dump_cache(self._state)
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
            return
        self._dirty = False

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

        from whimbrel.script.headers import parse_script
        from whimbrel.script.hooks import run_post_write_hooks
        from whimbrel.script.templates import (
            render_revision,
            revision_file_name,
            revision_template,
            revision_time,
        )

        # A configured version location that does not exist yet is created below.
        state = self._refresh(missing_ok=True)
        existing = [self._script(key) for key in state.keys]
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
        if self._state is not None:
            st = path.stat()
            key = os.path.abspath(path)
            rows = self._state.rows()
            rows[key] = _encode(script)
            listing = _replace_stat(self._state.listing, key, (st.st_size, st.st_mtime_ns))
            self._state = _CacheState.from_rows(listing, rows)
            self._dirty = True
            self._save_cache()
        self._forget_built()
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
