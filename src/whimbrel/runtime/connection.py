"""Getting an ``AsyncConnection`` for a command, and the optional ``env.py`` hooks.

In order of preference a command runs on: a ``connection=`` argument, then
``config.attributes["connection"]``, an ``engine=`` argument, then
``config.attributes["engine"]``, an engine made by ``env.py``'s ``create_engine``
hook, and finally an engine created from the configured URL (disposed of at the end).

``env.py`` is optional. When the script directory has one, Whimbrel imports it and
**awaits** these module-level coroutine functions if they are defined:

* ``async def create_engine(config: Config) -> AsyncEngine`` — build the engine
  yourself (connect arguments, pool settings, credentials from a vault...).
* ``async def on_connect(connection: AsyncConnection, config: Config) -> None`` —
  prepare the connection before anything runs (``SET search_path``, session settings).
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio

from whimbrel.config import mask_url, mask_urls
from whimbrel.errors import ConfigError, DatabaseError, ScriptError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config

__all__ = ("Connected", "EnvHooks", "connect", "load_env", "sqlite_file_missing")


@dataclass(frozen=True, slots=True)
class EnvHooks:
    """The hooks an ``env.py`` defines (each ``None`` when absent)."""

    create_engine: Callable[[Config], Awaitable[AsyncEngine]] | None = None
    on_connect: Callable[[AsyncConnection, Config], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    """A connection for one command, and who owns its transaction."""

    connection: AsyncConnection
    shared: bool
    database: str


def load_env(config: Config) -> EnvHooks:
    """Import ``env.py`` from the script directory, if there is one.

    Raises:
        ScriptError: ``env.py`` cannot be imported, or a hook is not ``async def``.
    """
    path = config.script_location / "env.py"
    if not path.is_file() or _is_alembic_env(path):
        return EnvHooks()
    spec = importlib.util.spec_from_file_location("whimbrel_env", path)
    if spec is None or spec.loader is None:
        raise ScriptError("cannot be imported as a Python module", path=path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    with config.extended_sys_path():
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ScriptError(
                f"importing env.py failed: {type(exc).__name__}: {exc}", path=path
            ) from exc
    hooks: dict[str, Any] = {}
    for name in ("create_engine", "on_connect"):
        fn = getattr(module, name, None)
        if fn is None:
            continue
        if not inspect.iscoroutinefunction(fn):
            raise ScriptError(
                f"env.py hook {name}() must be 'async def': Whimbrel awaits it", path=path
            )
        hooks[name] = fn
    return EnvHooks(**hooks)


def _is_alembic_env(path: Path) -> bool:
    """Whether an env.py is Alembic's: it imports alembic, so it is not Whimbrel's.

    An adopted Alembic project keeps its env.py beside the revisions; importing it
    would run Alembic's migrations, so Whimbrel leaves it alone.
    """
    import ast

    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return False  # let the import report it, with file and line
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "alembic" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "alembic":
            return True
    return False


def _database_label(engine_or_conn: AsyncEngine | AsyncConnection) -> str:
    return mask_url(engine_or_conn.engine.url.render_as_string(hide_password=True))


@asynccontextmanager
async def connect(
    config: Config,
    *,
    connection: AsyncConnection | None = None,
    engine: AsyncEngine | None = None,
    read_only: bool = False,
) -> AsyncIterator[Connected]:
    """Yield a connection for one command.

    A caller's connection is never closed; if it is inside a transaction, the command
    joins it (``shared=True``) and never commits it. With ``read_only``, a configured
    SQLite file that does not exist is read as the empty database it stands for,
    without creating it (connecting would).

    Raises:
        ConfigError: no connection, engine or URL is configured, or the URL is invalid.
        DatabaseError: the database cannot be reached.
    """
    conn = connection if connection is not None else config.attributes.get("connection")
    if conn is not None:
        yield Connected(conn, conn.in_transaction(), _database_label(conn))
        return
    hooks = load_env(config)
    chosen = engine if engine is not None else config.attributes.get("engine")
    owned = False
    if chosen is None and hooks.create_engine is not None:
        chosen = await hooks.create_engine(config)
        owned = True
    label = None
    if chosen is None:
        if read_only and config.url and sqlite_file_missing(config.url):
            from sqlalchemy.ext.asyncio import create_async_engine

            label = mask_url(config.url)
            chosen = create_async_engine("sqlite+aiosqlite://")
        else:
            chosen = _engine_from_url(config)
        owned = True
    if label is None:
        label = _database_label(chosen)
    try:
        try:
            raw = await chosen.connect()
        except Exception as exc:
            raise _connect_error(exc, label) from exc
        try:
            if hooks.on_connect is not None:
                await hooks.on_connect(raw, config)
            yield Connected(raw, False, label)
        finally:
            # Shielded: a cancelled command still closes its connection.
            with anyio.CancelScope(shield=True):
                await raw.close()
    finally:
        if owned:
            with anyio.CancelScope(shield=True):
                await chosen.dispose()


def sqlite_file_missing(url: str) -> bool:
    """Whether ``url`` names a SQLite file (not memory, not a URI) that does not exist."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return False
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return False
    return not name.startswith("file:") and not Path(name).exists()


def _engine_from_url(config: Config) -> AsyncEngine:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    if not config.url:
        where = config.config_file or "the configuration"
        raise ConfigError(
            f"no database URL: set 'url' in {where}, the WHIMBREL_URL variable or --url",
            path=config.config_file,
            key="url",
        )
    try:
        return create_async_engine(config.url, poolclass=NullPool)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise ConfigError(
            f"cannot use database URL {mask_url(config.url)}: {exc}; "
            "use an async driver such as sqlite+aiosqlite://, postgresql+asyncpg:// "
            "or mysql+asyncmy://",
            path=config.config_file,
            key="url",
        ) from exc
    except Exception as exc:  # a driver's own complaint about the URL
        raise ConfigError(
            f"cannot use database URL {mask_url(config.url)}: {exc}",
            path=config.config_file,
            key="url",
        ) from exc


def _connect_error(exc: Exception, label: str) -> DatabaseError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    return DatabaseError(
        f"cannot connect to {label}: {mask_urls(first)}; check that the server runs and the "
        "URL is right",
        url=label,
    )
