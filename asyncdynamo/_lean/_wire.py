"""HTTP/1.x message framing for the lean transport: status line, headers, chunked bodies.

Pure parsing over asyncio streams; the connection pool in ``_http`` decides what a failure here
means for the request (a response that is not HTTP/1.x is possibly applied, never re-sent).
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = [
    "CountingReader",
    "ProtocolError",
    "is_decimal",
    "is_latin1",
    "parse_head",
    "read_chunked",
]


class ProtocolError(Exception):
    """The peer's bytes are not HTTP/1.x as we understand it."""


class CountingReader(asyncio.StreamReader):
    """A StreamReader that counts the bytes that arrived and the bytes read out of it.

    ``received`` tells whether any byte of a response arrived (then a request must never be
    re-sent); ``received - consumed`` is what is buffered but unread (then the connection must
    not carry another request: those bytes would be taken for its response). Only
    ``readuntil`` and ``readexactly`` are counted: reading to EOF ends the connection anyway.
    """

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.received = 0
        self.consumed = 0

    def feed_data(self, data: Any) -> None:
        self.received += len(data)
        super().feed_data(data)

    async def readuntil(self, separator: Any = b"\n") -> bytes:
        data = await super().readuntil(separator)
        self.consumed += len(data)
        return data

    async def readexactly(self, n: int) -> bytes:
        data = await super().readexactly(n)
        self.consumed += len(data)
        return data


def is_decimal(text: str) -> bool:
    # str.isdigit() also accepts "²" and other digits int() refuses.
    return text.isascii() and text.isdigit()


_VERSIONS = frozenset({"HTTP/1.0", "HTTP/1.1"})


def _parse_status_line(line: str) -> tuple[str, int]:
    # status-line = HTTP-version SP 3DIGIT SP [reason-phrase] (RFC 9112 4). Exactly three
    # digits: "HTTP/1.1 2000" is not a 200. A missing reason (and its SP) is tolerated.
    version, _, rest = line.partition(" ")
    code, space, _ = rest.partition(" ")
    if (
        version not in _VERSIONS
        or len(code) != 3
        or not is_decimal(code)
        or not 100 <= int(code) <= 599
        or (not space and rest != code)
    ):
        raise ProtocolError(f"malformed status line {line[:80]!r}")
    return version, int(code)


def parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    lines = head[:-4].decode("latin-1").split("\r\n")
    version, code = _parse_status_line(lines[0])
    headers: dict[str, str] = {}
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:
            # obs-fold (RFC 9112 5.2): the line continues the previous value, joined by a space.
            headers[name] = f"{headers[name]} {line.strip()}".rstrip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        previous = headers.get(name)
        headers[name] = value if previous is None else f"{previous}, {value}"
    connection = headers.get("connection", "").lower()
    # HTTP/1.1 keeps connections open unless told otherwise; HTTP/1.0 only when asked.
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    return code, headers, keep_alive


def is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        # Hex digits only: int(..., 16) would also take "-1", "0x5" and "1_0".
        if not size_text or not _HEX_DIGITS.issuperset(size_text):
            raise ProtocolError(f"malformed chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk not terminated by CRLF")
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass  # trailers: nothing AWS sends that we need
    return b"".join(chunks)
