"""What every comparison needs: the dialect, the options, the hooks, and SQL helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, Table
from sqlalchemy.schema import DefaultClause

from whimbrel.autogenerate.options import AutogenerateOptions, ObjectType

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql.compiler import DDLCompiler
    from sqlalchemy.sql.elements import ClauseElement

    from whimbrel.autogenerate.reflect import DbSchema, DbTable, TableKey
    from whimbrel.operations.opbase import MigrateOperation

__all__ = ("CompareContext", "TableChanges", "ddl_compiler")


def ddl_compiler(dialect: Dialect) -> DDLCompiler:
    """A DDL compiler of ``dialect`` with no statement, to compile fragments with."""
    return dialect.ddl_compiler(dialect, None)  # type: ignore[arg-type]


@dataclass(slots=True)
class TableChanges:
    """The operations on one existing table, by the phase they run in."""

    schema: str | None
    name: str
    drop_fks: list[MigrateOperation] = field(default_factory=list)
    drop_items: list[MigrateOperation] = field(default_factory=list)
    add_columns: list[MigrateOperation] = field(default_factory=list)
    alter_columns: list[MigrateOperation] = field(default_factory=list)
    drop_columns: list[MigrateOperation] = field(default_factory=list)
    create_items: list[MigrateOperation] = field(default_factory=list)
    create_fks: list[MigrateOperation] = field(default_factory=list)
    comments: list[MigrateOperation] = field(default_factory=list)

    def body(self) -> list[MigrateOperation]:
        """The operations between the foreign key phases, in order."""
        return [
            *self.drop_items,
            *self.add_columns,
            *self.alter_columns,
            *self.drop_columns,
            *self.create_items,
            *self.comments,
        ]


@dataclass(slots=True)
class CompareContext:
    """The dialect, the options and the reflected database of one comparison."""

    dialect: Dialect
    options: AutogenerateOptions
    db: DbSchema
    _built: dict[TableKey, Table] = field(default_factory=dict)
    _built_metadata: MetaData = field(default_factory=MetaData)
    _compiler: DDLCompiler | None = None

    @property
    def compiler(self) -> DDLCompiler:
        """A DDL compiler of the dialect, made once."""
        if self._compiler is None:
            self._compiler = ddl_compiler(self.dialect)
        return self._compiler

    @property
    def dialect_name(self) -> str:
        """``"postgresql"``, ``"sqlite"``, ``"mysql"`` or ``"mariadb"``."""
        return self.dialect.name

    @property
    def is_mysql(self) -> bool:
        """MySQL or MariaDB."""
        return self.dialect.name in ("mysql", "mariadb")

    @property
    def is_mariadb(self) -> bool:
        """MariaDB."""
        return bool(getattr(self.dialect, "is_mariadb", False)) or self.dialect.name == "mariadb"

    # -- hooks ----------------------------------------------------------------------------

    def include_name(
        self, name: str | None, type_: ObjectType, parents: Mapping[str, str | None]
    ) -> bool:
        """What the ``include_name`` hook says (``True`` without one)."""
        hook = self.options.include_name
        return True if hook is None else bool(hook(name, type_, parents))

    def include_object(
        self, obj: Any, name: str | None, type_: ObjectType, reflected: bool, compare_to: Any
    ) -> bool:
        """What the ``include_object`` hook says (``True`` without one)."""
        hook = self.options.include_object
        return True if hook is None else bool(hook(obj, name, type_, reflected, compare_to))

    @property
    def has_object_hook(self) -> bool:
        """Whether ``include_object`` is set (reflected objects are then built)."""
        return self.options.include_object is not None

    def include_db_item(
        self,
        db_table: DbTable,
        name: str | None,
        type_: ObjectType,
        find: Any,
        compare_to: Any,
    ) -> bool:
        """``include_object`` for a reflected item, built on demand by ``find(table)``."""
        if not self.has_object_hook:
            return True
        table = self.built_table(db_table)
        return self.include_object(find(table), name, type_, True, compare_to)

    def built_table(self, db_table: DbTable) -> Table:
        """A SQLAlchemy ``Table`` built from what was reflected (cached)."""
        from whimbrel.autogenerate.build import build_table

        key = db_table.key
        table = self._built.get(key)
        if table is None:
            table = build_table(db_table, self._built_metadata, self)
            self._built[key] = table
        return table

    # -- SQL ------------------------------------------------------------------------------

    def compile_expression(self, element: ClauseElement) -> str:
        """An expression as the dialect writes it in DDL (no table prefixes, literals inline)."""
        compiler = self.compiler
        return str(compiler.sql_compiler.process(element, include_table=False, literal_binds=True))

    def default_sql(self, column: Column[Any]) -> str | None:
        """The SQL of a model column's server default (``None`` without one)."""
        if not isinstance(column.server_default, DefaultClause):
            return None
        compiler = self.compiler
        sql = compiler.get_column_default_string(column)
        return None if sql is None else str(sql)

    def unqualified(self, schema: str | None) -> str | None:
        """``None`` for the default schema (as the models may name it explicitly)."""
        return None if schema == self.db.default_schema else schema
