"""A proxy server on 127.0.0.1 that runs its own event loop in a thread, like a remote server.

The loop/thread/server lifecycle every test proxy shares (the fault proxy here, and the tests'
keep-alive and reply-dropping proxies); a subclass implements ``_serve`` for each connection.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

__all__ = ["ThreadedProxy"]


class ThreadedProxy:
    """Forwards to ``upstream_url`` from ``url`` once entered as a context manager.

    Args:
        upstream_url: ``http://host:port`` of the server behind the proxy.
        name: the loop thread's name.
        read_limit: the stream readers' buffer limit.

    Attributes:
        url: ``http://127.0.0.1:PORT`` to point a ``Config.endpoint_url`` at.
    """

    def __init__(
        self, upstream_url: str, *, name: str | None = None, read_limit: int = 2**16
    ) -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"need an http://host:port upstream, got {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port)
        self.url = ""
        self._read_limit = read_limit
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def __enter__(self) -> Self:
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
        self._closing()
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _closing(self) -> None:
        """Called from the caller's thread before the server stops (a hook for subclasses)."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _start(self) -> int:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, limit=self._read_limit
        )
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        current = asyncio.current_task()
        for _ in range(100):  # bounded: connections accepted while stopping are cancelled too
            tasks = [task for task in asyncio.all_tasks() if task is not current]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
