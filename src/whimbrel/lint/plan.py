"""``plan``: what ``upgrade`` would run on the live database, changing nothing.

The steps come from the graph's ``plan_upgrade`` over the head rows read from the
version table; each step's SQL is compiled statically for the database's dialect
(:mod:`whimbrel.lint.recorder`); on PostgreSQL each statement's table locks are read
from its text (:mod:`whimbrel.lint.locks`), and the size of every table involved is
read from the catalog. Nothing is created, written or locked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whimbrel.lint.database import (
    check_known,
    finish_reading,
    load_graph,
    read_heads,
    version_of,
)
from whimbrel.lint.locks import pg_locks
from whimbrel.lint.recorder import Recording, record_script
from whimbrel.lint.results import PlanResult, PlanStatement, PlanStep, TableLock
from whimbrel.lint.sqltext import Statement, classify, split_statements
from whimbrel.lint.view import family, table_key
from whimbrel.operations.constraint_ops import DropIndexOp
from whimbrel.operations.misc_ops import BatchAlterTableOp

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config
    from whimbrel.lint.recorder import RecordedOp
    from whimbrel.script.directory import ScriptDirectory
    from whimbrel.script.graph import Plan, RevisionGraph

__all__ = ("plan",)

Sizes = dict[str, tuple[int | None, int | None]]


async def plan(
    config: Config,
    revision: str = "heads",
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
) -> PlanResult:
    """List what ``upgrade`` to ``revision`` would run, without changing anything.

    Reads the head rows (creating no table), plans the upgrade as ``upgrade`` does,
    and gives for each step its SQL compiled for the database's dialect, whether it
    runs in a transaction, and, on PostgreSQL, the lock each statement takes on each
    table with the table's estimated rows and size.

    Args:
        config: the project configuration.
        revision: the upgrade target (``heads``, ``head``, an id, ``+1``...).
        connection: read the database on this connection.
        engine: read it on a connection from this engine.

    Raises:
        RevisionError: the target cannot be resolved, or the version table names a
            revision no file defines.
        ScriptError: a revision file cannot be imported.
        DatabaseError: the database cannot be reached.
        ConfigError: no database is configured.
    """
    from whimbrel.runtime.connection import connect

    scripts, graph = await load_graph(config)
    # read_only: a SQLite file that does not exist reads as empty and stays missing.
    async with connect(config, connection=connection, engine=engine, read_only=True) as conn:
        try:
            heads = await read_heads(conn.connection, config)
            upgrade = _plan(graph, heads, revision)
            dialect = conn.connection.dialect
            recorded = await _steps(config, scripts, upgrade, dialect)
            tables = sorted({lock.table for step in recorded for lock in _all_locks(step)})
            sizes = await conn.connection.run_sync(_sizes, tables)
        finally:
            await finish_reading(conn)
        result = _result(config, conn.database, dialect, revision, upgrade, recorded, sizes)
    return result


def _plan(graph: RevisionGraph, heads: tuple[str, ...], target: str) -> Plan:
    check_known(graph, heads)
    return graph.plan_upgrade(heads, target)


async def _steps(
    config: Config, scripts: ScriptDirectory, upgrade: Plan, dialect: Dialect
) -> list[PlanStep]:
    from whimbrel.ddl.impl import impl_for

    steps: list[PlanStep] = []
    # One implementation for the whole run: it remembers the enum types created so far.
    impl = impl_for(dialect)(None, dialect)
    for step in upgrade.steps:
        script = scripts.get_script(step.revision)
        recording = await record_script(script, config, dialect, impl=impl)
        statements, notes = _statements(recording, dialect)
        steps.append(
            PlanStep(
                revision=step.revision,
                message=script.message,
                path=script.path,
                transactional=script.transactional,
                heads_before=step.heads_before,
                heads_after=step.heads_after,
                statements=tuple(statements),
                notes=tuple(notes),
            )
        )
    return steps


def _statements(recording: Recording, dialect: Dialect) -> tuple[list[PlanStatement], list[str]]:
    statements: list[PlanStatement] = []
    notes: list[str] = []
    pg = dialect.name == "postgresql"
    for op in recording.ops:
        where = f"line {op.line}: " if op.line else ""
        if op.error is not None:
            notes.append(
                f"{where}{op.operation.describe()}: its SQL depends on what the database "
                f"holds and is not shown ({op.error})"
            )
        if isinstance(op.operation, BatchAlterTableOp) and not op.sql:
            continue
        for sql in op.sql:
            for piece in split_statements(sql):
                st = classify(piece)
                statements.append(
                    PlanStatement(
                        sql=piece,
                        operation=op.operation.describe(),
                        line=op.line,
                        autocommit=op.autocommit,
                        locks=_locks(st, op, pg),
                    )
                )
    if recording.stopped is not None:
        where = f" at line {recording.stopped_line}" if recording.stopped_line else ""
        notes.append(
            f"upgrade() stopped{where} when run without a database ({recording.stopped}); "
            "what it does after that is not shown"
        )
    return statements, notes


def _locks(st: Statement, op: RecordedOp, pg: bool) -> tuple[TableLock, ...]:
    index_table = None
    if isinstance(op.operation, DropIndexOp) and op.operation.table_name:
        index_table = table_key(op.operation.table_name, op.operation.schema)
    if pg:
        return tuple(TableLock(t, m) for t, m in pg_locks(st, index_table=index_table))
    tables = [*st.tables, *st.references]
    if index_table and index_table not in tables:
        tables.append(index_table)
    return tuple(TableLock(t, None) for t in dict.fromkeys(tables))


def _all_locks(step: PlanStep) -> list[TableLock]:
    return [lock for st in step.statements for lock in st.locks]


def _sizes(conn: Connection, tables: list[str]) -> Sizes:
    from sqlalchemy import text

    name = conn.dialect.name
    sizes: Sizes = {}
    if name == "postgresql":
        query = text(
            "SELECT c.reltuples, pg_total_relation_size(c.oid) FROM pg_catalog.pg_class c "
            "WHERE c.oid = to_regclass(:name)"
        )
        for table in tables:
            quoted = ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))
            row = conn.execute(query, {"name": quoted}).first()
            if row is not None:
                rows = int(row[0]) if row[0] is not None and row[0] >= 0 else None
                sizes[table] = (rows, int(row[1]))
    elif family(name) == "mysql":
        query = text(
            "SELECT TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :name"
        )
        for table in tables:
            schema, _, bare = table.rpartition(".")
            row = conn.execute(query, {"schema": schema or None, "name": bare}).first()
            if row is not None:
                sizes[table] = (_int(row[0]), _int(row[1]))
    return sizes


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _result(
    config: Config,
    database: str,
    dialect: Dialect,
    target: str,
    upgrade: Plan,
    steps: list[PlanStep],
    sizes: Sizes,
) -> PlanResult:
    from dataclasses import replace

    from whimbrel.ddl.impl import impl_for

    def sized(lock: TableLock) -> TableLock:
        rows, total = sizes.get(lock.table, (None, None))
        return replace(lock, rows=rows, total_bytes=total)

    sized_steps = tuple(
        replace(
            step,
            statements=tuple(
                replace(st, locks=tuple(sized(lock) for lock in st.locks))
                for st in step.statements
            ),
        )
        for step in steps
    )
    return PlanResult(
        database=database,
        dialect=dialect.name,
        server_version=version_of(dialect),
        target=target,
        heads_before=upgrade.heads_before,
        heads_after=upgrade.heads_after,
        transactional_ddl=impl_for(dialect).transactional_ddl,
        transaction_per_migration=config.transaction_per_migration,
        lock_timeout=config.lock_timeout,
        statement_timeout=config.statement_timeout,
        steps=sized_steps,
    )
