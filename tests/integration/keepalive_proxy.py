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
import threading
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["KeepAliveProxy"]

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")
_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


class KeepAliveProxy:
    """A context manager; point a Config at ``url``.

    Attributes:
        connections_seen: client connections accepted.
        open_connections: client connections not yet closed.
        access_keys_seen: the access key id that signed each request, in order.
    """

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"need an http://host:port upstream, got {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port)
        self.connections_seen = 0
        self.open_connections = 0
        self.access_keys_seen: list[str] = []
        self.url = ""
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> KeepAliveProxy:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

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
