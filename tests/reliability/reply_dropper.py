"""An HTTP-aware proxy on 127.0.0.1 that loses the answer (or the request) of chosen calls.

``drop_reply("UpdateItem")`` makes the next UpdateItem reach the server and be applied, then
resets the client's connection instead of passing the answer on: the client sees a reset after
sending, exactly what a lost reply looks like. ``drop_request`` resets the connection without
forwarding (nothing applied, but the client cannot tell the difference). Calls are matched by
the ``X-Amz-Target`` header both transports send.

It runs its own event loop in a thread, so it behaves like a remote server.
"""

from __future__ import annotations

import asyncio
import socket
import struct

from asyncdynamo._testing._server import ThreadedProxy

__all__ = ["ReplyDropper"]


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    """One HTTP/1.1 message: head, lower-cased headers and body (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            raw += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            raw += await reader.readexactly(size + 2)
            if size == 0:
                break
        return head, headers, bytes(raw)
    return head, headers, await reader.readexactly(int(headers.get("content-length", "0")))


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:  # SO_LINGER 0: close with RST, as a failing load balancer would
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ReplyDropper(ThreadedProxy):
    """Forwards HTTP requests to ``upstream_url``; a context manager.

    Attributes:
        url: ``http://127.0.0.1:PORT`` to point a Config at.
        forwarded: the ``X-Amz-Target`` operation of each request that reached the server.
        dropped: operations whose reply (or request) was dropped.
    """

    def __init__(self, upstream_url: str) -> None:
        super().__init__(upstream_url)
        self.forwarded: list[str] = []
        self.dropped: list[str] = []
        self._rules: list[tuple[str, str]] = []  # (operation, "reply" | "request" | "hold")

    def drop_reply(self, operation: str) -> None:
        """The next ``operation`` is applied by the server, and its answer never arrives."""
        with self._lock:
            self._rules.append((operation, "reply"))

    def hold_reply(self, operation: str) -> None:
        """The next ``operation`` is applied; its answer is held until the client hangs up."""
        with self._lock:
            self._rules.append((operation, "hold"))

    def drop_request(self, operation: str) -> None:
        """The next ``operation`` never reaches the server; the connection is reset."""
        with self._lock:
            self._rules.append((operation, "request"))

    def _take_rule(self, operation: str) -> str | None:
        with self._lock:
            for index, (wanted, what) in enumerate(self._rules):
                if wanted == operation:
                    del self._rules[index]
                    self.dropped.append(operation)
                    return what
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
            while True:
                head, headers, body = await _read_message(reader)
                operation = headers.get("x-amz-target", "").rpartition(".")[2]
                rule = self._take_rule(operation)
                if rule == "request":
                    _reset(writer)
                    return
                up_writer.write(head + body)
                await up_writer.drain()
                with self._lock:
                    self.forwarded.append(operation)
                answer_head, _, answer_body = await _read_message(up_reader)
                if rule == "reply":
                    _reset(writer)
                    return
                if rule == "hold":
                    await reader.read()  # until the client gives up and closes
                    return
                writer.write(answer_head + answer_body)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            for stream in (writer, up_writer):
                if stream is not None:
                    stream.close()
