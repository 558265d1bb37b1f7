"""How each dialect spells the elements of :mod:`whimbrel.ddl.elements`.

Imported by ``whimbrel.ddl`` itself, so the ``@compiles`` rules are in place before
any element can be compiled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DefaultClause

from whimbrel.ddl.elements import (
    AddColumn,
    AddEnumValue,
    AlterColumnDefault,
    AlterColumnNullable,
    AlterColumnType,
    DropColumn,
    ModifyColumn,
    RenameColumn,
    RenameTable,
)

if TYPE_CHECKING:
    from sqlalchemy.sql.compiler import DDLCompiler

    from whimbrel.ddl.elements import ServerDefault

__all__ = ("format_table", "render_server_default")


def format_table(compiler: DDLCompiler, name: str, schema: str | None) -> str:
    """``schema.name``, quoted as the dialect needs."""
    preparer = compiler.preparer
    quoted = preparer.quote(name)
    if schema:
        return f"{preparer.quote_schema(schema)}.{quoted}"
    return quoted


def render_server_default(compiler: DDLCompiler, default: ServerDefault) -> str:
    """The SQL of a server default (a string is a literal; expressions render as is)."""
    if isinstance(default, DefaultClause):
        default = default.arg  # type: ignore[assignment]
    if isinstance(default, str):
        return compiler.sql_compiler.render_literal_value(default, String())
    return compiler.sql_compiler.process(default, literal_binds=True)  # type: ignore[arg-type]


def _alter(compiler: DDLCompiler, element: Any) -> str:
    return f"ALTER TABLE {format_table(compiler, element.table_name, element.schema)}"


def _col(compiler: DDLCompiler, name: str) -> str:
    return compiler.preparer.quote(name)


# -- RENAME TABLE ------------------------------------------------------------------------


@compiles(RenameTable)
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    return f"{_alter(compiler, element)} RENAME TO {compiler.preparer.quote(element.new_name)}"


@compiles(RenameTable, "mysql")
@compiles(RenameTable, "mariadb")
def _rename_table_mysql(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    # Without the schema on the new name, MySQL would move the table to the
    # connection's default database.
    new = format_table(compiler, element.new_name, element.schema)
    return f"{_alter(compiler, element)} RENAME TO {new}"


# -- ADD / DROP COLUMN -------------------------------------------------------------------


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    exists = " IF NOT EXISTS" if element.if_not_exists else ""
    spec = compiler.get_column_specification(element.column)
    return f"{_alter(compiler, element)} ADD COLUMN{exists} {spec}"


@compiles(AddColumn, "sqlite")
def _add_column_sqlite(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    # SQLite cannot add a table constraint, but a column may carry its own
    # REFERENCES clause: the one way to add a foreign key without a rebuild.
    spec = compiler.get_column_specification(element.column)
    for fk in element.column.foreign_keys:
        constraint = fk.constraint
        if constraint is None or len(constraint.elements) != 1:
            continue
        clause = ""
        if constraint.name is not None:
            clause += f"CONSTRAINT {compiler.preparer.format_constraint(constraint)} "
        remote = fk.column
        clause += (
            f"REFERENCES {compiler.preparer.format_table(remote.table)} "
            f"({compiler.preparer.quote(remote.name)})"
        )
        clause += compiler.define_constraint_cascades(constraint)
        clause += compiler.define_constraint_deferrability(constraint)
        spec += " " + clause
    return f"{_alter(compiler, element)} ADD COLUMN {spec}"


@compiles(DropColumn)
def _drop_column(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    exists = " IF EXISTS" if element.if_exists else ""
    return f"{_alter(compiler, element)} DROP COLUMN{exists} {_col(compiler, element.column_name)}"


# -- RENAME COLUMN -----------------------------------------------------------------------


@compiles(RenameColumn)
def _rename_column(element: RenameColumn, compiler: DDLCompiler, **kw: Any) -> str:
    return (
        f"{_alter(compiler, element)} RENAME COLUMN {_col(compiler, element.column_name)} "
        f"TO {_col(compiler, element.new_name)}"
    )


# -- ALTER COLUMN (PostgreSQL and the SQL standard) --------------------------------------


@compiles(AlterColumnNullable)
def _alter_nullable(element: AlterColumnNullable, compiler: DDLCompiler, **kw: Any) -> str:
    action = "DROP NOT NULL" if element.nullable else "SET NOT NULL"
    return (
        f"{_alter(compiler, element)} ALTER COLUMN {_col(compiler, element.column_name)} {action}"
    )


@compiles(AlterColumnType)
def _alter_type(element: AlterColumnType, compiler: DDLCompiler, **kw: Any) -> str:
    type_sql = compiler.dialect.type_compiler_instance.process(element.type_)
    text = (
        f"{_alter(compiler, element)} ALTER COLUMN {_col(compiler, element.column_name)} "
        f"TYPE {type_sql}"
    )
    if element.using:
        text += f" USING {element.using}"
    return text


@compiles(AlterColumnDefault)
def _alter_default(element: AlterColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    column = _col(compiler, element.column_name)
    if element.default is None:
        return f"{_alter(compiler, element)} ALTER COLUMN {column} DROP DEFAULT"
    default = render_server_default(compiler, element.default)
    return f"{_alter(compiler, element)} ALTER COLUMN {column} SET DEFAULT {default}"


@compiles(AlterColumnDefault, "mysql")
@compiles(AlterColumnDefault, "mariadb")
def _alter_default_mysql(element: AlterColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    column = _col(compiler, element.column_name)
    if element.default is None:
        return f"{_alter(compiler, element)} ALTER COLUMN {column} DROP DEFAULT"
    default = render_server_default(compiler, element.default)
    if not default.startswith(("'", '"', "(")) and not default.replace(".", "").isdigit():
        # MySQL 8 and MariaDB take an expression default only in parentheses.
        default = f"({default})"
    return f"{_alter(compiler, element)} ALTER COLUMN {column} SET DEFAULT {default}"


# -- MODIFY / CHANGE COLUMN (MySQL, MariaDB) ---------------------------------------------


@compiles(ModifyColumn, "mysql")
@compiles(ModifyColumn, "mariadb")
def _modify_column(element: ModifyColumn, compiler: DDLCompiler, **kw: Any) -> str:
    spec = compiler.get_column_specification(element.column)
    if element.column.name == element.column_name:
        return f"{_alter(compiler, element)} MODIFY COLUMN {spec}"
    return (
        f"{_alter(compiler, element)} CHANGE COLUMN {_col(compiler, element.column_name)} {spec}"
    )


# -- ALTER TYPE ... ADD VALUE (PostgreSQL) -----------------------------------------------


@compiles(AddEnumValue, "postgresql")
def _add_enum_value(element: AddEnumValue, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_table(compiler, element.enum_name, element.schema)

    def literal(value: str) -> str:
        return compiler.sql_compiler.render_literal_value(value, String())

    text = f"ALTER TYPE {name} ADD VALUE "
    if element.if_not_exists:
        text += "IF NOT EXISTS "
    text += literal(element.value)
    if element.before is not None:
        text += f" BEFORE {literal(element.before)}"
    elif element.after is not None:
        text += f" AFTER {literal(element.after)}"
    return text
