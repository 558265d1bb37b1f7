"""The autogenerate flags of ``check`` and ``revision --autogenerate``.

Each flag overrides the configuration file's ``autogenerate`` table for one run; a flag
not given leaves the file's setting (or the default) alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from whimbrel.config import AutogenerateSettings, Config

T = TypeVar("T")

IncludeSchemasFlag = Annotated[
    bool | None,
    typer.Option(
        "--include-schemas/--no-include-schemas",
        help="Compare every schema, not only the default one.",
        show_default=False,
    ),
]
CompareTypeFlag = Annotated[
    bool | None,
    typer.Option(
        "--compare-type/--no-compare-type", help="Compare column types.", show_default=False
    ),
]
CompareServerDefaultFlag = Annotated[
    bool | None,
    typer.Option(
        "--compare-server-default/--no-compare-server-default",
        help="Compare server defaults.",
        show_default=False,
    ),
]
CompareCommentsFlag = Annotated[
    bool | None,
    typer.Option(
        "--compare-comments/--no-compare-comments",
        help="Compare table and column comments.",
        show_default=False,
    ),
]
ExcludeTableFlag = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude-table",
        help="Leave out this table or pattern (tmp_*, audit.*); repeatable.",
        metavar="PATTERN",
    ),
]
RenderAsBatchFlag = Annotated[
    bool | None,
    typer.Option(
        "--render-as-batch/--no-render-as-batch",
        help="With --autogenerate: always/never write batch_alter_table blocks.",
        show_default=False,
    ),
]
DetectRenamesFlag = Annotated[
    bool | None,
    typer.Option(
        "--detect-renames/--no-detect-renames",
        help="With --autogenerate: offer renames for a drop and an add.",
        show_default=False,
    ),
]


def settings_from_flags(
    *,
    include_schemas: bool | None = None,
    compare_type: bool | None = None,
    compare_server_default: bool | None = None,
    compare_comments: bool | None = None,
    exclude_tables: list[str] | None = None,
    render_as_batch: bool | None = None,
    detect_renames: bool | None = None,
) -> AutogenerateSettings:
    """The settings the flags given set; the others stay ``None``."""
    return AutogenerateSettings(
        include_schemas=include_schemas,
        compare_type=compare_type,
        compare_server_default=compare_server_default,
        compare_comments=compare_comments,
        exclude_tables=tuple(exclude_tables or ()),
        render_as_batch=render_as_batch,
        detect_renames=detect_renames,
    )


async def with_settings(
    config: Config,
    fn: Callable[..., Awaitable[T]],
    settings: AutogenerateSettings,
    /,
    **kwargs: Any,
) -> T:
    """Await ``fn(config, **kwargs)`` with the flags' ``settings`` over the file's."""
    config.autogenerate = config.autogenerate.overridden_by(settings)
    return await fn(config, **kwargs)
