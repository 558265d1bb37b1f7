"""Sync SQLAlchemy URLs made async: the driver changes, nothing else does."""

from __future__ import annotations

__all__ = ("async_url",)

# backend -> (the async driver to switch to, drivers that are async already)
_ASYNC_DRIVERS: dict[str, tuple[str, frozenset[str]]] = {
    "postgresql": ("asyncpg", frozenset({"asyncpg", "psycopg", "psycopg_async"})),
    "sqlite": ("aiosqlite", frozenset({"aiosqlite"})),
    "mysql": ("asyncmy", frozenset({"asyncmy", "aiomysql"})),
    "mariadb": ("asyncmy", frozenset({"asyncmy", "aiomysql"})),
    "mssql": ("aioodbc", frozenset({"aioodbc"})),
    "oracle": ("oracledb", frozenset({"oracledb"})),
}
_BACKEND_ALIASES = {"postgres": "postgresql"}


def async_url(url: str) -> tuple[str, str | None]:
    """Return ``url`` with an async driver, and a sentence on what changed (or ``None``).

    The scheme alone is rewritten, so the rest of the URL stays byte for byte.

    Raises:
        ValueError: the URL cannot be parsed, or its backend has no known async driver.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as e:
        raise ValueError(f"cannot be parsed as a SQLAlchemy URL: {e}") from e
    backend, _, driver = parsed.drivername.partition("+")
    known = _ASYNC_DRIVERS.get(_BACKEND_ALIASES.get(backend, backend))
    if known is None:
        raise ValueError(f"Whimbrel knows no async driver for {backend!r} databases")
    new_driver, async_already = known
    if driver in async_already and backend not in _BACKEND_ALIASES:
        return url, None
    new_backend = _BACKEND_ALIASES.get(backend, backend)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != parsed.drivername:
        raise ValueError("its scheme is not of the form backend[+driver]://")
    new = f"{new_backend}+{new_driver}://{rest}"
    was = f"{scheme}:// ({driver} driver)" if driver else f"{scheme}:// (the default driver)"
    return new, f"{was} became {new_backend}+{new_driver}://: Whimbrel runs on an async driver"
