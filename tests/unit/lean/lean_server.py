"""A scripted HTTP/1.1 server on 127.0.0.1 for the lean transport's tests."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Peer:
    """The server side of one client connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    index: int

    async def read_request(self) -> Received | None:
        """The next request, or ``None`` when the client closed the connection first."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")[:-2]
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, target, headers, body)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


Handler = Callable[["Server", Peer], Awaitable[None]]


@dataclass(slots=True)
class Server:
    """Runs ``handler`` for each connection and records what it saw."""

    handler: Handler
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    open_connections: int = 0
    max_open_connections: int = 0
    port: int = 0
    ssl_context: ssl.SSLContext | None = None
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.open_connections += 1
        self.max_open_connections = max(self.max_open_connections, self.open_connections)
        peer = Peer(reader, writer, self.connections)
        try:
            await self.handler(self, peer)
        finally:
            self.open_connections -= 1
            await peer.close()
            self._tasks.discard(task)

    async def next_request(self, peer: Peer) -> Received | None:
        request = await peer.read_request()
        if request is not None:
            self.requests.append(request)
        return request

    async def aclose(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


def http_response(
    body: bytes = b"{}", *, status: str = "200 OK", headers: dict[str, str] | None = None
) -> bytes:
    """A complete response framed by Content-Length."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"]
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def answer_all(server: Server, peer: Peer, response: bytes = http_response(b"{}")) -> None:
    """Answers every request on the connection with ``response``."""
    while await server.next_request(peer) is not None:
        await peer.send(response)


StartServer = Callable[[Handler], Awaitable[Server]]
