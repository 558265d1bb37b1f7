"""The commands that read and write revision files; none needs a database."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from whimbrel.errors import (
    CommandError,
    MultipleHeadsError,
    RevisionError,
    UsageError,
)
from whimbrel.results import HeadsResult, HistoryResult, RevisionInfo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel._script_results import (
        BranchesResult,
        EditResult,
        InitResult,
        ShowResult,
        TemplateInfo,
    )
    from whimbrel.config import Config
    from whimbrel.script.directory import ScriptDirectory
    from whimbrel.script.graph import RevisionGraph


async def list_templates(config: Config | None = None) -> list[TemplateInfo]:
    """List the project templates ``init`` can use.

    Args:
        config: unused; accepted so every command takes a config first.

    Raises:
        WhimbrelError: never in practice; listed for uniformity.
    """
    from whimbrel.results import TemplateInfo
    from whimbrel.script.templates import list_templates as _list

    return [TemplateInfo(name=name, description=text) for name, text in _list()]


async def init(
    config: Config | None,
    directory: str | Path,
    *,
    template: str = "default",
    package: bool = False,
) -> InitResult:
    """Create a new migration environment.

    Args:
        config: its ``config_file``, when set, says where the configuration is
            written; otherwise the current directory.
        directory: the script directory to create (``script_location``).
        template: a name from :func:`list_templates`.
        package: also write ``__init__.py`` files so the directory is a package.

    Raises:
        CommandError: the directory exists and is not empty, the template is
            unknown, or the configuration already exists.
    """
    from whimbrel.results import InitResult
    from whimbrel.script.templates import init_project

    config_dir = (
        config.config_file.parent if config is not None and config.config_file else Path.cwd()
    )
    target = Path(directory)
    if not target.is_absolute():
        target = config_dir / target
    made = init_project(directory=target, template=template, config_dir=config_dir)
    created = list(made.created)
    if package:
        for pkg in (target, target / "versions"):
            init_file = pkg / "__init__.py"
            if not init_file.exists():
                init_file.write_text("")
                created.append(init_file)
    return InitResult(
        directory=target,
        config_file=made.config_file,
        template=template,
        created=tuple(created),
    )


def script_directory(config: Config) -> ScriptDirectory:
    """The script directory a configuration points at."""
    from whimbrel.script.directory import ScriptDirectory

    return ScriptDirectory.from_config(config)


async def load_scripts(config: Config) -> tuple[ScriptDirectory, RevisionGraph]:
    # Reading thousands of headers is blocking file work: keep it off the event loop.
    scripts = script_directory(config)
    graph = await anyio.to_thread.run_sync(scripts.graph)
    return scripts, graph


def revision_info(scripts: ScriptDirectory, graph: RevisionGraph, rev_id: str) -> RevisionInfo:
    return revision_infos(scripts, graph, (rev_id,))[0]


def revision_infos(
    scripts: ScriptDirectory, graph: RevisionGraph, ids: Sequence[str]
) -> tuple[RevisionInfo, ...]:
    """The result record of each revision in ``ids``, in that order.

    One pass with the lookups bound once: ``history`` builds 5,000 of these.
    """
    get = graph.get
    labels_of = graph.branch_labels
    children_of = graph.children
    out: list[RevisionInfo] = []
    for rev_id, (file, doc, create_date) in zip(ids, scripts.file_headers(ids), strict=True):
        node = get(rev_id)
        labels = labels_of(rev_id)
        children = children_of(rev_id)
        downs = node.down_revisions
        # Positional, in RevisionInfo's field order (keywords cost a fifth more).
        out.append(
            RevisionInfo(
                rev_id,
                downs,
                tuple(sorted(labels)) if labels else (),
                node.depends_on,
                node.message,
                file,
                doc,
                create_date,
                not children,
                not downs,
                len(children) > 1,
                len(downs) > 1,
                children,
            )
        )
    return tuple(out)


def parents_of_new_revision(graph: RevisionGraph, head: str, *, splice: bool) -> tuple[str, ...]:
    """The ``down_revision`` of a new revision following ``head`` (``base``: none).

    Raises:
        MultipleHeadsError: ``head`` names several revisions.
        CommandError: ``head`` is not a head and ``splice`` is off.
    """
    if head == "base":
        return ()
    downs = graph.resolve(head)
    if len(downs) > 1:
        raise MultipleHeadsError(downs, head)
    for down in downs:
        if graph.children(down) and not splice:
            raise CommandError(
                f"revision {down} is not a head; pass --splice to start a new branch "
                "from it, or use --head head"
            )
    return downs


async def revision(
    config: Config,
    *,
    message: str | None = None,
    head: str = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    version_path: str | Path | None = None,
    rev_id: str | None = None,
    depends_on: str | Sequence[str] | None = None,
) -> RevisionInfo:
    """Create a new revision file.

    Args:
        config: the project configuration.
        message: the message; the file's docstring and slug.
        head: the revision the new one follows: ``head`` (default), ``base`` for a
            new base, a ``label@head``, or any revision with ``splice``.
        splice: allow ``head`` to name a revision that is not a head, starting a
            new branch from it.
        branch_label: label(s) for the new revision.
        version_path: the version location to write into.
        rev_id: use this id instead of a generated one.
        depends_on: revisions or branch labels the new revision depends on.

    Raises:
        MultipleHeadsError: ``head`` where several heads exist.
        CommandError: ``head`` names a non-head without ``splice``, the id or a
            label is taken, or the version path is not a configured location.
        RevisionError: an identifier cannot be resolved.
    """
    scripts, graph = await load_scripts(config)
    downs = parents_of_new_revision(graph, head, splice=splice)
    labels = as_tuple(branch_label)
    return await _generate(
        config,
        scripts,
        graph,
        message=message,
        downs=downs,
        labels=labels,
        depends_on=resolve_depends_on(graph, as_tuple(depends_on)),
        version_path=version_path,
        rev_id=rev_id,
    )


async def merge(
    config: Config,
    revisions: str | Sequence[str] = "heads",
    *,
    message: str | None = None,
    branch_label: str | Sequence[str] | None = None,
    rev_id: str | None = None,
) -> RevisionInfo:
    """Create a merge revision that joins two or more revisions.

    Args:
        config: the project configuration.
        revisions: identifiers to merge; ``heads`` (default) merges every head.
        message: the merge revision's message.
        branch_label: label(s) for the merge revision.
        rev_id: use this id instead of a generated one.

    Raises:
        UsageError: fewer than two revisions to merge.
        RevisionError: an identifier cannot be resolved.
    """
    scripts, graph = await load_scripts(config)
    downs: list[str] = []
    for ident in as_tuple(revisions):
        downs.extend(r for r in graph.resolve(ident) if r not in downs)
    if len(downs) < 2:
        raise UsageError(
            f"nothing to merge: {' '.join(as_tuple(revisions))} resolves to "
            f"{', '.join(downs) or 'base'}; name two or more revisions"
        )
    return await _generate(
        config,
        scripts,
        graph,
        message=message,
        downs=tuple(downs),
        labels=as_tuple(branch_label),
        depends_on=(),
        version_path=None,
        rev_id=rev_id,
    )


async def _generate(
    config: Config,
    scripts: ScriptDirectory,
    graph: RevisionGraph,
    *,
    message: str | None,
    downs: tuple[str, ...],
    labels: tuple[str, ...],
    depends_on: tuple[str, ...],
    version_path: str | Path | None,
    rev_id: str | None,
) -> RevisionInfo:
    _check_new_names(graph, rev_id, labels)
    path = None
    if version_path is not None:
        path = Path(version_path)
        if not path.is_absolute():
            base = config.config_file.parent if config.config_file else Path.cwd()
            path = (base / path).resolve()
    script = scripts.generate_revision(
        rev_id=rev_id,
        message=message,
        down_revisions=downs,
        branch_labels=labels,
        depends_on=depends_on,
        version_path=path,
    )
    scripts.invalidate()
    try:
        _, new_graph = await load_scripts(config)
    except RevisionError as exc:
        # The graph was valid before: the new file broke it. Leave the project as it was.
        script.path.unlink(missing_ok=True)
        scripts.invalidate()
        raise CommandError(
            f"the new revision would make the revision graph invalid ({exc}); "
            f"{script.path.name} was not kept"
        ) from exc
    return revision_info(scripts, new_graph, script.revision.revision)


# Words the identifier syntax gives a meaning of its own.
_RESERVED = frozenset({"base", "head", "heads", "current"})
_STEP = re.compile(r"[+-]\d+")


def _check_new_names(graph: RevisionGraph, rev_id: str | None, labels: tuple[str, ...]) -> None:
    """Refuse an id or branch label that identifiers could not name unambiguously."""
    if rev_id is not None:
        if rev_id in graph:
            raise CommandError(f"revision id {rev_id!r} already exists; choose another")
        bad = [c for c in "@-+:" if c in rev_id]
        if bad or not rev_id.strip():
            raise UsageError(f"revision id {rev_id!r} may not be empty or contain @ - + :")
        if rev_id in _RESERVED:
            raise UsageError(
                f"revision id {rev_id!r} is a reserved identifier "
                "(base, head, heads, current); choose another"
            )
        owner = graph.label_owner(rev_id)
        if owner is not None:
            raise CommandError(
                f"revision id {rev_id!r} is already a branch label of revision {owner}; "
                "choose another"
            )
        if rev_id in labels:
            raise UsageError(f"revision id {rev_id!r} cannot also be one of its branch labels")
    seen: set[str] = set()
    for label in labels:
        if not label or label != label.strip() or any(c in label for c in "@: \t"):
            raise UsageError(f"branch label {label!r} may not be empty or contain @, : or spaces")
        if label in _RESERVED or _STEP.fullmatch(label):
            raise UsageError(
                f"branch label {label!r} is a reserved identifier "
                "(base, head, heads, current, +N, -N); choose another"
            )
        if label in seen:
            raise UsageError(f"branch label {label!r} is given twice")
        seen.add(label)
        owner = graph.label_owner(label)
        if owner is not None or label in graph:
            raise CommandError(
                f"branch label {label!r} is already used by revision {owner or label}"
            )


def resolve_depends_on(graph: RevisionGraph, idents: tuple[str, ...]) -> tuple[str, ...]:
    """Keep branch labels as written; turn ids and prefixes into full ids."""
    out: list[str] = []
    for ident in idents:
        if graph.label_owner(ident) is not None:
            out.append(ident)
        else:
            found = graph.resolve_one(ident)
            if found is None:
                raise UsageError(f"--depends-on {ident!r} names no revision; name a revision")
            out.append(found)
    return tuple(out)


async def heads(config: Config, *, resolve_dependencies: bool = False) -> HeadsResult:
    """The head revisions of the script directory.

    Args:
        config: the project configuration.
        resolve_dependencies: leave out heads that another revision depends on.

    Raises:
        WhimbrelError: the script directory or a revision file cannot be read.
    """
    scripts, graph = await load_scripts(config)
    ids = graph.real_heads if resolve_dependencies else graph.heads
    return HeadsResult(
        heads=revision_infos(scripts, graph, ids),
        resolve_dependencies=resolve_dependencies,
    )


async def branches(config: Config) -> BranchesResult:
    """Every branch point, with the revisions that follow it.

    Raises:
        WhimbrelError: the script directory or a revision file cannot be read.
    """
    from whimbrel.results import BranchesResult, BranchPoint

    scripts, graph = await load_scripts(config)
    points = tuple(
        BranchPoint(
            revision=revision_info(scripts, graph, node.revision),
            children=revision_infos(scripts, graph, graph.children(node.revision)),
        )
        for node in graph
        if graph.is_branch_point(node.revision)
    )
    return BranchesResult(branch_points=points)


async def history(
    config: Config,
    *,
    rev_range: str | None = None,
    indicate_current: bool = False,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> HistoryResult:
    """Revisions from newest to oldest, optionally within ``[start]:[end]``.

    Args:
        config: the project configuration.
        rev_range: ``start:end``, ``start:`` or ``:end``; start is the older end.
            ``current`` and relative forms such as ``-2`` read the database.
        indicate_current: read the database and mark its current revisions.
        connection: run on this connection (see :func:`upgrade`).
        engine: run on this engine (see :func:`upgrade`).

    Raises:
        UsageError: a range without ``:``.
        RangeError: ``start`` is not an ancestor of ``end``.
        RevisionError: an identifier cannot be resolved.
    """
    lower, upper = "base", "heads"
    if rev_range is not None:
        if ":" not in rev_range:
            raise UsageError(
                f"history range {rev_range!r} needs a colon: start:end, start: or :end"
            )
        start, _, end = rev_range.partition(":")
        lower = start.strip() or "base"
        upper = end.strip() or "heads"
    scripts, graph = await load_scripts(config)
    current_heads: tuple[str, ...] | None = None
    if indicate_current or mentions_current(lower) or mentions_current(upper):
        current_heads = await _read_current_lazy(config, graph, connection, engine)
    ids = graph.iterate(upper, lower, current=current_heads)
    return HistoryResult(
        revisions=revision_infos(scripts, graph, ids),
        lower=lower,
        upper=upper,
        current=current_heads,
    )


def mentions_current(ident: str) -> bool:
    from whimbrel.script.graph import is_relative_to_current

    return ident.rpartition("@")[2] == "current" or is_relative_to_current(ident)


async def show(
    config: Config,
    rev: str | Sequence[str],
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> ShowResult:
    """Details of the revisions an identifier (or several) names.

    ``current`` (and relative forms like ``-1``) read the database.

    Raises:
        RevisionError: an identifier cannot be resolved.
        DatabaseError: the database is needed and cannot be reached.
    """
    from whimbrel.results import ShowResult

    scripts, graph = await load_scripts(config)
    idents = as_tuple(rev)
    current_heads: tuple[str, ...] | None = None
    if any(mentions_current(i) for i in idents):
        current_heads = await _read_current_lazy(config, graph, connection, engine)
    ids: list[str] = []
    for ident in idents:
        ids.extend(r for r in graph.resolve(ident, current=current_heads) if r not in ids)
    if not ids:
        raise UsageError(f"{' '.join(as_tuple(rev))} names no revision (it is base)")
    return ShowResult(revisions=revision_infos(scripts, graph, ids))


async def edit(config: Config, rev: str = "head", *, editor: str | None = None) -> EditResult:
    """Open a revision file in ``$VISUAL`` or ``$EDITOR``.

    Args:
        config: the project configuration.
        rev: the revision to edit.
        editor: the editor command; defaults to ``$VISUAL``, then ``$EDITOR``.

    Raises:
        CommandError: no editor is set, or it exits with an error.
        RevisionError: the identifier cannot be resolved to one revision.
    """
    from whimbrel.results import EditResult

    scripts, graph = await load_scripts(config)
    rev_id = graph.resolve_one(rev)
    if rev_id is None:
        raise UsageError("'base' is not a revision file; name a revision to edit")
    path = scripts.get_script(rev_id).path
    command = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise CommandError("no editor: set $EDITOR (or $VISUAL) and try again")
    argv = [*shlex.split(command), str(path)]
    try:
        done = await anyio.run_process(argv, stdin=None, stdout=None, stderr=None, check=False)
    except OSError as exc:
        raise CommandError(f"cannot start editor {argv[0]!r}: {exc.strerror}") from exc
    if done.returncode != 0:
        raise CommandError(f"editor {argv[0]!r} exited with code {done.returncode}")
    return EditResult(revision=rev_id, path=path, editor=command)


def as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


async def _read_current_lazy(*args: Any, **kwargs: Any) -> tuple[str, ...]:
    from whimbrel.commands.database import read_current

    return await read_current(*args, **kwargs)
