"""Index expressions and partial-index conditions, matched as trees.

A database hands back what it was told in its own spelling. PostgreSQL keeps an
index expression as a parse tree and prints it back: ``CAST(n AS TEXT)`` becomes
``n::text``, ``n IN (1, 2)`` becomes ``n = ANY (ARRAY[1, 2])``, operators get
parentheses and literals get casts (``''::text``). It also adds the casts it chose for
arguments (``lower(email::text)`` for a ``varchar`` column) and drops casts to the
type a value already has (``CAST(name AS TEXT)`` of a ``text`` column is just
``name``). Flattened text cannot tell those apart from real changes, so both sides
are read into trees (:mod:`.sql_tree`) and matched, forgiving exactly the casts the
database adds or drops. What does not parse is compared as flat normalised text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from whimbrel.autogenerate.compare.sql_tree import Apply, Cast, Name, Node, parse_expression
from whimbrel.autogenerate.sqlnorm import normalize_sql

__all__ = ("SqlForm", "column_form", "expression_form", "forms_match", "trees_match")


@dataclass(frozen=True, slots=True)
class SqlForm:
    """One side of a comparison: the tree, or ``None`` when the SQL did not parse.

    ``flat`` is the column name or :func:`normalize_sql`'s form, compared instead of
    the trees when either side did not parse.
    """

    flat: str
    tree: Node | None


def column_form(name: str) -> SqlForm:
    """A plain column of an index."""
    return SqlForm(name, Name(name))


def expression_form(
    sql: str, *, element: bool = False, column_types: Mapping[str, str] | None = None
) -> SqlForm:
    """An SQL expression ready to compare.

    Args:
        sql: the expression as the database or the dialect's compiler writes it.
        element: an index element, which may end in ``ASC``/``DESC`` and ``NULLS
            FIRST``/``NULLS LAST``.
        column_types: canonical types of the table's columns (model side only); a cast
            of a column to its own type is dropped, as PostgreSQL drops it.

    SQL that does not parse gets a form with no tree.
    """
    tree = parse_expression(sql, element=element)
    if tree is not None and column_types:
        tree = _drop_same_type_casts(tree, column_types)
    return SqlForm(normalize_sql(sql), tree)


def forms_match(reflected: SqlForm, model: SqlForm) -> bool:
    """Whether the database's form and the model's form are the same expression."""
    if reflected.tree is None or model.tree is None:
        return reflected.flat == model.flat
    return trees_match(reflected.tree, model.tree)


def trees_match(reflected: Node, model: Node) -> bool:
    """Whether two trees are the same expression, up to the casts a database changes.

    A cast only on the database's side is one PostgreSQL added to an argument of a
    function or operator (never around the whole expression, never inside another
    cast). A cast only on the model's side is one PostgreSQL dropped because the value
    had that type already: known for a column (see :func:`expression_form`), assumed
    for anything else. Casts on both sides must name the same type, so ``CAST(n AS
    TEXT)`` and ``CAST(n AS VARCHAR)`` differ.
    """
    return _match(reflected, model, _TOP)


# Where a node sits: what the database may have done to it there.
_TOP, _IN_CAST, _ARGUMENT = "top", "cast", "argument"


def _match(db: Node, model: Node, where: str) -> bool:
    if db == model:
        return True
    if isinstance(db, Cast) and isinstance(model, Cast):
        if db.type == model.type:
            return _match(db.operand, model.operand, _IN_CAST)
        # The database's cast on top of the model's: lower(n::character varying::text).
        return (
            where == _ARGUMENT
            and isinstance(db.operand, Cast)
            and _match(db.operand, model, _IN_CAST)
        )
    if isinstance(model, Cast):
        return not isinstance(model.operand, Name) and _match(db, model.operand, where)
    if isinstance(db, Cast):
        return where == _ARGUMENT and _match(db.operand, model, _ARGUMENT)
    if isinstance(db, Apply) and isinstance(model, Apply):
        if db.head != model.head or len(db.args) != len(model.args):
            return False
        inner = where if db.head.startswith("sort ") else _ARGUMENT
        return all(_match(a, b, inner) for a, b in zip(db.args, model.args, strict=True))
    return False


def _drop_same_type_casts(node: Node, types: Mapping[str, str]) -> Node:
    if isinstance(node, Cast):
        operand = _drop_same_type_casts(node.operand, types)
        if isinstance(operand, Name) and types.get(operand.name) == node.type:
            return operand
        return Cast(operand, node.type)
    if isinstance(node, Apply):
        return Apply(node.head, tuple(_drop_same_type_casts(a, types) for a in node.args))
    return node
