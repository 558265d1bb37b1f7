"""Upgrade before an ASGI application (FastAPI, Starlette) starts serving.

Every worker of every replica may run this at once: the migration lock lets one
apply the revisions while the others wait, find the database at head, and go on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from whimbrel.config import Config
    from whimbrel.results import MigrationResult

__all__ = ("lifespan", "migrate_on_startup")


@asynccontextmanager
async def lifespan(
    config: Config | None = None,
    *,
    revision: str = "heads",
    engine: AsyncEngine | None = None,
) -> AsyncIterator[MigrationResult]:
    """Upgrade to ``revision`` under the migration lock, then yield to the application.

    Use inside your own lifespan::

        @asynccontextmanager
        async def app_lifespan(app):
            async with whimbrel.lifespan(cfg):
                yield

    Args:
        config: the project configuration; ``Config.load()`` when omitted.
        revision: the target (``heads`` by default).
        engine: migrate through this engine (the application's own, say).

    Raises:
        WhimbrelError: the upgrade failed; the application does not start.
    """
    from whimbrel import command
    from whimbrel.config import Config

    cfg = config if config is not None else Config.load()
    result = await command.upgrade(cfg, revision, engine=engine)
    yield result


def migrate_on_startup(
    config: Config | None = None, *, revision: str = "heads"
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A ready-made lifespan: ``FastAPI(lifespan=whimbrel.migrate_on_startup(cfg))``.

    Raises:
        WhimbrelError: when the application starts, if the upgrade fails.
    """

    @asynccontextmanager
    async def app_lifespan(app: Any) -> AsyncIterator[None]:
        async with lifespan(config, revision=revision):
            yield

    return app_lifespan
