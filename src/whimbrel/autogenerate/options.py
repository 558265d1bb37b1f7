"""What autogenerate compares and how it renders: :class:`AutogenerateOptions`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.types import TypeEngine

    from whimbrel.config import Config

__all__ = (
    "AutogenerateOptions",
    "IncludeName",
    "IncludeObject",
    "ObjectType",
    "TypeComparator",
    "options_from_config",
)

ObjectType: TypeAlias = Literal[
    "schema",
    "table",
    "column",
    "index",
    "unique_constraint",
    "foreign_key_constraint",
    "check_constraint",
    "enum",
]
"""The kinds of object the hooks are asked about."""

IncludeName: TypeAlias = Callable[[str | None, ObjectType, Mapping[str, str | None]], bool]
"""``include_name(name, type_, parent_names) -> bool``: keep the object named ``name``?

Called with names only, before anything is reflected: for ``"schema"`` and
``"table"`` it decides what is reflected at all (``parent_names`` holds
``schema_name``); for the other kinds (``table_name`` and ``schema_name`` in
``parent_names``) what is compared. A name it rejects is ignored on both sides, in
the database and in the models.
"""

IncludeObject: TypeAlias = Callable[[Any, str | None, ObjectType, bool, Any], bool]
"""``include_object(obj, name, type_, reflected, compare_to) -> bool``: compare ``obj``?

``obj`` is a SQLAlchemy ``Table``, ``Column``, ``Index`` or constraint (for
``"enum"``, a ``sqlalchemy.Enum``); ``reflected`` says whether it comes from the
database (then built from what was reflected) or from the models; ``compare_to`` is
its counterpart on the other side, or ``None`` when there is none.
"""

TypeComparator: TypeAlias = Callable[
    ["Column[Any]", "TypeEngine[Any]", "TypeEngine[Any]"], "bool | None"
]
"""``compare_type(metadata_column, reflected_type, metadata_type) -> bool | None``:
``True`` when the types differ, ``False`` when they match, ``None`` to let Whimbrel
decide."""

VERSION_TABLES = ("whimbrel_version", "whimbrel_history", "alembic_version")
"""Bookkeeping tables never compared: Whimbrel's defaults and Alembic's version table."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AutogenerateOptions:
    """What to compare and how to render the result.

    Attributes:
        compare_type: detect column type changes (default on); or a
            :data:`TypeComparator` consulted first for each column.
        compare_server_default: detect server default changes. Defaults are
            normalised per dialect first, so equal defaults spelled differently
            (``now()`` and ``CURRENT_TIMESTAMP``, ``'0'::numeric`` and ``0``) match.
        compare_comments: detect table and column comment changes (where the
            database has comments).
        include_schemas: compare every schema of the database, not only the
            default one (filter them with ``include_name``).
        include_name: a :data:`IncludeName` filter applied to names before
            reflection.
        include_object: a :data:`IncludeObject` filter applied to each object.
        exclude_tables: tables never compared, on either side: names or
            ``fnmatch`` patterns (``"tmp_*"``), or ``"schema.name"`` for one schema
            (``"audit.*"``).
        skip_tables: bookkeeping tables never compared, in any schema: the version
            and history tables (the commands add the configured ones) and
            Alembic's ``alembic_version``.
        render_as_batch: wrap table alterations in ``op.batch_alter_table``:
            ``None`` (default) does so on SQLite when an alteration needs it.
        user_module_prefix: render types that are not SQLAlchemy's as
            ``<prefix>TypeName`` (and ``import <prefix>``) instead of importing the
            class from its module.
        detect_renames: offer renames when a table or column disappears and a
            compatible one appears.
        line_length: the line length the rendered code is laid out for.
    """

    compare_type: bool | TypeComparator = True
    compare_server_default: bool = True
    compare_comments: bool = True
    include_schemas: bool = False
    include_name: IncludeName | None = None
    include_object: IncludeObject | None = None
    exclude_tables: tuple[str, ...] = ()
    skip_tables: tuple[str, ...] = VERSION_TABLES
    render_as_batch: bool | None = None
    user_module_prefix: str | None = None
    detect_renames: bool = True
    line_length: int = 88

    def __post_init__(self) -> None:
        # Lists from callers without a type checker; a str would match letter by letter.
        for name in ("exclude_tables", "skip_tables"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))

    def skips_table(self, name: str, schema: str | None, default_schema: str | None) -> bool:
        """Whether the table ``name`` of ``schema`` (``None``: the default) is left out."""
        if name in self.skip_tables:
            return True
        qualified = schema if schema is not None else default_schema
        for pattern in self.exclude_tables:
            table_schema, dot, table = pattern.rpartition(".")
            if not dot:
                if fnmatchcase(name, pattern):
                    return True
            elif qualified is not None and fnmatchcase(qualified, table_schema):
                if fnmatchcase(name, table):
                    return True
        return False


def options_from_config(config: Config) -> AutogenerateOptions:
    """The options ``config.autogenerate`` sets, over the defaults; hooks imported.

    Raises:
        ConfigError: a hook's import path cannot be imported, names nothing, or names
            something that is not callable; the message names the key and the file.
    """
    settings = config.autogenerate
    default = AutogenerateOptions()
    compare_type: bool | TypeComparator = default.compare_type
    if isinstance(settings.compare_type, str):
        compare_type = _hook(config, "compare_type", settings.compare_type)
    elif settings.compare_type is not None:
        compare_type = settings.compare_type
    return AutogenerateOptions(
        compare_type=compare_type,
        compare_server_default=_or(
            settings.compare_server_default, default.compare_server_default
        ),
        compare_comments=_or(settings.compare_comments, default.compare_comments),
        include_schemas=_or(settings.include_schemas, default.include_schemas),
        include_name=(
            None
            if settings.include_name is None
            else _hook(config, "include_name", settings.include_name)
        ),
        include_object=(
            None
            if settings.include_object is None
            else _hook(config, "include_object", settings.include_object)
        ),
        exclude_tables=settings.exclude_tables,
        render_as_batch=(
            default.render_as_batch
            if settings.render_as_batch is None
            else settings.render_as_batch
        ),
        user_module_prefix=settings.user_module_prefix,
        detect_renames=_or(settings.detect_renames, default.detect_renames),
        line_length=_or(settings.line_length, default.line_length),
    )


_T = TypeVar("_T")


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _hook(config: Config, name: str, spec: str) -> Any:
    from whimbrel.errors import ConfigError

    key = f"autogenerate.{name}"
    found = config.resolve_object(spec, key=key, example=f'{name} = "myapp.migrate_hooks:{name}"')
    if not callable(found):
        where = f" in {config.config_file}" if config.config_file is not None else ""
        raise ConfigError(
            f"{key} {spec!r}{where} names a {type(found).__name__}, not a function; "
            f"point it at a function taking the arguments {name} is called with",
            path=config.config_file,
            key=key,
        )
    return found
