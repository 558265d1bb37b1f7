"""The documentation site (``mkdocs.yml``) builds, and every page in ``docs/`` is on it.

- ``mkdocs build --strict`` must succeed: with the ``validation`` settings of
  ``mkdocs.yml``, a broken link or anchor, a nav entry naming no file, a page left out
  of the nav and a docstring mkdocstrings cannot render all fail it.
- Every Markdown page under ``docs/`` is in the nav, unless ``exclude_docs`` or
  ``not_in_nav`` says otherwise, and every page the nav names exists.
- The examples of pages in subdirectories of ``docs/`` (the cookbook, the API
  reference) run exactly as ``tests/test_docs.py`` runs those of ``docs/*.md``, with
  the same markers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mkdocs.config import load_config

import test_docs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"
MKDOCS = Path(sys.executable).parent / "mkdocs"
NESTED_PAGES = sorted(p for p in DOCS.glob("*/**/*.md") if p.parent != DOCS)
BUILD_TIMEOUT = 300

# The API reference pages and what each must document.
REFERENCE = {
    "reference/command.md": "whimbrel.command",
    "reference/config.md": "whimbrel.config.Config",
    "reference/results.md": "whimbrel.results",
    "reference/errors.md": "whimbrel.errors",
    "reference/operations.md": "whimbrel.operations.Operations",
    "reference/lifespan.md": "whimbrel.lifespan",
    "reference/fanout.md": "whimbrel.fanout",
}


def nav_files(nav: Any) -> Iterator[str]:
    """The page paths a MkDocs nav names, in order (external links left out)."""
    if isinstance(nav, str):
        if "://" not in nav:
            yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from nav_files(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from nav_files(value)


def site_pages() -> tuple[list[str], set[str]]:
    """The nav's pages, and the pages of ``docs/`` that belong in it."""
    config = load_config(config_file=str(MKDOCS_YML))
    skip = [spec for spec in (config.exclude_docs, config.not_in_nav) if spec is not None]
    pages = {
        rel
        for path in DOCS.rglob("*.md")
        if not any(spec.match_file(rel := path.relative_to(DOCS).as_posix()) for spec in skip)
    }
    return list(nav_files(config.nav)), pages


def test_every_page_is_in_the_nav() -> None:
    nav, pages = site_pages()
    missing = sorted(pages - set(nav))
    assert not missing, (
        f"pages not in the nav of mkdocs.yml: {', '.join(missing)}; add each where it "
        "belongs (Guides, Cookbook, Reference), or to not_in_nav if it is not to be browsed"
    )
    dangling = sorted(set(nav) - pages)
    assert not dangling, f"mkdocs.yml's nav names pages that do not exist: {dangling}"
    twice = sorted({page for page in nav if nav.count(page) > 1})
    assert not twice, f"pages in the nav more than once: {twice}"


def test_reference_pages_document_the_public_api() -> None:
    nav, _ = site_pages()
    for page, module in REFERENCE.items():
        assert page in nav, page
        text = (DOCS / page).read_text(encoding="utf-8")
        assert f"::: {module}\n" in text, f"{page} does not render {module}"


def test_site_builds_strict(tmp_path: Path) -> None:
    if not MKDOCS.exists():
        pytest.fail(
            f"{MKDOCS} is missing: install the dev extra (pip install -e '.[dev]')",
            pytrace=False,
        )
    site = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIMBREL_")}
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's notice about MkDocs 2.0, not ours
    build = ["build", "--strict", "--config-file", str(MKDOCS_YML), "--site-dir", str(site)]
    done = subprocess.run(
        [str(MKDOCS), *build],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    output = done.stdout + done.stderr
    problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "mkdocs build --strict failed:\n" + (
        "\n".join(problems) or output
    )
    # The API reference was rendered from the docstrings, with the roles made links.
    command_page = (site / "reference" / "command" / "index.html").read_text(encoding="utf-8")
    assert 'id="whimbrel.command.upgrade"' in command_page
    assert ":func:" not in command_page
    assert (site / "tutorial" / "index.html").is_file()
    assert (site / "cookbook" / "multi-tenant" / "index.html").is_file()


@pytest.mark.parametrize(
    "page", NESTED_PAGES, ids=[str(p.relative_to(ROOT)) for p in NESTED_PAGES]
)
def test_nested_page_examples_run(page: Path, tmp_path: Path) -> None:
    test_docs.test_page_examples_run(page, tmp_path)


def test_nested_page_markers_are_spelled_right() -> None:
    for page in NESTED_PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            marker = test_docs._MARKER.match(line.strip())
            if marker and marker.group(1) not in test_docs._KNOWN_MARKERS:
                where = f"{page.relative_to(DOCS)}:{number}"
                pytest.fail(f"{where}: unknown marker {marker.group(1)!r}")
