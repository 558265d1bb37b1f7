"""Column types: when two differ, and whether a change can lose data.

Both sides are compiled to the DDL the dialect would emit (``VARCHAR(50)``,
``TIMESTAMP WITHOUT TIME ZONE``, ``INTEGER(11)``) and reduced to a canonical
:class:`TypeKey`: synonyms folded (``INT4`` and ``INTEGER``, ``BOOL`` and MySQL's
``TINYINT(1)``), MySQL display widths dropped, character sets and collations
ignored unless the model names a collation. Types that compile to the same key
match; so ``sa.Integer()`` matches PostgreSQL's reflected ``INTEGER()`` and
MariaDB's ``INTEGER(display_width=11)``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.types import TypeEngine

__all__ = ("TypeKey", "family", "is_narrowing", "type_key")

_SYNONYMS = {
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "INT2": "SMALLINT",
    "BOOL": "BOOLEAN",
    "DECIMAL": "NUMERIC",
    "CHARACTER VARYING": "VARCHAR",
    "CHARACTER": "CHAR",
    "NCHAR": "CHAR",
    "NVARCHAR": "VARCHAR",
    "DOUBLE PRECISION": "DOUBLE",
    "FLOAT8": "DOUBLE",
    "FLOAT4": "REAL",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    "TIMETZ": "TIME WITH TIME ZONE",
    "SERIAL": "INTEGER",
    "BIGSERIAL": "BIGINT",
    "SMALLSERIAL": "SMALLINT",
}
_MYSQL_INTEGERS = {"TINYINT", "SMALLINT", "MEDIUMINT", "INTEGER", "BIGINT"}
_ZONE = re.compile(r"\s+(WITH|WITHOUT)\s+TIME\s+ZONE\b")
_CHARSET = re.compile(r"\s+(?:CHARACTER\s+SET|CHARSET)\s+\w+", re.IGNORECASE)
_COLLATE = re.compile(r"\s+COLLATE\s+\"?(\w+)\"?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TypeKey:
    """A type reduced for comparison: ``NUMERIC`` + ``("10", "2")``."""

    base: str
    args: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    collation: str | None = None

    def __str__(self) -> str:
        args = f"({', '.join(self.args)})" if self.args else ""
        flags = "".join(f" {f}" for f in self.flags)
        return f"{self.base}{args}{flags}"


def compile_type(type_: TypeEngine[Any], dialect: Dialect) -> str | None:
    """The DDL of ``type_`` on ``dialect``; ``None`` when it cannot be compiled there."""
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        # VARCHAR without a length on MySQL, a type of another dialect...: not comparable.
        return None


def type_key(type_: TypeEngine[Any], dialect: Dialect) -> TypeKey | None:
    """The canonical key of ``type_`` on ``dialect`` (``None``: cannot be compared)."""
    ddl = compile_type(type_, dialect)
    if ddl is None:
        return None
    return parse_type(ddl, dialect.name, bool(getattr(dialect, "is_mariadb", False)))


@functools.lru_cache(maxsize=4096)
def parse_type(ddl: str, dialect_name: str, is_mariadb: bool = False) -> TypeKey:
    """Reduce compiled DDL (``"INTEGER(11) UNSIGNED"``) to a :class:`TypeKey` (cached)."""
    collation_match = _COLLATE.search(ddl)
    collation = collation_match.group(1) if collation_match else None
    ddl = _COLLATE.sub("", _CHARSET.sub("", ddl)).strip()
    array = ""
    while ddl.endswith("[]"):
        array += "[]"
        ddl = ddl[:-2].rstrip()
    zone = _ZONE.search(ddl)
    if zone is not None:
        ddl = _ZONE.sub("", ddl)
    open_at = ddl.find("(")
    if open_at >= 0:
        close_at = ddl.rfind(")")
        base = ddl[:open_at]
        args = tuple(a.strip() for a in _split_args(ddl[open_at + 1 : close_at]))
        rest = ddl[close_at + 1 :]
    else:
        base, args, rest = ddl, (), ""
    base = " ".join(base.upper().split())
    if zone is not None and zone.group(1).upper() == "WITH":
        base += " WITH TIME ZONE"
    base = _SYNONYMS.get(base, base)
    flags = tuple(sorted(rest.upper().split()))
    if array:
        flags = (*flags, array)
    if dialect_name == "postgresql":
        base, args = _postgresql(base, args)
    elif dialect_name in ("mysql", "mariadb"):
        base, args = _mysql(base, args, is_mariadb or dialect_name == "mariadb")
    return TypeKey(base, args, flags, collation)


def _split_args(args: str) -> list[str]:
    from whimbrel.autogenerate.reflect import split_top_level

    return [a for a in split_top_level(args) if a.strip()]


def _postgresql(base: str, args: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if base == "FLOAT":
        # FLOAT(p) is REAL up to 24 bits of precision, DOUBLE PRECISION beyond.
        if args and args[0].isdigit() and int(args[0]) <= 24:
            return "REAL", ()
        return "DOUBLE", ()
    if base == "DOUBLE":
        return base, ()
    if base in (
        "TIMESTAMP",
        "TIME",
        "TIMESTAMP WITH TIME ZONE",
        "TIME WITH TIME ZONE",
    ) and args == ("6",):
        return base, ()  # the default precision
    return base, args


def _mysql(base: str, args: tuple[str, ...], is_mariadb: bool) -> tuple[str, tuple[str, ...]]:
    if base == "TINYINT" and args == ("1",):
        return "BOOLEAN", ()
    if base in _MYSQL_INTEGERS:
        return base, ()  # display widths mean nothing to the data
    if base == "NUMERIC" and not args:
        return base, ("10", "0")
    if base == "NUMERIC" and len(args) == 1:
        return base, (args[0], "0")
    if base == "JSON" and is_mariadb:
        return "LONGTEXT", ()  # MariaDB's JSON is an alias of LONGTEXT
    if base == "ENUM":
        return base, tuple(a.replace(" ", "") for a in args)
    return base, args


def types_differ(
    metadata_type: TypeEngine[Any], reflected_type: TypeEngine[Any], dialect: Dialect
) -> tuple[bool, TypeKey | None, TypeKey | None]:
    """Whether the model's type differs from the database's, with both keys."""
    new = type_key(metadata_type, dialect)
    old = type_key(reflected_type, dialect)
    if new is None or old is None:
        return False, old, new
    if new.collation is None:
        old = TypeKey(old.base, old.args, old.flags, None)
    return new != old, old, new


# -- what a change does to the data --------------------------------------------------

_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        ("TINYINT", "SMALLINT", "MEDIUMINT", "INTEGER", "BIGINT", "SERIAL"), "integer"
    ),
    **dict.fromkeys(
        (
            "VARCHAR",
            "CHAR",
            "TEXT",
            "TINYTEXT",
            "MEDIUMTEXT",
            "LONGTEXT",
            "CLOB",
            "STRING",
        ),
        "string",
    ),
    **dict.fromkeys(("NUMERIC", "FLOAT", "REAL", "DOUBLE"), "number"),
    **dict.fromkeys(
        ("DATE", "DATETIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME"), "datetime"
    ),
    **dict.fromkeys(("BLOB", "BYTEA", "LONGBLOB", "MEDIUMBLOB", "VARBINARY", "BINARY"), "bytes"),
    "BOOLEAN": "boolean",
    "JSON": "json",
    "JSONB": "json",
    "UUID": "uuid",
}
_RANK = {
    "TINYINT": 1,
    "SMALLINT": 2,
    "MEDIUMINT": 3,
    "INTEGER": 4,
    "BIGINT": 5,
    "REAL": 1,
    "FLOAT": 2,
    "DOUBLE": 3,
    "CHAR": 1,
    "VARCHAR": 2,
    "TINYTEXT": 3,
    "TEXT": 4,
    "MEDIUMTEXT": 5,
    "LONGTEXT": 6,
    "CLOB": 6,
    "DATE": 1,
    "DATETIME": 2,
    "TIMESTAMP": 2,
    "TIMESTAMP WITH TIME ZONE": 3,
}


def family(key: TypeKey | None) -> str | None:
    """The kind of data a type holds (``"string"``, ``"integer"``...), if known."""
    if key is None:
        return None
    if "[]" in key.flags:
        return "array"
    return _FAMILIES.get(key.base, key.base.lower())


def _ints(args: tuple[str, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(int(a) for a in args)
    except ValueError:
        return None


def is_narrowing(old: TypeKey | None, new: TypeKey | None) -> bool:
    """Whether changing ``old`` into ``new`` may lose or reject existing data.

    Only changes known to widen are not narrowing: a longer string, a bigger
    integer, more precision, a string to unbounded text.
    """
    if old is None or new is None or old == new:
        return False
    if family(old) != family(new) or old.flags != new.flags:
        return True
    if old.base == new.base:
        if old.base == "ENUM":
            return not set(old.args) <= set(new.args)
        if not new.args:
            return old.base not in ("VARCHAR", "NUMERIC", "CHAR")
        if not old.args:
            return True
        old_n, new_n = _ints(old.args), _ints(new.args)
        if old_n is None or new_n is None or len(old_n) != len(new_n):
            return True
        if old.base == "NUMERIC" and len(old_n) == 2:
            # Integer digits and fraction digits must both fit.
            return new_n[0] - new_n[1] < old_n[0] - old_n[1] or new_n[1] < old_n[1]
        return any(n < o for o, n in zip(old_n, new_n, strict=True))
    old_rank, new_rank = _RANK.get(old.base), _RANK.get(new.base)
    if old_rank is None or new_rank is None:
        return True
    if new.base in ("TEXT", "MEDIUMTEXT", "LONGTEXT", "CLOB") and not new.args:
        return new_rank < old_rank
    return new_rank < old_rank or (bool(new.args) and new.args < old.args)
