"""Run revision files written for Alembic unchanged.

While Whimbrel imports a revision file that mentions ``alembic``, the names
``alembic``, ``alembic.op`` and ``alembic.context`` resolve to Whimbrel's stand-ins
(:mod:`whimbrel.operations.alembic_proxy`): ``op`` is the running step's operations
and ``context`` answers the calls scripts make (``get_x_argument``, ``config``,
``get_context``, ``get_bind``, ``is_offline_mode``); with no Whimbrel step running,
both defer to the real Alembic. ``sys.modules`` is restored as soon as the import
finishes, so an installed Alembic keeps working untouched, in the same process too.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ("alembic_names",)

_NAMES = ("alembic", "alembic.op", "alembic.context")


def _shim(real_path: list[str]) -> dict[str, types.ModuleType]:
    from whimbrel.operations.alembic_proxy import ALEMBIC_CONTEXT, ALEMBIC_OP, SHIM_MARKER

    op, context = ALEMBIC_OP, ALEMBIC_CONTEXT
    package = types.ModuleType("alembic", "Whimbrel's stand-in for alembic in revision files")
    # The real package's directory, when Alembic is installed: a module a revision
    # imports may itself import Alembic's submodules (``import alembic.command``).
    package.__path__ = real_path
    package.op = op  # type: ignore[attr-defined]
    package.context = context  # type: ignore[attr-defined]
    op_module = types.ModuleType("alembic.op")
    op_module.__getattr__ = lambda name: getattr(op, name)  # type: ignore[method-assign]
    context_module = types.ModuleType("alembic.context")
    context_module.__getattr__ = lambda name: getattr(context, name)  # type: ignore[method-assign]
    modules = {"alembic": package, "alembic.op": op_module, "alembic.context": context_module}
    for module in modules.values():
        setattr(module, SHIM_MARKER, True)
    return modules


# Where the installed Alembic package lives ([] if it is not installed), looked up
# once per process: a fan-out over 200 tenants loads every revision file 200 times.
_FOUND_PATH: list[str] | None = None


def _real_path() -> list[str]:
    global _FOUND_PATH
    real = sys.modules.get("alembic")
    if real is not None and not getattr(real, _marker(), False):
        return list(getattr(real, "__path__", []))
    if _FOUND_PATH is None:
        try:
            spec = importlib.util.find_spec("alembic")
        except (ImportError, ValueError):
            spec = None
        _FOUND_PATH = list(spec.submodule_search_locations or []) if spec is not None else []
    return list(_FOUND_PATH)


def _marker() -> str:
    from whimbrel.operations.alembic_proxy import SHIM_MARKER

    return SHIM_MARKER


class _Existing(importlib.abc.Loader):
    """A loader handing out a module that is already loaded."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _RealAlembic(importlib.abc.MetaPathFinder):
    """Load the real Alembic package the first time one of its submodules is wanted.

    A module a revision imports may do ``import alembic.command``; Alembic's
    submodules need their package initialised first, so the real ``alembic`` is
    imported (outside the stand-in) before the submodule loads from its directory.
    """

    def __init__(self, shims: dict[str, types.ModuleType]) -> None:
        self.shims = shims
        self.real: dict[str, types.ModuleType | None] | None = None
        self._busy = False
        # Whether a submodule of alembic was asked for: only then can one have been
        # loaded meanwhile (every such import comes here first).
        self.asked = False

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("alembic.") or fullname in _NAMES or self._busy:
            return None
        self.asked = True
        if self.real is None:
            self._busy = True
            for name in _NAMES:
                sys.modules.pop(name, None)
            try:
                importlib.import_module("alembic")
            except ImportError:
                pass
            finally:
                self.real = {name: sys.modules.get(name) for name in _NAMES}
                sys.modules.update(self.shims)
                self._busy = False
        loaded = sys.modules.get(fullname)
        if loaded is not None:
            return importlib.util.spec_from_loader(fullname, _Existing(loaded))
        return None


@contextmanager
def alembic_names() -> Iterator[None]:
    """Make ``alembic`` names resolve to Whimbrel's for the duration of the block."""
    saved = {name: sys.modules.get(name) for name in _NAMES}
    before = {name for name in saved if saved[name] is not None}
    if "alembic" in sys.modules:
        before |= {name for name in sys.modules if name.startswith("alembic.")}
    shims = _shim(_real_path())
    finder = _RealAlembic(shims)

    def fallback(name: str) -> Any:
        # Anything else a module asks of ``alembic`` comes from the real package.
        real = (finder.real or {}).get("alembic")
        if real is None:
            raise AttributeError(f"module 'alembic' has no attribute {name!r}")
        return getattr(real, name)

    shims["alembic"].__getattr__ = fallback  # type: ignore[method-assign]
    sys.modules.update(shims)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        originals = saved if finder.real is None else finder.real
        for name, module in originals.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        real = originals["alembic"]
        loaded = (
            [n for n in sys.modules if n.startswith("alembic.") and n not in before]
            if finder.asked
            else []
        )
        for name in loaded:
            if name in _NAMES:
                continue
            if real is not None:
                # Alembic's own submodules, loaded meanwhile: attach them to the real
                # package as an ordinary import would have.
                parent, _, child = name.rpartition(".")
                if parent == "alembic":
                    setattr(real, child, sys.modules[name])
            else:
                sys.modules.pop(name, None)
