"""What ``alter_column`` renders of the column's existing state, per dialect.

MariaDB/MySQL restate the whole column (``MODIFY``): the revision carries every
``existing_*`` detail, ``None`` included, so offline SQL can write it without reading
the database. Other dialects keep only what they use.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from whimbrel.autogenerate.layout import flat
from whimbrel.autogenerate.render import Renderer
from whimbrel.operations.table_ops import AlterColumnOp

MARIADB = mysql.dialect(is_mariadb=True)
MYSQL = mysql.dialect()
PG = postgresql.dialect()  # type: ignore[no-untyped-call]
SQLITE = sqlite.dialect()


def rendered(op: AlterColumnOp, dialect: Dialect) -> str:
    node = Renderer(dialect).call(op, "op")
    assert node is not None
    return flat(node)


def nullability(**existing: object) -> AlterColumnOp:
    return AlterColumnOp(
        "users",
        "full_name",
        nullable=False,
        existing_type=sa.String(50),
        existing_nullable=True,
        **existing,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("dialect", [MARIADB, MYSQL], ids=["mariadb", "mysql"])
def test_mysql_renders_no_default_and_no_comment_explicitly(dialect: Dialect) -> None:
    code = rendered(nullability(existing_server_default=None, existing_comment=None), dialect)
    assert "existing_server_default=None" in code
    assert "existing_comment=None" in code
    assert "existing_nullable=True" in code
    assert "existing_type=sa.String(length=50)" in code


def test_mysql_renders_a_default_and_a_comment_as_they_are() -> None:
    op = nullability(existing_server_default=sa.text("'x'"), existing_comment="the name")
    code = rendered(op, MARIADB)
    assert "existing_server_default=sa.text(\"'x'\")" in code
    assert 'existing_comment="the name"' in code


def test_mysql_leaves_an_unknown_default_out() -> None:
    # False: not known (a hand-made op); offline then asks for it.
    assert "existing_server_default" not in rendered(nullability(), MARIADB)


def test_mysql_rename_only_stays_short() -> None:
    op = AlterColumnOp(
        "users",
        "fullname",
        new_column_name="full_name",
        existing_type=sa.String(50),
        existing_nullable=True,
        existing_server_default=None,
    )
    assert rendered(op, MARIADB) == (
        'op.alter_column("users", "fullname", new_column_name="full_name")'
    )


@pytest.mark.parametrize("dialect", [PG, SQLITE], ids=["postgresql", "sqlite"])
def test_other_dialects_are_unchanged(dialect: Dialect) -> None:
    code = rendered(nullability(existing_server_default=None, existing_comment=None), dialect)
    assert code == (
        'op.alter_column("users", "full_name", nullable=False, '
        "existing_type=sa.String(length=50), existing_nullable=True)"
    )
