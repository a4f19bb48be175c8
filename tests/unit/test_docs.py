"""The documentation stays true: pages exist, and the names it imports are real."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROOT = DOCS.parent
IMPORT = re.compile(r"^from (asyncdynamo[\w.]*|payments[\w.]*) import \(?([^)]*?)\)?$", re.M | re.S)


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def test_every_page_in_the_nav_exists() -> None:
    nav = re.findall(r":\s*([\w-]+\.md)", (ROOT / "mkdocs.yml").read_text())
    assert nav, "mkdocs.yml lists no pages"
    for page in nav:
        assert (DOCS / page).is_file(), f"mkdocs.yml names missing page {page}"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_links_between_pages_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([\w-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
        assert (DOCS / target).is_file(), f"{page.name} links to missing {target}"


@pytest.mark.parametrize("page", [*_pages(), ROOT / "README.md"], ids=lambda p: p.name)
def test_imported_names_exist(page: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    for block in blocks:
        for module_name, names in IMPORT.findall(block):
            module = importlib.import_module(module_name)
            for name in re.split(r"[,\s]+", names.strip()):
                if name:
                    assert hasattr(module, name), (
                        f"{page.name}: {module_name}.{name} does not exist"
                    )
