"""A small HTTP/1.1 client on asyncio streams: one host, a keep-alive pool, strict timeouts.

Only what talking to AWS JSON/query endpoints needs: requests with a complete body, responses
framed by ``Content-Length``, chunked encoding or connection close. Every failure surfaces as a
:class:`~asyncdynamo.TransportError` subclass whose ``request_sent`` says whether any byte of the
request left: failures to connect (refused, DNS, TLS handshake, connect timeout) and a pooled
connection whose socket refused the very first write are *not sent*; anything later is *possibly
applied*. Nothing is retried here except a request that was certainly not sent on a pooled
connection, which is sent again on a fresh one; and, only for requests the caller marks
``repeatable``, a pooled connection closed before any response byte arrived. That case is the
keep-alive race (the server closed the idle connection as the request went out), but seen from
here it is indistinguishable from a server that processed the request and then lost the
connection, so a write is never re-sent on that guess.
"""

from __future__ import annotations

import asyncio
import select
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asyncdynamo._errors import (
    CertificateVerificationError,
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
)

from ._wire import CountingReader, ProtocolError, is_decimal, is_latin1, parse_head, read_chunked

if TYPE_CHECKING:  # ``ssl`` is only needed (and contexts only built) for https endpoints
    import ssl

__all__ = ["ConnectionPool", "Response", "shared_ssl_context"]

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
# Closing never blocks ``aclose`` for long: a peer that does not finish the close is abandoned.
_CLOSE_GRACE = 1.0

_ssl_context: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """The process-wide default TLS context, created on first use.

    Loading the CA bundle costs tens of milliseconds, so it happens once, and only when an https
    endpoint is actually contacted.
    """
    global _ssl_context
    if _ssl_context is None:
        import ssl

        _ssl_context = ssl.create_default_context()
    return _ssl_context


class Response:
    """A complete HTTP response.

    A plain slotted class rather than a frozen dataclass: one is built per call, and the
    dataclass machinery would cost import time and per-instance time on the cold path.

    Attributes:
        status: the status code.
        headers: header values by lower-case name (repeated headers joined with ``", "``).
        body: the decoded (de-chunked) body.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"Response(status={self.status}, body={len(self.body)} bytes)"


class _StaleConnectionError(Exception):
    """A reused connection failed before the response started (the request may have been read)."""


class _NotSentError(Exception):
    """The connection failed before any byte of the request was handed to the network."""


class _Slots:
    """At most ``size`` holders; a caller that finds a slot free takes it, even ahead of waiters.

    ``asyncio.Semaphore`` (since Python 3.11.1) hands every released slot to the longest waiter.
    For the common read-then-write sequence that is the wrong order: a task whose read just
    finished queues its write behind every request that arrived meanwhile, so with 50 writers on
    one item and 10 connections each write waited for ~40 others and most of them failed their
    version check (N writers on one connection: N*(N-1)/2 conflicts, every writer losing to
    every other). Like aiohttp's connector (the aiobotocore transport), a release wakes the
    longest waiter, but a task that asks before it runs (typically the releasing task, going on
    to its next request) gets the slot; the woken waiter then waits again at the head.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        first = True
        while self._free <= 0:
            waiter = asyncio.get_running_loop().create_future()
            if first:
                self._waiters.append(waiter)
            else:
                self._waiters.appendleft(waiter)  # lost the race once: keep its turn
            first = False
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_next()  # woken but cancelled: pass the wake-up on
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        self._free -= 1

    def release(self) -> None:
        self._free += 1
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: CountingReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @property
    def usable(self) -> bool:
        # A server that closed an idle connection has (usually) delivered the EOF by now; bytes
        # nobody asked for mean the peer and we disagree about where a response ends.
        reader = self.reader
        if (
            reader.at_eof()
            or self.writer.is_closing()
            or reader.exception() is not None
            or reader.received != reader.consumed
        ):
            return False
        # The loop may not have read a FIN or RST that already arrived (after a Lambda thaw, or
        # a server that closed just after answering): an idle connection must have nothing to
        # read, so a readable socket is one the server is done with. A write sent on it could
        # not be re-sent safely once it failed.
        sock = self.writer.get_extra_info("socket")
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        self.writer.close()


def _is_certificate_failure(exc: OSError) -> bool:
    import ssl  # already loaded: a TLS connection was being made

    return isinstance(exc, ssl.SSLCertVerificationError)


class ConnectionPool:
    """Keep-alive HTTP/1.1 connections to one host.

    At most ``max_connections`` requests are in flight at once (more wait for a free slot);
    idle connections are reused most-recently-used first.

    Args:
        host: host name or IP address to connect to.
        port: TCP port.
        tls: use TLS (with ``ssl_context``, else the shared default context).
        max_connections: connections kept open and requests in flight, at most.
        connect_timeout: seconds to establish a connection (TCP and TLS).
        read_timeout: seconds from starting to send a request to having its whole response.
        max_header_bytes: the largest response head accepted.
        ssl_context: a custom TLS context (private CA, pinning...).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: bool,
        max_connections: int,
        connect_timeout: float,
        read_timeout: float,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._tls = tls
        self._ssl_context = ssl_context
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_header_bytes = max_header_bytes
        self._slots = _Slots(max_connections)
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        repeatable: bool = False,
    ) -> Response:
        """Send one request and read its whole response.

        Args:
            repeatable: sending the request twice does no harm (a read, an idempotent call):
                then a pooled connection that closes before answering is retried once on a
                fresh connection. Otherwise that failure is raised with ``request_sent=True``.

        Raises:
            ConnectionFailedError: connecting, sending or reading failed, or the response was
                not valid HTTP.
            RequestTimeoutError: the response was not complete within ``read_timeout``.
        """
        if self._closed:
            raise ConnectionFailedError("the connection pool is closed", request_sent=False)
        lines = [f"{method} {path} HTTP/1.1\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        head = "".join(lines)
        expected_breaks = len(lines) + 1
        if head.count("\n") != expected_breaks or head.count("\r") != expected_breaks:
            # A newline inside a value (say, a session token pasted with one) would split the
            # request into two; refuse it rather than send something else than was signed.
            raise ConfigurationError("an HTTP header value contains a line break")
        try:
            data = head.encode("latin-1") + body
        except UnicodeEncodeError as exc:
            # Named, never shown: the value may be a token. Nothing was sent.
            name = next((n for n, v in headers.items() if not is_latin1(f"{n}{v}")), "a header")
            raise ConfigurationError(
                f"HTTP header {name!r} has a character outside Latin-1 and cannot be sent"
            ) from exc
        await self._slots.acquire()
        try:
            while self._idle:
                conn = self._idle.pop()
                if not conn.usable:
                    conn.close()
                    continue
                try:
                    return await self._exchange(conn, method, data, repeatable=repeatable)
                except (_NotSentError, _StaleConnectionError):
                    break  # the server closed it while idle: once more on a new connection
            conn = await self._connect()
            try:
                return await self._exchange(conn, method, data, repeatable=False)
            except _NotSentError as exc:
                raise ConnectionFailedError(str(exc), request_sent=False) from exc
        finally:
            self._slots.release()

    async def _connect(self) -> _Connection:
        ssl_context: Any = None
        if self._tls:
            ssl_context = self._ssl_context or shared_ssl_context()
        try:
            async with asyncio.timeout(self._connect_timeout):
                # asyncio.open_connection, with a reader that counts bytes (see CountingReader).
                loop = asyncio.get_running_loop()
                reader = CountingReader(self._max_header_bytes, loop)
                protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
                transport, _ = await loop.create_connection(
                    lambda: protocol, self._host, self._port, ssl=ssl_context
                )
                writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        except TimeoutError as exc:
            # A timeout is a timeout, as in the aiobotocore transport (ConnectTimeoutError).
            raise RequestTimeoutError(
                f"connecting to {self._host}:{self._port} timed out after {self._connect_timeout}s",
                request_sent=False,
            ) from exc
        except OSError as exc:
            if self._tls and _is_certificate_failure(exc):
                # Not retryable: every attempt meets the same certificate.
                raise CertificateVerificationError(
                    f"the TLS certificate of {self._host}:{self._port} is not trusted: {exc}",
                    request_sent=False,
                ) from exc
            raise ConnectionFailedError(
                f"cannot connect to {self._host}:{self._port}: {exc}", request_sent=False
            ) from exc
        return _Connection(reader, writer)

    async def _exchange(
        self, conn: _Connection, method: str, data: bytes, *, repeatable: bool
    ) -> Response:
        """One request on ``conn``; ``repeatable`` only for a reused (pooled) connection."""
        reader = conn.reader
        writer = conn.writer
        received_before = reader.received
        reusable = False  # set only once the whole response is read
        try:
            async with asyncio.timeout(self._read_timeout):
                if not writer.is_closing():
                    writer.write(data)
                if writer.is_closing():
                    # A plain socket transport tries the send at once and, when the socket
                    # refuses it (EPIPE, ECONNRESET), closes itself before accepting a byte.
                    # (A TLS transport buffers first, so its failures count as sent below.)
                    raise _NotSentError("the connection failed before the request was written")
                try:
                    await writer.drain()
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    # EOF, reset, aborted, broken pipe after the request went out. The server
                    # may have processed it: only a repeatable request is sent again.
                    if repeatable and reader.received == received_before:
                        raise _StaleConnectionError(
                            f"connection lost before responding: {exc!r}"
                        ) from exc
                    raise
                status, headers, keep_alive = parse_head(head)
                while status < 200:  # interim answers (103 Early Hints...): the real one follows
                    status, headers, keep_alive = parse_head(await reader.readuntil(b"\r\n\r\n"))
                body, framed = await self._read_body(reader, method, status, headers)
            reusable = keep_alive and framed
        except TimeoutError as exc:
            raise RequestTimeoutError(
                f"no complete response from {self._host}:{self._port} within {self._read_timeout}s"
            ) from exc
        except asyncio.LimitOverrunError as exc:
            raise ConnectionFailedError(
                f"response head (or a chunk-size line) exceeds {self._max_header_bytes} bytes"
            ) from exc
        except asyncio.IncompleteReadError as exc:
            raise ConnectionFailedError(
                f"connection closed mid-response ({len(exc.partial)} of "
                f"{exc.expected if exc.expected is not None else 'unknown'} bytes read)"
            ) from exc
        except ProtocolError as exc:
            raise ConnectionFailedError(f"invalid HTTP response: {exc}") from exc
        except OSError as exc:
            raise ConnectionFailedError(f"connection failed: {exc}") from exc
        finally:
            # Any failure or cancellation leaves the stream at an unknown position: never reuse.
            if reusable and not self._closed and conn.usable:
                self._idle.append(conn)
            else:
                conn.close()
        return Response(status, headers, body)

    async def _read_body(
        self, reader: asyncio.StreamReader, method: str, status: int, headers: dict[str, str]
    ) -> tuple[bytes, bool]:
        """The body, and whether the connection can carry another request afterwards."""
        if method == "HEAD" or status in (204, 304):  # no body, whatever the headers say
            return b"", True
        length = headers.get("content-length")
        encoding = headers.get("transfer-encoding")
        if encoding is not None and length is not None:
            # Two framings: the peer (or a proxy on the way) and we may disagree on where the
            # body ends, the classic response-splitting setup (RFC 9112 6.3). Fail the response;
            # the connection is closed, never reused.
            raise ProtocolError("response has both Transfer-Encoding and Content-Length")
        if encoding is not None and "chunked" in encoding.lower():
            return await read_chunked(reader), True
        if length is not None:
            if not is_decimal(length):
                raise ProtocolError(f"invalid Content-Length {length[:20]!r}")
            return await reader.readexactly(int(length)), True
        # No framing: the body runs to EOF, so the connection ends with it.
        return await reader.read(), False

    async def aclose(self) -> None:
        """Close idle connections; connections in use close when their request ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        if idle:
            try:
                async with asyncio.timeout(_CLOSE_GRACE):
                    await asyncio.gather(
                        *(conn.writer.wait_closed() for conn in idle), return_exceptions=True
                    )
            except TimeoutError:
                pass
