"""The header cache: what a scan of the version locations found, and the headers read.

It lives in ``<script_location>/__pycache__/whimbrel-headers.bin``. A warm command
lists the version directories, stats every revision file and compares the result
with the cached listing in one ``==``; only when they differ are the changed files
parsed again. The file holds three marshal sections (the listing; the graph's part
of the headers with the graph snapshot; the other header fields), each with its
length and CRC32 in the header line, so the part a command does not need (the
details, for ``heads``) is decoded only on first use.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import time
import zlib
from operator import attrgetter
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import TYPE_CHECKING, cast

from whimbrel._version import __version__
from whimbrel.script.graph import Revision

if TYPE_CHECKING:
    from whimbrel.script.headers import Script

__all__ = (
    "CACHE_NAME",
    "RACY_NS",
    "UNTRUSTED",
    "CacheState",
    "DirListing",
    "FileKey",
    "Listing",
    "Row",
    "encode",
    "file_key",
    "is_racy",
    "read_cache",
    "replace_stat",
    "scan_directory",
    "stats_by_path",
    "write_cache",
)

CACHE_NAME = "whimbrel-headers.bin"
# Bump when the parser or the layout changes; older files are then ignored.
_CACHE_FORMAT = f"whimbrel-headers/5 {__version__}"
# On file systems with coarse timestamps a file rewritten within the same tick keeps
# its mtime; such recent entries are not trusted (git calls this "racily clean").
RACY_NS = 2_000_000_000
# The key a cache stores for a file it does not vouch for: never a real stat.
UNTRUSTED = (-1, -1, -1)
_STAT_DIR_FD = os.stat in os.supports_dir_fd
_mode = attrgetter("st_mode")
_size = attrgetter("st_size")
_mtime = attrgetter("st_mtime_ns")
_ctime = attrgetter("st_ctime_ns")


# What a file's header holds, as plain data (marshal-able): see encode and _decode.
Row = tuple[
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
Nodes = tuple[
    tuple[str, ...],
    tuple[tuple[str, ...], ...],
    tuple[tuple[str, ...], ...],
    tuple[tuple[str, ...], ...],
    tuple[str | None, ...],
]
Details = tuple[str | None, str | None, bool, bool, bool | None, bool, bool]
# What a scan found: for each directory searched, in the order searched, the names of
# its revision files (in the order the file system lists them) and each file's
# (size, mtime_ns, ctime_ns). Plain tuples, so comparing a scan with a cached one is
# one ``==``. The ctime catches what size and mtime miss: a same-size edit whose mtime
# was put back (``touch -r``, ``cp -p``, ``rsync -t``, an archive extracted over the
# file) still changes the inode's ctime, which no user call can set.
FileKey = tuple[int, int, int]
DirListing = tuple[str, tuple[str, ...], tuple[FileKey, ...]]
Listing = tuple[DirListing, ...]


def encode(script: Script) -> Row:
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


def file_key(st: os.stat_result) -> FileKey:
    """What the cache compares for one file (see :data:`DirListing`)."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def is_racy(mtime_ns: int, ctime_ns: int, racy_after: int) -> bool:
    """Whether a file changed too recently, on a coarse clock, to be trusted by its key.

    A file rewritten within the same clock tick keeps its size, mtime and ctime on a
    file system with whole-millisecond (or coarser) timestamps.
    """
    return any(t % 1_000_000 == 0 and t >= racy_after for t in (mtime_ns, ctime_ns))


def stats_by_path(listing: Listing) -> dict[str, FileKey]:
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


def replace_stat(listing: Listing, key: str, stat: FileKey) -> Listing:
    """``listing`` with ``key``'s stat key set to ``stat``; a new file is added."""
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


class CacheState:
    """The headers of every file in a listing, and the graph snapshot built from them.

    ``keys`` are the files' absolute paths, sorted; the headers are kept as columns
    by field (``nodes``: what the graph needs; ``details``: the rest, one tuple per
    file), and a state read from disk decodes ``details`` only when first asked.
    """

    __slots__ = ("_details", "_details_raw", "keys", "listing", "nodes", "snapshot")

    def __init__(
        self,
        listing: Listing,
        keys: tuple[str, ...],
        nodes: Nodes,
        details: tuple[Details, ...] | None,
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
    def empty(cls) -> CacheState:
        return cls((), (), ((), (), (), (), ()), ())

    @classmethod
    def from_rows(cls, listing: Listing, rows: dict[str, Row]) -> CacheState:
        keys = tuple(sorted(rows))
        ordered = [rows[key] for key in keys]
        nodes = cast(
            "Nodes",
            tuple(zip(*(row[:_NODE_FIELDS] for row in ordered), strict=True))
            or ((), (), (), (), ()),
        )
        details = cast("tuple[Details, ...]", tuple(row[_NODE_FIELDS:] for row in ordered))
        return cls(listing, keys, nodes, details)

    @property
    def details(self) -> tuple[Details, ...]:
        details = self._details
        if details is None:
            assert self._details_raw is not None  # set when details is None
            details = self._details = marshal.loads(self._details_raw)
            self._details_raw = None
        return details

    def row(self, index: int) -> Row:
        ids, downs, labels, depends, messages = self.nodes
        return (
            ids[index],
            downs[index],
            labels[index],
            depends[index],
            messages[index],
            *self.details[index],
        )

    def rows(self) -> dict[str, Row]:
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


def dump_cache(state: CacheState) -> bytes:
    """The cache file: a header line, then three marshal sections.

    The sections are the listing, the graph's part (keys, node columns and the
    snapshot) and the details; the header line gives each one's length and CRC32,
    which lets a load trust every row without checking its types one by one, and
    check the details only if it reads them. A file modified in the last couple of
    seconds on a clock with whole-millisecond mtimes is stored with a key no scan
    matches (the next process parses it again), and the graph snapshot is then left
    out, since it describes the whole listing.
    """
    racy_after = time.time_ns() - RACY_NS
    racy = False
    listing: list[DirListing] = []
    for directory, names, stats in state.listing:
        kept = []
        for stat in stats:
            if not is_racy(stat[1], stat[2], racy_after):
                kept.append(stat)
            else:
                kept.append(UNTRUSTED)
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


def load_cache_bytes(raw: bytes) -> CacheState | None:
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
    return CacheState(
        marshal.loads(listing_bytes),
        keys,
        nodes,
        None,
        details_raw=details_bytes,
        snapshot=snapshot,
    )


# ----------------------------------------------------------------- scanning and I/O


def scan_directory(directory: str, found: list[DirListing], *, recursive: bool) -> None:
    """Append what ``directory`` (and, if ``recursive``, its subdirectories) holds.

    Raises:
        FileNotFoundError: ``directory`` does not exist.
        NotADirectoryError: ``directory`` is a file.
    """
    # One stat per file is the whole cost of a warm run: os.listdir plus stat
    # relative to the directory's descriptor is about a third cheaper than
    # os.scandir with DirEntry.stat().
    names = os.listdir(directory)
    files = [n for n in names if n.endswith(".py") and n[0] != "." and n != "__init__.py"]
    subdirs = (
        [n for n in names if not n.endswith(".py") and n[0] != "." and n != "__pycache__"]
        if recursive
        else []
    )
    stats = _stat_all(directory, files)
    if None in stats or not all(map(S_ISREG, map(_mode, stats))):
        kept = [n for n, st in zip(files, stats, strict=True) if st is not None and _is_reg(st)]
        regular = [st for st in stats if st is not None and _is_reg(st)]
    else:
        kept, regular = files, cast("list[os.stat_result]", stats)
    # Built with C-level map and zip: a comprehension costs twice as much here.
    keys = tuple(zip(map(_size, regular), map(_mtime, regular), map(_ctime, regular), strict=True))
    found.append((directory, tuple(kept), keys))
    for name, st in zip(subdirs, _stat_all(directory, subdirs), strict=True):
        if st is not None and S_ISDIR(st.st_mode):
            try:
                scan_directory(os.path.join(directory, name), found, recursive=True)
            except (FileNotFoundError, NotADirectoryError):
                continue


def read_cache(path: Path) -> CacheState:
    """The cache at ``path``; an empty state when it is missing, damaged or foreign."""
    try:
        with open(path, "rb", buffering=0) as f:
            state = load_cache_bytes(f.readall())
    except Exception:
        # A missing, corrupt or foreign cache only costs a re-parse.
        state = None
    return state if state is not None else CacheState.empty()


def write_cache(path: Path, state: CacheState) -> bool:
    """Write ``state`` to ``path`` atomically; False if the directory is not writable."""
    directory = path.parent
    tmp = None
    try:
        import tempfile

        data = dump_cache(state)
        directory.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".whimbrel-headers-", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except (OSError, ValueError):
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False
    return True
