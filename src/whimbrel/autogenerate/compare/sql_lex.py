"""SQL text into tokens, as PostgreSQL lexes it (for :mod:`.sql_tree`).

Identifiers and numbers come lower-cased, quoted identifiers (``"x"`` and MySQL's
backquotes) exact, string literals unescaped (``'it''s'``, ``E'...'`` escapes).
Operators follow PostgreSQL's rule: a run of operator characters is one operator,
except that a longer one cannot end in ``+`` or ``-`` unless it holds one of
``~!@#%^&|?`` (so ``*-1`` is ``*`` and ``-1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ("END", "Token", "Unparsed", "tokens")


_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<estr>[Ee]'(?:[^'\\]|\\.|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")*"|`[^`]*`)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[^\W\d][\w$]*)
  | (?P<cast>::)
  | (?P<punct>[()\[\],.:;])
  | (?P<op>[-+*/<>=~!@\#%^&|?]+)
    """,
    re.VERBOSE | re.DOTALL,
)
_OP_SPECIAL = set("~!@#%^&|?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


@dataclass(frozen=True, slots=True)
class Token:
    """``kind``: ``str``, ``estr``, ``qident``, ``num``, ``ident``, ``cast``, ``punct``, ``op``."""

    kind: str
    value: str


END = Token("end", "")


class Unparsed(Exception):
    """SQL that cannot be read; the caller falls back to flat text."""


def tokens(sql: str) -> list[Token]:
    """The tokens of ``sql``, without spaces and comments."""
    out: list[Token] = []
    pos = 0
    while pos < len(sql):
        match = _TOKEN.match(sql, pos)
        if match is None:
            raise Unparsed(sql[pos:])
        kind = match.lastgroup or ""
        value = match.group()
        pos = match.end()
        if kind == "space":
            continue
        if kind == "op":
            value = _operator(value)
            pos = match.start() + len(value)
        out.append(Token(kind, _token_value(kind, value)))
    return out


def _operator(run: str) -> str:
    """The operator at the start of a run of operator characters (as PostgreSQL lexes)."""
    for comment in ("--", "/*"):
        if comment in run:
            run = run[: run.index(comment)]
    # A longer operator cannot end in + or - unless it has one of ~!@#%^&|?.
    while len(run) > 1 and run[-1] in "+-" and not _OP_SPECIAL.intersection(run):
        run = run[:-1]
    if not run:
        raise Unparsed("comment")
    return run


def _token_value(kind: str, value: str) -> str:
    if kind == "str":
        return value[1:-1].replace("''", "'")
    if kind == "estr":
        body = value[2:-1].replace("''", "'")
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), body)
    if kind == "qident":
        return value[1:-1].replace('""', '"')
    if kind in ("ident", "num"):
        return value.lower()
    return value
