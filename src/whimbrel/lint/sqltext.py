"""Reading SQL text well enough to judge its locks: split, tokenise, classify.

Not a parser: it recognises the statements a migration runs (``CREATE INDEX``,
``ALTER TABLE`` and its clauses, ``UPDATE``/``DELETE``, ``ALTER TYPE ... ADD VALUE``...)
in PostgreSQL's and MySQL's spelling, and calls everything else ``other``. Strings,
quoted identifiers, comments and dollar quotes are skipped over, so a ``;`` or a
keyword inside them changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from whimbrel.lint.sqlalter import Action, alter_actions
from whimbrel.lint.sqltokens import (
    Cursor,
    Token,
    references,
    split_statements,
    tokenize,
    top_level_words,
)

__all__ = ("Action", "Statement", "Token", "classify", "split_statements", "tokenize")

StatementKind = Literal[
    "create_index",
    "drop_index",
    "alter_table",
    "add_enum_value",
    "update",
    "delete",
    "insert",
    "select",
    "create_table",
    "drop_table",
    "truncate",
    "comment",
    "set",
    "lock",
    "reindex",
    "vacuum",
    "cluster",
    "refresh",
    "other",
]


@dataclass(frozen=True, slots=True)
class Statement:
    """What one SQL statement does, as far as locks and safety go."""

    kind: StatementKind
    text: str
    tables: tuple[str, ...] = ()
    index: str | None = None
    concurrently: bool = False
    has_where: bool = False
    actions: tuple[Action, ...] = ()
    value: str | None = None
    type_name: str | None = None
    references: tuple[str, ...] = ()
    lock_mode: str | None = None
    full: bool = False

    @property
    def table(self) -> str | None:
        """The first table the statement names, if any."""
        return self.tables[0] if self.tables else None


def _skip_with(cur: Cursor) -> None:
    """Skip a leading ``WITH name AS (...), ...`` clause."""
    if not cur.accept("WITH"):
        return
    cur.accept("RECURSIVE")
    depth = 0
    while not cur.at_end():
        token = cur.peek()
        assert token is not None
        if token.kind == "punct" and token.text == "(":
            depth += 1
        elif token.kind == "punct" and token.text == ")":
            depth -= 1
        elif depth == 0 and token.upper in ("UPDATE", "DELETE", "INSERT", "SELECT"):
            return
        cur.i += 1


def classify(sql: str) -> Statement:
    """Recognise one statement (see :func:`split_statements` for scripts)."""
    tokens = tokenize(sql)
    cur = Cursor(tokens, sql)
    text = sql.strip()
    _skip_with(cur)
    first = cur.word()
    if first == "CREATE":
        return _create(cur, text)
    if first == "DROP":
        return _drop(cur, text)
    if first == "ALTER" and cur.word(1) == "TABLE":
        cur.i += 2
        return _alter_table(cur, text)
    if first == "ALTER" and cur.word(1) == "TYPE":
        cur.i += 2
        return _alter_type(cur, text)
    if first in ("UPDATE", "DELETE", "INSERT", "SELECT"):
        return _dml(cur, text, first)
    if first == "TRUNCATE":
        cur.i += 1
        cur.accept("TABLE")
        cur.accept("ONLY")
        return Statement("truncate", text, tables=_name_list(cur))
    if first == "COMMENT":
        cur.accept("COMMENT", "ON")
        cur.accept("COLUMN")
        kind_ok = cur.accept("TABLE")
        name = cur.name()
        table = name if kind_ok else (name.rsplit(".", 1)[0] if name and "." in name else None)
        return Statement("comment", text, tables=(table,) if table else ())
    if first == "SET":
        return Statement("set", text)
    if first == "LOCK":
        return _lock(cur, text)
    if first in ("REINDEX", "VACUUM", "CLUSTER", "REFRESH"):
        return _maintenance(cur, text, first)
    return Statement("other", text)


def _name_list(cur: Cursor) -> tuple[str, ...]:
    names: list[str] = []
    while not cur.at_end():
        name = cur.name()
        if name is None:
            break
        names.append(name)
        token = cur.peek()
        if token is None or token.text != ",":
            break
        cur.i += 1
    return tuple(names)


def _create(cur: Cursor, text: str) -> Statement:
    cur.i += 1
    cur.accept("OR", "REPLACE")
    cur.accept("UNIQUE")
    if cur.accept("INDEX"):
        concurrently = cur.accept("CONCURRENTLY")
        cur.accept("IF", "NOT", "EXISTS")
        index = None
        if cur.word() != "ON":
            index = cur.name()
        table = None
        if cur.accept("ON"):
            cur.accept("ONLY")
            table = cur.name()
        return Statement(
            "create_index",
            text,
            tables=(table,) if table else (),
            index=index,
            concurrently=concurrently,
        )
    while cur.word() in ("GLOBAL", "LOCAL", "TEMPORARY", "TEMP", "UNLOGGED"):
        cur.i += 1
    if cur.accept("TABLE"):
        cur.accept("IF", "NOT", "EXISTS")
        table = cur.name()
        refs = references(cur.tokens[cur.i :])
        return Statement("create_table", text, tables=(table,) if table else (), references=refs)
    return Statement("other", text)


def _drop(cur: Cursor, text: str) -> Statement:
    cur.i += 1
    if cur.accept("INDEX"):
        concurrently = cur.accept("CONCURRENTLY")
        cur.accept("IF", "EXISTS")
        index = cur.name()
        table = None
        if cur.accept("ON"):  # MySQL: DROP INDEX ix ON t
            table = cur.name()
        return Statement(
            "drop_index",
            text,
            tables=(table,) if table else (),
            index=index,
            concurrently=concurrently,
        )
    cur.accept("TEMPORARY")
    if cur.accept("TABLE"):
        cur.accept("IF", "EXISTS")
        return Statement("drop_table", text, tables=_name_list(cur))
    return Statement("other", text)


def _alter_type(cur: Cursor, text: str) -> Statement:
    type_name = cur.name()
    if cur.accept("ADD", "VALUE"):
        cur.accept("IF", "NOT", "EXISTS")
        token = cur.peek()
        value = None
        if token is not None and token.kind == "string":
            value = token.text[token.text.index("'") + 1 : -1].replace("''", "'")
        return Statement("add_enum_value", text, value=value, type_name=type_name)
    return Statement("other", text, type_name=type_name)


_DML_KINDS: dict[str, StatementKind] = {
    "UPDATE": "update",
    "DELETE": "delete",
    "INSERT": "insert",
    "SELECT": "select",
}


def _dml(cur: Cursor, text: str, verb: str) -> Statement:
    cur.i += 1
    table = None
    if verb == "UPDATE":
        cur.accept("ONLY")
        table = cur.name()
    elif verb == "DELETE":
        cur.accept("FROM")
        cur.accept("ONLY")
        table = cur.name()
    elif verb == "INSERT":
        cur.accept("IGNORE")
        cur.accept("INTO")
        table = cur.name()
    rest = top_level_words(cur.tokens[cur.i :])
    kind = _DML_KINDS[verb]
    return Statement(kind, text, tables=(table,) if table else (), has_where="WHERE" in rest)


def _lock(cur: Cursor, text: str) -> Statement:
    cur.i += 1
    cur.accept("TABLE")
    cur.accept("ONLY")
    tables = _name_list(cur)
    mode = "ACCESS EXCLUSIVE"
    if cur.accept("IN"):
        words: list[str] = []
        while not cur.at_end() and cur.word() not in ("MODE", "NOWAIT", ""):
            words.append(cur.word())
            cur.i += 1
        mode = " ".join(words) or mode
    return Statement("lock", text, tables=tables, lock_mode=mode)


def _maintenance(cur: Cursor, text: str, verb: str) -> Statement:
    cur.i += 1
    if verb == "REINDEX":
        target = cur.word()
        if target in ("INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"):
            cur.i += 1
        concurrently = cur.accept("CONCURRENTLY")
        name = cur.name()
        if target == "INDEX":
            return Statement("reindex", text, index=name, concurrently=concurrently)
        return Statement(
            "reindex", text, tables=(name,) if name else (), concurrently=concurrently
        )
    if verb == "VACUUM":
        words = top_level_words(cur.tokens[cur.i :])
        full = "FULL" in words
        while cur.word() in ("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
            cur.i += 1
        return Statement("vacuum", text, tables=_name_list(cur), full=full)
    if verb == "CLUSTER":
        cur.accept("VERBOSE")
        name = cur.name()
        return Statement("cluster", text, tables=(name,) if name else ())
    cur.accept("MATERIALIZED", "VIEW")
    concurrently = cur.accept("CONCURRENTLY")
    name = cur.name()
    return Statement("refresh", text, tables=(name,) if name else (), concurrently=concurrently)


def _alter_table(cur: Cursor, text: str) -> Statement:
    cur.accept("IF", "EXISTS")
    cur.accept("ONLY")
    table = cur.name()
    token = cur.peek()
    if token is not None and token.text == "*":
        cur.i += 1
    actions = alter_actions(cur.tokens[cur.i :], cur.sql)
    refs = tuple(a.references for a in actions if a.references)
    return Statement(
        "alter_table", text, tables=(table,) if table else (), actions=actions, references=refs
    )
