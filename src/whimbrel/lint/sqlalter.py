"""The clauses of an ``ALTER TABLE``, in PostgreSQL's and MySQL's spelling."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from whimbrel.lint.sqltokens import (
    Cursor,
    Token,
    references,
    split_top,
    text_of,
    top_level_words,
)

__all__ = ("Action", "ActionKind", "ConstraintKind", "alter_actions")

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


def alter_actions(tokens: list[Token], sql: str) -> tuple[Action, ...]:
    """The clauses of an ``ALTER TABLE``, from the tokens after the table's name."""
    return tuple(_action(part, sql) for part in split_top(tokens))


def _action(tokens: list[Token], sql: str) -> Action:
    cur = Cursor(tokens, sql)
    text = text_of(sql, tokens)
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
        definition = text_of(sql, cur.tokens[cur.i :])
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


def _add(cur: Cursor, text: str) -> Action:
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
        words = top_level_words(rest)
        kind = kinds.get(word, "check")
        refs = references(rest)
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
    words = top_level_words(rest)
    default = _default_expr(rest, cur.sql)
    refs = references(rest)
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
        type_text=text_of(cur.sql, rest),
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
            return text_of(sql, tokens[start:k]) or None
    if start is None:
        return None
    return text_of(sql, tokens[start:]) or None


def _alter_column(cur: Cursor, text: str, column: str | None) -> Action:
    if cur.accept("TYPE") or cur.accept("SET", "DATA", "TYPE"):
        return Action(
            "alter_type", text, column=column, type_text=text_of(cur.sql, cur.tokens[cur.i :])
        )
    if cur.accept("SET", "NOT", "NULL"):
        return Action("set_not_null", text, column=column)
    if cur.accept("DROP", "NOT", "NULL"):
        return Action("drop_not_null", text, column=column)
    if cur.accept("SET", "DEFAULT"):
        return Action(
            "set_default", text, column=column, default=text_of(cur.sql, cur.tokens[cur.i :])
        )
    if cur.accept("DROP", "DEFAULT"):
        return Action("drop_default", text, column=column)
    if cur.accept("SET", "STATISTICS"):
        return Action("light", text, column=column)
    return Action("other", text, column=column)
