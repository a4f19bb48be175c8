"""HTTP/1.1 framing, keep-alive reuse and failure translation of the lean transport's client."""

from __future__ import annotations

import asyncio
import socket

import pytest

from asyncdynamo._errors import ConfigurationError, ConnectionFailedError, RequestTimeoutError
from asyncdynamo._lean._http import ConnectionPool, Response
from tests.unit.lean.lean_server import Peer, Server, StartServer, answer_all, http_response


def pool_for(server: Server, **overrides: float) -> ConnectionPool:
    return ConnectionPool(
        "127.0.0.1",
        server.port,
        tls=False,
        max_connections=int(overrides.pop("max_connections", 4)),
        connect_timeout=overrides.pop("connect_timeout", 5.0),
        read_timeout=overrides.pop("read_timeout", 5.0),
        max_header_bytes=int(overrides.pop("max_header_bytes", 64 * 1024)),
    )


async def post(pool: ConnectionPool, body: bytes = b"{}", *, repeatable: bool = False) -> Response:
    return await pool.request("POST", "/", {"Host": "test"}, body, repeatable=repeatable)


async def test_content_length_body_is_read_and_connection_reused(
    start_server: StartServer,
) -> None:
    server = await start_server(
        lambda server, peer: answer_all(
            server, peer, http_response(b'{"ok":1}', headers={"X-Amz-Crc32": "1"})
        )
    )
    pool = pool_for(server)
    first = await post(pool, b'{"a":1}')
    second = await post(pool)
    await pool.aclose()

    assert (first.status, first.body, first.headers["x-amz-crc32"]) == (200, b'{"ok":1}', "1")
    assert second.body == b'{"ok":1}'
    assert server.connections == 1
    assert [r.body for r in server.requests] == [b'{"a":1}', b"{}"]
    assert server.requests[0].headers["content-length"] == "7"


async def test_chunked_body_is_reassembled_with_extensions_and_trailers(
    start_server: StartServer,
) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
    )

    async def handler(server: Server, peer: Peer) -> None:
        await answer_all(server, peer, chunked)

    server = await start_server(handler)
    pool = pool_for(server)
    first = await post(pool)
    second = await post(pool)
    await pool.aclose()

    assert first.body == second.body == b"hello world"
    assert server.connections == 1


async def test_body_without_framing_runs_to_eof_and_connection_is_not_reused(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        if await server.next_request(peer) is not None:
            await peer.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")

    server = await start_server(handler)
    pool = pool_for(server)
    first = await post(pool)
    second = await post(pool)
    await pool.aclose()

    assert first.body == second.body == b"all of it"
    assert server.connections == 2


async def test_connection_close_header_prevents_reuse(start_server: StartServer) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        if await server.next_request(peer) is not None:
            await peer.send(http_response(b"x", headers={"Connection": "close"}))

    server = await start_server(handler)
    pool = pool_for(server)
    await post(pool)
    await post(pool)
    await pool.aclose()

    assert server.connections == 2


async def test_stale_pooled_connection_is_resent_once_for_a_repeatable_request(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        if peer.index == 1:
            await server.next_request(peer)
            await peer.send(http_response(b"first"))
            # The keep-alive race: the server gives up on the connection just as the next
            # request arrives, and closes it without answering.
            await server.next_request(peer)
            return
        await answer_all(server, peer, http_response(b"second"))

    server = await start_server(handler)
    pool = pool_for(server)
    assert (await post(pool, b"1")).body == b"first"
    response = await post(pool, b"2", repeatable=True)
    await pool.aclose()

    assert response.body == b"second"
    assert server.connections == 2
    assert [r.body for r in server.requests] == [b"1", b"2", b"2"]


async def test_stale_connection_is_resent_only_once(start_server: StartServer) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        if peer.index == 1:
            await server.next_request(peer)
            await peer.send(http_response())
        await server.next_request(peer)  # then close without answering

    server = await start_server(handler)
    pool = pool_for(server)
    await post(pool)
    with pytest.raises(ConnectionFailedError):
        await post(pool, b"again", repeatable=True)
    await pool.aclose()

    assert [r.body for r in server.requests] == [b"{}", b"again", b"again"]


async def test_server_closing_an_idle_connection_does_not_fail_the_next_request(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)
        await peer.send(http_response(b"ok"))  # then close while the client holds it idle

    server = await start_server(handler)
    pool = pool_for(server)
    await post(pool)
    response = await post(pool)
    await pool.aclose()

    assert response.body == b"ok"
    assert server.connections == 2


async def test_fresh_connection_closed_before_answering_is_not_resent(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)

    server = await start_server(handler)
    pool = pool_for(server)
    with pytest.raises(ConnectionFailedError):
        await post(pool)
    await pool.aclose()

    assert len(server.requests) == 1


async def test_connection_closed_mid_body_fails_without_resending(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)
        await peer.send(http_response(b"complete"))
        await server.next_request(peer)
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")

    server = await start_server(handler)
    pool = pool_for(server)
    await post(pool)
    with pytest.raises(ConnectionFailedError, match="mid-response") as raised:
        await post(pool)
    await pool.aclose()

    assert isinstance(raised.value.__cause__, asyncio.IncompleteReadError)
    assert len(server.requests) == 2  # bytes of a response arrived: never sent twice


async def test_connection_closed_mid_chunk_fails(start_server: StartServer) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)
        await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort")

    server = await start_server(handler)
    pool = pool_for(server)
    with pytest.raises(ConnectionFailedError):
        await post(pool)
    await pool.aclose()


async def test_oversized_response_head_is_refused(start_server: StartServer) -> None:
    huge = http_response(headers={"X-Padding": "p" * 4096})
    server = await start_server(lambda server, peer: answer_all(server, peer, huge))
    pool = pool_for(server, max_header_bytes=1024)
    with pytest.raises(ConnectionFailedError, match="exceeds 1024 bytes"):
        await post(pool)
    await pool.aclose()


@pytest.mark.parametrize(
    "garbage",
    [
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
async def test_malformed_responses_are_connection_failures(
    start_server: StartServer, garbage: bytes
) -> None:
    server = await start_server(lambda server, peer: answer_all(server, peer, garbage))
    pool = pool_for(server)
    with pytest.raises(ConnectionFailedError, match="invalid HTTP response"):
        await post(pool)
    await pool.aclose()


async def test_read_timeout_raises_request_timeout(start_server: StartServer) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)
        await peer.reader.read()  # never answer; wait for the client to hang up

    server = await start_server(handler)
    pool = pool_for(server, read_timeout=0.05)
    with pytest.raises(RequestTimeoutError) as raised:
        await post(pool)
    await pool.aclose()

    assert isinstance(raised.value.__cause__, TimeoutError)
    assert raised.value.retryable


async def test_refused_connection_raises_connection_failed() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = ConnectionPool(
        "127.0.0.1", port, tls=False, max_connections=1, connect_timeout=5, read_timeout=5
    )
    with pytest.raises(ConnectionFailedError, match="cannot connect") as raised:
        await post(pool)

    assert isinstance(raised.value.__cause__, OSError)


async def test_cancelled_request_does_not_return_its_connection_to_the_pool(
    start_server: StartServer,
) -> None:
    first_request_seen = asyncio.Event()

    async def handler(server: Server, peer: Peer) -> None:
        if peer.index == 1:
            await server.next_request(peer)
            first_request_seen.set()
            await peer.reader.read()
            return
        await answer_all(server, peer)

    server = await start_server(handler)
    pool = pool_for(server)
    pending = asyncio.create_task(post(pool))
    await first_request_seen.wait()
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    response = await post(pool)
    await pool.aclose()

    assert response.status == 200
    assert server.connections == 2


async def test_pool_never_opens_more_connections_than_its_size(
    start_server: StartServer,
) -> None:
    server = await start_server(answer_all)
    pool = pool_for(server, max_connections=2)
    responses = await asyncio.gather(*(post(pool) for _ in range(6)))
    await pool.aclose()

    assert all(response.status == 200 for response in responses)
    assert server.max_open_connections <= 2


async def test_closed_pool_refuses_requests(start_server: StartServer) -> None:
    server = await start_server(answer_all)
    pool = pool_for(server)
    await post(pool)
    await pool.aclose()

    with pytest.raises(ConnectionFailedError, match="closed"):
        await post(pool)


async def test_no_content_statuses_have_empty_bodies(start_server: StartServer) -> None:
    server = await start_server(
        lambda server, peer: answer_all(server, peer, b"HTTP/1.1 204 No Content\r\n\r\n")
    )
    pool = pool_for(server)
    response = await post(pool)
    again = await post(pool)
    await pool.aclose()

    assert (response.status, response.body, again.status) == (204, b"", 204)
    assert server.connections == 1


async def test_interim_responses_are_skipped(start_server: StartServer) -> None:
    early_hints = b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + http_response(b"final")
    server = await start_server(lambda server, peer: answer_all(server, peer, early_hints))
    pool = pool_for(server)
    response = await post(pool)
    await pool.aclose()

    assert (response.status, response.body) == (200, b"final")


@pytest.mark.parametrize("value", ["token\nX-Injected: 1", "token\r", "token\n"])
async def test_line_breaks_in_header_values_are_refused_before_sending(
    start_server: StartServer, value: str
) -> None:
    server = await start_server(answer_all)
    pool = pool_for(server)
    with pytest.raises(ConfigurationError, match="line break"):
        await pool.request("POST", "/", {"Host": "test", "X-Amz-Security-Token": value}, b"")
    await pool.aclose()

    assert server.requests == []
