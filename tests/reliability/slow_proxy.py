"""A tiny TCP proxy on 127.0.0.1 in front of the test endpoint that can hold or delay requests.

It runs its own event loop in a thread, so it behaves like a remote server: none of its tasks
appear on the test's loop (tests check that nothing is left pending there).
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["SlowProxy"]

_METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ")


class SlowProxy:
    """Forwards TCP connections to ``upstream_url``; a context manager.

    Attributes:
        url: ``http://127.0.0.1:PORT`` to point a Config at.
        delay: seconds added before forwarding each request (0 by default).
        requests_seen: requests that reached the proxy (counted by their request line).
        connections_seen: TCP connections accepted.
    """

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"need an http://host:port upstream, got {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port)
        self.delay = 0.0
        self.requests_seen = 0
        self.connections_seen = 0
        self.url = ""
        self._held = False
        self._loop = asyncio.new_event_loop()
        self._release: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._lock = threading.Lock()

    def hold(self) -> None:
        """Stop forwarding requests until :meth:`release` (a server that never answers)."""
        self._held = True

    def release(self) -> None:
        """Forward held and future requests again."""
        self._held = False
        if self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    def __enter__(self) -> SlowProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        port = future.result(timeout=10)
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
        self._release = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections_seen += 1
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pipe(reader, up_writer, requests=True))
                group.create_task(self._pipe(up_reader, writer, requests=False))
        except* (OSError, asyncio.IncompleteReadError):
            pass
        except* asyncio.CancelledError:
            pass  # the proxy is stopping; end quietly (asyncio logs a cancelled handler task)
        finally:
            for stream in (writer, up_writer):
                if stream is not None:
                    stream.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, requests: bool
    ) -> None:
        while chunk := await reader.read(65536):
            if requests and chunk.startswith(_METHODS):
                with self._lock:
                    self.requests_seen += 1
                if self._held:
                    assert self._release is not None
                    self._release.clear()
                    while self._held:
                        await self._release.wait()
                if self.delay:
                    await asyncio.sleep(self.delay)  # simulated latency, not a wait for a condition
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
