"""The lean HTTP pool says whether a failed request can have reached the server, and never
re-sends one that might have been processed unless the caller says it is repeatable."""

from __future__ import annotations

import asyncio
import socket

import pytest

from asyncdynamo._errors import ConnectionFailedError, RequestTimeoutError, TransportError
from asyncdynamo._lean._http import ConnectionPool, Response
from tests.unit.lean.lean_server import Peer, Server, StartServer, answer_all, http_response


def pool_for(server: Server, *, read_timeout: float = 5.0) -> ConnectionPool:
    return ConnectionPool(
        "127.0.0.1",
        server.port,
        tls=False,
        max_connections=1,
        connect_timeout=5.0,
        read_timeout=read_timeout,
    )


async def post(pool: ConnectionPool, body: bytes = b"{}") -> Response:
    return await pool.request("POST", "/", {"Host": "test"}, body)


async def close_after_reading_second_request(server: Server, peer: Peer) -> None:
    if peer.index == 1:
        await server.next_request(peer)
        await peer.send(http_response(b"first"))
        await server.next_request(peer)  # read, then hang up without answering
        return
    await answer_all(server, peer)


async def test_a_write_whose_pooled_connection_closes_before_answering_is_not_resent(
    start_server: StartServer,
) -> None:
    server = await start_server(close_after_reading_second_request)
    pool = pool_for(server)
    await post(pool, b"1")
    with pytest.raises(ConnectionFailedError) as raised:
        await post(pool, b"debit")
    await pool.aclose()

    assert raised.value.request_sent
    assert [r.body for r in server.requests] == [b"1", b"debit"]


async def test_a_pooled_connection_that_refuses_the_first_byte_is_resent_on_a_fresh_one(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        if peer.index == 1:
            await server.next_request(peer)
            await peer.send(http_response())
            await asyncio.Event().wait()  # keep the connection open and unread (no FIN back)
        await answer_all(server, peer)

    server = await start_server(handler)
    pool = pool_for(server)
    await post(pool, b"1")
    (idle,) = pool._idle
    # The socket now refuses every send (EPIPE) before one byte of the next request leaves.
    idle.writer.get_extra_info("socket").shutdown(socket.SHUT_WR)
    response = await post(pool, b"debit")
    await pool.aclose()

    assert response.status == 200
    assert [r.body for r in server.requests] == [b"1", b"debit"]
    assert server.connections == 2


async def test_refused_connection_is_not_sent() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = ConnectionPool(
        "127.0.0.1", port, tls=False, max_connections=1, connect_timeout=5, read_timeout=5
    )
    with pytest.raises(ConnectionFailedError) as raised:
        await post(pool)

    assert not raised.value.request_sent


async def test_unresolvable_host_is_not_sent() -> None:
    pool = ConnectionPool(
        "name.invalid", 80, tls=False, max_connections=1, connect_timeout=5, read_timeout=5
    )
    with pytest.raises(ConnectionFailedError) as raised:
        await post(pool)

    assert not raised.value.request_sent


async def test_read_timeout_after_sending_is_possibly_applied(start_server: StartServer) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)
        await peer.reader.read()  # never answer; wait for the client to hang up

    server = await start_server(handler)
    pool = pool_for(server, read_timeout=0.05)
    with pytest.raises(RequestTimeoutError) as raised:
        await post(pool)
    await pool.aclose()

    assert raised.value.request_sent
    assert len(server.requests) == 1


async def test_reset_after_the_body_was_read_is_possibly_applied(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        await server.next_request(peer)
        peer.writer.transport.abort()  # RST, no answer

    server = await start_server(handler)
    pool = pool_for(server)
    with pytest.raises(TransportError) as raised:
        await post(pool)
    await pool.aclose()

    assert raised.value.request_sent
    assert len(server.requests) == 1
