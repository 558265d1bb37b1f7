"""A Griffe extension: Sphinx roles in Whimbrel's docstrings become links.

The docstrings cross-reference with reStructuredText roles (``:func:`upgrade```,
``:class:`~whimbrel.config.Config```), which Markdown would show as written. Each role
is turned into an optional mkdocs-autorefs reference: a link where the target is
documented on the site, plain code where it is not (a standard-library class, a
private module), so no role can break the strict build.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, GriffeLoader, Module, Object

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|exc|data|obj|const):`([~.]?)([^`]+)`")
# reST's "text::" introduces a literal block; Markdown needs just "text:".
_LITERAL_MARKER = re.compile(r"(\S)::$", re.MULTILINE)


class SphinxRoles(Extension):
    """Rewrite the roles of every docstring in a package once it is loaded."""

    def on_package(self, *, pkg: Module, loader: GriffeLoader, **kwargs: Any) -> None:
        self._rewrite(pkg, loader)

    def _rewrite(self, obj: Object, loader: GriffeLoader) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(lambda m: self._link(obj, loader, m), obj.docstring.value)
            obj.docstring.value = _LITERAL_MARKER.sub(r"\1:", text)
        for member in obj.members.values():
            if not member.is_alias and isinstance(member, Object):
                self._rewrite(member, loader)

    def _link(self, obj: Object, loader: GriffeLoader, match: re.Match[str]) -> str:
        prefix, name = match.groups()
        title = name.rsplit(".", 1)[-1] if prefix == "~" else name
        target = _target(obj, name, loader)
        if target is None:
            return f"`{title}`"
        return f'<autoref identifier="{target}" optional><code>{title}</code></autoref>'


def _target(obj: Object, name: str, loader: GriffeLoader) -> str | None:
    """The canonical path ``name`` means where ``obj`` is documented, if known."""
    head, _, rest = name.partition(".")
    candidates = [name]
    try:
        resolved = obj.resolve(head)
    except Exception:  # a name Griffe cannot see from here: try it as written
        pass
    else:
        candidates.insert(0, f"{resolved}.{rest}" if rest else resolved)
    for path in candidates:
        try:
            found = loader.modules_collection[path]
            return str(found.canonical_path)
        except Exception:  # not loaded, or an alias to something outside
            continue
    return None
