"""``# whimbrel: ignore[rule-id]`` comments in revision files.

A comment silences the rules it names (``ignore[a, b]``), or every rule (a bare
``# whimbrel: ignore``), for the statement it sits on: any line of a call that spans
several lines, or the header line of a ``with`` block.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

__all__ = ("Ignores",)

_COMMENT = re.compile(r"#\s*whimbrel:\s*ignore(?:\[(?P<rules>[^\]]*)\])?", re.IGNORECASE)
ALL = "*"


class Ignores:
    """The ignore comments of one revision file.

    Args:
        source: the file's text.
        tree: its syntax tree, when it parses.
    """

    def __init__(self, source: str, tree: ast.Module | None) -> None:
        self.by_line: dict[int, set[str]] = {}
        try:
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.type != tokenize.COMMENT:
                    continue
                found = _COMMENT.search(token.string)
                if found is None:
                    continue
                rules = found["rules"]
                names = {r.strip() for r in rules.split(",")} if rules is not None else {ALL}
                self.by_line.setdefault(token.start[0], set()).update(n for n in names if n)
        except (tokenize.TokenError, SyntaxError):
            pass
        self._spans: list[tuple[int, int]] = []
        if tree is not None and self.by_line:
            self._spans = sorted(_spans(tree), key=lambda s: s[1] - s[0])

    def ignored(self, rule: str, line: int | None) -> bool:
        """Whether ``rule`` is silenced for the statement at ``line``."""
        if line is None or not self.by_line:
            return False
        start, end = next(((a, b) for a, b in self._spans if a <= line <= b), (line, line))
        for number in range(start, end + 1):
            names = self.by_line.get(number)
            if names and (rule in names or ALL in names):
                return True
        return False


def _spans(tree: ast.Module) -> list[tuple[int, int]]:
    """The line spans of statements: whole simple statements, headers of compound ones."""
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        body = getattr(node, "body", None)
        end = node.end_lineno or node.lineno
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = max(node.lineno, body[0].lineno - 1)
        spans.append((node.lineno, end))
    return spans
