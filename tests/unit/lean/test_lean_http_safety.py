"""The lean HTTP client never mixes up responses, never re-sends a request the server may have
processed, and turns every malformed response into a ConnectionFailedError."""

from __future__ import annotations

import socket
import struct

import pytest

from asyncdynamo._errors import ConfigurationError, ConnectionFailedError
from asyncdynamo._lean._http import ConnectionPool, Response
from tests.unit.lean.lean_server import Peer, Server, StartServer, answer_all, http_response


def pool_for(server: Server) -> ConnectionPool:
    return ConnectionPool(
        "127.0.0.1", server.port, tls=False, max_connections=4, connect_timeout=5, read_timeout=5
    )


async def post(pool: ConnectionPool, body: bytes = b"{}") -> Response:
    return await pool.request("POST", "/", {"Host": "test"}, body)


def reset(peer: Peer) -> None:
    """Abort the connection with a TCP reset instead of an orderly close."""
    sock = peer.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.writer.transport.abort()


async def test_bytes_after_a_complete_response_keep_the_connection_out_of_the_pool(
    start_server: StartServer,
) -> None:
    stray = http_response(b"stray")

    async def handler(server: Server, peer: Peer) -> None:
        if peer.index == 1:  # a misbehaving peer: one request, two responses
            await server.next_request(peer)
            await peer.send(http_response(b"first") + stray)
        await answer_all(server, peer, http_response(b"second"))

    server = await start_server(handler)
    pool = pool_for(server)
    first = await post(pool, b"1")
    second = await post(pool, b"2")
    await pool.aclose()

    assert (first.body, second.body) == (b"first", b"second")
    assert server.connections == 2


async def test_reset_after_part_of_the_response_arrived_is_not_resent(
    start_server: StartServer,
) -> None:
    async def handler(server: Server, peer: Peer) -> None:
        if peer.index == 1:
            await server.next_request(peer)
            await peer.send(http_response(b"first"))
            await server.next_request(peer)  # processed: the answer starts, then the reset
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Le")
            reset(peer)
            return
        await answer_all(server, peer)

    server = await start_server(handler)
    pool = pool_for(server)
    await post(pool, b"1")
    with pytest.raises(ConnectionFailedError):
        await post(pool, b"2")
    await pool.aclose()

    assert [r.body for r in server.requests] == [b"1", b"2"]  # never sent twice


async def test_head_response_has_no_body_despite_its_content_length(
    start_server: StartServer,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    server = await start_server(lambda server, peer: answer_all(server, peer, head))
    pool = pool_for(server)
    response = await pool.request("HEAD", "/", {"Host": "test"}, b"")
    again = await pool.request("HEAD", "/", {"Host": "test"}, b"")
    await pool.aclose()

    assert (response.status, response.body, again.status) == (200, b"", 200)
    assert server.connections == 1


async def test_folded_header_lines_continue_the_previous_value(
    start_server: StartServer,
) -> None:
    folded = (
        b"HTTP/1.1 200 OK\r\nX-Amzn-ErrorType: Validation\r\n\tException\r\n"
        b"Content-Length: 2\r\n\r\nok"
    )
    server = await start_server(lambda server, peer: answer_all(server, peer, folded))
    pool = pool_for(server)
    response = await post(pool)
    await pool.aclose()

    assert response.headers["x-amzn-errortype"] == "Validation Exception"
    assert response.body == b"ok"


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n",
        b"HTTP/1.1 \xb200 OK\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["negative-chunk", "prefixed-chunk", "superscript-length", "superscript-status"],
)
async def test_malformed_numbers_are_connection_failures(
    start_server: StartServer, garbage: bytes
) -> None:
    server = await start_server(lambda server, peer: answer_all(server, peer, garbage))
    pool = pool_for(server)
    with pytest.raises(ConnectionFailedError, match="invalid HTTP response"):
        await post(pool)
    await pool.aclose()


@pytest.mark.parametrize(
    "status_line",
    [
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 200OK",
        b"HTTP/1.10 200 OK",
        b"HTTP/1.1x 200 OK",
        b"HTTP/2 200 OK",
        b"HTTP/1.1  200 OK",
        b"HTTP/1.1 099 Low",
        b"HTTP/1.1 600 High",
    ],
)
async def test_a_status_line_that_is_not_exactly_http_1x_and_three_digits_fails(
    start_server: StartServer, status_line: bytes
) -> None:
    response = status_line + b"\r\nContent-Length: 2\r\n\r\n{}"
    server = await start_server(lambda server, peer: answer_all(server, peer, response))
    pool = pool_for(server)
    with pytest.raises(ConnectionFailedError, match="malformed status line"):
        await post(pool)
    await pool.aclose()


@pytest.mark.parametrize("status_line", [b"HTTP/1.1 200 OK", b"HTTP/1.1 200", b"HTTP/1.0 200 "])
async def test_well_formed_status_lines_are_read(
    start_server: StartServer, status_line: bytes
) -> None:
    response = status_line + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    server = await start_server(lambda server, peer: answer_all(server, peer, response))
    pool = pool_for(server)
    answer = await post(pool)
    await pool.aclose()

    assert (answer.status, answer.body) == (200, b"{}")


async def test_both_transfer_encoding_and_content_length_fail_and_close_the_connection(
    start_server: StartServer,
) -> None:
    smuggled = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n"
    )
    answers = iter([smuggled, http_response(b'{"second":1}')])

    async def handler(server: Server, peer: Peer) -> None:
        while await server.next_request(peer) is not None:
            await peer.send(next(answers))

    server = await start_server(handler)
    pool = pool_for(server)
    with pytest.raises(ConnectionFailedError, match="both Transfer-Encoding and Content-Length"):
        await post(pool)
    second = await post(pool)
    await pool.aclose()

    assert second.body == b'{"second":1}'
    assert server.connections == 2  # the first connection was not reused


async def test_a_header_value_outside_latin1_is_a_configuration_error_before_sending(
    start_server: StartServer,
) -> None:
    server = await start_server(answer_all)
    pool = pool_for(server)
    with pytest.raises(ConfigurationError, match="X-Amz-Security-Token") as raised:
        await pool.request(
            "POST", "/", {"Host": "test", "X-Amz-Security-Token": "tok\u20acen-secret"}, b"{}"
        )
    await pool.aclose()

    assert "secret" not in str(raised.value)
    assert server.requests == []
