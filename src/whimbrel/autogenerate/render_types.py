"""Types, defaults and schema items as Python source, with the imports they need.

SQLAlchemy's generic types render as ``sa.String(length=50)``; dialect types as
``postgresql.ENUM(...)`` with ``from sqlalchemy.dialects import postgresql``; other
types (a project's ``TypeDecorator``) by their import path,
``from myapp.types import Money`` and ``Money(...)``, or with
``user_module_prefix``. Arguments are read back from the type's attributes, keeping
those that differ from the constructor's defaults.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.schema import DefaultClause
from sqlalchemy.sql.elements import ClauseElement, TextClause
from sqlalchemy.types import TypeEngine

from whimbrel.autogenerate.compare.context import ddl_compiler
from whimbrel.autogenerate.layout import Atom, Call, Node, Seq, Text

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

__all__ = ("TypeRenderer",)

_DIALECT_MODULE = re.compile(r"^sqlalchemy\.dialects\.(\w+)")
_MISSING = object()
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


class TypeRenderer:
    """Renders types and values, collecting the imports they need.

    Args:
        dialect: compiles SQL expressions (server defaults) into text.
        user_module_prefix: see :class:`~whimbrel.autogenerate.AutogenerateOptions`.
    """

    def __init__(self, dialect: Dialect, user_module_prefix: str | None = None) -> None:
        self.dialect = dialect
        self.user_module_prefix = user_module_prefix
        self.imports: set[str] = set()

    # -- names ----------------------------------------------------------------------------

    def class_name(self, cls: type) -> str:
        """How to refer to ``cls`` in the script (adding its import)."""
        module = cls.__module__
        name = cls.__name__
        if module.startswith("sqlalchemy.") and not _DIALECT_MODULE.match(module):
            if getattr(sa, name, None) is cls or getattr(sa.types, name, None) is cls:
                return f"sa.{name}"
            self.imports.add(f"from {module} import {name}")
            return name
        dialect = _DIALECT_MODULE.match(module)
        if dialect is not None:
            self.imports.add(f"from sqlalchemy.dialects import {dialect.group(1)}")
            return f"{dialect.group(1)}.{name}"
        prefix = self.user_module_prefix
        if prefix:
            package = prefix.rstrip(".")
            if _DOTTED.fullmatch(package):
                self.imports.add(f"import {package}")
            return f"{prefix}{name}"
        self.imports.add(f"from {module} import {name}")
        return name

    # -- values ---------------------------------------------------------------------------

    def value(self, value: Any) -> Node | None:
        """A Python value as source (``None`` when it cannot be written)."""
        if value is None or isinstance(value, bool | int | float):
            return Atom(repr(value))
        if isinstance(value, str):
            return Text(value)
        if isinstance(value, TypeEngine):
            return self.type(value)
        if isinstance(value, type) and issubclass(value, TypeEngine):
            return Atom(self.class_name(value))
        if isinstance(value, list | tuple):
            items = [self.value(v) for v in value]
            if any(i is None for i in items):
                return None
            brackets = "[]" if isinstance(value, list) else "()"
            return Seq(tuple(i for i in items if i is not None), brackets)
        return None

    def sql(self, element: Any) -> Node:
        """A server default or SQL expression: a string literal, or ``sa.text(...)``."""
        if isinstance(element, DefaultClause):
            element = element.arg
        if isinstance(element, str):
            return Text(element)
        if isinstance(element, TextClause):
            return Call.of("sa.text", Text(element.text))
        if isinstance(element, ClauseElement):
            compiler = ddl_compiler(self.dialect)
            sql = compiler.sql_compiler.process(element, include_table=False, literal_binds=True)
            return Call.of("sa.text", Text(str(sql)))
        return Text(str(element))

    # -- types ----------------------------------------------------------------------------

    def type(self, type_: TypeEngine[Any]) -> Node:
        """``sa.String(length=50)``, ``postgresql.ENUM(...)``, ``Money()``..."""
        variants = getattr(type_, "_variant_mapping", None) or {}
        if variants:
            base = type_.copy()
            base._variant_mapping = base._variant_mapping.__class__()
            node: Node = self._plain_type(base)
            for dialect_name in sorted(variants):
                node = Call.of(
                    f"{_flat(node)}.with_variant",
                    self.type(variants[dialect_name]),
                    Text(dialect_name),
                )
            return node
        return self._plain_type(type_)

    def _plain_type(self, type_: TypeEngine[Any]) -> Node:
        name = self.class_name(type(type_))
        if isinstance(type_, sa.Enum):
            return self._enum(name, type_)
        if isinstance(type_, sa.ARRAY):
            kwargs = self._keywords(type_, skip={"item_type"})
            return Call(name, (self.type(type_.item_type), *kwargs))
        return Call(name, tuple(self._keywords(type_)))

    def _enum(self, name: str, type_: sa.Enum) -> Node:
        args: list[Node] = [Text(v) for v in type_.enums]
        kw: dict[str, Node] = {}
        if type_.name is not None:
            kw["name"] = Text(type_.name)
        if type_.schema is not None:
            kw["schema"] = Text(type_.schema)
        if not type_.native_enum:
            kw["native_enum"] = Atom("False")
        if type_.create_constraint:
            kw["create_constraint"] = Atom("True")
        if getattr(type_, "create_type", True) is False:
            kw["create_type"] = Atom("False")
        for attr in ("charset", "collation"):
            found = getattr(type_, attr, None)
            if found is not None:
                kw[attr] = Text(found)
        return Call.of(name, *args, **kw)

    def _keywords(
        self, type_: TypeEngine[Any], skip: frozenset[str] | set[str] = frozenset()
    ) -> list[Node]:
        from whimbrel.autogenerate.layout import Kw

        out: list[Node] = []
        seen: set[str] = set(skip)
        for cls in type(type_).__mro__:
            init = cls.__dict__.get("__init__")
            if init is None or cls is object:
                continue
            try:
                parameters = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                continue
            for p in parameters:
                if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                if p.name in seen:
                    continue
                seen.add(p.name)
                value = getattr(type_, p.name, _MISSING)
                if value is _MISSING or (callable(value) and not isinstance(value, TypeEngine)):
                    continue
                default = p.default
                if default is not p.empty and _same(value, default):
                    continue
                if default is p.empty and value is None:
                    continue
                rendered = self.value(value)
                if rendered is not None:
                    out.append(Kw(p.name, rendered))
            if "__init__" in cls.__dict__ and not _passes_kwargs(cls):
                break
        return out


def _passes_kwargs(cls: type) -> bool:
    try:
        parameters = inspect.signature(cls.__dict__["__init__"]).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind == p.VAR_KEYWORD for p in parameters)


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, TypeEngine) or isinstance(default, TypeEngine):
        return value is default
    try:
        return bool(value == default)
    except Exception:
        return False


def _flat(node: Node) -> str:
    from whimbrel.autogenerate.layout import flat

    return flat(node)
