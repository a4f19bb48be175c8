"""The documentation stays true: pages exist, and the names it imports are real."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.doc_examples import blocks, run_page
from tests.doc_examples import pages as doc_pages

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


def test_every_not_runnable_marker_gives_its_reason() -> None:
    unexplained = [
        block.where
        for page in doc_pages()
        for block in blocks(page)
        if block.skip_reason is not None and not block.skip_reason
    ]
    assert not unexplained, f"not-runnable without a reason: {unexplained}"


def test_extraction_finds_indented_tilde_and_long_fences(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n"
        "```bash\nls\n```\n"
        "- a list item:\n\n"
        "    ```python\n    x = 1\n    if x:\n        y = 2\n    ```\n"
        "~~~py\nz = 3\n~~~\n"
        "````python\n```\ninside = True\n````\n"
        "<!-- not-runnable: needs a real AWS account -->\n"
        "```python\nboom()\n```\n"
    )
    found = blocks(page)
    assert [block.code for block in found] == [
        "x = 1\nif x:\n    y = 2\n",
        "z = 3\n",
        "```\ninside = True\n",
        "boom()\n",
    ]
    assert [block.line for block in found] == [7, 12, 15, 20]
    assert [block.skip_reason for block in found] == [None, None, None, "needs a real AWS account"]


def test_an_unclosed_fence_is_reported_with_its_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# title\n\n```python\nx = 1\n")
    with pytest.raises(ValueError, match="line 3 is never closed"):
        blocks(page)


def test_a_failing_block_is_named_by_page_block_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nvalue = 41\n```\n\n```python\nassert value == 42, 'off by one'\n```\n"
    )
    failure = run_page(blocks(page))
    assert failure is not None
    assert failure.block.number == 2
    assert "python block 2 (line 5)" in str(failure)
    assert "off by one" in failure.error


def test_blocks_share_a_namespace_and_may_await(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nimport asyncio\n```\n\n```python\nawait asyncio.sleep(0)\ndone = True\n```\n"
        "```python\nassert done\n```\n"
    )
    assert run_page(blocks(page)) is None


def test_an_example_cannot_reach_beyond_loopback(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nimport socket\nsocket.getaddrinfo('dynamodb.eu-west-1.amazonaws.com', 443)\n```\n"
    )
    failure = run_page(blocks(page))
    assert failure is not None
    assert "may only reach 127.0.0.1" in failure.error


def _documented(page: str, module: str = "asyncdynamo") -> set[str]:
    pattern = rf"^::: {re.escape(module)}\.(\w+)$"
    return set(re.findall(pattern, (DOCS / page).read_text(), re.M))


def test_the_api_reference_lists_every_public_name() -> None:
    import asyncdynamo

    public = {name for name in asyncdynamo.__all__ if not name.endswith("Error")}
    missing = sorted(public - _documented("api.md"))
    assert not missing, f"docs/api.md lacks '::: asyncdynamo.NAME' for {missing}"


def test_the_error_reference_lists_every_error() -> None:
    import asyncdynamo

    errors = {name for name in asyncdynamo.__all__ if name.endswith("Error")}
    missing = sorted(errors - _documented("error-reference.md"))
    assert not missing, f"docs/error-reference.md lacks '::: asyncdynamo.NAME' for {missing}"


def test_the_payments_reference_lists_every_public_name() -> None:
    import payments

    missing = sorted(set(payments.__all__) - _documented("payments-reference.md", "payments"))
    assert not missing, f"docs/payments-reference.md lacks '::: payments.NAME' for {missing}"


def test_the_api_reference_lists_the_testing_helpers() -> None:
    testing = importlib.import_module("asyncdynamo.testing")
    fixtures = {  # described in a table on docs/testing.md, not by their docstrings
        name
        for name in testing.__all__
        if type(getattr(testing, name)).__name__.startswith("Fixture")
    }
    assert fixtures, "expected the plugin's fixtures among asyncdynamo.testing's names"
    helpers = set(testing.__all__) - fixtures
    missing = sorted(helpers - _documented("api.md", "asyncdynamo.testing"))
    assert not missing, f"docs/api.md lacks '::: asyncdynamo.testing.NAME' for {missing}"


def test_the_api_reference_lists_the_dynamorm_names() -> None:
    dms = importlib.import_module("asyncdynamo.dms")
    documented = _documented("api.md", "asyncdynamo.dms") | _documented("api.md")
    missing = sorted(set(dms.__all__) - documented)
    assert not missing, f"docs/api.md lacks '::: asyncdynamo.dms.NAME' for {missing}"
