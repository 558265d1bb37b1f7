"""Whimbrel's pytest plugin, registered through the ``pytest11`` entry point.

It adds the options, the fixtures of :mod:`whimbrel.testing.fixtures`, and, when
``--whimbrel-checks`` or the ini option ``whimbrel_checks = true`` is given, the stock
checks of :mod:`whimbrel.testing.checks` as tests of their own (node ids
``whimbrel-checks::test_whimbrel_...``).

Pytest loads the plugin in every run of an environment where Whimbrel is installed,
so importing it is cheap and it does nothing until asked.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

__all__ = (
    "CHECKS_NODEID",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "whimbrel_config",
    "whimbrel_connection",
    "whimbrel_database_url",
    "whimbrel_empty_engine",
    "whimbrel_engine",
    "whimbrel_migrator",
)

CHECKS_NODEID = "whimbrel-checks"
"""The node id the stock checks are collected under."""
_CHECKS_MODULE = "whimbrel.testing.checks"

try:
    from whimbrel.testing.fixtures import (
        whimbrel_config,
        whimbrel_connection,
        whimbrel_database_url,
        whimbrel_empty_engine,
        whimbrel_engine,
        whimbrel_migrator,
    )
except ImportError as exc:  # pragma: no cover - only without pytest-asyncio
    if exc.name != "pytest_asyncio":
        raise

    _MISSING = (
        "whimbrel: the whimbrel_* fixtures need pytest-asyncio; install it "
        "(pip install pytest-asyncio)"
    )

    @pytest.fixture(name="whimbrel_config")
    def _no_config() -> None:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture(name="whimbrel_database_url")
    def _no_url() -> None:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture(name="whimbrel_empty_engine")
    def _no_empty_engine() -> None:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture(name="whimbrel_engine")
    def _no_engine() -> None:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture(name="whimbrel_connection")
    def _no_connection() -> None:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture(name="whimbrel_migrator")
    def _no_migrator() -> None:
        pytest.fail(_MISSING, pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--whimbrel-config``, ``--whimbrel-url``, ``--whimbrel-checks`` and their ini twins."""
    group = parser.getgroup("whimbrel", "Whimbrel database migrations")
    group.addoption(
        "--whimbrel-config",
        dest="whimbrel_config",
        metavar="PATH",
        default=None,
        help="the Whimbrel configuration (whimbrel.toml or pyproject.toml) the fixtures "
        "use; default: found from the current directory",
    )
    group.addoption(
        "--whimbrel-url",
        dest="whimbrel_url",
        metavar="URL",
        default=None,
        help="the database server the fixtures create a fresh database on for each test; "
        "default: the configuration's url",
    )
    group.addoption(
        "--whimbrel-checks",
        dest="whimbrel_checks",
        action="store_true",
        default=False,
        help="run Whimbrel's stock migration checks (single head, upgrade, stairway, "
        "models, downgrade to base)",
    )
    parser.addini(
        "whimbrel_config",
        help="the Whimbrel configuration file, relative to this ini file",
        type="string",
        default="",
    )
    parser.addini(
        "whimbrel_url",
        help="the database server the whimbrel fixtures create test databases on",
        type="string",
        default="",
    )
    parser.addini(
        "whimbrel_checks",
        help="run Whimbrel's stock migration checks",
        type="bool",
        default=False,
    )


class _ChecksModule(pytest.Module):
    """The stock checks module, collected from the imported module, not from its path.

    ``present`` holds the ids of check functions a test module imports already: they
    run there, not twice.
    """

    present: frozenset[int] = frozenset()

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return [
            node
            for node in super().collect()
            if id(getattr(node, "obj", None)) not in self.present
        ]

    def _getobj(self) -> ModuleType:
        return importlib.import_module(_CHECKS_MODULE)

    def istestfunction(self, obj: object, name: str) -> bool:
        # Whatever python_functions says: these are the checks.
        return name.startswith("test_whimbrel_") and callable(obj)

    def istestclass(self, obj: object, name: str) -> bool:
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the stock checks in front when they are on and a directory is collected.

    Running chosen files (``pytest tests/test_x.py``) leaves them out, as it leaves
    out every other test file; ``-k``, ``-m`` and ``--deselect`` apply to them.
    """
    if not (config.getoption("whimbrel_checks", False) or config.getini("whimbrel_checks")):
        return
    if not _collects_a_directory(config):
        return
    checks = importlib.import_module(_CHECKS_MODULE)
    module = _ChecksModule.from_parent(
        session, path=Path(str(checks.__file__)), nodeid=CHECKS_NODEID
    )
    module.present = frozenset(id(getattr(item, "obj", None)) for item in items)
    items[:0] = list(session.genitems(module))


def _collects_a_directory(config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if (base / path).is_dir():
            return True
    return False
