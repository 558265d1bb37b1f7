"""The floor: what any typer + anyio.run CLI pays to answer from a stat-validated cache.

The cli suite times it beside ``whimbrel`` and ``alembic`` as ``python
benchmarks/cli_floor.py {--help,heads,history}``, with a generated project's root as the
working directory.  It is the least a CLI on Whimbrel's stack can do and still trust a
cache of revision headers keyed on each file's size, mtime and ctime:

* a typer app (typer's own ``--help``, which imports no anyio) whose subcommand runs a
  coroutine with ``anyio.run``;
* the coroutine, in a worker thread (``anyio.to_thread.run_sync``), lists
  ``migrations/versions`` and calls ``os.stat`` on every ``*.py`` file relative to a
  directory descriptor, building the ``(st_size, st_mtime_ns, st_ctime_ns)`` tuple such a cache is
  checked against;
* ``heads`` then prints one line, ``history`` one line per revision file (its name: the
  least output a history can write).

Nothing else: no configuration, no cache read, no revision graph, nothing of Whimbrel's.
So alembic/floor is the largest alembic/whimbrel any tool on this stack could reach on
the machine that ran it.
"""

from __future__ import annotations

import os
import sys

import typer

VERSIONS = os.path.join("migrations", "versions")

Scan = tuple[list[str], tuple[tuple[int, int, int], ...]]

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def scan() -> Scan:
    """The revision files' names and the ``(st_size, st_mtime_ns, st_ctime_ns)`` to match."""
    names = [name for name in os.listdir(VERSIONS) if name.endswith(".py")]
    fd = os.open(VERSIONS, os.O_RDONLY | os.O_DIRECTORY)
    try:
        stats = [os.stat(name, dir_fd=fd) for name in names]
    finally:
        os.close(fd)
    return names, tuple((st.st_size, st.st_mtime_ns, st.st_ctime_ns) for st in stats)


def answer() -> Scan:
    """``anyio.run`` a coroutine that scans in a worker thread, as a subcommand must."""
    # Imported here, as a lean CLI does: ``--help`` runs no event loop.
    import anyio
    import anyio.to_thread

    async def checked() -> Scan:
        return await anyio.to_thread.run_sync(scan)

    return anyio.run(checked)


@app.command()
def heads() -> None:
    """Check every revision file, print one line."""
    names, _ = answer()
    sys.stdout.write(f"{len(names)} revision files checked\n")


@app.command()
def history() -> None:
    """Check every revision file, print its name."""
    names, _ = answer()
    sys.stdout.write("".join(f"{name}\n" for name in names))


if __name__ == "__main__":
    app()
