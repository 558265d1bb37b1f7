"""Whimbrel: async-first database migrations for SQLAlchemy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from whimbrel._version import __version__ as __version__
from whimbrel.config import Config as Config
from whimbrel.errors import WhimbrelError as WhimbrelError
from whimbrel.lifespan import lifespan as lifespan
from whimbrel.lifespan import migrate_on_startup as migrate_on_startup

if TYPE_CHECKING:
    from whimbrel.operations.base import Operations

__all__ = ("Config", "WhimbrelError", "__version__", "lifespan", "migrate_on_startup", "op")


class _OperationsProxy:
    """``whimbrel.op``: the operations of the step running in this context."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        # Imported here: operations pull in SQLAlchemy, which CLI start-up avoids.
        from whimbrel.operations.base import current_operations

        return getattr(current_operations(), name)

    def __repr__(self) -> str:
        return "<whimbrel.op: the running step's Operations>"


op: Operations = cast("Operations", _OperationsProxy())
"""The running step's :class:`~whimbrel.operations.Operations` (a context-local proxy)."""
