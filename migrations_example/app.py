"""The shop's web application: it upgrades the database, then serves.

Run it with ``uvicorn app:app --workers 4`` from this directory: every worker runs
the lifespan; the migration lock lets one apply the revisions while the others wait,
find the database at head, and start serving.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from models import products
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import whimbrel
from whimbrel import Config, command

CONFIG = Config.load(Path(__file__).with_name("whimbrel.toml"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine: AsyncEngine = create_async_engine(str(CONFIG.url))
    async with whimbrel.lifespan(CONFIG, engine=engine) as result:
        app.state.engine = engine
        app.state.applied = [step.revision for step in result.steps]
        yield
    await engine.dispose()


app = FastAPI(title="shop", lifespan=lifespan)


@app.get("/status")
async def status() -> dict[str, Any]:
    """Which worker answered, what it applied at start-up, and the database's heads."""
    current = await command.current(CONFIG, engine=app.state.engine)
    return {
        "pid": os.getpid(),
        "applied_at_startup": app.state.applied,
        "heads": list(current.heads),
        "at_head": current.at_head,
    }


@app.get("/products")
async def list_products() -> list[dict[str, Any]]:
    """Every product, by name."""
    async with app.state.engine.connect() as conn:
        rows = await conn.execute(sa.select(products.c.sku, products.c.name).order_by("name"))
        return [{"sku": sku, "name": name} for sku, name in rows]
