"""Read an Alembic ``env.py`` without running it (``ast`` only).

What a conventional ``env.py`` says and Whimbrel has a key for is picked out:
``target_metadata``, ``version_table``, ``version_table_schema``,
``transaction_per_migration`` and a URL taken from an environment variable. Everything
else that changes behaviour is listed, with its line, for the notes.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ("EnvFindings", "Feature", "read_env")

# context.configure() options Whimbrel reads from its configuration instead.
CARRIED_OPTIONS = ("version_table", "version_table_schema", "transaction_per_migration")

_AUTOGENERATE = (
    "set it in the configuration's autogenerate table, autogenerate = {{ {name} = ... }} "
    "(a function as an import path, 'package.module:function'); "
    "whimbrel.autogenerate.AutogenerateOptions({name}=...) means the same from Python"
)

# Other configure() options, and what stands for them in Whimbrel.
OPTION_EQUIVALENTS: Mapping[str, str] = {
    **{
        name: _AUTOGENERATE.format(name=name)
        for name in (
            "include_object",
            "include_name",
            "include_schemas",
            "compare_type",
            "compare_server_default",
            "user_module_prefix",
        )
    },
    "render_as_batch": _AUTOGENERATE.format(name="render_as_batch")
    + " (its default, None, batches on SQLite when an alteration needs it); the "
    "batch_alter_table blocks of existing revisions run as they are",
    "include_symbol": _AUTOGENERATE.format(name="include_name"),
    "process_revision_directives": (
        "rewrites generated revisions; Whimbrel has no such hook: use a post_write_hooks "
        "program on the written file, or edit the revision"
    ),
    "render_item": "custom autogenerate rendering; no equivalent, edit generated revisions",
    "sqlalchemy_module_prefix": "autogenerate rendering prefix; no equivalent",
    "alembic_module_prefix": "autogenerate rendering prefix; no equivalent",
    "transactional_ddl": (
        "Whimbrel decides per dialect (PostgreSQL and SQLite transactional, MySQL/MariaDB "
        "not); mark a revision `transactional = False` or use `with op.autocommit_block():`"
    ),
    "version_table_pk": (
        "Whimbrel's version table always has Alembic's primary key <table>_pkc; a table "
        "made without one still works"
    ),
    "on_version_apply": (
        "use the on_step= callback of whimbrel.command.upgrade()/downgrade(), or the "
        "whimbrel_history table, which records every step"
    ),
    "tag": "no equivalent; pass values with -x key=value (config.get_x_argument)",
    "upgrade_token": "a multidb/template setting; Whimbrel's template is script.py.tmpl",
    "downgrade_token": "a multidb/template setting; Whimbrel's template is script.py.tmpl",
    "template_args": (
        "extra template values; Whimbrel's revision template (script.py.tmpl, "
        "string.Template) has a fixed set of placeholders"
    ),
    "output_buffer": (
        "offline (--sql) mode: whimbrel upgrade --sql prints the script; from Python, "
        "upgrade(config, sql=True, output=stream_or_path)"
    ),
    "starting_rev": "offline (--sql) mode: the start of the range, whimbrel upgrade FROM:TO --sql",
    "destination_rev": "offline (--sql) mode: the end of a range, whimbrel upgrade FROM:TO --sql",
}
# Options of the stock templates that need no note.
_QUIET_OPTIONS = frozenset(
    {"connection", "url", "target_metadata", "literal_binds", "dialect_opts"}
)


@dataclass(frozen=True, slots=True)
class Feature:
    """Something in ``env.py`` that Whimbrel does differently, and where."""

    topic: str
    line: int
    detail: str


@dataclass(frozen=True, slots=True)
class EnvFindings:
    """What a static reading of ``env.py`` found."""

    path: Path
    target_metadata: str | None = None
    target_metadata_line: int | None = None
    target_metadata_problem: str | None = None
    target_metadata_unset: bool = False  # None, or not assigned: no autogenerate
    options: Mapping[str, object] = field(default_factory=dict)
    option_lines: Mapping[str, int] = field(default_factory=dict)
    unresolved_options: tuple[Feature, ...] = ()
    url_env: tuple[str, str | None, int] | None = None  # (variable, default, line)
    features: tuple[Feature, ...] = ()


def read_env(
    path: Path,
    *,
    search_roots: Sequence[Path] = (),
    main_options: Mapping[str, str] | None = None,
) -> EnvFindings:
    """Read ``env.py`` statically.

    ``search_roots`` are the directories imports are resolved from (to tell a
    submodule from an attribute); ``main_options`` the ini main section, for
    ``config.get_main_option("key")`` arguments.

    Raises:
        SyntaxError: ``env.py`` is not valid Python.
        OSError: it cannot be read.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    reader = _EnvReader(path, tuple(search_roots), main_options or {})
    reader.read(tree)
    return reader.findings()


@dataclass
class _EnvReader:
    path: Path
    roots: tuple[Path, ...]
    main_options: Mapping[str, str]
    modules: dict[str, str] = field(default_factory=dict)  # local name -> module path
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, attr)
    target: ast.expr | None = None
    target_line: int | None = None
    options: dict[str, object] = field(default_factory=dict)
    option_lines: dict[str, int] = field(default_factory=dict)
    unresolved: list[Feature] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    seen_features: set[str] = field(default_factory=set)
    url_env: tuple[str, str | None, int] | None = None

    def read(self, tree: ast.Module) -> None:
        self._module_level(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        self._option(key.value, value, key.lineno)
            elif isinstance(node, ast.AsyncFunctionDef | ast.Await):
                self._feature("async", node.lineno, "an async env.py (the async template)")

    # -- module-level statements: imports and the target_metadata assignment

    def _module_level(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname is not None:
                        self.modules[alias.asname] = alias.name
                    else:
                        # `import a.b.c` binds `a`; chains starting there may go deeper.
                        self.modules.setdefault(alias.name.partition(".")[0], "")
                        self.modules[alias.name] = alias.name
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                for alias in stmt.names:
                    if alias.name != "*":
                        self.names[alias.asname or alias.name] = (stmt.module, alias.name)
            elif isinstance(stmt, ast.ImportFrom) and stmt.level > 0:
                self._feature(
                    "relative import",
                    stmt.lineno,
                    "a relative import; env.py is not imported as part of a package",
                )
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if stmt.value is not None and any(
                    isinstance(t, ast.Name) and t.id == "target_metadata" for t in targets
                ):
                    self.target, self.target_line = stmt.value, stmt.lineno
            elif isinstance(stmt, ast.If | ast.Try | ast.With):
                inner: list[ast.stmt] = list(stmt.body)
                if isinstance(stmt, ast.If | ast.Try):
                    inner += stmt.orelse
                if isinstance(stmt, ast.Try):
                    for handler in stmt.handlers:
                        inner += handler.body
                self._module_level(inner)

    # -- calls: configure() options, URL overrides, and features

    def _call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        last = name.rpartition(".")[2] if name else ""
        if last in ("configure", "dict"):
            for kw in node.keywords:
                if kw.arg is not None:
                    self._option(kw.arg, kw.value, kw.value.lineno)
        if last == "set_main_option" and node.args:
            key = _constant_str(node.args[0])
            if key == "sqlalchemy.url" and len(node.args) > 1:
                env = _env_lookup(node.args[1])
                if env is not None:
                    self.url_env = (*env, node.lineno)
                else:
                    self._feature(
                        "sqlalchemy.url set in code",
                        node.lineno,
                        f"env.py sets the URL with {ast.unparse(node.args[1])}",
                    )
        simple = {
            "fileConfig": ("logging", "configures logging from alembic.ini"),
            "dictConfig": ("logging", "configures logging"),
            "async_engine_from_config": ("async", "an async env.py (the async template)"),
            "get_x_argument": ("-x arguments", "reads -x arguments"),
            "run_async": ("async", "an async env.py"),
        }
        if last in simple:
            self._feature(*simple[last][:1], node.lineno, simple[last][1])
        if name == "asyncio.run":
            self._feature("async", node.lineno, "runs an event loop of its own (asyncio.run)")
        if last in ("get_main_option", "get_alembic_option") and node.args:
            key = _constant_str(node.args[0])
            if key == "databases":
                self._feature("multidb", node.lineno, "runs several databases (multidb)")
        if name in ("sys.path.insert", "sys.path.append", "sys.path.extend"):
            self._feature("sys.path", node.lineno, f"changes sys.path ({name})")
        if last == "register" and "write_hooks" in name:
            self._feature("custom write hook", node.lineno, "registers a post-write hook type")
        if last in ("engine_from_config", "create_engine", "create_async_engine"):
            extra = [kw.arg for kw in node.keywords if kw.arg not in (None, "prefix", "poolclass")]
            if extra:
                self._feature(
                    "engine options",
                    node.lineno,
                    f"builds its engine with {', '.join(str(e) for e in extra)}",
                )
        if last == "execute":
            self._feature("SQL on connect", node.lineno, "runs SQL before migrating")
        if name.endswith(".attributes.get"):
            self._feature(
                "config.attributes", node.lineno, "takes a connection from config.attributes"
            )

    def _option(self, key: str, value: ast.expr, line: int) -> None:
        if key in CARRIED_OPTIONS:
            literal = self._literal(value)
            if literal is _UNKNOWN:
                self.unresolved.append(Feature(key, line, ast.unparse(value)))
            else:
                self.options[key], self.option_lines[key] = literal, line
        elif key in OPTION_EQUIVALENTS and key not in _QUIET_OPTIONS:
            self._feature(f"{key}", line, f"configure({key}={_short(value)})")

    def _literal(self, value: ast.expr) -> object:
        try:
            return ast.literal_eval(value)
        except ValueError:
            pass
        # version_table=config.get_main_option("version_table") and the like.
        if isinstance(value, ast.Call) and value.args:
            name = _dotted(value.func)
            key = _constant_str(value.args[0])
            if name.endswith(("get_main_option", "get_alembic_option")) and key is not None:
                found = self.main_options.get(key)
                if found is not None:
                    return found
                if len(value.args) > 1:
                    try:
                        return ast.literal_eval(value.args[1])
                    except ValueError:
                        return _UNKNOWN
        return _UNKNOWN

    def _feature(self, topic: str, line: int, detail: str) -> None:
        if topic not in self.seen_features:
            self.seen_features.add(topic)
            self.features.append(Feature(topic, line, detail))

    # -- target_metadata

    def _target(self) -> tuple[str | None, str | None]:
        value = self.target
        if value is None:
            return None, "env.py assigns no target_metadata at module level"
        if isinstance(value, ast.Constant) and value.value is None:
            return None, "env.py sets target_metadata = None"
        chain = _chain(value)
        if chain is None:
            return None, f"target_metadata = {_short(value)} is not a plain import path"
        head, rest = chain[0], chain[1:]
        if head in self.names:
            module, attr = self.names[head]
            if rest and self._is_module(f"{module}.{attr}"):
                return f"{module}.{attr}:{'.'.join(rest)}", None
            return f"{module}:{'.'.join([attr, *rest])}", None
        # The longest imported module path that the chain starts with.
        for cut in range(len(chain) - 1, 0, -1):
            dotted = ".".join(chain[:cut])
            if self.modules.get(dotted):
                return f"{self.modules[dotted]}:{'.'.join(chain[cut:])}", None
        return None, f"target_metadata = {_short(value)}: {head!r} is not imported at top level"

    def _is_module(self, dotted: str) -> bool:
        parts = dotted.split(".")
        roots = list(self.roots)
        try:
            # Where an installed top-level package lives; finding it executes nothing.
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            roots += [Path(p).parent for p in spec.submodule_search_locations]
        for root in roots:
            base = root.joinpath(*parts)
            if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
                return True
            if base.is_dir() and any(base.glob("*.py")):
                return True  # a namespace package
        return False

    def findings(self) -> EnvFindings:
        spec, problem = self._target()
        return EnvFindings(
            path=self.path,
            target_metadata=spec,
            target_metadata_line=self.target_line,
            target_metadata_problem=problem,
            target_metadata_unset=self.target is None
            or (isinstance(self.target, ast.Constant) and self.target.value is None),
            options=dict(self.options),
            option_lines=dict(self.option_lines),
            unresolved_options=tuple(self.unresolved),
            url_env=self.url_env,
            features=tuple(self.features),
        )


_UNKNOWN = object()


def _dotted(node: ast.expr) -> str:
    chain = _chain(node)
    return ".".join(chain) if chain else ""


def _chain(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _constant_str(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _short(node: ast.expr, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _env_lookup(node: ast.expr) -> tuple[str, str | None] | None:
    """``os.environ["X"]``, ``os.environ.get("X"[, d])``, ``os.getenv("X"[, d])``."""
    if isinstance(node, ast.Subscript) and _dotted(node.value) in ("os.environ", "environ"):
        key = _constant_str(node.slice)
        return None if key is None else (key, None)
    if isinstance(node, ast.Call) and node.args:
        name = _dotted(node.func)
        if name in ("os.environ.get", "environ.get", "os.getenv", "getenv"):
            key = _constant_str(node.args[0])
            default = _constant_str(node.args[1]) if len(node.args) > 1 else None
            if key is not None and (len(node.args) == 1 or default is not None):
                return key, default
    return None
