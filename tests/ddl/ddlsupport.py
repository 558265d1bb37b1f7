"""Test support for DDL: operations that compile SQL instead of running it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from whimbrel.config import Config
from whimbrel.ddl.impl import impl_for
from whimbrel.operations import Operations


class OfflineContext:
    """A ``MigrationContextLike`` without a database."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect

    @property
    def config(self) -> Config:
        return Config(script_location=Path("migrations"))

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def async_connection(self) -> AsyncConnection:
        raise AssertionError("no connection when SQL is only compiled")

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        yield


def compiling_ops(dialect: Dialect) -> Operations:
    """An ``Operations`` whose statements are captured in ``op.impl.captured``."""
    return Operations(OfflineContext(dialect), None, impl_for(dialect)(None, dialect))
