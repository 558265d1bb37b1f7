"""Alembic's ``op`` and ``context``, pointed at Whimbrel's while Whimbrel runs a step.

Code written for Alembic reaches the running migration through ``alembic.op`` and
``alembic.context``. Two cases need care when both tools run in one process:

* A module imported under Alembic first (a revision's helper doing
  ``from alembic import op``) keeps Alembic's real ``alembic.op`` module, whose
  functions call whatever its ``_proxy`` global holds. Alembic sets that global only
  while Alembic runs. :func:`alembic_proxies` points it (and ``alembic.context``'s) at
  Whimbrel while a Whimbrel step is bound, and puts the previous values back when the
  last step in the process ends: nothing is left behind.
* A module imported under Whimbrel first keeps Whimbrel's stand-ins
  (:data:`ALEMBIC_OP`, :data:`ALEMBIC_CONTEXT`). They answer with Whimbrel's objects
  while a Whimbrel step runs, and with the real Alembic's otherwise, so Alembic run
  later in the same process finds its own.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from whimbrel.operations.base import Operations

__all__ = ("ALEMBIC_CONTEXT", "ALEMBIC_OP", "SHIM_MARKER", "alembic_proxies")

SHIM_MARKER = "__whimbrel_shim__"
"""Set on the stand-in modules, which must never be taken for the real Alembic."""

_MISSING: Any = object()


def _bound() -> Operations | None:
    from whimbrel.operations.base import bound_operations

    return bound_operations()


def _required() -> Operations:
    from whimbrel.operations.base import current_operations

    return current_operations()


def _real(name: str) -> types.ModuleType | None:
    module = sys.modules.get(name)
    if module is None or getattr(module, SHIM_MARKER, False):
        return None
    return module


class _StepContext:
    """``alembic.context`` answered from the running Whimbrel step.

    Knows the calls revision files make: ``config``, ``get_x_argument``,
    ``get_context``, ``get_bind``, ``execute`` and ``is_offline_mode``.
    """

    __slots__ = ()

    @property
    def config(self) -> Any:
        return _required().get_context().config

    def get_x_argument(self, as_dictionary: bool = False) -> Any:
        x_args: dict[str, str] = self.config.x_args
        if as_dictionary:
            return dict(x_args)
        return [f"{key}={value}" for key, value in x_args.items()]

    def get_context(self) -> Any:
        return _required().get_context()

    def get_bind(self) -> Any:
        return _required().get_bind()

    def execute(self, sql: Any, execution_options: dict[str, Any] | None = None) -> None:
        _required().execute(sql, execution_options=execution_options)

    def is_offline_mode(self) -> bool:
        # True while offline SQL (--sql) writes the step (OfflineContext.offline).
        return bool(getattr(_required().get_context(), "offline", False))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"alembic.context.{name} is not available under Whimbrel")


_STEP_CONTEXT = _StepContext()


def _step_context() -> _StepContext:
    return _STEP_CONTEXT


class _Either:
    """A stand-in for an Alembic module: Whimbrel's while a step runs, else Alembic's."""

    __slots__ = ("_module", "_ours")

    def __init__(self, module: str, ours: Callable[[], Any]) -> None:
        self._module = module
        self._ours = ours

    def __getattr__(self, name: str) -> Any:
        if _bound() is None:
            real = _real(self._module)
            if real is not None:
                return getattr(real, name)
        return getattr(self._ours(), name)

    def __repr__(self) -> str:
        return f"<{self._module} under Whimbrel>"


ALEMBIC_OP: Any = _Either("alembic.op", _required)
"""What ``alembic.op`` is in a module Whimbrel imports."""

ALEMBIC_CONTEXT: Any = _Either("alembic.context", _step_context)
"""What ``alembic.context`` is in a module Whimbrel imports."""


class _Forward:
    """The ``_proxy`` given to the real ``alembic.op``/``alembic.context`` modules.

    In a context where a Whimbrel step runs, it is Whimbrel's; elsewhere (Alembic
    running in another thread meanwhile) it is whatever the module held before.
    """

    __slots__ = ("_ours", "previous")

    def __init__(self, ours: Callable[[], Any], previous: Any) -> None:
        self._ours = ours
        self.previous = previous

    def __getattr__(self, name: str) -> Any:
        if _bound() is None and self.previous not in (None, _MISSING):
            return getattr(self.previous, name)
        return getattr(self._ours(), name)


class _Installed:
    """How many steps are bound in the process, and what the modules held before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: dict[str, tuple[types.ModuleType, dict[str, Any]]] = {}


# A counter, not state a migration can see: the real modules must be patched once
# for all concurrent steps and restored only when the last one ends.
_installed = _Installed()


def _config_getattr(name: str) -> Any:
    # alembic.context's module-level attributes (config, script), which Alembic
    # sets only while it runs; config is the running step's.
    if name == "config":
        return _required().get_context().config
    raise AttributeError(f"module 'alembic.context' has no attribute {name!r}")


def _patch() -> None:
    patches: tuple[tuple[str, Callable[[], Any], dict[str, Any]], ...] = (
        ("alembic.op", _required, {}),
        ("alembic.context", _step_context, {"__getattr__": _config_getattr}),
    )
    for name, ours, extra in patches:
        module = _real(name)
        if module is None:
            continue
        namespace = vars(module)
        keys = ("_proxy", *extra)
        before = {key: namespace.get(key, _MISSING) for key in keys}
        namespace["_proxy"] = _Forward(ours, before["_proxy"])
        namespace.update(extra)
        _installed.saved[name] = (module, before)


def _restore() -> None:
    for module, before in _installed.saved.values():
        namespace = vars(module)
        current = namespace.get("_proxy")
        if not isinstance(current, _Forward):
            # Alembic set its own meanwhile; it removes it itself.
            before = {k: v for k, v in before.items() if k != "_proxy"}
        for key, value in before.items():
            if value is _MISSING:
                namespace.pop(key, None)
            else:
                namespace[key] = value
    _installed.saved.clear()


@contextmanager
def alembic_proxies() -> Iterator[None]:
    """Point the real Alembic's ``op`` and ``context`` at Whimbrel for the block.

    Does nothing to modules that are not loaded. Nested and concurrent blocks share
    one installation, undone when the last of them ends.
    """
    if "alembic" not in sys.modules:
        yield
        return
    with _installed.lock:
        if _installed.depth == 0:
            _patch()
        _installed.depth += 1
    try:
        yield
    finally:
        with _installed.lock:
            _installed.depth -= 1
            if _installed.depth == 0:
                _restore()
