"""The revision template an adopted project gets: ``script.py.tmpl``, which both tools run.

Whimbrel writes new revisions from ``<script_location>/script.py.tmpl``
(:func:`whimbrel.script.templates.revision_template`). Without one it would use its
packaged template, whose ``from whimbrel import op`` Alembic cannot run. So ``adopt``
writes one whose files import ``from alembic import op``, which both tools run: the
project's ``script.py.mako`` translated to ``string.Template`` syntax when it uses
only the expressions of Alembic's own templates, else Whimbrel's packaged template
with the Alembic import. A ``script.py.tmpl`` that exists is kept as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from whimbrel.errors import CommandError, ScriptError
from whimbrel.script.headers import parse_script
from whimbrel.script.templates import REVISION_TEMPLATE, render_revision, revision_template

from .result import AdoptNote

__all__ = ("MAKO_TEMPLATE", "TemplatePlan", "plan_template", "translate_mako", "write_template")

MAKO_TEMPLATE = "script.py.mako"

_SWITCH = (
    "once Alembic no longer runs this project, switch it to `from whimbrel import op` "
    "(or delete it to use Whimbrel's default); existing revisions run either way"
)
_WHIMBREL_OP = re.compile(r"^from whimbrel import op$", re.MULTILINE)
_IMPORTS_WHIMBREL_OP = re.compile(r"^\s*from\s+whimbrel\s+import\s[^\n]*\bop\b", re.MULTILINE)
_EXPRESSION = re.compile(r"\$\{(.*?)\}", re.DOTALL)

# The Mako expressions of Alembic's own script.py.mako files (whitespace removed, quotes
# made double), and the string.Template text that renders the same.
_KNOWN_EXPRESSIONS = {
    "message": "${message}",
    "up_revision": "${up_revision}",
    "create_date": "${create_date}",
    "down_revision|comma,n": "${revises}",
    "imports": "${imports}",
    'importsifimportselse""': "${imports}",
    "repr(up_revision)": '"${up_revision}"',
    "repr(down_revision)": "${down_revision}",
    "repr(branch_labels)": "${branch_labels}",
    "repr(depends_on)": "${depends_on}",
    "upgrades": "${upgrades}",
    'upgradesifupgradeselse"pass"': "${upgrades}",
    "downgrades": "${downgrades}",
    'downgradesifdowngradeselse"pass"': "${downgrades}",
}


class _Untranslatable(ValueError):
    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True, slots=True)
class TemplatePlan:
    """The template to write (``text`` None: nothing to write) and the notes about it."""

    path: Path
    text: str | None
    notes: tuple[AdoptNote, ...]


def translate_mako(mako: str) -> str:
    """``mako`` in ``string.Template`` syntax, for the expressions Alembic's templates use.

    ``##`` comment lines are dropped, as Mako does; ``$`` elsewhere is escaped.

    Raises:
        ValueError: The template uses Mako control lines, tags, line continuations or
            other expressions.
    """
    lines = mako.splitlines(keepends=True)
    kept: list[str] = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("##"):
            continue
        if stripped.startswith("%"):
            raise _Untranslatable(f"Mako control line {stripped[:40]!r}", number)
        if "<%" in line or "</%" in line:
            raise _Untranslatable("a Mako tag (<% ... %>)", number)
        if line.rstrip("\r\n").endswith("\\"):
            raise _Untranslatable("a Mako line continuation (a line ending in \\)", number)
        kept.append(line)
    text = "".join(kept)
    out: list[str] = []
    end = 0
    for found in _EXPRESSION.finditer(text):
        key = "".join(found.group(1).split()).replace("'", '"')
        if key not in _KNOWN_EXPRESSIONS:
            line_no = text.count("\n", 0, found.start()) + 1
            raise _Untranslatable(f"the expression {found.group()!r}", line_no)
        out += [text[end : found.start()].replace("$", "$$"), _KNOWN_EXPRESSIONS[key]]
        end = found.end()
    out.append(text[end:].replace("$", "$$"))
    return "".join(out)


def _check(template: str, origin: Path) -> None:
    """Render a sample revision and read it back as Whimbrel will; raise if it fails."""
    sample = render_revision(
        template,
        rev_id="ae1027a6acf1",
        message="sample",
        down_revisions=("1975ea83b712", "3d9f2c81a0b4"),
        branch_labels=("sample",),
        depends_on=("0b3e8d2f9c1a",),
        create_date="2026-01-01 00:00:00",
        upgrade_body='op.execute("SELECT 1")\nop.execute("SELECT 2")',
        imports=("from sqlalchemy.dialects import postgresql",),
        template_name=str(origin),
    )
    script = parse_script(origin, sample.encode())
    read = script.revision
    if (read.revision, read.down_revisions, read.branch_labels, read.depends_on) != (
        "ae1027a6acf1",
        ("1975ea83b712", "3d9f2c81a0b4"),
        ("sample",),
        ("0b3e8d2f9c1a",),
    ):
        raise ScriptError("the revision identifiers do not come out as written", path=origin)


def _default_with_alembic_op(script_dir: Path) -> str:
    # No script.py.tmpl exists (checked before), so this is the packaged template.
    text, _ = revision_template(script_dir)
    return _WHIMBREL_OP.sub("from alembic import op", text)


def plan_template(script_dir: Path) -> TemplatePlan:
    """The ``script.py.tmpl`` to write in ``script_dir``, and notes saying what and why."""
    path = script_dir / REVISION_TEMPLATE
    if not script_dir.is_dir():
        return TemplatePlan(path, None, ())
    if path.exists():
        try:
            own = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            own = ""
            note = AdoptNote("manual", REVISION_TEMPLATE, f"kept, but cannot be read ({e})", path)
        else:
            note = AdoptNote(
                "info", REVISION_TEMPLATE, "kept: Whimbrel writes new revisions from it", path
            )
        if _IMPORTS_WHIMBREL_OP.search(own):
            note = AdoptNote(
                "manual",
                REVISION_TEMPLATE,
                "kept, but the revisions it makes import whimbrel's op, which Alembic "
                "cannot run: make it `from alembic import op` while Alembic still runs "
                "this project (Whimbrel runs both)",
                path,
            )
        return TemplatePlan(path, None, (note,))
    mako_path = script_dir / MAKO_TEMPLATE
    try:
        mako = mako_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = _default_with_alembic_op(script_dir)
        message = (
            f"written from Whimbrel's default template, with `from alembic import op` "
            f"(no {MAKO_TEMPLATE} to follow) so Alembic can run new revisions too; {_SWITCH}"
        )
        return TemplatePlan(
            path, text, (AdoptNote("converted", REVISION_TEMPLATE, message, path),)
        )
    except (OSError, UnicodeDecodeError) as e:
        problem, line = f"cannot be read ({e})", None
    else:
        try:
            text = translate_mako(mako)
            _check(text, path)
        except _Untranslatable as e:
            problem, line = f"uses {e.reason}, which adopt does not translate", e.line
        except (CommandError, ScriptError) as e:
            problem, line = f"does not translate to a usable template ({e})", None
        else:
            message = (
                f"{MAKO_TEMPLATE} translated to {path} (string.Template syntax), so new "
                "revisions look as before and Alembic can run them; keep the two in step "
                f"while both tools write revisions; {_SWITCH}"
            )
            return TemplatePlan(
                path, text, (AdoptNote("converted", MAKO_TEMPLATE, message, mako_path),)
            )
    text = _default_with_alembic_op(script_dir)
    message = (
        f"{problem}; {path.name} is Whimbrel's default template with `from alembic import "
        f"op` instead, so Alembic can run new revisions too: carry your changes over by "
        f"hand; {_SWITCH}"
    )
    return TemplatePlan(
        path, text, (AdoptNote("manual", MAKO_TEMPLATE, message, mako_path, line),)
    )


def write_template(plan: TemplatePlan) -> bool:
    """Create ``plan.path`` with ``plan.text``; never overwrite. Whether it was written.

    Raises:
        CommandError: the file cannot be created (one appeared since the plan was made).
    """
    if plan.text is None:
        return False
    try:
        with plan.path.open("x", encoding="utf-8", newline="") as f:
            f.write(plan.text)
    except OSError as e:
        raise CommandError(f"cannot write the revision template {plan.path}: {e}") from e
    return True
