"""The base of every operation object, and the small types operations share.

Operation objects are frozen dataclasses holding plain data: names and SQLAlchemy
schema objects (``Column``, ``Constraint``, ``TypeEngine``), never a connection. They
are what a script call builds, what a dialect implementation executes, and what
autogenerate and offline SQL will produce and render.

Dataclasses here use ``eq=False``: SQLAlchemy columns overload ``==`` to build SQL
expressions, so field-wise equality would not mean anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from whimbrel.errors import IrreversibleOperationError

__all__ = (
    "ConstraintType",
    "DialectKwargs",
    "MigrateOperation",
    "frozen_kwargs",
)

ConstraintType: TypeAlias = Literal["primary", "unique", "foreignkey", "check", "exclude"]
"""The kinds of constraint ``drop_constraint(type_=...)`` accepts."""

DialectKwargs: TypeAlias = Mapping[str, Any]
"""Dialect-prefixed keyword arguments (``postgresql_where=...``), passed through to
the SQLAlchemy construct they configure."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_kwargs(kw: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``kw`` (the shared empty mapping when there is none)."""
    if not kw:
        return _EMPTY
    return MappingProxyType(dict(kw))


class MigrateOperation:
    """Base of every operation: something a migration does to a database."""

    __slots__ = ()

    def describe(self) -> str:
        """A short human description, used in messages (``drop_table 'users'``)."""
        return type(self).__name__

    def reverse(self) -> MigrateOperation:
        """The operation that undoes this one.

        Raises:
            IrreversibleOperationError: the operation has no reverse, or lacks the
                data its reverse needs.
        """
        raise IrreversibleOperationError(self.describe(), "it has no reverse operation")
