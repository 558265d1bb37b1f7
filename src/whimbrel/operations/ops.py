"""The operation objects, in one namespace: ``from whimbrel.operations.ops import *Op``.

Each ``op.*`` call builds one of these frozen dataclasses and hands it to the
dialect implementation; autogenerate and offline SQL use the same objects. They hold
plain data and never a connection. Every one has ``reverse()``, which raises
:class:`~whimbrel.errors.IrreversibleOperationError` when the reverse cannot be known.
"""

from whimbrel.operations.constraint_ops import (
    AddConstraintOp,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
    DropIndexOp,
    IndexColumn,
)
from whimbrel.operations.misc_ops import (
    AddEnumValueOp,
    BatchAlterTableOp,
    BatchOptions,
    BulkInsertOp,
    ExecuteSQLOp,
    ModifyTableOps,
    Recreate,
)
from whimbrel.operations.opbase import ConstraintType, MigrateOperation
from whimbrel.operations.table_ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    CreateTableOp,
    DropColumnOp,
    DropTableCommentOp,
    DropTableOp,
    RenameTableOp,
)

__all__ = (
    "AddColumnOp",
    "AddConstraintOp",
    "AddEnumValueOp",
    "AlterColumnOp",
    "BatchAlterTableOp",
    "BatchOptions",
    "BulkInsertOp",
    "ConstraintType",
    "CreateCheckConstraintOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreateIndexOp",
    "CreatePrimaryKeyOp",
    "CreateTableCommentOp",
    "CreateTableOp",
    "CreateUniqueConstraintOp",
    "DropColumnOp",
    "DropConstraintOp",
    "DropIndexOp",
    "DropTableCommentOp",
    "DropTableOp",
    "ExecuteSQLOp",
    "IndexColumn",
    "MigrateOperation",
    "ModifyTableOps",
    "Recreate",
    "RenameTableOp",
)
