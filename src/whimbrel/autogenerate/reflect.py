"""Reading the database's schema in bulk: a fixed number of queries per schema.

SQLAlchemy's ``Inspector.get_multi_*`` methods return one kind of object for every
table of a schema at once (on PostgreSQL one catalogue query each; SQLite and MySQL
answer table by table inside the dialect, from its cache). The results are turned
into the small records below, the same for every dialect, which the comparison reads.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine.reflection import Inspector
    from sqlalchemy.types import TypeEngine

__all__ = (
    "DbCheck",
    "DbColumn",
    "DbForeignKey",
    "DbIndex",
    "DbSchema",
    "DbTable",
    "DbUnique",
    "TableKey",
    "reflect_schema",
)

TableKey = tuple[str | None, str]
"""``(schema, name)``; the schema is ``None`` for the default schema."""

_SYSTEM_SCHEMAS = {
    "postgresql": re.compile(r"^(pg_.*|information_schema)$"),
    "mysql": re.compile(r"^(mysql|information_schema|performance_schema|sys)$"),
    "mariadb": re.compile(r"^(mysql|information_schema|performance_schema|sys)$"),
    "sqlite": re.compile(r"^temp$"),
}


@dataclass(slots=True)
class DbColumn:
    """A column as the database has it."""

    name: str
    type: TypeEngine[Any]
    nullable: bool
    default: str | None
    comment: str | None = None
    autoincrement: bool | None = None
    computed: tuple[str, bool | None] | None = None
    identity: Mapping[str, Any] | None = None


@dataclass(slots=True)
class DbIndex:
    """An index: ``elements`` are column names or SQL expressions (``expressions``)."""

    name: str | None
    elements: tuple[str, ...]
    expressions: tuple[bool, ...]
    unique: bool
    where: str | None = None
    using: str | None = None
    include: tuple[str, ...] = ()
    duplicates_constraint: str | None = None


@dataclass(slots=True)
class DbUnique:
    """A unique constraint."""

    name: str | None
    columns: tuple[str, ...]
    deferrable: bool | None = None
    initially: str | None = None


@dataclass(slots=True)
class DbForeignKey:
    """A foreign key constraint."""

    name: str | None
    columns: tuple[str, ...]
    referred_schema: str | None
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None


@dataclass(slots=True)
class DbCheck:
    """A check constraint."""

    name: str | None
    sqltext: str


@dataclass(slots=True)
class DbTable:
    """A table as the database has it."""

    schema: str | None
    name: str
    columns: dict[str, DbColumn] = field(default_factory=dict)
    pk_name: str | None = None
    pk_columns: tuple[str, ...] = ()
    foreign_keys: list[DbForeignKey] = field(default_factory=list)
    indexes: list[DbIndex] = field(default_factory=list)
    uniques: list[DbUnique] = field(default_factory=list)
    checks: list[DbCheck] = field(default_factory=list)
    comment: str | None = None

    @property
    def key(self) -> TableKey:
        """``(schema, name)``."""
        return (self.schema, self.name)


@dataclass(slots=True)
class DbSchema:
    """Everything reflected: tables by ``(schema, name)`` and PostgreSQL enum types."""

    dialect_name: str
    default_schema: str | None
    schemas: tuple[str | None, ...]
    tables: dict[TableKey, DbTable] = field(default_factory=dict)
    enums: dict[TableKey, tuple[str, ...]] = field(default_factory=dict)
    queries: int = 0


NameFilter = Callable[[str, str | None], bool]
"""``keep(table_name, schema)``."""


def list_schemas(
    inspector: Inspector, *, include_schemas: bool, keep: Callable[[str], bool]
) -> tuple[str | None, ...]:
    """The schemas to compare: the default one (``None``) and, if asked, the others."""
    if not include_schemas:
        return (None,)
    default = inspector.default_schema_name
    system = _SYSTEM_SCHEMAS.get(inspector.dialect.name)
    found: list[str | None] = [None]
    for name in inspector.get_schema_names():
        if name == default or (system is not None and system.match(name)):
            continue
        if keep(name):
            found.append(name)
    return tuple(found)


def reflect_schema(
    connection: Connection,
    *,
    schemas: Iterable[str | None] | None = None,
    include_schemas: bool = False,
    keep_schema: Callable[[str], bool] = lambda _: True,
    keep_table: NameFilter = lambda _n, _s: True,
) -> DbSchema:
    """Reflect the tables of the schemas to compare, a fixed number of queries each.

    Args:
        connection: a synchronous connection (inside ``AsyncConnection.run_sync``).
        schemas: the schemas to read (``None`` is the default schema); by default
            the default schema, and with ``include_schemas`` every user schema.
        include_schemas: see ``schemas``.
        keep_schema: a filter on schema names (``include_schemas`` only).
        keep_table: a filter on table names; rejected tables are not reflected.
    """
    inspector = inspect(connection)
    dialect_name = connection.dialect.name
    if schemas is None:
        schemas = list_schemas(inspector, include_schemas=include_schemas, keep=keep_schema)
    out = DbSchema(dialect_name, inspector.default_schema_name, tuple(schemas))
    for schema in out.schemas:
        names = inspector.get_table_names(schema=schema)
        kept = [n for n in names if keep_table(n, schema)]
        if not kept:
            continue
        # Without a filter the dialect reads every table in one go (and no long IN list).
        filter_names = None if len(kept) == len(names) else kept
        _reflect_tables(inspector, connection, out, schema, kept, filter_names)
        if dialect_name == "postgresql":
            for enum in inspector.get_enums(schema=schema or out.default_schema):  # type: ignore[attr-defined]
                enum_schema = None if enum["schema"] == out.default_schema else enum["schema"]
                out.enums[(enum_schema, enum["name"])] = tuple(enum["labels"])
    return out


class _DialectSource:
    """``get_multi_*`` straight from the dialect, on a stand-in connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.info_cache: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Callable[..., dict[Any, Any]]:
        from sqlalchemy.engine.reflection import ObjectKind, ObjectScope

        method = getattr(self.dialect, name)

        def call(**kw: Any) -> dict[Any, Any]:
            return dict(
                method(
                    self.connection,
                    kind=ObjectKind.TABLE,
                    scope=ObjectScope.DEFAULT,
                    info_cache=self.info_cache,
                    **kw,
                )
            )

        return call


def _reflect_tables(
    inspector: Inspector,
    connection: Connection,
    out: DbSchema,
    schema: str | None,
    kept: list[str],
    filter_names: list[str] | None,
) -> None:
    dialect = connection.dialect
    source: Any = inspector
    index_sql: dict[str, str] | None = None
    if dialect.name == "sqlite" and schema is None:
        from whimbrel.autogenerate.reflect_sqlite import prefetch

        prefetched = prefetch(connection)
        if prefetched is not None:
            source = _DialectSource(prefetched)
            index_sql = prefetched.index_sql
            filter_names = kept
    kw: dict[str, Any] = {"schema": schema, "filter_names": filter_names}
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; they are read from sqlite_master below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        columns = source.get_multi_columns(**kw)
        pks = source.get_multi_pk_constraint(**kw)
        fks = source.get_multi_foreign_keys(**kw)
        indexes = source.get_multi_indexes(**kw)
        uniques = source.get_multi_unique_constraints(**kw)
        checks = source.get_multi_check_constraints(**kw)
        comments = source.get_multi_table_comment(**kw) if dialect.supports_comments else {}
    default = out.default_schema
    for name in kept:
        key = (schema, name)
        if key not in columns:
            continue
        table = DbTable(schema, name)
        table.columns = {c["name"]: _column(c) for c in columns[key]}
        pk = pks.get(key)
        if pk is not None:
            table.pk_name = pk.get("name")
            table.pk_columns = tuple(pk.get("constrained_columns") or ())
        table.foreign_keys = [_foreign_key(fk, default) for fk in fks.get(key, [])]
        table.indexes = [_index(ix) for ix in indexes.get(key, [])]
        table.uniques = [_unique(uq) for uq in uniques.get(key, [])]
        table.checks = [DbCheck(ck.get("name"), ck["sqltext"]) for ck in checks.get(key, [])]
        comment: Any = comments.get(key) or {}
        table.comment = comment.get("text") or None
        out.tables[(schema, name)] = table
    if dialect.name == "sqlite":
        _sqlite_expression_indexes(connection, out, schema, index_sql)


def _column(c: Any) -> DbColumn:
    computed = c.get("computed")
    identity = c.get("identity")
    return DbColumn(
        name=c["name"],
        type=c["type"],
        nullable=bool(c["nullable"]),
        default=c.get("default"),
        comment=c.get("comment") or None,
        autoincrement=c.get("autoincrement"),
        computed=(computed["sqltext"], computed.get("persisted")) if computed else None,
        identity=dict(identity) if identity else None,
    )


def _foreign_key(fk: Any, default_schema: str | None) -> DbForeignKey:
    options = fk.get("options") or {}
    referred_schema = fk.get("referred_schema")
    if referred_schema == default_schema:
        referred_schema = None
    return DbForeignKey(
        name=fk.get("name"),
        columns=tuple(fk["constrained_columns"]),
        referred_schema=referred_schema,
        referred_table=fk["referred_table"],
        referred_columns=tuple(fk["referred_columns"]),
        ondelete=options.get("ondelete"),
        onupdate=options.get("onupdate"),
        deferrable=options.get("deferrable"),
        initially=options.get("initially"),
        match=options.get("match"),
    )


def _index(ix: Any) -> DbIndex:
    names = list(ix.get("column_names") or [])
    expressions = list(ix.get("expressions") or [])
    sorting = ix.get("column_sorting") or {}
    elements: list[str] = []
    is_expr: list[bool] = []
    for i, name in enumerate(names):
        if name is None:
            expression = expressions[i] if i < len(expressions) else ""
            # SQLAlchemy keys the sorting of an expression by the expression's text.
            elements.append(" ".join([expression, *sorting.get(expression, ())]))
            is_expr.append(True)
        elif name in sorting:
            elements.append(" ".join([_quote_if_needed(name), *sorting[name]]))
            is_expr.append(True)
        else:
            elements.append(name)
            is_expr.append(False)
    options = ix.get("dialect_options") or {}
    where = options.get("postgresql_where") or options.get("sqlite_where")
    if where is not None and not isinstance(where, str):
        where = str(getattr(where, "text", where))
    return DbIndex(
        name=ix.get("name"),
        elements=tuple(elements),
        expressions=tuple(is_expr),
        unique=bool(ix.get("unique")),
        where=where,
        using=options.get("postgresql_using"),
        include=tuple(options.get("postgresql_include") or ix.get("include_columns") or ()),
        duplicates_constraint=ix.get("duplicates_constraint"),
    )


def _quote_if_needed(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else f'"{name}"'


def _unique(uq: Any) -> DbUnique:
    options = uq.get("dialect_options") or {}
    return DbUnique(
        name=uq.get("name"),
        columns=tuple(uq["column_names"]),
        deferrable=options.get("deferrable"),
        initially=options.get("initially"),
    )


# -- SQLite expression indexes -------------------------------------------------------

_CREATE_INDEX = re.compile(
    r"^\s*CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>\S+)\s+ON\s+(?P<table>\S+?)\s*\((?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


def _sqlite_expression_indexes(
    connection: Connection,
    out: DbSchema,
    schema: str | None,
    index_sql: dict[str, str] | None = None,
) -> None:
    if index_sql is not None:
        rows = [(_index_table(sql), name, sql) for name, sql in index_sql.items()]
    else:
        master = f'"{schema}".sqlite_master' if schema else "sqlite_master"
        rows = [
            tuple(r)
            for r in connection.execute(
                text(
                    f"SELECT tbl_name, name, sql FROM {master} "
                    "WHERE type = 'index' AND sql IS NOT NULL"
                )
            )
        ]
    for table_name, index_name, sql in rows:
        table = out.tables.get((schema, str(table_name)))
        if table is None or any(ix.name == index_name for ix in table.indexes):
            continue
        parsed = parse_sqlite_index(sql)
        if parsed is not None:
            table.indexes.append(parsed)


def _index_table(sql: str) -> str | None:
    match = _CREATE_INDEX.match(sql)
    return None if match is None else match["table"].strip('"`[]')


def parse_sqlite_index(sql: str) -> DbIndex | None:
    """An index from its ``CREATE INDEX`` statement (for expression indexes)."""
    match = _CREATE_INDEX.match(sql)
    if match is None:
        return None
    body, where = _split_parenthesised(match["rest"])
    if body is None:
        return None
    elements = [e.strip() for e in split_top_level(body)]
    is_expr = [not re.fullmatch(r'"[^"]+"|`[^`]+`|\[[^\]]+\]|\w+', e) for e in elements]
    names = [e if x else e.strip('"`[]') for e, x in zip(elements, is_expr, strict=True)]
    where_match = re.match(r"\s*WHERE\s+(.*)$", where, re.IGNORECASE | re.DOTALL)
    return DbIndex(
        name=match["name"].strip('"`[]'),
        elements=tuple(names),
        expressions=tuple(is_expr),
        unique=bool(match["unique"]),
        where=where_match.group(1).strip() if where_match else None,
    )


def _split_parenthesised(rest: str) -> tuple[str | None, str]:
    """``"a, lower(b)) WHERE x"`` → ``("a, lower(b)", " WHERE x")``."""
    depth = 1
    quote: str | None = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return rest[:i], rest[i + 1 :]
    return None, ""


def split_top_level(sql: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    for i, ch in enumerate(sql):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(sql[start:i])
            start = i + 1
    parts.append(sql[start:])
    return parts
