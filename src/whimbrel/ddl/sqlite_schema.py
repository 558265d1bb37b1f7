"""What SQLite keeps only in a table's ``CREATE TABLE`` text: constraint names.

SQLAlchemy's SQLite reflection loses the names of column-level constraints
(``pid INTEGER CONSTRAINT fk_p REFERENCES p (id)``, which is how ``ADD COLUMN``
writes them), and reflecting unique constraints warns about expression indexes.
Batch mode needs every name to carry the constraints over, so this module reads
them from the SQL text itself with a small tokenizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ("ParsedTable", "mentions", "parse_create_table", "split_top_level", "unquote")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<comma>,)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_COLUMN_CONSTRAINT_WORDS = frozenset(
    {
        "PRIMARY",
        "NOT",
        "NULL",
        "UNIQUE",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "REFERENCES",
        "GENERATED",
        "AS",
    }
)
_TABLE_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


@dataclass
class ParsedTable:
    """Constraint names and check texts found in a ``CREATE TABLE`` statement."""

    checks: list[tuple[str | None, str]] = field(default_factory=list)
    unique_names: dict[tuple[str, ...], str] = field(default_factory=dict)
    foreign_key_names: dict[tuple[str, ...], str] = field(default_factory=dict)
    autoincrement: bool = False


def unquote(identifier: str) -> str:
    """An identifier without its SQLite quoting."""
    if len(identifier) >= 2 and identifier[0] in '"`[':
        inner = identifier[1:-1]
        quote = identifier[0]
        return inner if quote == "[" else inner.replace(quote * 2, quote)
    return identifier


def _tokens(sql: str) -> list[_Token]:
    return [
        _Token(m.lastgroup or "other", m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(sql)
        if m.lastgroup != "space"
    ]


def split_top_level(tokens: list[_Token]) -> list[list[_Token]]:
    """Split tokens at the commas outside parentheses."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "open":
            depth += 1
        elif token.kind == "close":
            depth -= 1
        if token.kind == "comma" and depth == 0:
            items.append([])
        else:
            items[-1].append(token)
    return [item for item in items if item]


def _group(tokens: list[_Token], start: int) -> tuple[int, int]:
    """The index just past the parenthesised group opening at ``start``, and its end."""
    depth = 0
    for index in range(start, len(tokens)):
        kind = tokens[index].kind
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                return index + 1, index
    return len(tokens), len(tokens) - 1


def _names_in_group(tokens: list[_Token]) -> tuple[str, ...]:
    return tuple(
        unquote(item[0].text)
        for item in split_top_level(tokens)
        if item and item[0].kind in ("word", "quoted")
    )


def parse_create_table(sql: str) -> ParsedTable:
    """Read constraint names, check texts and ``AUTOINCREMENT`` from ``CREATE TABLE``."""
    tokens = _tokens(sql)
    parsed = ParsedTable()
    try:
        first = next(i for i, t in enumerate(tokens) if t.kind == "open")
    except StopIteration:
        return parsed
    after, close = _group(tokens, first)
    del after
    body = tokens[first + 1 : close]
    for item in split_top_level(body):
        if any(t.kind == "word" and t.text.upper() == "AUTOINCREMENT" for t in item):
            parsed.autoincrement = True
        head = item[0].text.upper() if item[0].kind == "word" else ""
        if head in _TABLE_CONSTRAINT_WORDS:
            _table_constraint(sql, item, parsed)
        else:
            _column_constraints(sql, item, parsed)
    return parsed


def _table_constraint(sql: str, item: list[_Token], parsed: ParsedTable) -> None:
    index = 0
    name: str | None = None
    if item[0].text.upper() == "CONSTRAINT" and len(item) > 1:
        name = unquote(item[1].text)
        index = 2
    if index >= len(item):
        return
    kind = item[index].text.upper()
    rest = item[index + 1 :]
    opening = next((i for i, t in enumerate(rest) if t.kind == "open"), None)
    if opening is None:
        return
    _, end = _group(rest, opening)
    inner = rest[opening + 1 : end]
    if kind == "CHECK":
        text = sql[rest[opening].end : rest[end].start].strip() if inner else ""
        parsed.checks.append((name, text))
    elif kind == "UNIQUE" and name is not None:
        parsed.unique_names[_names_in_group(inner)] = name
    elif kind == "FOREIGN" and name is not None:
        parsed.foreign_key_names[_names_in_group(inner)] = name


def _column_constraints(sql: str, item: list[_Token], parsed: ParsedTable) -> None:
    column = unquote(item[0].text)
    name: str | None = None
    index = 1
    while index < len(item):
        token = item[index]
        word = token.text.upper() if token.kind == "word" else ""
        if word == "CONSTRAINT" and index + 1 < len(item):
            name = unquote(item[index + 1].text)
            index += 2
            continue
        if word == "CHECK" and index + 1 < len(item) and item[index + 1].kind == "open":
            after, end = _group(item, index + 1)
            parsed.checks.append((name, sql[item[index + 1].end : item[end].start].strip()))
            name = None
            index = after
            continue
        if word == "UNIQUE" and name is not None:
            parsed.unique_names[(column,)] = name
        elif word == "REFERENCES" and name is not None:
            parsed.foreign_key_names[(column,)] = name
        if word in _COLUMN_CONSTRAINT_WORDS:
            name = None
        index += 1


def mentions(sql: str, names: set[str]) -> bool:
    """Whether any identifier in ``sql`` is one of ``names`` (string literals ignored)."""
    lowered = {name.lower() for name in names}
    return any(
        t.kind in ("word", "quoted") and unquote(t.text).lower() in lowered for t in _tokens(sql)
    )
