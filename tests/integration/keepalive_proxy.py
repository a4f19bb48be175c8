"""An HTTP proxy on 127.0.0.1 that keeps client connections alive whatever the server does.

moto's server answers HTTP/1.0 and closes every connection, so a client's connection pool never
holds a connection there. This proxy answers HTTP/1.1 with keep-alive and forwards each request
on a fresh upstream connection, so pooled connections live as they do against DynamoDB. It
counts the client connections it accepts and still has open, and records the SigV4 access key
of each request. It runs its own loop in a thread, like a remote server.
"""

from __future__ import annotations

import asyncio
import re

from asyncdynamo._testing._server import ThreadedProxy

__all__ = ["KeepAliveProxy"]

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")
_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


class KeepAliveProxy(ThreadedProxy):
    """A context manager; point a Config at ``url``.

    Attributes:
        connections_seen: client connections accepted.
        open_connections: client connections not yet closed.
        access_keys_seen: the access key id that signed each request, in order.
    """

    def __init__(self, upstream_url: str) -> None:
        super().__init__(upstream_url)
        self.connections_seen = 0
        self.open_connections = 0
        self.access_keys_seen: list[str] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections_seen += 1
            self.open_connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed the connection
                text = head.decode("latin-1")
                length = re.search(r"(?im)^content-length:\s*(\d+)", text)
                body = await reader.readexactly(int(length.group(1))) if length else b""
                credential = _CREDENTIAL.search(text)
                if credential is not None:
                    with self._lock:
                        self.access_keys_seen.append(credential.group(1))
                writer.write(await self._forward(head + body))
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with self._lock:
                self.open_connections -= 1
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        try:
            up_writer.write(request)
            await up_writer.drain()
            answer = await up_reader.read()  # HTTP/1.0: the body runs to the close
        finally:
            up_writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        kept = [line for line in lines if line.split(":", 1)[0].strip().lower() not in _HOP_BY_HOP]
        _, _, rest = status.partition(" ")
        new_head = "\r\n".join(
            [f"HTTP/1.1 {rest}", *kept, f"Content-Length: {len(body)}", "Connection: keep-alive"]
        )
        return new_head.encode("latin-1") + b"\r\n\r\n" + body
