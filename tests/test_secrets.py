"""A password in the URL appears nowhere: not in stdout, stderr, JSON, errors or tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from databases import provision

SECRET = "S3cr3tPa55w0rd"


def _run(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "whimbrel", *args], cwd=cwd, capture_output=True, text=True
    )
    return done.stdout + done.stderr


@pytest.mark.asyncio
async def test_password_never_shown(tmp_path: Path) -> None:
    async for database in provision("postgresql", tmp_path):
        # Trust authentication accepts any password, so this URL works.
        url = database.url.replace("postgres@", f"postgres:{SECRET}@")
        project = tmp_path / "proj"
        project.mkdir()
        outputs = [_run(project, "init", "migrations")]
        (project / "whimbrel.toml").write_text(
            (project / "whimbrel.toml")
            .read_text()
            .replace('url = "sqlite+aiosqlite:///app.db"', f'url = "{url}"')
        )
        outputs.append(_run(project, "revision", "-m", "one", "--rev-id", "aaaa1"))
        commands = [
            ["upgrade", "heads"],
            ["upgrade", "heads", "--json"],
            ["current", "-v"],
            ["current", "--json"],
            ["history", "-i", "--json"],
            ["show", "current"],
            ["verify", "--json"],
            ["stamp", "base", "--json"],
            ["stamp", "heads"],
            ["downgrade", "base"],
            ["ensure-version", "--json"],
            ["upgrade", "zzzz9"],
            ["--url", url.replace("127.0.0.1:5432", "127.0.0.1:1"), "current"],
            ["--url", url.replace("+asyncpg", "+nosuchdriver"), "current"],
            ["--url", url, "--traceback", "current", "--check-heads"],
        ]
        outputs.extend(_run(project, *args) for args in commands)
        joined = "\n".join(outputs)
        assert "Upgraded" in joined  # the commands really ran
        assert "cannot connect to" in joined and "127.0.0.1:1" in joined
        assert SECRET not in joined
        assert "***" in joined

        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:

                def dump(sync: Connection) -> str:
                    rows: list[str] = []
                    for name in inspect(sync).get_table_names():
                        result = sync.execute(text(f'SELECT * FROM "{name}"'))
                        rows.extend(str(tuple(r)) for r in result)
                    return "\n".join(rows)

                tables = await conn.run_sync(dump)
        finally:
            await engine.dispose()
        assert "aaaa1" in tables
        assert SECRET not in tables


def test_config_repr_masks_passwords() -> None:
    """Found by QA: repr(Config) showed the password (and a repr reaches logs and tracebacks)."""
    from whimbrel.config import Config

    config = Config(
        url=f"postgresql+asyncpg://app:{SECRET}@db.example/shop",
        targets=(f"postgresql://tenant:{SECRET}@db.example/t1", "sqlite:///t2.db"),
    )
    shown = repr(config)
    assert SECRET not in shown
    assert "postgresql+asyncpg://app:***@db.example/shop" in shown
    assert "sqlite:///t2.db" in shown
    # The value itself is untouched.
    assert config.url is not None and SECRET in config.url


def test_masking_urls_in_a_message_leaves_the_rest_alone() -> None:
    """A driver's error with ':' and '@' in it is a message, not a URL."""
    from whimbrel.config import mask_urls

    message = "no such table: nosuch; statement: SELECT * FROM t WHERE email = 'a@b.c'"
    assert mask_urls(message) == message
    quoted = f"cannot connect to postgresql://app:{SECRET}@db/shop?sslmode=require: refused"
    expected = "cannot connect to postgresql://app:***@db/shop?sslmode=require: refused"
    assert mask_urls(quoted) == expected
