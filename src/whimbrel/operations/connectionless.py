"""The migration context and the bind of a run with no database connection.

Offline SQL (``--sql``) and lint's static run both execute revision scripts with a
configuration and a dialect only. What a script may ask without a database (the
configuration, the dialect, ``op.get_bind().dialect``) is answered here; anything else
raises the error each of them chooses.

Nor can such a run ask the database what earlier statements did. What later
operations depend on is remembered instead: PostgreSQL enum types created or dropped
by SQL text passed to ``op.execute`` (:func:`type_changes`) are recorded as the
dialect implementation records the types it creates itself, so a later
``create_table``/``add_column`` does not create them again.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

    from whimbrel.config import Config
    from whimbrel.ddl.impl import DefaultImpl

__all__ = ("ConnectionlessContext", "DialectOnlyBind", "TypeChange", "type_changes")

TypeChange = tuple[bool, str | None, str]
"""``(created, schema, name)``: a type created (``True``) or dropped (``False``)."""


class DialectOnlyBind:
    """What ``op.get_bind()`` gives with no connection: the dialect, and nothing that runs SQL.

    Scripts often only ask the bind for its dialect (``op.get_bind().dialect.name``);
    any other attribute raises what ``refuse`` makes of its name.
    """

    def __init__(self, dialect: Dialect, refuse: Callable[[str], Exception]) -> None:
        self.dialect = dialect
        self._refuse = refuse

    def __getattr__(self, name: str) -> NoReturn:
        raise self._refuse(f"op.get_bind().{name}")


class ConnectionlessContext(ABC):
    """A migration context with a configuration and a dialect but no connection."""

    def __init__(self, config: Config, dialect: Dialect) -> None:
        self._config = config
        self._dialect = dialect

    @property
    def config(self) -> Config:
        return self._config

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def async_connection(self) -> AsyncConnection:
        raise self.refuse("the step's AsyncConnection")

    def bind(self) -> DialectOnlyBind:
        """The stand-in ``op.get_bind()`` returns."""
        return DialectOnlyBind(self._dialect, self.refuse)

    @abstractmethod
    def refuse(self, what: str) -> Exception:
        """The error for ``what``, which needs a live database connection."""

    def executed(self, impl: DefaultImpl, statement: str | Executable) -> None:
        """Remember what ``statement``, given to ``op.execute``, did to the schema.

        Online, ``create_table`` asks the database whether a column's enum type exists;
        here ``impl`` records the types the run created, and ``CREATE TYPE``/``DROP
        TYPE`` text joins that record.
        """
        from whimbrel.ddl.postgresql import PostgresqlImpl

        if not isinstance(impl, PostgresqlImpl):
            return
        for created, schema, name in type_changes(statement):
            impl.note_type(schema, name, exists=created)


# -- reading CREATE TYPE / DROP TYPE out of SQL text ---------------------------------------

# Comments, strings, quoted names and dollar quotes are kept whole: a ';' or the words
# CREATE TYPE inside them are not statements.
_TOKEN = re.compile(
    r"""
    \s+
  | --[^\n]*
  | /\*.*?(?:\*/|\Z)
  | \$(?P<tag>[^\W\d]\w*)?\$.*?(?:\$(?P=tag)\$|\Z)
  | [Ee]'(?:[^'\\]|\\.|'')*(?:'|\Z)
  | [BbXxNnUu]?&?'(?:[^']|'')*(?:'|\Z)
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z))
  | (?P<word>[^\W\d][\w$]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_Token = tuple[str, str]  # ("word" | "quoted" | "other" | "literal", text)


def type_changes(statement: object) -> list[TypeChange]:
    """The types SQL text creates or drops, in order (PostgreSQL spelling).

    Reads SQL text (``str``, ``sa.text()``, ``sa.DDL()``) and SQLAlchemy's
    ``CreateEnumType``/``DropEnumType``; anything else changes no type. Unquoted names
    fold to lower case, as PostgreSQL folds them.

    Returns:
        ``(created, schema, name)`` for each ``CREATE TYPE`` and each type of a ``DROP
        TYPE``; ``schema`` is ``None`` where the name is not qualified.
    """
    from sqlalchemy.schema import DDL
    from sqlalchemy.sql.elements import TextClause

    if isinstance(statement, str):
        sql = statement
    elif isinstance(statement, TextClause):
        sql = statement.text
    elif isinstance(statement, DDL):
        sql = statement.statement
    else:
        return _construct_changes(statement)
    changes: list[TypeChange] = []
    for tokens in _statements(sql):
        changes.extend(_changes(tokens))
    return changes


def _construct_changes(statement: object) -> list[TypeChange]:
    from sqlalchemy.dialects.postgresql.named_types import CreateEnumType, DropEnumType

    if isinstance(statement, CreateEnumType | DropEnumType):
        enum = statement.element
        created = isinstance(statement, CreateEnumType)
        return [(created, enum.schema, enum.name)] if enum.name else []
    return []


def _statements(sql: str) -> list[list[_Token]]:
    statements: list[list[_Token]] = [[]]
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind == "other" and text == ";":
            statements.append([])
        elif kind in ("word", "quoted", "other"):
            statements[-1].append((kind, text))
        elif not text[0].isspace() and not text.startswith(("--", "/*")):
            statements[-1].append(("literal", text))
    return [tokens for tokens in statements if tokens]


def _changes(tokens: list[_Token]) -> list[TypeChange]:
    words = [text.upper() if kind == "word" else "" for kind, text in tokens[:4]]
    if words[:2] == ["CREATE", "TYPE"]:
        found = _qualified_name(tokens, 2)
        return [] if found is None else [(True, *found[:2])]
    if words[:2] != ["DROP", "TYPE"]:
        return []
    at = 4 if words[2:4] == ["IF", "EXISTS"] else 2
    changes: list[TypeChange] = []
    while True:
        found = _qualified_name(tokens, at)
        if found is None:
            return changes
        schema, name, at = found
        changes.append((False, schema, name))
        if at >= len(tokens) or tokens[at] != ("other", ","):
            return changes
        at += 1


def _qualified_name(tokens: list[_Token], at: int) -> tuple[str | None, str, int] | None:
    """``[schema.]name`` from ``tokens[at]``: the two names and where it ends."""
    parts: list[str] = []
    while at < len(tokens):
        name = _name(tokens[at])
        if name is None:
            break
        parts.append(name)
        at += 1
        if at < len(tokens) and tokens[at] == ("other", ".") and len(parts) < 3:
            at += 1
            continue
        break
    if not parts:
        return None
    # database.schema.name: the database can only be the current one.
    return (parts[-2] if len(parts) > 1 else None), parts[-1], at


def _name(token: _Token) -> str | None:
    kind, text = token
    if kind == "word":
        return text.lower()
    if kind == "quoted":
        return text[1:-1].replace('""', '"')
    return None
