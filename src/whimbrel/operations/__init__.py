"""Operations: what revision scripts call as ``op.*``."""

from whimbrel.operations.base import Operations as Operations

__all__ = ("Operations",)
