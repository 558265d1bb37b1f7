"""Operation objects: plain data, and what their reverse is (no database)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from whimbrel.errors import IrreversibleOperationError
from whimbrel.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableCommentOp,
    DropTableOp,
    ModifyTableOps,
    RenameTableOp,
)


def test_table_ops_reverse() -> None:
    columns = (sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.String(5)))
    create = CreateTableOp("t", columns, schema="s", comment="c")
    drop = create.reverse()
    assert isinstance(drop, DropTableOp)
    assert (drop.table_name, drop.schema, drop.items, drop.comment) == ("t", "s", columns, "c")
    again = drop.reverse()
    assert isinstance(again, CreateTableOp) and again.items == columns
    # The op's own columns stay unattached: each table gets copies.
    first, second = create.to_table(), again.to_table()
    assert first.c.id is not second.c.id and columns[0].table is None
    with pytest.raises(IrreversibleOperationError, match="columns are unknown"):
        DropTableOp("t").reverse()

    rename = RenameTableOp("a", "b", schema="s").reverse()
    assert (rename.old_table_name, rename.new_table_name, rename.schema) == ("b", "a", "s")


def test_comment_ops_reverse() -> None:
    first = CreateTableCommentOp("t", "new").reverse()
    assert isinstance(first, DropTableCommentOp) and first.existing_comment == "new"
    changed = CreateTableCommentOp("t", "new", existing_comment="old").reverse()
    assert isinstance(changed, CreateTableCommentOp)
    assert (changed.comment, changed.existing_comment) == ("old", "new")
    restored = DropTableCommentOp("t", existing_comment="old").reverse()
    assert restored.comment == "old"
    with pytest.raises(IrreversibleOperationError, match="existing_comment"):
        DropTableCommentOp("t").reverse()


def test_column_ops_reverse() -> None:
    column = sa.Column("x", sa.Integer)
    drop = AddColumnOp("t", column).reverse()
    assert (drop.column_name, drop.column) == ("x", column)
    assert drop.reverse().column is column
    with pytest.raises(IrreversibleOperationError, match="pass column="):
        DropColumnOp("t", "x").reverse()


def test_alter_column_reverse() -> None:
    op = AlterColumnOp(
        "t",
        "a",
        nullable=False,
        type_=sa.BigInteger(),
        existing_type=sa.Integer(),
        server_default="1",
        existing_server_default=None,
        comment="new",
        existing_comment="old",
        new_column_name="b",
    )
    back = op.reverse()
    assert back.column_name == "b" and back.new_column_name == "a"
    assert back.nullable is True  # a flip: it was nullable
    assert isinstance(back.type_, sa.Integer) and isinstance(back.existing_type, sa.BigInteger)
    assert back.server_default is None and back.existing_server_default == "1"
    assert (back.comment, back.existing_comment) == ("old", "new")
    assert back.reverse().type_ is op.type_
    untouched = AlterColumnOp("t", "a", new_column_name="b").reverse()
    assert untouched.nullable is None and untouched.server_default is False
    assert untouched.comment is False and untouched.type_ is None
    with pytest.raises(IrreversibleOperationError, match="existing_type"):
        AlterColumnOp("t", "a", type_=sa.Integer()).reverse()
    with pytest.raises(IrreversibleOperationError, match="existing_server_default"):
        AlterColumnOp("t", "a", server_default="x").reverse()


def test_index_and_constraint_ops_reverse() -> None:
    create = CreateIndexOp("ix", "t", ("a", sa.text("lower(b)")), unique=True)
    drop = create.reverse()
    assert isinstance(drop, DropIndexOp) and drop.reverse() is create
    index = create.to_index()
    assert index.unique and index.table is not None and index.table.name == "t"
    with pytest.raises(IrreversibleOperationError, match="create_op"):
        DropIndexOp("ix").reverse()

    fk = CreateForeignKeyOp("fk", "c", "p", ("p_id",), ("id",), referent_schema="s")
    dropped = fk.reverse()
    assert (dropped.constraint_name, dropped.table_name, dropped.type_) == (
        "fk",
        "c",
        "foreignkey",
    )
    assert dropped.reverse() is fk
    constraint = fk.to_constraint()
    assert isinstance(constraint, sa.ForeignKeyConstraint)
    assert constraint.elements[0].target_fullname == "s.p.id"
    assert CreateUniqueConstraintOp("uq", "t", ("a",)).reverse().type_ == "unique"
    assert CreateCheckConstraintOp("ck", "t", "a > 0").reverse().type_ == "check"
    with pytest.raises(IrreversibleOperationError, match="unnamed"):
        CreateUniqueConstraintOp(None, "t", ("a",)).reverse()
    with pytest.raises(IrreversibleOperationError, match="create_op"):
        DropConstraintOp("x", "t").reverse()


def test_grouped_ops_reverse_in_reverse_order() -> None:
    ops = (
        AddColumnOp("t", sa.Column("x", sa.Integer)),
        AlterColumnOp("t", "x", new_column_name="y"),
    )
    for group in (ModifyTableOps("t", ops), BatchAlterTableOp("t", ops)):
        back = group.reverse()
        first, second = back.ops
        assert isinstance(first, AlterColumnOp) and first.column_name == "y"
        assert isinstance(second, DropColumnOp) and second.column_name == "x"


def test_ops_hold_no_connection() -> None:
    op = CreateTableOp("t", (sa.Column("id", sa.Integer),))
    assert not any(isinstance(v, sa.engine.Connection) for v in vars(op).values())
    with pytest.raises(AttributeError):
        op.table_name = "u"  # type: ignore[misc]
