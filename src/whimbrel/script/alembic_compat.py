"""Run revision files written for Alembic unchanged.

While Whimbrel imports a revision file that mentions ``alembic``, the names
``alembic``, ``alembic.op`` and ``alembic.context`` resolve to Whimbrel's objects:
``op`` is Whimbrel's operations proxy and ``context`` answers the calls scripts make
(``get_x_argument``, ``config``, ``get_context``, ``get_bind``,
``is_offline_mode``). ``sys.modules`` is restored as soon as the import finishes, so
an installed Alembic keeps working untouched, in the same process too.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ("alembic_names",)

_NAMES = ("alembic", "alembic.op", "alembic.context")


class _Context:
    """What ``from alembic import context`` gives a revision file under Whimbrel."""

    def _migration(self) -> Any:
        from whimbrel.operations.base import current_operations

        return current_operations().get_context()

    @property
    def config(self) -> Any:
        return self._migration().config

    def get_x_argument(self, as_dictionary: bool = False) -> Any:
        x_args: dict[str, str] = self.config.x_args
        if as_dictionary:
            return dict(x_args)
        return [f"{key}={value}" for key, value in x_args.items()]

    def get_context(self) -> Any:
        return self._migration()

    def get_bind(self) -> Any:
        from whimbrel.operations.base import current_operations

        return current_operations().get_bind()

    def is_offline_mode(self) -> bool:
        return False


def _shim() -> dict[str, types.ModuleType]:
    from whimbrel import op

    context = _Context()
    package = types.ModuleType("alembic", "Whimbrel's stand-in for alembic in revision files")
    package.__path__ = []
    package.op = op  # type: ignore[attr-defined]
    package.context = context  # type: ignore[attr-defined]
    op_module = types.ModuleType("alembic.op")
    op_module.__getattr__ = lambda name: getattr(op, name)  # type: ignore[method-assign]
    context_module = types.ModuleType("alembic.context")
    context_module.__getattr__ = lambda name: getattr(context, name)  # type: ignore[method-assign]
    return {"alembic": package, "alembic.op": op_module, "alembic.context": context_module}


@contextmanager
def alembic_names() -> Iterator[None]:
    """Make ``alembic`` names resolve to Whimbrel's for the duration of the block."""
    saved = {name: sys.modules.get(name) for name in _NAMES}
    sys.modules.update(_shim())
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
