"""SQL expressions read into small trees, every synonym spelled one way.

A Pratt parser with PostgreSQL's precedence, for the fragments databases print back
(index expressions, partial-index conditions). It reads what SQLAlchemy compiles and
what PostgreSQL, SQLite and MySQL return, and folds their spellings together:
``CAST(x AS T)`` and ``x::T`` are one :class:`Cast` with a canonical type name
(``VARCHAR`` is ``character varying``), ``IN`` is ``= ANY (ARRAY[...])``, ``BETWEEN``
is two comparisons, ``LIKE`` is ``~~``, ``TRIM(x)`` is ``btrim(x)``, ``AND`` chains are
flat, parentheses and table qualifiers disappear, and casts of literals are dropped
(``''::text`` is ``''``). Anything else it does not understand makes
:func:`parse_expression` return ``None``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

from whimbrel.autogenerate.compare.sql_lex import END, Token, Unparsed, tokens

__all__ = ("Apply", "Cast", "Literal", "Name", "Node", "canonical_type", "parse_expression")


@dataclass(frozen=True, slots=True)
class Name:
    """A column, or a keyword that stands alone (``CURRENT_DATE``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: ``kind`` is ``str``, ``num``, ``bool`` or ``null``."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Cast:
    """A cast of ``operand`` to ``type`` (its canonical name, see :func:`canonical_type`)."""

    operand: Node
    type: str


@dataclass(frozen=True, slots=True)
class Apply:
    """A function (``lower()``), an operator (``+``) or another SQL form (``case``)."""

    head: str
    args: tuple[Node, ...]


Node: TypeAlias = Name | Literal | Cast | Apply


# -- types ----------------------------------------------------------------------------

_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int2": "smallint",
    "int8": "bigint",
    "float8": "double precision",
    "float4": "real",
    "decimal": "numeric",
    "bool": "boolean",
    "varchar": "character varying",
    "char varying": "character varying",
    "char": "character",
    "varbit": "bit varying",
    "timestamptz": "timestamp with time zone",
    "timetz": "time with time zone",
}
_NUMERIC_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")


def canonical_type(sql: str) -> str | None:
    """One spelling of a type name (``VARCHAR(10)`` is ``character varying(10)``).

    ``None`` when ``sql`` is not a type name this module understands.
    """
    try:
        parser = _Parser(tokens(sql))
        name = parser.type_name()
        parser.expect_end()
    except Unparsed:
        return None
    return name


def _type_name(base: str, mods: list[str], zone: bool | None, dims: int) -> str:
    base = _TYPE_ALIASES.get(base, base)
    if base in ("timestamp", "time"):
        base = f"{base} {'with' if zone else 'without'} time zone"
    elif base == "float":
        wide = not mods or not mods[0].isdigit() or int(mods[0]) > 24
        base, mods = ("double precision" if wide else "real"), []
    elif base in ("character", "bit") and not mods:
        mods = ["1"]  # CHAR is CHAR(1) (bpchar alone is unbounded)
    elif base == "bpchar" and mods:
        base = "character"
    elif base == "numeric" and len(mods) == 1:
        mods = [*mods, "0"]
    suffix = f"({','.join(mods)})" if mods else ""
    return base + suffix + "[]" * dims


# -- parsing --------------------------------------------------------------------------

# Binding powers, PostgreSQL's precedence from loosest to tightest.
_OR, _AND, _NOT, _IS, _COMPARE, _LIKE, _OTHER, _ADD, _MUL, _POW, _AT, _COLLATE = range(1, 13)
_UNARY, _SUBSCRIPT, _CAST = 13, 14, 15
_BINARY = {
    "<": _COMPARE,
    ">": _COMPARE,
    "=": _COMPARE,
    "<=": _COMPARE,
    ">=": _COMPARE,
    "<>": _COMPARE,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "%": _MUL,
    "^": _POW,
}
_TRIMS = {"both": "btrim()", "leading": "ltrim()", "trailing": "rtrim()"}
_FUNCTION_NAMES = {"trim": "btrim"}


@functools.lru_cache(maxsize=4096)
def parse_expression(sql: str, *, element: bool = False) -> Node | None:
    """The tree of an SQL expression, or ``None`` when this parser cannot read it.

    ``element``: an index element, which may end in an ordering (``DESC NULLS LAST``).
    """
    try:
        parser = _Parser(tokens(sql))
        node = parser.expression()
        if element:
            node = parser.ordering(node)
        parser.expect_end()
    except (Unparsed, RecursionError):
        return None
    return node


class _Parser:
    """A Pratt parser over the tokens of one expression."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    # -- tokens ---------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else END

    def take(self) -> Token:
        tok = self.peek()
        if tok is END:
            raise Unparsed("unexpected end")
        self.pos += 1
        return tok

    def at(self, *words: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "ident" and tok.value in words

    def at_punct(self, value: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "punct" and tok.value == value

    def accept(self, *words: str) -> str | None:
        if self.at(*words):
            return self.take().value
        return None

    def expect(self, *words: str) -> None:
        for word in words:
            if not self.accept(word):
                raise Unparsed(f"expected {word}")

    def expect_punct(self, value: str) -> None:
        if not self.at_punct(value):
            raise Unparsed(f"expected {value}")
        self.pos += 1

    def expect_end(self) -> None:
        if self.peek() is not END:
            raise Unparsed(f"unexpected {self.peek().value}")

    # -- expressions ----------------------------------------------------------------

    def expression(self, min_bp: int = 0) -> Node:
        left = self.prefix()
        while True:
            step = self.infix(left, min_bp)
            if step is None:
                return left
            left = step

    def items(self, close: str) -> tuple[Node, ...]:
        """Comma-separated expressions up to ``close`` (consumed)."""
        out: list[Node] = []
        if not self.at_punct(close):
            out.append(self.expression())
            while self.at_punct(","):
                self.take()
                out.append(self.expression())
        self.expect_punct(close)
        return tuple(out)

    def prefix(self) -> Node:
        tok = self.take()
        if tok.kind in ("str", "estr"):
            return Literal("str", tok.value)
        if tok.kind == "num":
            return Literal("num", tok.value)
        if tok.kind == "punct" and tok.value == "(":
            inner = self.items(")")
            if len(inner) == 1:
                return inner[0]
            return Apply("row()", inner)
        if tok.kind == "op":
            if tok.value in ("-", "+"):
                operand = self.expression(_UNARY)
                if isinstance(operand, Literal) and operand.kind == "num":
                    return operand if tok.value == "+" else Literal("num", _negate(operand.value))
                return Apply(f"prefix {tok.value}", (operand,))
            return Apply(f"prefix {tok.value}", (self.expression(_OTHER),))
        if tok.kind == "ident":
            return self.word(tok.value)
        if tok.kind == "qident":
            return self.name(tok.value)
        raise Unparsed(tok.value)

    def word(self, word: str) -> Node:
        if word == "null":
            return Literal("null", "null")
        if word in ("true", "false"):
            return Literal("bool", word)
        if word == "not":
            return Apply("not", (self.expression(_NOT),))
        if word == "case":
            return self.case()
        if word == "select":
            raise Unparsed("subquery")
        if word == "array" and self.at_punct("["):
            self.take()
            return Apply("array[]", self.items("]"))
        if self.at_punct("("):
            special = {
                "cast": self.cast,
                "extract": self.extract,
                "trim": self.trim,
                "substring": self.substring,
                "position": self.position,
            }.get(word)
            if special is not None:
                self.take()
                return special()
        return self.name(word)

    def name(self, first: str) -> Node:
        parts = [first]
        while self.at_punct(".") and self.peek(1).kind in ("ident", "qident"):
            self.take()
            parts.append(self.take().value)
        if self.at_punct("("):
            self.take()
            return self.call(parts)
        if len(parts) == 1 and self.peek().kind in ("str", "estr"):
            # A typed literal: DATE '2020-01-01', TIMESTAMP '...'.
            return Literal("str", self.take().value)
        return Name(parts[-1])  # a column, table-qualified or not

    def call(self, parts: list[str]) -> Node:
        if self.at("distinct", "all") or self.peek() == Token("op", "*"):
            raise Unparsed("aggregate")
        args = self.items(")")
        if self.at("filter", "over", "within"):
            raise Unparsed("aggregate")
        # The schema is left out: PostgreSQL names it only when it is not on the path.
        name = parts[-1]
        return Apply(_FUNCTION_NAMES.get(name, name) + "()", args)

    def case(self) -> Node:
        operand = None if self.at("when") else self.expression()
        args: list[Node] = [] if operand is None else [operand]
        while self.accept("when"):
            args.append(self.expression())
            self.expect("then")
            args.append(self.expression())
        other = self.expression() if self.accept("else") else None
        self.expect("end")
        if other == Literal("null", "null"):
            other = None  # no ELSE is ELSE NULL
        if other is not None:
            args.append(other)
        head = (
            "case"
            + (" on" if operand is not None else "")
            + (" else" if other is not None else "")
        )
        return Apply(head, tuple(args))

    def cast(self) -> Node:
        operand = self.expression()
        self.expect("as")
        type_ = self.type_name()
        self.expect_punct(")")
        return _cast(operand, type_)

    def extract(self) -> Node:
        field = self.take()
        if field.kind not in ("ident", "qident", "str"):
            raise Unparsed("extract")
        self.expect("from")
        source = self.expression()
        self.expect_punct(")")
        return Apply("extract()", (Literal("str", field.value.lower()), source))

    def trim(self) -> Node:
        how = self.accept("both", "leading", "trailing") or "both"
        if self.accept("from"):
            return Apply(_TRIMS[how], self.items(")"))
        first = self.expression()
        if self.accept("from"):
            return Apply(_TRIMS[how], (*self.items(")"), first))
        rest: tuple[Node, ...] = ()
        if self.at_punct(","):
            self.take()
            rest = self.items(")")
        else:
            self.expect_punct(")")
        return Apply(_TRIMS[how], (first, *rest))

    def substring(self) -> Node:
        source = self.expression()
        if self.at_punct(","):
            self.take()
            return Apply("substring()", (source, *self.items(")")))
        args: list[Node] = [source]
        if self.accept("from"):
            args.append(self.expression())
        if self.accept("for"):
            if len(args) == 1:
                args.append(Literal("num", "1"))
            args.append(self.expression())
        self.expect_punct(")")
        return Apply("substring()", tuple(args))

    def position(self) -> Node:
        needle = self.expression(_LIKE)
        self.expect("in")
        haystack = self.expression()
        self.expect_punct(")")
        return Apply("position()", (haystack, needle))

    def infix(self, left: Node, min_bp: int) -> Node | None:
        tok = self.peek()
        if tok.kind == "cast":
            if _CAST <= min_bp:
                return None
            self.take()
            return _cast(left, self.type_name())
        if tok.kind == "punct" and tok.value == "[" and _SUBSCRIPT > min_bp:
            self.take()
            index = self.expression()
            if self.at_punct(":"):
                self.take()
                index = Apply("slice", (index, self.expression()))
            self.expect_punct("]")
            return Apply("[]", (left, index))
        if tok.kind == "op":
            op = "<>" if tok.value == "!=" else tok.value
            bp = _BINARY.get(op, _OTHER)
            if bp <= min_bp:
                return None
            self.take()
            if bp == _COMPARE and self.at("any", "some", "all") and self.at_punct("(", ahead=1):
                quantifier = "all" if self.take().value == "all" else "any"
                self.take()
                inner = self.items(")")
                if len(inner) != 1:
                    raise Unparsed("quantifier")
                return Apply(f"{op} {quantifier}", (left, inner[0]))
            return Apply(op, (left, self.expression(bp)))
        if tok.kind != "ident":
            return None
        word = tok.value
        if word in ("and", "or"):
            bp = _AND if word == "and" else _OR
            if bp <= min_bp:
                return None
            self.take()
            return _flat(word, left, self.expression(bp))
        if word in ("is", "isnull", "notnull"):
            if _IS <= min_bp:
                return None
            return self.is_(left)
        if word == "not" and self.at("in", "like", "ilike", "between", ahead=1):
            if _LIKE <= min_bp:
                return None
            self.take()
            return self.predicate(left, negated=True)
        if word in ("in", "like", "ilike", "between"):
            if _LIKE <= min_bp:
                return None
            return self.predicate(left, negated=False)
        if word == "collate" and _COLLATE > min_bp:
            self.take()
            collation = self.take()
            while self.at_punct("."):
                self.take()
                collation = self.take()
            if collation.kind not in ("ident", "qident"):
                raise Unparsed("collate")
            return Apply(f"collate {collation.value}", (left,))
        if word == "at" and self.at("time", ahead=1) and _AT > min_bp:
            self.take()
            self.expect("time", "zone")
            return Apply("at time zone", (left, self.expression(_AT)))
        return None

    def is_(self, left: Node) -> Node:
        word = self.take().value
        if word != "is":
            return Apply("is null" if word == "isnull" else "is not null", (left,))
        negated = " not" if self.accept("not") else ""
        what = self.accept("null", "true", "false", "unknown", "distinct")
        if what is None:
            raise Unparsed("is")
        if what == "distinct":
            self.expect("from")
            node = Apply("is distinct from", (left, self.expression(_IS)))
            return Apply("not", (node,)) if negated else node  # as PostgreSQL stores it
        return Apply(f"is{negated} {what}", (left,))

    def predicate(self, left: Node, *, negated: bool) -> Node:
        word = self.take().value
        if word == "in":
            self.expect_punct("(")
            if self.at("select"):
                raise Unparsed("subquery")
            return _in(left, self.items(")"), negated=negated)
        if word == "between":
            if self.at("symmetric", "asymmetric"):
                raise Unparsed("between")
            low = self.expression(_LIKE)
            self.expect("and")
            high = self.expression(_LIKE)
            if negated:
                return Apply("or", (Apply("<", (left, low)), Apply(">", (left, high))))
            return Apply("and", (Apply(">=", (left, low)), Apply("<=", (left, high))))
        pattern = self.expression(_LIKE)
        if self.at("escape"):
            raise Unparsed("escape")
        op = ("!" if negated else "") + ("~~*" if word == "ilike" else "~~")
        return Apply(op, (left, pattern))

    def ordering(self, node: Node) -> Node:
        descending = self.accept("asc", "desc") == "desc"
        nulls = None
        if self.accept("nulls"):
            nulls = self.accept("first", "last")
            if nulls is None:
                raise Unparsed("nulls")
        elif found := self.accept("nulls_first", "nulls_last"):
            nulls = found[len("nulls_") :]
        # PostgreSQL's defaults: NULLS LAST ascending, NULLS FIRST descending.
        if nulls == ("first" if descending else "last"):
            nulls = None
        head = "sort " + ("desc" if descending else "asc") + (f" nulls {nulls}" if nulls else "")
        return node if head == "sort asc" else Apply(head, (node,))

    # -- types ----------------------------------------------------------------------

    def type_name(self) -> str:
        tok = self.take()
        if tok.kind not in ("ident", "qident"):
            raise Unparsed("type")
        while self.at_punct(".") and self.peek(1).kind in ("ident", "qident"):
            self.take()  # the schema of a type is not compared
            tok = self.take()
        if tok.kind == "qident":
            # Quoted, CHAR is another type ("char", one byte); other names are exact.
            base = '"char"' if tok.value == "char" else tok.value
        else:
            base = tok.value
            if base == "double" and self.accept("precision"):
                base = "double precision"
            elif base in ("character", "char", "bit") and self.accept("varying"):
                base = "bit varying" if base == "bit" else "character varying"
        mods: list[str] = []
        if self.at_punct("("):
            self.take()
            while not self.at_punct(")"):
                mod = self.take()
                if mod.kind not in ("num", "ident"):
                    raise Unparsed("type modifier")
                mods.append(mod.value)
                if self.at_punct(","):
                    self.take()
            self.take()
        zone = None
        if base in ("timestamp", "time") and self.at("with", "without"):
            zone = self.take().value == "with"
            self.expect("time", "zone")
        dims = 0
        while self.at_punct("["):
            self.take()
            if self.peek().kind == "num":
                self.take()
            self.expect_punct("]")
            dims += 1
        return _type_name(base, mods, zone, dims)


def _cast(operand: Node, type_: str) -> Node:
    if isinstance(operand, Literal):
        # A literal's cast is the database's business: ''::text, '-1'::integer.
        if operand.kind == "str" and type_.startswith(_NUMERIC_TYPES):
            number = operand.value.strip().lower()
            if _is_number(number):
                return Literal("num", number)
        return operand
    if isinstance(operand, Cast) and operand.type == type_:
        return operand
    return Cast(operand, type_)


def _flat(head: str, left: Node, right: Node) -> Node:
    """``a AND b AND c`` as one node, however it is parenthesised."""
    args: list[Node] = []
    for side in (left, right):
        if isinstance(side, Apply) and side.head == head:
            args.extend(side.args)
        else:
            args.append(side)
    return Apply(head, tuple(args))


def _in(left: Node, items: tuple[Node, ...], *, negated: bool) -> Node:
    """``IN`` as PostgreSQL stores it.

    ``= ANY (ARRAY[...])`` of the constants, ``=`` for each item naming a column, and
    one ``=`` alone for a single constant.
    """
    if not items:
        raise Unparsed("IN ()")
    op, quantified, joiner = ("<>", "<> all", "and") if negated else ("=", "= any", "or")
    constants = [i for i in items if not _has_name(i)]
    parts: list[Node] = []
    rest = list(items)
    if len(constants) > 1:
        parts.append(Apply(quantified, (left, Apply("array[]", tuple(constants)))))
        rest = [i for i in items if _has_name(i)]
    parts.extend(Apply(op, (left, item)) for item in rest)
    node = parts[0]
    for part in parts[1:]:
        node = _flat(joiner, node, part)
    return node


def _has_name(node: Node) -> bool:
    if isinstance(node, Name):
        return True
    if isinstance(node, Cast):
        return _has_name(node.operand)
    if isinstance(node, Apply):
        return any(_has_name(a) for a in node.args)
    return False


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return text not in ("nan", "inf", "-inf", "infinity", "-infinity", "snan")


def _negate(value: str) -> str:
    return value[1:] if value.startswith("-") else f"-{value}"
