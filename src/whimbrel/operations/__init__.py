"""Operations: what revision scripts call as ``op.*``."""

from whimbrel.operations.base import Operations as Operations
from whimbrel.operations.batch import BatchOperations as BatchOperations

__all__ = ("BatchOperations", "Operations")
