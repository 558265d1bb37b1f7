"""``await command.upgrade(...)`` from an ASGI lifespan under a real uvicorn process:
the server's own event loop runs the migration; Whimbrel starts no loop of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from projects import snapshot, table_rev, write_project

from databases import TestDatabase

APP = """
from pathlib import Path

from whimbrel import Config, command

CONFIG = Config(script_location=Path({script_location!r}), url={url!r})
STATE = {{}}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                result = await command.upgrade(CONFIG)
                STATE["applied"] = [s.revision for s in result.steps]
                await send({{"type": "lifespan.startup.complete"}})
            elif message["type"] == "lifespan.shutdown":
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    current = await command.current(CONFIG)
    body = (",".join(STATE["applied"]) + "|" + ",".join(current.heads)).encode()
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": body}})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.asyncio
async def test_upgrade_in_an_asgi_lifespan_under_uvicorn(
    transactional_database: TestDatabase, tmp_path: Path
) -> None:
    database = transactional_database
    cfg = write_project(
        tmp_path / "proj",
        database.url,
        [table_rev("l1", None, "t_l1"), table_rev("l2", "l1", "t_l2")],
    )
    (tmp_path / "asgi_app.py").write_text(
        APP.format(script_location=str(cfg.script_location), url=database.url)
    )
    port = _free_port()
    log = tmp_path / "uvicorn.log"
    argv = [sys.executable, "-m", "uvicorn", "asgi_app:app", "--port", str(port)]
    with log.open("wb") as sink:
        server = await anyio.open_process(
            [*argv, "--lifespan", "on"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            body = None
            async with httpx.AsyncClient() as client:
                with anyio.move_on_after(30):
                    while server.returncode is None:
                        try:
                            response = await client.get(f"http://127.0.0.1:{port}/")
                        except httpx.TransportError:
                            await anyio.sleep(0.1)
                            continue
                        body = response.text
                        break
            assert server.returncode is None, log.read_text()
            assert body == "l1,l2|l2"
        finally:
            server.terminate()
            await server.wait()
    assert "Traceback" not in log.read_text()
    snap = await snapshot(database.url, cfg)
    assert snap["heads"] == ["l2"]
    assert snap["tables"] == ["t_l1", "t_l2"]
