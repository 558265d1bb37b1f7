"""SQLite reflection in bulk: a handful of queries for any number of tables.

SQLAlchemy's SQLite dialect reflects table by table, several ``PRAGMA`` statements
each: about ten queries per table, and through an async driver each query is a trip
to the driver's thread. SQLite's table-valued pragma functions (``pragma_table_xinfo``,
``pragma_index_list``...) answer the same questions for every table at once.

:class:`PrefetchedConnection` runs those few queries up front, then stands in for the
connection while SQLAlchemy's own SQLite reflection runs: the per-table ``PRAGMA`` and
``sqlite_master`` lookups it issues are answered from what was fetched, anything else
goes to the real connection. The parsing (types, defaults, constraints from the
``CREATE TABLE`` text) stays SQLAlchemy's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ("PrefetchedConnection", "prefetch")

_PRAGMA = re.compile(r'^PRAGMA (main|temp)\.(\w+)\("((?:[^"]|"")*)"\)$')
_PRAGMA_BARE = re.compile(r"^PRAGMA (main|temp)\.(\w+)\((\w+)\)$")
_TABLE_SQL = re.compile(r"WHERE name = \? AND type in \('table', 'view'\)", re.IGNORECASE)
_INDEX_SQL = re.compile(r"WHERE name = \? AND type = 'index'", re.IGNORECASE)

_QUERIES = {
    "table_xinfo": (
        'SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden '
        "FROM sqlite_master AS m JOIN pragma_table_xinfo(m.name) AS p "
        "WHERE m.type = 'table' ORDER BY m.name, p.cid"
    ),
    "foreign_key_list": (
        'SELECT m.name, p.id, p.seq, p."table", p."from", p."to", p.on_update, '
        'p.on_delete, p."match" FROM sqlite_master AS m '
        "JOIN pragma_foreign_key_list(m.name) AS p WHERE m.type = 'table' "
        "ORDER BY m.name, p.id, p.seq"
    ),
    "index_list": (
        'SELECT m.name, p.seq, p.name, p."unique", p.origin, p.partial '
        "FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS p "
        "WHERE m.type = 'table' ORDER BY m.name, p.seq"
    ),
    "index_info": (
        "SELECT p.name, i.seqno, i.cid, i.name FROM sqlite_master AS m "
        "JOIN pragma_index_list(m.name) AS p JOIN pragma_index_info(p.name) AS i "
        "WHERE m.type = 'table' ORDER BY p.name, i.seqno"
    ),
}


class _Rows:
    """Just enough of a ``CursorResult`` for SQLAlchemy's SQLite reflection."""

    _soft_closed = False

    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._rows = list(rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalars(self) -> _Rows:
        return _Rows([(r[0],) for r in self._rows])

    def all(self) -> list[Any]:
        return [r[0] for r in self._rows]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)


class PrefetchedConnection(Connection):
    """A stand-in connection answering per-table reflection queries from bulk results.

    A ``Connection`` subclass only so that SQLAlchemy's internal checks accept it; it
    holds no DBAPI connection of its own and delegates what it cannot answer.

    Args:
        connection: the real connection, for every other statement.
        pragmas: ``(pragma, name)`` → rows, for the main schema.
        table_sql: table name → its ``CREATE TABLE`` statement.
        index_sql: index name → its ``CREATE INDEX`` statement.
    """

    def __init__(
        self,
        connection: Connection,
        pragmas: dict[tuple[str, str], list[tuple[Any, ...]]],
        table_sql: dict[str, str],
        index_sql: dict[str, str],
    ) -> None:
        # Deliberately not Connection.__init__: nothing is opened.
        self.real = connection
        self.dialect = connection.dialect
        self.pragmas = pragmas
        self.table_sql = table_sql
        self.index_sql = index_sql

    def exec_driver_sql(  # type: ignore[override]
        self, statement: str, parameters: Any = None
    ) -> Any:
        found = self._answer(statement, parameters)
        if found is not None:
            return found
        return self.real.exec_driver_sql(statement, parameters)

    def _answer(self, statement: str, parameters: Any) -> _Rows | None:
        match = _PRAGMA.match(statement) or _PRAGMA_BARE.match(statement)
        if match is not None:
            database, pragma, name = match.groups()
            name = name.replace('""', '"')
            if database == "temp":
                return _Rows([])
            if pragma == "table_info":
                rows = self.pragmas.get(("table_xinfo", name))
                if rows is None:
                    return None
                return _Rows([r[:6] for r in rows if r[6] == 0])
            rows = self.pragmas.get((pragma, name))
            if rows is None and name in self.table_sql and pragma != "index_info":
                return _Rows([])
            return None if rows is None else _Rows(rows)
        if parameters and _TABLE_SQL.search(statement) and "temp_master" in statement:
            sql = self.table_sql.get(parameters[0])
            return None if sql is None else _Rows([(sql,)])
        if parameters and _INDEX_SQL.search(statement):
            sql = self.index_sql.get(parameters[0])
            return None if sql is None else _Rows([(sql,)])
        return None

    def execute(self, *args: Any, **kw: Any) -> Any:
        return self.real.execute(*args, **kw)


def prefetch(connection: Connection) -> PrefetchedConnection | None:
    """Fetch the main schema's pragmas in bulk; ``None`` if this SQLite cannot.

    Table-valued pragma functions need SQLite 3.16 (``table_xinfo`` 3.26).
    """
    version = connection.dialect.server_version_info or (0,)
    if version < (3, 31):
        return None
    pragmas: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for pragma, query in _QUERIES.items():
        for row in connection.execute(text(query)):
            pragmas.setdefault((pragma, row[0]), []).append(tuple(row[1:]))
    table_sql: dict[str, str] = {}
    index_sql: dict[str, str] = {}
    master = connection.execute(
        text("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'index')")
    )
    for kind, name, sql in master:
        if sql is None:
            continue
        (table_sql if kind == "table" else index_sql)[name] = sql
    return PrefetchedConnection(connection, pragmas, table_sql, index_sql)
