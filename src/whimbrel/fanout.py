"""Many databases and tenants at once: ``upgrade_many`` and ``current_many``.

A target is a database URL, or a PostgreSQL schema of one database (schema per
tenant). Each schema target has its own version table in that schema, its own lock,
and runs with ``search_path`` set to the schema and a ``schema_translate_map`` that
puts unqualified SQLAlchemy constructs there, so scripts stay tenant-agnostic.

Targets run concurrently, at most ``concurrency`` at a time; each gets its own
connection and its own :class:`~whimbrel.runtime.context.MigrationContext`. A failed
target does not stop the others unless ``stop_on_error`` is set. Running again resumes:
targets already at the target revision do nothing.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from whimbrel.config import mask_url, mask_urls
from whimbrel.errors import ConfigError, UsageError, WhimbrelError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from whimbrel.config import Config
    from whimbrel.results import CurrentResult, MigrationResult

__all__ = (
    "ManyResult",
    "Target",
    "TargetResult",
    "current_many",
    "resolve_targets",
    "upgrade_many",
)


@dataclass(frozen=True, slots=True)
class Target:
    """One database (``url``) or one PostgreSQL schema of the configured database."""

    name: str
    url: str | None = None
    schema: str | None = None


@dataclass(frozen=True, slots=True)
class TargetResult:
    """The outcome for one target: a result, or the error that stopped it."""

    target: str
    ok: bool
    duration_s: float
    result: MigrationResult | CurrentResult | None = None
    error: str | None = None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class ManyResult:
    """Every target's outcome, in the order the targets were given."""

    command: str
    targets: tuple[TargetResult, ...]
    duration_s: float

    @property
    def ok(self) -> bool:
        """Whether every target succeeded."""
        return all(t.ok for t in self.targets)

    @property
    def failed(self) -> tuple[TargetResult, ...]:
        """The targets that failed or were skipped."""
        return tuple(t for t in self.targets if not t.ok)


TargetSource = Sequence["str | Target"] | Callable[[], Any]
TargetListener = Callable[[TargetResult], Awaitable[None] | None]


async def resolve_targets(config: Config, targets: TargetSource | None = None) -> list[Target]:
    """The targets to run: those given, or those the configuration names.

    The configuration's are ``targets`` (URLs), ``tenant_schemas`` (schemas of
    ``url``) and ``targets_from`` (a callable, sync or async, yielding URLs or
    :class:`Target` objects).

    Raises:
        ConfigError: no targets are given or configured, or ``targets_from`` fails.
    """
    source: Any = targets
    if source is None:
        found: list[str | Target] = [*config.targets]
        found += [Target(name=s, schema=s) for s in config.tenant_schemas]
        if config.targets_from:
            found += await _call_source(config, config.targets_from)
        source = found
    elif callable(source):
        source = await _produce(source())
    resolved = [_as_target(item) for item in source]
    if not resolved:
        raise ConfigError(
            "no targets: set 'targets', 'tenant_schemas' or 'targets_from' in the "
            "configuration, or pass targets=",
            path=config.config_file,
            key="targets",
        )
    names = [t.name for t in resolved]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise UsageError(f"target {duplicate!r} is listed twice; each target must be unique")
    return resolved


async def _call_source(config: Config, path: str) -> list[str | Target]:
    module_name, _, attr = path.partition(":")
    try:
        with config.extended_sys_path():
            fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"targets_from {path!r} cannot be imported: {exc}", key="targets_from"
        ) from exc
    return list(await _produce(fn()))


async def _produce(value: Any) -> Iterable[Any]:
    if inspect.isawaitable(value):
        value = await value
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    return list(value)


def _as_target(item: str | Target) -> Target:
    if isinstance(item, Target):
        return item
    return Target(name=mask_url(item), url=item)


async def upgrade_many(
    config: Config,
    revision: str = "heads",
    *,
    targets: TargetSource | None = None,
    concurrency: int = 8,
    stop_on_error: bool = False,
    on_target: TargetListener | None = None,
    lock: bool = True,
    allow_changed: bool = False,
) -> ManyResult:
    """Upgrade every target to ``revision``, ``concurrency`` at a time.

    Args:
        config: the project configuration (shared by every target).
        revision: the target revision for each database.
        targets: URLs, :class:`Target` objects, or a (sync or async) callable
            producing them; defaults to the configuration's targets.
        concurrency: how many targets run at once.
        stop_on_error: after the first failure, start no new target and cancel the
            running ones (they roll back); otherwise the others go on.
        on_target: called (and awaited if it returns an awaitable) as each target
            finishes.
        lock: take each target's migration lock (as :func:`whimbrel.command.upgrade`).
        allow_changed: run over applied revision files edited since they ran.

    Raises:
        ConfigError: there are no targets.
        UsageError: ``concurrency`` is below 1, or a target is listed twice.
    """
    from whimbrel import command

    async def run(cfg: Config, conn: AsyncConnection | None) -> MigrationResult:
        return await command.upgrade(
            cfg, revision, connection=conn, lock=lock, allow_changed=allow_changed
        )

    return await _fan_out(config, "upgrade", run, targets, concurrency, stop_on_error, on_target)


async def current_many(
    config: Config,
    *,
    targets: TargetSource | None = None,
    concurrency: int = 8,
    on_target: TargetListener | None = None,
    check_heads: bool = False,
) -> ManyResult:
    """The current revisions of every target (read-only).

    With ``check_heads``, a target that is not at head fails (with
    :class:`~whimbrel.errors.NotAtHeadError`'s message), as ``current --check-heads``.

    Raises:
        ConfigError: there are no targets.
        UsageError: ``concurrency`` is below 1, or a target is listed twice.
    """
    from whimbrel import command

    async def run(cfg: Config, conn: AsyncConnection | None) -> CurrentResult:
        return await command.current(cfg, connection=conn, check_heads=check_heads)

    return await _fan_out(config, "current", run, targets, concurrency, False, on_target)


async def check_many(
    config: Config,
    *,
    targets: TargetSource | None = None,
    concurrency: int = 8,
    on_target: TargetListener | None = None,
) -> ManyResult:
    """Compare the models with every target (read-only); a target that differs fails.

    Raises:
        ConfigError: there are no targets.
        UsageError: ``concurrency`` is below 1, or a target is listed twice.
    """
    from whimbrel import command
    from whimbrel.errors import CommandError

    async def run(cfg: Config, conn: AsyncConnection | None) -> Any:
        result = await command.check(cfg, connection=conn)
        if not result.ok:
            raise CommandError("differs from the models: " + "; ".join(result.messages))
        return result

    return await _fan_out(config, "check", run, targets, concurrency, False, on_target)


async def _fan_out(
    config: Config,
    name: str,
    run: Callable[[Config, AsyncConnection | None], Awaitable[Any]],
    targets: TargetSource | None,
    concurrency: int,
    stop_on_error: bool,
    on_target: TargetListener | None,
) -> ManyResult:
    if concurrency < 1:
        raise UsageError(f"concurrency must be at least 1, got {concurrency}")
    resolved = await resolve_targets(config, targets)
    limiter = anyio.CapacityLimiter(concurrency)
    outcomes: dict[str, TargetResult] = {}
    started = time.perf_counter()
    stop = anyio.Event()
    schema_engines = _SchemaEngines(config, pool_size=concurrency)

    async def one(target: Target) -> None:
        async with limiter:
            if stop.is_set():
                outcomes[target.name] = TargetResult(
                    target.name,
                    False,
                    0.0,
                    error="not started: an earlier target failed",
                    skipped=True,
                )
                return
            began = time.perf_counter()
            try:
                async with _target_run(config, target, schema_engines) as (cfg, conn):
                    result = await run(cfg, conn)
            except WhimbrelError as exc:
                outcome = TargetResult(
                    target.name, False, time.perf_counter() - began, error=mask_urls(str(exc))
                )
            except Exception as exc:  # a driver error outside any step
                message = f"{type(exc).__name__}: {exc}".splitlines()[0]
                outcome = TargetResult(
                    target.name, False, time.perf_counter() - began, error=mask_urls(message)
                )
            else:
                outcome = TargetResult(
                    target.name, True, time.perf_counter() - began, result=result
                )
            outcomes[target.name] = outcome
            if not outcome.ok and stop_on_error:
                stop.set()
                tg.cancel_scope.cancel()
            if on_target is not None:
                notified = on_target(outcome)
                if notified is not None:
                    await notified

    try:
        async with anyio.create_task_group() as tg:
            for target in resolved:
                tg.start_soon(one, target)
    finally:
        with anyio.CancelScope(shield=True):
            await schema_engines.dispose()
    ordered = tuple(
        outcomes.get(t.name)
        or TargetResult(
            t.name, False, 0.0, error="cancelled: an earlier target failed", skipped=True
        )
        for t in resolved
    )
    return ManyResult(command=name, targets=ordered, duration_s=time.perf_counter() - started)


class _SchemaEngines:
    """One engine for all schema targets of the configured URL (pooled, bounded)."""

    def __init__(self, config: Config, *, pool_size: int) -> None:
        self._config = config
        self._pool_size = pool_size
        self._engine: AsyncEngine | None = None

    def get(self) -> AsyncEngine:
        if self._engine is None:
            from sqlalchemy.ext.asyncio import create_async_engine

            if not self._config.url:
                raise ConfigError("schema targets need 'url': the database holding them")
            self._engine = create_async_engine(
                self._config.url, pool_size=self._pool_size, max_overflow=0
            )
        return self._engine

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()


@asynccontextmanager
async def _target_run(
    config: Config, target: Target, engines: _SchemaEngines
) -> AsyncIterator[tuple[Config, AsyncConnection | None]]:
    if target.schema is None:
        # Each URL target: its own engine, made and disposed of by the command.
        cfg = dataclasses.replace(config, url=target.url, attributes=dict(config.attributes))
        cfg.attributes.pop("connection", None)
        cfg.attributes.pop("engine", None)
        yield cfg, None
        return
    from sqlalchemy import text

    schema = target.schema
    cfg = dataclasses.replace(
        config, version_table_schema=schema, attributes=dict(config.attributes)
    )
    engine = engines.get()
    if engine.dialect.name != "postgresql":
        raise ConfigError(f"schema targets need PostgreSQL, not {engine.dialect.name}")
    quoted = engine.dialect.identifier_preparer.quote_identifier(schema)
    async with engine.connect() as raw:
        await raw.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
        await raw.execute(text(f"SET search_path TO {quoted}"))
        await raw.commit()
        conn = await raw.execution_options(schema_translate_map={None: schema})
        try:
            yield cfg, conn
        finally:
            with anyio.CancelScope(shield=True):
                if raw.in_transaction():
                    await raw.rollback()
                await raw.execute(text("RESET search_path"))
                await raw.commit()
