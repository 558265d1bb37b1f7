"""Python expressions as small trees, laid out the way ``ruff format`` lays them out.

A call that fits on its line stays on it. One that does not is split after its
opening bracket: its arguments go on one indented line if they fit there, else one
per line with a trailing comma, each laid out by the same rules. That is Black's
"right-hand split" and "delimiter split", which ``ruff format`` follows, so the code
autogenerate writes is already formatted.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = (
    "Atom",
    "Call",
    "Kw",
    "Node",
    "Seq",
    "Text",
    "comment_lines",
    "flat",
    "lay_out",
    "pystr",
)


@dataclass(frozen=True, slots=True)
class Atom:
    """Source text that is never split (a name, a literal)."""

    text: str


@dataclass(frozen=True, slots=True)
class Kw:
    """``name=value``."""

    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class Call:
    """``func(arg, ..., name=value, ...)``."""

    func: str
    args: tuple[Node, ...] = ()

    @staticmethod
    def of(func: str, *args: Node, **kwargs: Node) -> Call:
        """A call from positional nodes and keyword nodes."""
        return Call(func, (*args, *(Kw(k, v) for k, v in kwargs.items())))


@dataclass(frozen=True, slots=True)
class Seq:
    """A list or tuple display."""

    items: tuple[Node, ...] = field(default=())
    brackets: str = "[]"


@dataclass(frozen=True, slots=True)
class Text:
    """A string literal; too long for its line, it is split into concatenated parts."""

    value: str


Node: TypeAlias = Atom | Kw | Call | Seq | Text


def pystr(value: str) -> str:
    """A string literal as ``ruff format`` writes it (double quotes unless that escapes more)."""
    literal = repr(value)
    if literal.startswith('"'):
        return literal
    if value.count('"') > value.count("'"):
        return literal
    inner = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
    return f'"{inner}"'


def flat(node: Node) -> str:
    """``node`` written on one line."""
    if isinstance(node, Atom):
        return node.text
    if isinstance(node, Text):
        return pystr(node.value)
    if isinstance(node, Kw):
        return f"{node.name}={flat(node.value)}"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(flat(a) for a in node.args)})"
    inner = ", ".join(flat(i) for i in node.items)
    if node.brackets == "()" and len(node.items) == 1:
        inner += ","
    return f"{node.brackets[0]}{inner}{node.brackets[1]}"


def _parts(node: Node) -> tuple[str, tuple[Node, ...], str] | None:
    if isinstance(node, Call):
        return f"{node.func}(", node.args, ")"
    if isinstance(node, Seq):
        return node.brackets[0], node.items, node.brackets[1]
    return None


def lay_out(
    node: Node, indent: int, line_length: int, *, prefix: str = "", suffix: str = ""
) -> list[str]:
    """The lines of ``prefix + node + suffix`` at ``indent`` spaces."""
    pad = " " * indent
    line = f"{pad}{prefix}{flat(node)}{suffix}"
    if len(line) <= line_length:
        return [line]
    if isinstance(node, Kw):
        if isinstance(node.value, Text):
            pieces = _text_parts(node.value.value, indent + 4, line_length, "")
            if len(pieces) > 1:
                return [f"{pad}{prefix}{node.name}=(", *pieces, f"{pad}){suffix}"]
        return lay_out(
            node.value, indent, line_length, prefix=f"{prefix}{node.name}=", suffix=suffix
        )
    if isinstance(node, Text) and not prefix:
        return _text_parts(node.value, indent, line_length, suffix)
    parts = _parts(node)
    if parts is None or not parts[1]:
        return [line]
    opening, children, closing = parts
    inner_pad = " " * (indent + 4)
    one_line = ", ".join(flat(c) for c in children)
    single_tuple = isinstance(node, Seq) and node.brackets == "()" and len(children) == 1
    if len(inner_pad) + len(one_line) <= line_length and not single_tuple:
        return [f"{pad}{prefix}{opening}", f"{inner_pad}{one_line}", f"{pad}{closing}{suffix}"]
    lines = [f"{pad}{prefix}{opening}"]
    if len(children) == 1 and not single_tuple:
        # A lone argument is split on its own, with no trailing comma added.
        lines.extend(lay_out(children[0], indent + 4, line_length))
        lines.append(f"{pad}{closing}{suffix}")
        return lines
    for child in children:
        lines.extend(lay_out(child, indent + 4, line_length, suffix=","))
    lines.append(f"{pad}{closing}{suffix}")
    return lines


def _text_parts(value: str, indent: int, line_length: int, suffix: str) -> list[str]:
    """``value`` as implicitly concatenated literals, one per line, split after spaces."""
    pad = " " * indent
    words = re.findall(r"\S+\s*|\s+", value)
    parts: list[str] = []
    current = ""
    for word in words:
        candidate = current + word
        if current and len(pad) + len(pystr(candidate)) > line_length:
            parts.append(current)
            current = word
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    lines = [f"{pad}{pystr(p)}" for p in parts]
    lines[-1] += suffix
    return lines


def comment_lines(text: str, indent: int, line_length: int) -> list[str]:
    """``text`` as ``#`` comment lines that fit the line length."""
    pad = " " * indent
    width = max(line_length - indent - 2, 20)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        wrapped = textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False)
        lines.extend(f"{pad}# {w}" for w in wrapped or [""])
    return [line.rstrip() for line in lines]
