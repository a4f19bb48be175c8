"""HTTP/1.1 messages as the fault proxy reads and writes them.

A message is read whole (head, then a body framed by ``Content-Length``, chunked encoding or,
for a response, connection close) and written back framed by ``Content-Length``, so the proxy
can look at, rewrite or replace any request or reply, on keep-alive connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import struct
import zlib
from dataclasses import dataclass, field

from asyncdynamo._lean._wire import ProtocolError, read_chunked

__all__ = ["MAX_HEAD_BYTES", "Message", "WireError", "abort", "read_message"]

MAX_HEAD_BYTES = 64 * 1024
_NO_BODY_STATUS = (204, 304)


class WireError(Exception):
    """The peer's bytes are not HTTP/1.1 as the proxy understands it."""


@dataclass(slots=True)
class Message:
    """A request or response.

    Attributes:
        start_line: the request line or status line, without its line end.
        headers: (name, value) pairs in arrival order, names as sent.
        body: the de-chunked body.
        ends_with_close: the body was framed by the connection closing.
    """

    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    ends_with_close: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def set_header(self, name: str, value: str | None) -> None:
        """Replace every ``name`` header by one with ``value`` (or remove them for ``None``)."""
        wanted = name.lower()
        self.headers = [(key, v) for key, v in self.headers if key.lower() != wanted]
        if value is not None:
            self.headers.append((name, value))

    @property
    def status(self) -> int:
        """A response's status code."""
        return int(self.start_line.split(" ", 2)[1])

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another exchange after this message."""
        if self.ends_with_close:
            return False
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.start_line.startswith("HTTP/1.0") or self.start_line.endswith("HTTP/1.0"):
            return "keep-alive" in tokens
        return "close" not in tokens

    def plain_body(self) -> bytes:
        """The body with any gzip/deflate content encoding removed."""
        encoding = (self.header("content-encoding") or "identity").strip().lower()
        if encoding == "gzip":
            return gzip.decompress(self.body)
        if encoding == "deflate":
            return zlib.decompress(self.body)
        return self.body

    def replace_body(self, body: bytes) -> None:
        """Set a new plain body; DynamoDB's ``x-amz-crc32`` is recomputed when present."""
        self.body = body
        self.set_header("Content-Encoding", None)
        if self.header("x-amz-crc32") is not None:
            self.set_header("x-amz-crc32", str(zlib.crc32(body)))

    def to_bytes(self) -> bytes:
        """The message framed by ``Content-Length`` (never chunked)."""
        lines = [self.start_line]
        for name, value in self.headers:
            if name.lower() not in ("content-length", "transfer-encoding"):
                lines.append(f"{name}: {value}")
        if not self.start_line.startswith("HTTP/") or self.status not in _NO_BODY_STATUS:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


async def read_message(
    reader: asyncio.StreamReader, *, response: bool = False, head_only: bool = False
) -> Message | None:
    """Read one whole message; ``None`` at a clean end of stream before its first byte.

    Args:
        reader: the stream.
        response: read a response (whose body may end with the connection).
        head_only: the request was ``HEAD``: the response has no body.

    Raises:
        WireError: malformed or oversized head, bad framing.
        asyncio.IncompleteReadError: the stream ended inside the message.
    """
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    except asyncio.LimitOverrunError as exc:
        raise WireError("message head too large") from exc
    if len(raw) > MAX_HEAD_BYTES:
        raise WireError("message head too large")
    lines = raw[:-4].decode("latin-1").split("\r\n")
    message = Message(lines[0])
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise WireError(f"malformed header line {line[:40]!r}")
        message.headers.append((name, value.strip()))
    if response:
        parts = message.start_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise WireError(f"malformed status line {message.start_line[:40]!r}")
        if head_only or message.status in _NO_BODY_STATUS or message.status < 200:
            return message
    elif len(message.start_line.split(" ")) != 3:
        raise WireError(f"malformed request line {message.start_line[:40]!r}")
    message.body = await _read_body(reader, message, response=response)
    return message


async def _read_body(reader: asyncio.StreamReader, message: Message, *, response: bool) -> bytes:
    if "chunked" in (message.header("transfer-encoding") or "").lower():
        return await _read_chunked(reader)
    length = message.header("content-length")
    if length is not None:
        if not length.isdigit():
            raise WireError(f"invalid Content-Length {length[:20]!r}")
        return await reader.readexactly(int(length))
    if not response:
        return b""
    message.ends_with_close = True
    return await reader.read()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    try:
        return await read_chunked(reader)  # the lean transport's parser: one reading of chunks
    except ProtocolError as exc:
        raise WireError(str(exc)) from exc


def abort(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a TCP reset (RST), as a failing server or network does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the peer: nothing to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
