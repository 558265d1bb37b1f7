"""Small migration projects for the lint and plan tests."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whimbrel.config import Config


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, parent, upgrade body and header extras."""

    id: str
    down: str | None
    body: str
    downgrade: str = "op.execute('SELECT 1')"
    header: str = ""
    async_upgrade: bool = False


def render(rev: Revision) -> str:
    """The text of a revision file whose upgrade takes ``op``."""
    body = textwrap.indent(textwrap.dedent(rev.body).strip() or "pass", "    ")
    down = textwrap.indent(textwrap.dedent(rev.downgrade).strip() or "pass", "    ")
    kind = "async def" if rev.async_upgrade else "def"
    return (
        f'"""{rev.id}"""\n'
        "import sqlalchemy as sa\n"
        "from whimbrel.operations import Operations\n\n"
        f"revision = {rev.id!r}\n"
        f"down_revision = {rev.down!r}\n"
        f"{textwrap.dedent(rev.header).strip()}\n\n\n"
        f"{kind} upgrade(op) -> None:\n{body}\n\n\n"
        f"def downgrade(op) -> None:\n{down}\n"
    )


def write_project(
    root: Path, revisions: list[Revision], *, url: str | None = None, **config: Any
) -> Config:
    """Write the revision files under ``root/migrations`` and return a Config for them."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    for rev in revisions:
        (versions / f"{rev.id}.py").write_text(render(rev), encoding="utf-8")
    return Config(script_location=root / "migrations", url=url, **config)


def marked_line(root: Path, rev_id: str, marker: str = "# <-") -> int:
    """The line of ``rev_id``'s file that carries ``marker``."""
    path = root / "migrations" / "versions" / f"{rev_id}.py"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if marker in line:
            return number
    raise AssertionError(f"no {marker!r} in {path}")
