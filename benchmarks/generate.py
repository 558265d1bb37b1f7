"""Generate an N-revision migration project that both Alembic and Whimbrel can read.

Usage::

    python benchmarks/generate.py OUTDIR --revisions N --shape linear|branchy [--seed S]

The project holds ``alembic.ini``, ``whimbrel.toml`` and ``migrations/`` (an Alembic
``env.py``, ``script.py.mako`` and ``versions/``); ``ProjectConfig`` chooses the database
URLs, Alembic's sync or async ``env.py`` and whether Whimbrel gets a script directory
of its own.  Every revision is a small, real
schema step -- create a table, add a column to it, index that column -- with the exact
reverse as its downgrade, so the same project can later be upgraded and downgraded on a
real database.  Output is a pure function of ``(revisions, shape, seed)``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

SHAPES = ("linear", "branchy")
ENVS = ("sync", "async")

# A file that marks a directory as ours, so ``overwrite=True`` never deletes anything else.
MARKER = ".whimbrel-bench"

# Columns added by the "add column" step cycle through these types.
_COLUMN_TYPES = (
    "sa.String(length=100)",
    "sa.Integer()",
    "sa.Text()",
    "sa.DateTime()",
    "sa.Numeric(precision=10, scale=2)",
    "sa.Boolean()",
)

# Branchy shape: linear runs of this many revisions between forks, and branch lengths.
_GAP = (3, 8)
_BRANCH_LEN = (1, 4)

_BASE_DATE = datetime(2024, 1, 1, 9, 0, 0)


@dataclass(frozen=True, slots=True)
class Project:
    """A generated project: where its files are and what its graph looks like."""

    root: Path
    alembic_ini: Path
    whimbrel_toml: Path
    script_location: Path
    versions_dir: Path
    shape: str
    seed: int
    revisions: tuple[str, ...]
    """Every revision id, parents before children (generation order)."""
    heads: tuple[str, ...]
    base: str
    merges: tuple[str, ...]
    branch_points: tuple[str, ...]
    tables: tuple[str, ...] = ()
    """Every table the revisions create; all of them exist at ``head``."""
    indexes: tuple[str, ...] = ()
    """Every index the revisions create (all named ``ix_*``); all exist at ``head``."""
    columns: int = 0
    """Columns of all tables at ``head``: ``id`` and ``name`` per table, plus those added."""


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """What the generated configuration files point the tools at.

    ``env`` picks Alembic's ``env.py``: ``"sync"`` is the stock minimal one
    (``engine_from_config``), ``"async"`` the ``alembic init -t async`` one
    (``async_engine_from_config`` + ``connection.run_sync`` + ``asyncio.run``), which
    needs async driver URLs.  ``whimbrel_scripts`` names a separate, ``env.py``-less
    script directory for Whimbrel whose ``version_locations`` is the shared
    ``migrations/versions``; ``None`` gives Whimbrel ``migrations`` itself.
    """

    alembic_url: str = "sqlite:///bench.db"
    whimbrel_url: str = "sqlite+aiosqlite:///bench.db"
    env: str = "sync"
    whimbrel_scripts: str | None = None


@dataclass(slots=True)
class _Lineage:
    """Schema state along one line of descent: where the step cycle is."""

    phase: int = 0
    table: str | None = None
    column: str | None = None


@dataclass(frozen=True, slots=True)
class _Rev:
    revision: str
    down: str | tuple[str, ...] | None
    message: str
    upgrade: tuple[str, ...]
    downgrade: tuple[str, ...]


@dataclass(slots=True)
class _Builder:
    revisions: int
    seed: int
    ids: random.Random = field(init=False)
    revs: list[_Rev] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    tables: int = 0
    columns: int = 0
    table_names: list[str] = field(default_factory=list)
    index_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = random.Random(f"whimbrel-bench:{self.seed}:ids")

    @property
    def remaining(self) -> int:
        return self.revisions - len(self.revs)

    def new_id(self) -> str:
        while True:
            rev = f"{self.ids.getrandbits(48):012x}"
            if rev not in self.seen:
                self.seen.add(rev)
                return rev

    def step(self, down: str | None, lineage: _Lineage) -> str:
        """Add one schema-changing revision on top of ``down``; return its id."""
        phase = lineage.phase
        if phase == 0 or lineage.table is None:
            self.tables += 1
            table = f"t{self.tables:05d}"
            self.table_names.append(table)
            message = f"create table {table}"
            upgrade: tuple[str, ...] = (
                "op.create_table(",
                f'    "{table}",',
                '    sa.Column("id", sa.Integer(), nullable=False),',
                '    sa.Column("name", sa.String(length=100), nullable=False),',
                '    sa.PrimaryKeyConstraint("id"),',
                ")",
            )
            downgrade: tuple[str, ...] = (f'op.drop_table("{table}")',)
            lineage.table, lineage.column, lineage.phase = table, None, 1
        elif phase == 1 or lineage.column is None:
            self.columns += 1
            table, column = lineage.table, f"c{self.columns:05d}"
            type_ = _COLUMN_TYPES[self.columns % len(_COLUMN_TYPES)]
            message = f"add column {column} to {table}"
            upgrade = (f'op.add_column("{table}", sa.Column("{column}", {type_}, nullable=True))',)
            downgrade = (f'op.drop_column("{table}", "{column}")',)
            lineage.column, lineage.phase = column, 2
        else:
            table, column = lineage.table, lineage.column
            index = f"ix_{table}_{column}"
            self.index_names.append(index)
            message = f"create index {index}"
            upgrade = (f'op.create_index("{index}", "{table}", ["{column}"], unique=False)',)
            downgrade = (f'op.drop_index("{index}", table_name="{table}")',)
            lineage.phase = 0
        rev = self.new_id()
        self.revs.append(_Rev(rev, down, message, upgrade, downgrade))
        return rev

    def merge(self, downs: tuple[str, ...]) -> str:
        rev = self.new_id()
        self.revs.append(_Rev(rev, downs, "merge branches", ("pass",), ("pass",)))
        return rev


def _build(revisions: int, shape: str, seed: int) -> tuple[_Builder, list[str], list[str]]:
    """Lay out the graph; return the filled builder, merge ids and branch-point ids."""
    builder = _Builder(revisions, seed)
    lineage = _Lineage()
    tip = builder.step(None, lineage)
    merges: list[str] = []
    branch_points: list[str] = []
    if shape == "linear":
        while builder.remaining:
            tip = builder.step(tip, lineage)
        return builder, merges, branch_points

    shape_rng = random.Random(f"whimbrel-bench:{seed}:shape")
    while builder.remaining:
        for _ in range(min(shape_rng.randint(*_GAP), builder.remaining)):
            tip = builder.step(tip, lineage)
        # A fork needs a revision on each side plus the merge.
        if builder.remaining < 3:
            continue
        budget = builder.remaining - 1
        left_len = min(shape_rng.randint(*_BRANCH_LEN), budget - 1)
        right_len = min(shape_rng.randint(*_BRANCH_LEN), budget - left_len)
        branch_points.append(tip)
        tips: list[str] = []
        states: list[_Lineage] = []
        # The left branch continues the trunk's step cycle; the right one adds its own
        # column to the same table (or starts a table), so no index name is made twice.
        starts = (
            _Lineage(lineage.phase, lineage.table, lineage.column),
            _Lineage(1 if lineage.table else 0, lineage.table, None),
        )
        for length, state in zip((left_len, right_len), starts, strict=True):
            branch_tip = tip
            for _ in range(length):
                branch_tip = builder.step(branch_tip, state)
            tips.append(branch_tip)
            states.append(state)
        tip = builder.merge((tips[0], tips[1]))
        merges.append(tip)
        # Carry on from the first branch's schema state; both branches' tables exist.
        lineage = states[0]
    return builder, merges, branch_points


def _slug(message: str) -> str:
    return "_".join(message.split())[:40]


def _render_revision(rev: _Rev, create_date: datetime) -> str:
    if rev.down is None:
        revises = ""
    elif isinstance(rev.down, tuple):
        revises = ", ".join(rev.down)
    else:
        revises = rev.down
    upgrade = "\n".join(f"    {line}" for line in rev.upgrade)
    downgrade = "\n".join(f"    {line}" for line in rev.downgrade)
    return f'''"""{rev.message}

Revision ID: {rev.revision}
Revises: {revises}
Create Date: {create_date.isoformat(sep=" ", timespec="microseconds")}

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = {rev.revision!r}
down_revision: str | Sequence[str] | None = {rev.down!r}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


_ALEMBIC_INI = """\
[alembic]
script_location = migrations
path_separator = os
sqlalchemy.url = {url}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""


def _whimbrel_toml(config: ProjectConfig) -> str:
    if config.whimbrel_scripts is None:
        location = 'script_location = "migrations"\n'
    else:
        location = (
            f"script_location = {_toml_str(config.whimbrel_scripts)}\n"
            'version_locations = ["migrations/versions"]\n'
        )
    return f"{location}url = {_toml_str(config.whimbrel_url)}\n"


def _toml_str(value: str) -> str:
    # A TOML basic string is a JSON string for the characters that can occur here.
    return json.dumps(value)


_ENV_PY = '''\
"""Alembic environment: the stock minimal env.py, offline and online."""

from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context

config = context.config
# Programmatic callers (tests) may keep their own logging setup.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = None


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

# ``alembic init -t async``'s env.py (Alembic 1.x), with the same logging opt-out.
_ASYNC_ENV_PY = '''\
"""Alembic environment: the ``alembic init -t async`` env.py, offline and online."""

import asyncio
from logging.config import fileConfig

from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from alembic import context

config = context.config
# Programmatic callers (tests) may keep their own logging setup.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = None


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )

    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)

    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )

    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)

    await connectable.dispose()


def run_migrations_online() -> None:
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

_SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''


def _prepare_outdir(outdir: Path, *, overwrite: bool) -> None:
    if outdir.exists() and any(outdir.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{outdir} is not empty (use overwrite=True / --force)")
        if not (outdir / MARKER).is_file():
            raise FileExistsError(
                f"{outdir} is not empty and was not made by this generator; refusing to delete it"
            )
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True, exist_ok=True)


def generate_project(
    outdir: Path,
    *,
    revisions: int,
    shape: str,
    seed: int = 0,
    overwrite: bool = False,
    config: ProjectConfig | None = None,
) -> Project:
    """Write a project of ``revisions`` revision files in the given shape to ``outdir``.

    Args:
        outdir: Directory to create (it may exist if empty).
        revisions: Number of revision files, at least 1.
        shape: ``"linear"`` (one chain) or ``"branchy"`` (chain with periodic
            fork-and-merge diamonds, still ending in exactly one head).
        seed: Drives revision ids, dates and the branchy layout.
        overwrite: Replace ``outdir`` if it holds a project generated earlier.
        config: Database URLs and environment written into the configuration files;
            by default SQLite ``bench.db`` and Alembic's sync ``env.py``.

    Returns:
        The paths and graph facts of the written project.

    Raises:
        ValueError: On an unknown shape or env, or fewer than one revision.
        FileExistsError: If ``outdir`` is non-empty and may not be replaced.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")
    config = ProjectConfig() if config is None else config
    if config.env not in ENVS:
        raise ValueError(f"unknown env {config.env!r}; expected one of {', '.join(ENVS)}")
    if revisions < 1:
        raise ValueError(f"revisions must be at least 1, got {revisions}")
    builder, merges, branch_points = _build(revisions, shape, seed)
    revs = builder.revs

    outdir = outdir.resolve()
    _prepare_outdir(outdir, overwrite=overwrite)
    script_location = outdir / "migrations"
    versions_dir = script_location / "versions"
    versions_dir.mkdir(parents=True)
    (outdir / MARKER).write_text(f"shape={shape} revisions={revisions} seed={seed}\n")
    # ``%`` is ConfigParser's interpolation character.
    (outdir / "alembic.ini").write_text(
        _ALEMBIC_INI.replace("{url}", config.alembic_url.replace("%", "%%"))
    )
    (outdir / "whimbrel.toml").write_text(_whimbrel_toml(config))
    if config.whimbrel_scripts is not None:
        (outdir / config.whimbrel_scripts).mkdir(parents=True)
    (script_location / "env.py").write_text(_ASYNC_ENV_PY if config.env == "async" else _ENV_PY)
    (script_location / "script.py.mako").write_text(_SCRIPT_MAKO)
    for n, rev in enumerate(revs):
        created = _BASE_DATE + timedelta(minutes=7 * n)
        path = versions_dir / f"{rev.revision}_{_slug(rev.message)}.py"
        path.write_text(_render_revision(rev, created))

    return Project(
        root=outdir,
        alembic_ini=outdir / "alembic.ini",
        whimbrel_toml=outdir / "whimbrel.toml",
        script_location=script_location,
        versions_dir=versions_dir,
        shape=shape,
        seed=seed,
        revisions=tuple(rev.revision for rev in revs),
        heads=(revs[-1].revision,),
        base=revs[0].revision,
        merges=tuple(merges),
        branch_points=tuple(branch_points),
        tables=tuple(builder.table_names),
        indexes=tuple(builder.index_names),
        columns=2 * builder.tables + builder.columns,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--revisions", type=int, required=True)
    parser.add_argument("--shape", choices=SHAPES, default="linear")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--force", action="store_true", help="replace OUTDIR if it holds an earlier project"
    )
    args = parser.parse_args(argv)
    try:
        project = generate_project(
            args.outdir,
            revisions=args.revisions,
            shape=args.shape,
            seed=args.seed,
            overwrite=args.force,
        )
    except (ValueError, FileExistsError) as e:
        parser.error(str(e))
    print(
        f"wrote {len(project.revisions)} revisions ({project.shape}, seed {project.seed}, "
        f"{len(project.merges)} merges) to {project.root}; head {project.heads[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
