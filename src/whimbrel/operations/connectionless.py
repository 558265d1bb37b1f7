"""The migration context and the bind of a run with no database connection.

Offline SQL (``--sql``) and lint's static run both execute revision scripts with a
configuration and a dialect only. What a script may ask without a database (the
configuration, the dialect, ``op.get_bind().dialect``) is answered here; anything else
raises the error each of them chooses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection

    from whimbrel.config import Config

__all__ = ("ConnectionlessContext", "DialectOnlyBind")


class DialectOnlyBind:
    """What ``op.get_bind()`` gives with no connection: the dialect, and nothing that runs SQL.

    Scripts often only ask the bind for its dialect (``op.get_bind().dialect.name``);
    any other attribute raises what ``refuse`` makes of its name.
    """

    def __init__(self, dialect: Dialect, refuse: Callable[[str], Exception]) -> None:
        self.dialect = dialect
        self._refuse = refuse

    def __getattr__(self, name: str) -> NoReturn:
        raise self._refuse(f"op.get_bind().{name}")


class ConnectionlessContext(ABC):
    """A migration context with a configuration and a dialect but no connection."""

    def __init__(self, config: Config, dialect: Dialect) -> None:
        self._config = config
        self._dialect = dialect

    @property
    def config(self) -> Config:
        return self._config

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def async_connection(self) -> AsyncConnection:
        raise self.refuse("the step's AsyncConnection")

    def bind(self) -> DialectOnlyBind:
        """The stand-in ``op.get_bind()`` returns."""
        return DialectOnlyBind(self._dialect, self.refuse)

    @abstractmethod
    def refuse(self, what: str) -> Exception:
        """The error for ``what``, which needs a live database connection."""
