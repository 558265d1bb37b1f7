"""Generated application models: N tables shaped like a real app's.

Each table has a key, a dozen columns of the usual types (strings, numbers, a
boolean, timestamps, text, a PostgreSQL enum) with server defaults, a unique slug,
a composite index on every other table, one or two foreign keys (indexed) to earlier
tables, and comments on some. The module written is plain SQLAlchemy; both tools
import it the way an application's ``models.py`` is imported.
"""

from __future__ import annotations

from pathlib import Path

HEADER = '''"""{n} generated tables (benchmarks/autogen/models.py)."""

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={{
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }}
)

STATUSES = [
    sa.Enum("draft", "active", "archived", name="status_a"),
    sa.Enum("new", "paid", "shipped", "returned", name="status_b"),
    sa.Enum("low", "medium", "high", name="status_c"),
]
'''

TABLE = """
t{i:04d} = sa.Table(
    "t{i:04d}",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, comment="display name"),
    sa.Column("slug", sa.String(120), nullable=False, unique=True),
    sa.Column("status", STATUSES[{status}], nullable=False, server_default="{status_default}"),
    sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("amount", sa.Numeric(12, 2), server_default="0"),
    sa.Column("quantity", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("ratio", sa.Float()),
    sa.Column("notes", sa.Text()),
    sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime()),
{fks}{extra}    comment={comment},
)
"""

FK = """    sa.Column(
        "{col}",
        sa.Integer(),
        sa.ForeignKey("t{ref:04d}.id"{ondelete}),
        nullable={nullable},
        index=True,
    ),
"""

STATUS_DEFAULTS = ("draft", "new", "low")


def models_source(n: int) -> str:
    """The source of a models module with ``n`` tables (the same for a given ``n``)."""
    parts = [HEADER.format(n=n)]
    for i in range(n):
        fks = ""
        if i > 0:
            ref = max(0, i - 1 - (i % 7))
            ondelete = ', ondelete="CASCADE"' if i % 2 else ""
            fks += FK.format(col="parent_id", ref=ref, ondelete=ondelete, nullable=False)
        if i > 2 and i % 3 == 0:
            fks += FK.format(col="owner_id", ref=i // 2, ondelete="", nullable=True)
        extra = ""
        if i % 2 == 0:
            extra = '    sa.Index(None, "name", "created_at"),\n'
        status = i % 3
        parts.append(
            TABLE.format(
                i=i,
                fks=fks,
                extra=extra,
                status=status,
                status_default=STATUS_DEFAULTS[status],
                comment=f'"table {i}"' if i % 4 == 0 else "None",
            )
        )
    return "".join(parts)


def write_models(directory: Path, n: int) -> str:
    """Write ``models_<n>.py`` into ``directory``; return its module name."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"models_{n}"
    path = directory / f"{name}.py"
    source = models_source(n)
    if not path.exists() or path.read_text() != source:
        path.write_text(source)
    return name
