"""The directory of revision files: find them, read their headers, write new ones.

Headers are read statically with :mod:`ast`; a revision file is imported only by
:meth:`Script.load_module`, when it is about to run. Parsed headers are cached in
memory and in ``<script_location>/__pycache__/whimbrel-headers.bin``, keyed on each
file's size and modification time, so a new process re-parses only what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import re
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from whimbrel._version import __version__
from whimbrel.errors import (
    CommandError,
    DuplicateRevisionError,
    ScriptError,
    UnknownRevisionError,
    UsageError,
)
from whimbrel.script.graph import Revision
from whimbrel.script.headers import Script, parse_script

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
