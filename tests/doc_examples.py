"""Code examples in the documentation: finding them, and running one page's worth in a process.

Every fenced ``python`` (or ``py``) block of ``docs/*.md`` and ``README.md`` is an example.
The blocks of one page run in order, in one namespace, in a fresh Python process, so a page can
define a model in one block and use it in the next. Top-level ``await`` works as in
``python -m asyncio``. The process may only reach 127.0.0.1: an example that would call AWS fails
and says so (point it at ``asyncdynamo.local`` instead, as the pages show).

A block that cannot run as written is marked, with its reason, by an HTML comment on the line
just above its fence (the reason is required; the comment is invisible on the site)::

    <!-- not-runnable: shows the shape of a user's own module, which the page cannot import -->
    ```python
    ...
    ```
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "Block", "PageFailure", "blocks", "pages", "run_page"]

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*not-runnable\s*:?(?P<reason>.*?)-->\s*$")
PYTHON = {"python", "py", "python3"}


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block.

    Attributes:
        page: the file, relative to the repository root.
        number: 1-based among the page's python blocks.
        line: the line of the opening fence (1-based).
        code: the block's text, dedented by the fence's indentation.
        skip_reason: why it is not run (``None``: it runs); ``""`` means a marker without reason.
    """

    page: str
    number: int
    line: int
    code: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.page}, python block {self.number} (line {self.line})"


def pages() -> list[Path]:
    """Every documentation page with code: ``docs/**/*.md`` and the README."""
    return [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]


def blocks(path: Path) -> list[Block]:
    """The python blocks of one Markdown file, in order.

    Raises:
        ValueError: a fence is never closed (naming the file and line).
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = opening["info"].strip().split(" ")[0].split("{")[0].lower()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if end == len(lines):
            raise ValueError(f"{name}: the code fence opened on line {index + 1} is never closed")
        if language in PYTHON:
            body = [
                line[len(indent) :] if line.startswith(indent) else line.lstrip()
                for line in lines[index + 1 : end]
            ]
            marker = _MARKER.match(lines[index - 1]) if index else None
            reason = marker["reason"].strip(" -—:") if marker else None
            found.append(Block(name, len(found) + 1, index + 1, "\n".join(body) + "\n", reason))
        index = end + 1
    return found


@dataclass(frozen=True, slots=True)
class PageFailure:
    """The first block of a page that failed, and how."""

    block: Block
    error: str

    def __str__(self) -> str:
        code = "\n".join(f"    {line}" for line in self.block.code.rstrip().splitlines())
        return f"{self.block.where} failed:\n{code}\n\n{self.error}"


# Runs in the child: executes the blocks in one namespace; prints one JSON line per outcome.
_RUNNER = r"""
import ast, asyncio, inspect, json, socket, sys, traceback

_LOCAL = {"127.0.0.1", "localhost", "::1", None, ""}
_getaddrinfo = socket.getaddrinfo

def _local_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in _LOCAL:
        raise ConnectionRefusedError(
            f"documentation examples may only reach 127.0.0.1, not {name!r}: "
            "point the example at asyncdynamo.local's server"
        )
    return _getaddrinfo(host, *args, **kwargs)

socket.getaddrinfo = _local_only
blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
loop = asyncio.new_event_loop()
for number, code in blocks:
    try:
        compiled = compile(code, f"<block {number}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if compiled.co_flags & inspect.CO_COROUTINE:
            loop.run_until_complete(eval(compiled, namespace))
        else:
            exec(compiled, namespace)
    except BaseException:
        print(json.dumps({"failed": number, "error": traceback.format_exc(limit=-6)}), flush=True)
        sys.stdout.flush()
        __import__("os")._exit(0)
print(json.dumps({"failed": None}), flush=True)
__import__("os")._exit(0)
"""


def run_page(page_blocks: list[Block], timeout: float = 120.0) -> PageFailure | None:
    """Run the runnable blocks of one page in a fresh process; the first failure, or ``None``."""
    runnable = [block for block in page_blocks if block.skip_reason is None]
    if not runnable:
        return None
    env = {
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps([[block.number, block.code] for block in runnable]),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    outcome = None
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith('{"failed"'):
            outcome = json.loads(line)
            break
    if outcome is None:
        error = f"the example process ended without a result:\n{completed.stderr[-3000:]}"
        return PageFailure(runnable[0], error)
    if outcome["failed"] is None:
        return None
    failed = next(block for block in runnable if block.number == outcome["failed"])
    return PageFailure(failed, str(outcome["error"]))
