"""Whimbrel: async-first database migrations for SQLAlchemy."""

from whimbrel._version import __version__ as __version__
from whimbrel.config import Config as Config
from whimbrel.errors import WhimbrelError as WhimbrelError

__all__ = ("Config", "WhimbrelError", "__version__")
