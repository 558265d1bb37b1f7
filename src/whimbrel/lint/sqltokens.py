"""SQL as tokens: strings, quoted names, comments and dollar quotes kept whole.

The tokeniser behind :mod:`whimbrel.lint.sqltext`, with the small cursor its
classifiers walk the tokens with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = (
    "Cursor",
    "Token",
    "references",
    "split_statements",
    "split_top",
    "text_of",
    "tokenize",
    "top_level_words",
)

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


class Cursor:
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


def split_top(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
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


def top_level_words(tokens: list[Token]) -> list[str]:
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


def text_of(sql: str, tokens: list[Token]) -> str:
    if not tokens:
        return ""
    last = tokens[-1]
    return sql[tokens[0].start : last.start + len(last.text)]


def references(tokens: list[Token]) -> tuple[str, ...]:
    found: list[str] = []
    for k, token in enumerate(tokens):
        if token.upper == "REFERENCES":
            sub = Cursor(tokens[k + 1 :], "")
            name = sub.name()
            if name is not None and name not in found:
                found.append(name)
    return tuple(found)
