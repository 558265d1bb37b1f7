"""Reading SQL text well enough to judge its locks: split, tokenise, classify.

Not a parser: it recognises the statements a migration runs (``CREATE INDEX``,
``ALTER TABLE`` and its clauses, ``UPDATE``/``DELETE``, ``ALTER TYPE ... ADD VALUE``...)
in PostgreSQL's and MySQL's spelling, and calls everything else ``other``. Strings,
quoted identifiers, comments and dollar quotes are skipped over, so a ``;`` or a
keyword inside them changes nothing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ("Action", "Statement", "Token", "classify", "split_statements", "tokenize")

TokenKind = Literal["word", "quoted", "string", "number", "punct"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier it spells: unquoted words fold to lower case."""
        if self.kind == "quoted":
            return self.text[1:-1]
        return self.text.lower()


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/\*.*?(?:\*/|\Z))
  | (?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?(?:\$(?P=tag)\$|\Z))
  | (?P<string>[EeBbXxNn]?'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z)|`(?:[^`]|``)*(?:`|\Z))
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_\x80-\uffff][\w$\x80-\uffff]*)
  | (?P<punct>::|<=|>=|<>|!=|\|\||.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql``, without whitespace and comments."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind in ("space", "line_comment", "block_comment"):
            continue
        if kind == "tag":  # pragma: no cover - the group only ever nests in "dollar"
            continue
        text = match.group(0)
        token_kind: TokenKind
        if kind in ("string", "dollar"):
            token_kind = "string"
        elif kind == "quoted":
            token_kind = "quoted"
        elif kind == "number":
            token_kind = "number"
        elif kind == "word":
            token_kind = "word"
        else:
            token_kind = "punct"
        tokens.append(Token(token_kind, text, match.start()))
    return tokens


def split_statements(sql: str) -> list[str]:
    """The statements of a script, split at top-level semicolons, each stripped."""
    out: list[str] = []
    start = 0
    for token in tokenize(sql):
        if token.kind == "punct" and token.text == ";":
            piece = sql[start : token.start].strip()
            if piece:
                out.append(piece)
            start = token.start + 1
    rest = sql[start:].strip()
    if rest:
        out.append(rest)
    return out


ActionKind = Literal[
    "add_column",
    "drop_column",
    "alter_type",
    "set_not_null",
    "drop_not_null",
    "set_default",
    "drop_default",
    "add_constraint",
    "validate_constraint",
    "drop_constraint",
    "add_index",
    "drop_index",
    "rename_column",
    "rename_table",
    "rename_other",
    "modify_column",
    "light",
    "other",
]
ConstraintKind = Literal["foreign_key", "check", "unique", "primary_key", "exclude"]


@dataclass(frozen=True, slots=True)
class Action:
    """One clause of an ``ALTER TABLE``."""

    kind: ActionKind
    text: str
    column: str | None = None
    new_name: str | None = None
    constraint: str | None = None
    constraint_kind: ConstraintKind | None = None
    not_valid: bool = False
    using_index: bool = False
    not_null: bool = False
    default: str | None = None
    generated: bool = False
    type_text: str | None = None
    references: str | None = None
    inline: tuple[ConstraintKind, ...] = ()


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


class _Cursor:
    """A position in a token list, with the small look-ahead the classifier needs."""

    def __init__(self, tokens: list[Token], sql: str) -> None:
        self.tokens = tokens
        self.sql = sql
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.upper if token is not None else ""

    def accept(self, *words: str) -> bool:
        """Consume ``words`` if the next tokens spell them."""
        for k, word in enumerate(words):
            if self.word(k) != word:
                return False
        self.i += len(words)
        return True

    def name(self) -> str | None:
        """A possibly qualified name (``schema.table``), folded as PostgreSQL does."""
        token = self.peek()
        if token is None or token.kind not in ("word", "quoted"):
            return None
        parts = [token.name]
        self.i += 1
        while self._is(".") and self.peek(1) is not None:
            nxt = self.peek(1)
            assert nxt is not None
            if nxt.kind not in ("word", "quoted"):
                break
            parts.append(nxt.name)
            self.i += 2
        return ".".join(parts)

    def _is(self, punct: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == punct

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)


def _split_top(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    """Split a token list at a top-level punctuation mark (outside parentheses)."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct":
            if token.text in "([":
                depth += 1
            elif token.text in ")]":
                depth -= 1
            elif token.text == separator and depth == 0:
                parts.append([])
                continue
        parts[-1].append(token)
    return [p for p in parts if p]


def _top_level_words(tokens: list[Token]) -> list[str]:
    """The upper-cased words of a token list that sit outside any parentheses."""
    words: list[str] = []
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
        elif depth == 0 and token.kind == "word":
            words.append(token.upper)
    return words


def _text(sql: str, tokens: list[Token]) -> str:
    if not tokens:
        return ""
    last = tokens[-1]
    return sql[tokens[0].start : last.start + len(last.text)]


def _skip_with(cur: _Cursor) -> None:
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
    cur = _Cursor(tokens, sql)
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


def _name_list(cur: _Cursor) -> tuple[str, ...]:
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


def _create(cur: _Cursor, text: str) -> Statement:
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
        refs = _references(cur.tokens[cur.i :])
        return Statement("create_table", text, tables=(table,) if table else (), references=refs)
    return Statement("other", text)


def _references(tokens: list[Token]) -> tuple[str, ...]:
    found: list[str] = []
    for k, token in enumerate(tokens):
        if token.upper == "REFERENCES":
            sub = _Cursor(tokens[k + 1 :], "")
            name = sub.name()
            if name is not None and name not in found:
                found.append(name)
    return tuple(found)


def _drop(cur: _Cursor, text: str) -> Statement:
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


def _alter_type(cur: _Cursor, text: str) -> Statement:
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


def _dml(cur: _Cursor, text: str, verb: str) -> Statement:
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
    rest = _top_level_words(cur.tokens[cur.i :])
    kind = _DML_KINDS[verb]
    return Statement(kind, text, tables=(table,) if table else (), has_where="WHERE" in rest)


def _lock(cur: _Cursor, text: str) -> Statement:
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


def _maintenance(cur: _Cursor, text: str, verb: str) -> Statement:
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
        words = _top_level_words(cur.tokens[cur.i :])
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


# ------------------------------------------------------------------------ ALTER TABLE

_COLUMN_CONSTRAINT_WORDS = frozenset(
    {
        "NOT",
        "NULL",
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "CHECK",
        "REFERENCES",
        "GENERATED",
        "COLLATE",
        "COMMENT",
        "AFTER",
        "FIRST",
        "AUTO_INCREMENT",
        "ON",
    }
)
_LIGHT = frozenset({"SET STATISTICS", "CLUSTER ON", "SET WITHOUT", "ATTACH PARTITION"})


def _alter_table(cur: _Cursor, text: str) -> Statement:
    cur.accept("IF", "EXISTS")
    cur.accept("ONLY")
    table = cur.name()
    token = cur.peek()
    if token is not None and token.text == "*":
        cur.i += 1
    actions = tuple(_action(part, cur.sql) for part in _split_top(cur.tokens[cur.i :]))
    refs = tuple(a.references for a in actions if a.references)
    return Statement(
        "alter_table", text, tables=(table,) if table else (), actions=actions, references=refs
    )


def _action(tokens: list[Token], sql: str) -> Action:
    cur = _Cursor(tokens, sql)
    text = _text(sql, tokens)
    verb = cur.word()
    if verb == "ADD":
        cur.i += 1
        return _add(cur, text)
    if verb == "DROP":
        cur.i += 1
        if cur.accept("CONSTRAINT"):
            cur.accept("IF", "EXISTS")
            return Action("drop_constraint", text, constraint=cur.name())
        if cur.word() in ("INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK"):
            kind: ActionKind = (
                "drop_index" if cur.word() in ("INDEX", "KEY") else "drop_constraint"
            )
            return Action(kind, text)
        cur.accept("COLUMN")
        cur.accept("IF", "EXISTS")
        return Action("drop_column", text, column=cur.name())
    if verb == "ALTER":
        cur.i += 1
        cur.accept("COLUMN")
        column = cur.name()
        return _alter_column(cur, text, column)
    if verb in ("MODIFY", "CHANGE"):
        cur.i += 1
        cur.accept("COLUMN")
        column = cur.name()
        new_name = cur.name() if verb == "CHANGE" else None
        definition = _text(sql, cur.tokens[cur.i :])
        if new_name is not None and new_name != column:
            return Action("rename_column", text, column=column, new_name=new_name)
        return Action("modify_column", text, column=column, type_text=definition)
    if verb == "RENAME":
        cur.i += 1
        if cur.accept("TO") or cur.accept("AS"):
            return Action("rename_table", text, new_name=cur.name())
        if cur.word() in ("CONSTRAINT", "INDEX", "KEY"):
            return Action("rename_other", text)
        cur.accept("COLUMN")
        column = cur.name()
        cur.accept("TO")
        return Action("rename_column", text, column=column, new_name=cur.name())
    if verb == "VALIDATE":
        cur.accept("VALIDATE", "CONSTRAINT")
        return Action("validate_constraint", text, constraint=cur.name())
    two = f"{cur.word()} {cur.word(1)}"
    if two in _LIGHT or verb in ("ALGORITHM", "LOCK"):
        return Action("light", text)
    return Action("other", text)


def _add(cur: _Cursor, text: str) -> Action:
    constraint = None
    if cur.accept("CONSTRAINT"):
        constraint = cur.name()
    word = cur.word()
    kinds: dict[str, ConstraintKind] = {
        "FOREIGN": "foreign_key",
        "CHECK": "check",
        "UNIQUE": "unique",
        "PRIMARY": "primary_key",
        "EXCLUDE": "exclude",
    }
    if word in kinds or constraint is not None:
        rest = cur.tokens[cur.i :]
        words = _top_level_words(rest)
        kind = kinds.get(word, "check")
        refs = _references(rest)
        using_index = "USING" in words and "INDEX" in words and kind in ("unique", "primary_key")
        return Action(
            "add_constraint",
            text,
            constraint=constraint,
            constraint_kind=kind,
            not_valid="VALID" in words and "NOT" in words,
            using_index=using_index,
            references=refs[0] if refs else None,
        )
    if word in ("INDEX", "KEY", "FULLTEXT", "SPATIAL"):
        return Action("add_index", text)
    cur.accept("COLUMN")
    cur.accept("IF", "NOT", "EXISTS")
    column = cur.name()
    rest = cur.tokens[cur.i :]
    words = _top_level_words(rest)
    default = _default_expr(rest, cur.sql)
    refs = _references(rest)
    inline: list[ConstraintKind] = []
    if "PRIMARY" in words:
        inline.append("primary_key")
    if "UNIQUE" in words:
        inline.append("unique")
    if "CHECK" in words:
        inline.append("check")
    if refs:
        inline.append("foreign_key")
    type_words = [t.upper for t in rest[:2] if t.kind == "word"]
    generated = "GENERATED" in words or any(
        w in ("SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL4", "SERIAL8", "SERIAL2")
        for w in type_words
    )
    return Action(
        "add_column",
        text,
        column=column,
        not_null=_has_pair(words, "NOT", "NULL") or "PRIMARY" in words,
        default=default,
        generated=generated,
        references=refs[0] if refs else None,
        inline=tuple(inline),
        type_text=_text(cur.sql, rest),
    )


def _has_pair(words: list[str], a: str, b: str) -> bool:
    return any(x == a and y == b for x, y in itertools.pairwise(words))


def _default_expr(tokens: list[Token], sql: str) -> str | None:
    depth = 0
    start = None
    for k, token in enumerate(tokens):
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
        elif depth == 0 and token.upper == "DEFAULT" and start is None:
            start = k + 1
        elif depth == 0 and start is not None and token.upper in _COLUMN_CONSTRAINT_WORDS:
            return _text(sql, tokens[start:k]) or None
    if start is None:
        return None
    return _text(sql, tokens[start:]) or None


def _alter_column(cur: _Cursor, text: str, column: str | None) -> Action:
    if cur.accept("TYPE") or cur.accept("SET", "DATA", "TYPE"):
        return Action(
            "alter_type", text, column=column, type_text=_text(cur.sql, cur.tokens[cur.i :])
        )
    if cur.accept("SET", "NOT", "NULL"):
        return Action("set_not_null", text, column=column)
    if cur.accept("DROP", "NOT", "NULL"):
        return Action("drop_not_null", text, column=column)
    if cur.accept("SET", "DEFAULT"):
        return Action(
            "set_default", text, column=column, default=_text(cur.sql, cur.tokens[cur.i :])
        )
    if cur.accept("DROP", "DEFAULT"):
        return Action("drop_default", text, column=column)
    if cur.accept("SET", "STATISTICS"):
        return Action("light", text, column=column)
    return Action("other", text, column=column)
