"""The directory of revision files: find them, read their headers, write new ones.

Headers are read statically with :mod:`ast`; a revision file is imported only by
:meth:`Script.load_module`, when it is about to run. Parsed headers are cached in
memory and in ``<script_location>/__pycache__/whimbrel-headers.bin``, keyed on each
file's size and modification time, so a new process re-parses only what changed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from whimbrel.errors import (
    CommandError,
    DuplicateRevisionError,
    ScriptError,
    UnknownRevisionError,
    UsageError,
)
from whimbrel.script.cache import (
    CACHE_NAME,
    UNTRUSTED,
    CacheState,
    DirListing,
    Listing,
    Row,
    encode,
    file_key,
    read_cache,
    replace_stat,
    scan_directory,
    stats_by_path,
    write_cache,
)

if TYPE_CHECKING:
    from datetime import datetime

    from whimbrel.config import Config
    from whimbrel.script.graph import Revision, RevisionGraph
    from whimbrel.script.headers import Script as Script
    from whimbrel.script.headers import parse_script as parse_script
    from whimbrel.script.hooks import PostWriteHookLike

__all__ = ("CACHE_NAME", "Script", "ScriptDirectory", "parse_script")

_REV_ID = re.compile(r"\w+")


def __getattr__(name: str) -> object:
    # The header parser (and its imports) is needed only when a file changed.
    if name in ("Script", "parse_script"):
        from whimbrel.script import headers

        return getattr(headers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        self._state: CacheState | None = None
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

    def _refresh(self, *, missing_ok: bool) -> CacheState:
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

        old_stats = stats_by_path(old.listing)
        old_index = {key: i for i, key in enumerate(old.keys)}
        rows: dict[str, Row] = {}
        errors: list[ScriptError] = []
        for key, stat in sorted(stats_by_path(found).items()):
            at = old_index.get(key)
            if at is not None and old_stats.get(key) == stat:
                rows[key] = old.row(at)
                continue
            try:
                rows[key] = encode(headers.parse_script(Path(key)))
            except ScriptError as e:
                errors.append(e)
                # Keyed as untrusted: a broken file is read again next time.
                found = replace_stat(found, key, UNTRUSTED)
        state = CacheState.from_rows(found, rows)
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

    def _scan(self, *, missing_ok: bool) -> Listing:
        found: list[DirListing] = []
        for location in self.version_paths:
            try:
                scan_directory(
                    os.path.abspath(location), found, recursive=self.recursive_version_locations
                )
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

    def _load_cache(self) -> CacheState:
        return read_cache(self.cache_path)

    def _save_cache(self) -> None:
        if self._state is not None and self._dirty and write_cache(self.cache_path, self._state):
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
            rows[key] = encode(script)
            listing = replace_stat(self._state.listing, key, file_key(st))
            self._state = CacheState.from_rows(listing, rows)
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
