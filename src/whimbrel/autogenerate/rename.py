"""Renames, never silent data loss.

When a table (or a column) disappears from the models and a compatible one appears,
it may be a rename or a drop and an add: only a person can tell. Whimbrel asks on a
terminal (``Rename users.fullname → users.full_name? [y/N]``), takes answers given in
advance as ``old:new`` (``users:people``, ``users.fullname:users.full_name``), and
otherwise writes the drop and the add under a comment warning that the data will be
lost.

*Compatible* means: for columns, the same kind of data (both strings, both
integers...); for tables, at least half of their column names in common.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from whimbrel.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Column, Table

    from whimbrel.autogenerate.reflect import DbColumn, DbTable

__all__ = (
    "Rename",
    "RenamePrompt",
    "RenameResolver",
    "RenameSpec",
    "parse_renames",
    "terminal_prompt",
)

RenamePrompt = Callable[[str], bool]
"""``prompt(question) -> bool``: asked ``"Rename users.fullname → users.full_name?"``."""

T = TypeVar("T")
U = TypeVar("U")


def label(schema: str | None, *names: str) -> str:
    """``schema.table.column`` without the parts that are not there."""
    return ".".join(n for n in (schema, *names) if n)


@dataclass(frozen=True, slots=True)
class Rename:
    """A rename autogenerate writes (``confirmed``) or suspects (a drop and an add)."""

    kind: Literal["table", "column"]
    schema: str | None
    table: str
    old: str
    new: str
    confirmed: bool = True

    @property
    def old_label(self) -> str:
        """``users.fullname`` (a column) or ``users`` (a table)."""
        if self.kind == "table":
            return label(self.schema, self.old)
        return label(self.schema, self.table, self.old)

    @property
    def new_label(self) -> str:
        """``users.full_name`` (a column) or ``people`` (a table)."""
        if self.kind == "table":
            return label(self.schema, self.new)
        return label(self.schema, self.table, self.new)

    @property
    def spec(self) -> str:
        """The ``old:new`` that confirms this rename without a prompt."""
        return f"{self.old_label}:{self.new_label}"

    def __str__(self) -> str:
        return f"{self.old_label} → {self.new_label}"


@dataclass(frozen=True, slots=True)
class RenameSpec:
    """A rename given in advance: ``old:new``."""

    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.old}:{self.new}"


def parse_renames(specs: Sequence[str]) -> list[RenameSpec]:
    """Parse ``old:new`` strings.

    Raises:
        UsageError: a spec is not of the form ``old:new``.
    """
    parsed: list[RenameSpec] = []
    for spec in specs:
        old, sep, new = spec.partition(":")
        if not sep or not old.strip() or not new.strip() or ":" in new:
            raise UsageError(
                f"rename {spec!r} is not of the form old:new; write e.g. users:people "
                "(a table) or users.fullname:users.full_name (a column)"
            )
        parsed.append(RenameSpec(old.strip(), new.strip()))
    return parsed


def terminal_prompt(question: str) -> bool:
    """Ask ``question [y/N]`` on the terminal; only ``y`` or ``yes`` mean yes."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        sys.stdout.write("\n")
        return False
    return answer.strip().lower() in ("y", "yes")


class RenameResolver:
    """Decides renames: given ones first, then the prompt, else none.

    Args:
        specs: renames given in advance.
        prompt: asked about each compatible pair not given in advance; ``None``
            asks nothing.
    """

    def __init__(self, specs: Sequence[RenameSpec] = (), prompt: RenamePrompt | None = None):
        self.specs = list(specs)
        self.prompt = prompt
        self.used: set[RenameSpec] = set()
        self.accepted: list[Rename] = []
        self.suspected: list[Rename] = []

    def _given(self, olds: Sequence[str], news: Sequence[str]) -> RenameSpec | None:
        for spec in self.specs:
            if spec.old in olds and spec.new in news:
                return spec
        return None

    def _pairs(
        self,
        dropped: list[T],
        added: list[U],
        *,
        old_labels: Callable[[T], list[str]],
        new_labels: Callable[[U], list[str]],
        compatible: Callable[[T, U], bool],
        make: Callable[[T, U, bool], Rename],
    ) -> list[tuple[T, U]]:
        pairs: list[tuple[T, U]] = []
        taken: set[int] = set()
        remaining: list[T] = []
        for old in dropped:
            match = None
            for new in added:
                if id(new) in taken:
                    continue
                spec = self._given(old_labels(old), new_labels(new))
                if spec is not None:
                    self.used.add(spec)
                    match = new
                    break
            if match is None:
                remaining.append(old)
                continue
            taken.add(id(match))
            pairs.append((old, match))
            self.accepted.append(make(old, match, True))
        for old in remaining:
            for new in added:
                if id(new) in taken or not compatible(old, new):
                    continue
                rename = make(old, new, False)
                if self.prompt is not None and self.prompt(f"Rename {rename}?"):
                    taken.add(id(new))
                    pairs.append((old, new))
                    self.accepted.append(make(old, new, True))
                    break
                self.suspected.append(rename)
        return pairs

    def tables(self, dropped: list[DbTable], added: list[Table]) -> list[tuple[DbTable, Table]]:
        """The (database table, model table) pairs that are renames."""
        return self._pairs(
            dropped,
            added,
            old_labels=lambda t: [label(t.schema, t.name)],
            new_labels=lambda t: [label(t.schema, t.name), t.name],
            compatible=_tables_compatible,
            make=lambda o, n, ok: Rename("table", o.schema, o.name, o.name, n.name, ok),
        )

    def columns(
        self,
        schema: str | None,
        old_table: str,
        new_table: str,
        dropped: list[DbColumn],
        added: list[Column[object]],
        compatible: Callable[[DbColumn, Column[object]], bool],
    ) -> list[tuple[DbColumn, Column[object]]]:
        """The (database column, model column) pairs of one table that are renames."""
        tables = {old_table, new_table}
        return self._pairs(
            dropped,
            added,
            old_labels=lambda c: [label(schema, t, c.name) for t in tables],
            new_labels=lambda c: [label(schema, t, c.name) for t in tables] + [c.name],
            compatible=compatible,
            make=lambda o, n, ok: Rename("column", schema, new_table, o.name, n.name, ok),
        )

    def check_all_used(self) -> None:
        """Refuse renames given in advance that matched nothing.

        Raises:
            UsageError: a given rename names no dropped and added pair.
        """
        unused = [s for s in self.specs if s not in self.used]
        if not unused:
            return
        shown = ", ".join(str(s) for s in unused)
        suspected = ", ".join(r.spec for r in self.suspected) or "none"
        raise UsageError(
            f"rename {shown} matches nothing: the old name must be gone from the models "
            f"and the new one new to the database (renames detected: {suspected})"
        )


def _tables_compatible(old: DbTable, new: Table) -> bool:
    old_names = set(old.columns)
    new_names = {c.name for c in new.columns}
    common = old_names & new_names
    return bool(common) and len(common) * 2 >= len(old_names | new_names)
