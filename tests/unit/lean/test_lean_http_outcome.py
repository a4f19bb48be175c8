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


async def test_a_task_continuing_its_work_gets_a_free_connection_before_queued_newcomers(
    start_server: StartServer,
) -> None:
    # Read-then-write: with a strictly first-come slot queue every writer's write would wait
    # behind every other writer's read (the cause of the lean transport's extra conflicts).
    server = await start_server(answer_all)
    pool = pool_for(server)

    async def read_then_write(name: bytes) -> None:
        await post(pool, name + b"-read")
        await post(pool, name + b"-write")

    await asyncio.gather(*(read_then_write(name) for name in (b"a", b"b", b"c")))
    await pool.aclose()

    assert [r.body for r in server.requests] == [
        b"a-read",
        b"a-write",
        b"b-read",
        b"b-write",
        b"c-read",
        b"c-write",
    ]


async def test_a_cancelled_waiter_passes_its_turn_on(start_server: StartServer) -> None:
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def handler(server: Server, peer: Peer) -> None:
        while (request := await server.next_request(peer)) is not None:
            if request.body == b"slow":
                arrived.set()
                await release.wait()
            await peer.send(http_response())

    server = await start_server(handler)
    pool = pool_for(server)
    slow = asyncio.create_task(post(pool, b"slow"))
    await arrived.wait()
    cancelled = asyncio.create_task(post(pool, b"cancelled"))
    waiting = asyncio.create_task(post(pool, b"waiting"))
    await asyncio.sleep(0)  # both queue for the one connection
    cancelled.cancel()
    release.set()
    await slow
    assert (await waiting).status == 200
    await pool.aclose()

    assert [r.body for r in server.requests] == [b"slow", b"waiting"]
