"""Every python example in docs/ and the README runs as written, against a local server.

Each page runs in a fresh process (see ``tests/doc_examples.py``): its blocks in order, in one
namespace, reaching nothing but 127.0.0.1. A failure names the page, the block and its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.doc_examples import ROOT, blocks, pages, run_page

pytestmark = pytest.mark.integration

_WITH_CODE = [page for page in pages() if blocks(page)]


@pytest.mark.parametrize("page", _WITH_CODE, ids=lambda page: str(page.relative_to(ROOT)))
def test_examples_on_the_page_run(page: Path) -> None:
    failure = run_page(blocks(page))
    assert failure is None, str(failure)
