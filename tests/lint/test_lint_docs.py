"""The bad and good examples of ``docs/lint.md``: each bad one is reported, no good one is.

Each rule's section holds ``python`` blocks whose first line is ``# bad`` or
``# good``: ``upgrade(op)`` bodies (a ``def downgrade`` for ``missing-downgrade``),
run after the setup revision of ``rulecases``, compiled for PostgreSQL.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from rulecases import Variant, write_case

from whimbrel.lint import lint
from whimbrel.lint.rules import RULES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "lint.md"
_SECTION = re.compile(r"^### `(?P<rule>[a-z-]+)`\s*$")


def examples() -> list[tuple[str, str, str]]:
    """``(rule, "bad" or "good", code)`` for every example block of the page."""
    found: list[tuple[str, str, str]] = []
    rule = None
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        heading = _SECTION.match(lines[i])
        if heading:
            rule = heading["rule"]
        elif lines[i].startswith("## "):
            rule = None
        elif lines[i].strip() == "```python" and rule is not None:
            end = lines.index("```", i + 1)
            block = lines[i + 1 : end]
            if block and block[0].startswith(("# bad", "# good")):
                kind = "bad" if block[0].startswith("# bad") else "good"
                found.append((rule, kind, "\n".join(block[1:])))
            i = end
        i += 1
    return found


def _variant(rule: str, code: str) -> Variant:
    timeout = None if rule == "no-lock-timeout" else 2.0
    if code.lstrip().startswith("def downgrade"):
        body = textwrap.dedent("\n".join(code.splitlines()[1:]))
        return Variant("op.execute('SELECT 1')", downgrade=body, lock_timeout=timeout)
    return Variant(code, async_upgrade="await " in code, lock_timeout=timeout)


def test_every_rule_has_a_bad_and_a_good_example() -> None:
    kinds = {(rule, kind) for rule, kind, _ in examples()}
    for rule in RULES:
        assert (rule.id, "bad") in kinds and (rule.id, "good") in kinds, rule.id


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("rule", "kind", "code"),
    [pytest.param(*example, id=f"{example[0]}-{example[1]}") for example in examples()],
)
async def test_example(rule: str, kind: str, code: str, tmp_path: Path) -> None:
    config = write_case(tmp_path, _variant(rule, code))
    result = await lint(config, rev_range="r2", dialect="postgresql")
    reported = [f for f in result.findings if f.rule == rule]
    if kind == "bad":
        assert reported, f"{rule}: the bad example is not reported ({result.findings})"
    else:
        assert reported == [], f"{rule}: the good example is reported"
