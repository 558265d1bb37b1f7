"""Normalising SQL fragments so that equal ones compare equal.

Databases give back what they were told in their own spelling: PostgreSQL adds casts
and parentheses (``'0'::numeric``, ``((name)::text || 'x'::text)``), MariaDB adds
backquotes and drops spaces, everyone disagrees on ``now()`` and
``CURRENT_TIMESTAMP``. These functions reduce a fragment to a canonical form; two
fragments match when their forms are equal. The forms are for comparing, never for
running.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

__all__ = ("normalize_default", "normalize_sql")

_TOKEN = re.compile(
    r"""
    (?P<string>'(?:[^']|'')*')          # a string literal, '' escapes a quote
  | (?P<dquoted>"(?:[^"]|"")*")          # a quoted identifier
  | (?P<bquoted>`[^`]*`)                 # a MySQL quoted identifier
  | (?P<cast>::\s*[A-Za-z_][\w.]*                         # a PostgreSQL cast
        (?:\s+(?:varying|precision|without\s+time\s+zone|with\s+time\s+zone))?
        (?:\s*\[\])*)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_TIME_FUNCTIONS = re.compile(
    r"\b(?:now\(\)|current_timestamp(?:\(\))?|localtimestamp(?:\(\))?|transaction_timestamp\(\))"
)
# MariaDB gives functions back under other names.
_FUNCTIONS = {
    "octet_length(": "length(",
    "lcase(": "lower(",
    "ucase(": "upper(",
    "substring(": "substr(",
    "character_length(": "char_length(",
    "curdate(": "current_date(",
}
_SYNONYMS = re.compile(
    r"(?<![\w.])(octet_length\(|lcase\(|ucase\(|substring\(|character_length\(|curdate\()"
)
_DATE_FUNCTIONS = re.compile(r"\bcurrent_date(?:\(\))?")
_PAREN_ATOM = re.compile(r"(?<![\w\]])\((\w+|'(?:[^']|'')*')\)")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$", re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def normalize_sql(sql: str) -> str:
    """A canonical form of an SQL expression (checks, index expressions, computed).

    Lower-cases everything outside string literals, drops identifier quotes,
    PostgreSQL casts, whitespace, parentheses around single atoms and around the
    whole expression.
    """
    out: list[str] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        value = match.group()
        if kind == "string":
            out.append(value)
        elif kind == "dquoted":
            out.append(value[1:-1].replace('""', '"'))
        elif kind == "bquoted":
            out.append(value[1:-1])
        elif kind in ("cast", "space"):
            continue
        else:
            out.append(value.lower())
    result = _SYNONYMS.sub(lambda m: _FUNCTIONS[m.group(1)], "".join(out))
    previous = None
    while previous != result:
        previous = result
        result = _PAREN_ATOM.sub(r"\1", result)
        result = _strip_outer(result)
    return result


def _strip_outer(sql: str) -> str:
    while sql.startswith("(") and sql.endswith(")") and _closes_at_end(sql):
        sql = sql[1:-1]
    return sql


def _closes_at_end(sql: str) -> bool:
    """Whether the ``(`` at position 0 is closed by the last character."""
    depth = 0
    quote = False
    for i, ch in enumerate(sql):
        if ch == "'":
            quote = not quote
        elif quote:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(sql) - 1
    return False


@functools.lru_cache(maxsize=8192)
def normalize_default(sql: str | None) -> str | None:
    """A canonical form of a server default, or ``None`` for no default.

    On top of :func:`normalize_sql`: ``NULL`` is no default; numbers compare by value
    whether quoted or not (``'0'``, ``0``, ``0.00``); ``true``/``false`` are ``1``/``0``;
    ``now()``, ``CURRENT_TIMESTAMP`` and friends are one function.
    """
    if sql is None:
        return None
    form = normalize_sql(sql)
    if form in ("", "null"):
        return None
    form = _TIME_FUNCTIONS.sub("current_timestamp", form)
    form = _DATE_FUNCTIONS.sub("current_date", form)
    if form == "true":
        return "1"
    if form == "false":
        return "0"
    bare = form[1:-1] if len(form) >= 2 and form[0] == form[-1] == "'" else form
    if _NUMBER.match(bare):
        try:
            return str(Decimal(bare).normalize())
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            return form
    return form
