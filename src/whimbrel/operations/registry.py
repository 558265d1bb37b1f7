"""User-defined operations: ``register_operation`` and ``implementation_for``.

Registrations are code, like a dialect registry: they live on the ``Operations``
class they were made on (a subclass gets its own copy on first registration, so a
project can keep its operations to an ``Operations`` subclass). Nothing here holds
migration state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from whimbrel.errors import OperationError
from whimbrel.operations.opbase import MigrateOperation

if TYPE_CHECKING:
    from whimbrel.operations.toimpl import ImplementationFn

__all__ = ("OperationRegistry",)

OpT = TypeVar("OpT", bound=type[MigrateOperation])
FnT = TypeVar("FnT", bound=Callable[..., Any])


class OperationRegistry:
    """Class-level registries of user-defined operations and implementations."""

    _custom_operations: ClassVar[dict[str, tuple[type[MigrateOperation], str]]] = {}
    _custom_implementations: ClassVar[dict[type[MigrateOperation], ImplementationFn]] = {}

    @classmethod
    def register_operation(cls, name: str, sourcename: str | None = None) -> Callable[[OpT], OpT]:
        """Class decorator: make ``op.<name>(...)`` call ``OpClass.<sourcename>(op, ...)``.

        The operation class defines a classmethod (named ``name`` unless
        ``sourcename`` says otherwise) that builds the operation object and returns
        ``operations.invoke(operation)``. Type checkers do not see the new method;
        typed code may call ``OpClass.<sourcename>(op, ...)`` directly.

        Raises:
            OperationError: ``name`` is taken, or the class has no such classmethod.
        """

        def register(op_cls: OpT) -> OpT:
            source = sourcename or name
            if name in dir(cls) and name not in cls._custom_operations:
                raise OperationError(f"op.{name}() already exists; choose another name")
            if not callable(getattr(op_cls, source, None)):
                raise OperationError(
                    f"{op_cls.__name__} has no classmethod {source!r} to back op.{name}()"
                )
            if "_custom_operations" not in cls.__dict__:
                cls._custom_operations = dict(cls._custom_operations)
            cls._custom_operations[name] = (op_cls, source)
            return op_cls

        return register

    @classmethod
    def implementation_for(cls, op_cls: type[MigrateOperation]) -> Callable[[FnT], FnT]:
        """Decorator: ``fn(operations, operation)`` carries out ``op_cls`` operations.

        Raises:
            OperationError: ``op_cls`` is not a ``MigrateOperation`` subclass.
        """
        if not (isinstance(op_cls, type) and issubclass(op_cls, MigrateOperation)):
            raise OperationError(f"{op_cls!r} is not a MigrateOperation subclass")

        def register(fn: FnT) -> FnT:
            if "_custom_implementations" not in cls.__dict__:
                cls._custom_implementations = dict(cls._custom_implementations)
            cls._custom_implementations[op_cls] = fn
            return fn

        return register

    @classmethod
    def find_implementation(cls, op_cls: type[MigrateOperation]) -> ImplementationFn | None:
        """The implementation for ``op_cls``: user-registered first, then built-in."""
        from whimbrel.operations.toimpl import BUILTIN

        for klass in op_cls.__mro__:
            fn = cls._custom_implementations.get(klass)
            if fn is not None:
                return fn
        for klass in op_cls.__mro__:
            fn = BUILTIN.get(klass)
            if fn is not None:
                return fn
        return None

    @classmethod
    def custom_operation(cls, name: str) -> tuple[type[MigrateOperation], str] | None:
        """The operation class and classmethod registered as ``name``, if any."""
        return cls._custom_operations.get(name)
