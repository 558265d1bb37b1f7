"""The example shop's FastAPI app under a real ``uvicorn --workers 4`` on PostgreSQL:
one worker applies the migrations, the others wait and then serve, every worker
answers HTTP, and nothing is applied twice."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from databases import provision

EXAMPLE = Path(__file__).resolve().parent.parent / "migrations_example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.asyncio
async def test_four_uvicorn_workers_migrate_once(tmp_path: Path) -> None:
    async for database in provision("postgresql", tmp_path):
        port = _free_port()
        log = tmp_path / "uvicorn.log"
        argv = [sys.executable, "-m", "uvicorn", "app:app", "--workers", "4", "--port", str(port)]
        env = {**os.environ, "WHIMBREL_URL": database.url}
        seen: dict[int, dict[str, object]] = {}
        with log.open("wb") as sink:
            server = await anyio.open_process(
                argv, cwd=EXAMPLE, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
            try:
                with anyio.move_on_after(60):
                    while len(seen) < 4 and server.returncode is None:
                        # A new connection each time, so the workers share the requests.
                        async with httpx.AsyncClient() as client:
                            try:
                                response = await client.get(f"http://127.0.0.1:{port}/status")
                            except httpx.TransportError:
                                await anyio.sleep(0.1)
                                continue
                        body = response.json()
                        seen[body["pid"]] = body
                async with httpx.AsyncClient() as client:
                    products = await client.get(f"http://127.0.0.1:{port}/products", timeout=10)
            finally:
                server.terminate()
                await server.wait()
        output = log.read_text()
        assert len(seen) == 4, output
        assert products.status_code == 200 and products.json() == []
        applied = [b["applied_at_startup"] for b in seen.values()]
        # Exactly one worker applied the 13 revisions; the three others found none to do.
        assert sorted(len(a) for a in applied if isinstance(a, list)) == [0, 0, 0, 13]
        assert all(b["at_head"] for b in seen.values())
        assert "Traceback" not in output

        engine = create_async_engine(database.url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(
                        "SELECT revision, count(*) FROM whimbrel_history "
                        "WHERE direction = 'up' GROUP BY revision"
                    )
                )
                counts: dict[str, int] = {r[0]: r[1] for r in rows}
        finally:
            await engine.dispose()
        assert len(counts) == 13
        assert set(counts.values()) == {1}
