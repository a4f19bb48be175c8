"""Both transports tell the client whether a failed request can have reached the server, and
the client never re-sends a single-item write that may have been applied."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from asyncdynamo import RetryPolicy, WriteOutcomeUnknownError
from asyncdynamo._aiobotocore import AiobotocoreTransport
from asyncdynamo._client import Client
from asyncdynamo._config import Config, Credentials
from asyncdynamo._errors import TransportError
from asyncdynamo._lean import LeanTransport
from tests.unit.lean.lean_server import Peer, Server, StartServer, answer_all
from tests.unit.lean.test_lean_tls import tls_server

__all__ = ["tls_server"]  # the fixture, re-used from the lean TLS tests

TRANSPORTS = ("aiobotocore", "lean")
PUT = {"TableName": "t", "Item": {"pk": {"S": "acct#1"}, "balance": {"N": "100"}}}
GET = {"TableName": "t", "Key": {"pk": {"S": "acct#1"}}}


def transport_for(
    kind: str, url: str, *, read_timeout: float = 5.0
) -> AiobotocoreTransport | LeanTransport:
    config = Config(
        endpoint_url=url, credentials=Credentials("AKIDTEST", "secret"), read_timeout=read_timeout
    )
    return AiobotocoreTransport(config) if kind == "aiobotocore" else LeanTransport(config)


async def read_then_hang_up(server: Server, peer: Peer) -> None:
    await server.next_request(peer)  # the server has the request; the answer is lost


async def read_then_stall(server: Server, peer: Peer) -> None:
    await server.next_request(peer)
    await peer.reader.read()  # never answer


def free_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_refused_connection_is_not_sent(kind: str) -> None:
    transport = transport_for(kind, f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(TransportError) as raised:
            await transport.call("PutItem", PUT)
    finally:
        await transport.aclose()
    assert not raised.value.request_sent


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_unresolvable_host_is_not_sent(kind: str) -> None:
    transport = transport_for(kind, "http://name.invalid:80")
    try:
        with pytest.raises(TransportError) as raised:
            await transport.call("PutItem", PUT)
    finally:
        await transport.aclose()
    assert not raised.value.request_sent


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_untrusted_certificate_is_not_sent(
    kind: str, tls_server: tuple[Server, Path]
) -> None:
    server, _ = tls_server
    transport = transport_for(kind, f"https://127.0.0.1:{server.port}")
    try:
        with pytest.raises(TransportError) as raised:
            await transport.call("PutItem", PUT)
    finally:
        await transport.aclose()
    assert not raised.value.request_sent
    assert server.requests == []


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_connection_closed_after_the_request_is_possibly_applied(
    start_server: StartServer, kind: str
) -> None:
    server = await start_server(read_then_hang_up)
    transport = transport_for(kind, server.url)
    try:
        with pytest.raises(TransportError) as raised:
            await transport.call("PutItem", PUT)
    finally:
        await transport.aclose()
    assert raised.value.request_sent
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_read_timeout_is_possibly_applied(start_server: StartServer, kind: str) -> None:
    server = await start_server(read_then_stall)
    transport = transport_for(kind, server.url, read_timeout=0.2)
    try:
        with pytest.raises(TransportError) as raised:
            await transport.call("PutItem", PUT)
    finally:
        await transport.aclose()
    assert raised.value.request_sent


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_client_sends_a_possibly_applied_write_once_and_says_so(
    start_server: StartServer, kind: str
) -> None:
    server = await start_server(read_then_hang_up)
    client = Client(transport_for(kind, server.url), RetryPolicy(max_attempts=4, base=0.001))
    try:
        with pytest.raises(WriteOutcomeUnknownError) as raised:
            await client.call("PutItem", PUT)
    finally:
        await client.aclose()
    assert len(server.requests) == 1
    assert raised.value.table == "t"
    assert isinstance(raised.value.cause, TransportError)
    assert not raised.value.retryable


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_client_retries_a_read_whose_answer_was_lost(
    start_server: StartServer, kind: str
) -> None:
    async def hang_up_once(server: Server, peer: Peer) -> None:
        if peer.index == 1:
            await read_then_hang_up(server, peer)
            return
        await answer_all(server, peer)

    server = await start_server(hang_up_once)
    client = Client(transport_for(kind, server.url), RetryPolicy(max_attempts=4, base=0.001))
    try:
        await client.call("GetItem", GET)
    finally:
        await client.aclose()
    assert len(server.requests) == 2
