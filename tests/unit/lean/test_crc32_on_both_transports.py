"""A DynamoDB body that fails its CRC32 check is never returned, whichever transport reads it."""

from __future__ import annotations

import binascii

import pytest

from asyncdynamo._aiobotocore import AiobotocoreTransport
from asyncdynamo._config import Config, Credentials
from asyncdynamo._errors import ConnectionFailedError
from asyncdynamo._lean import LeanTransport
from tests.unit.lean.lean_server import Peer, Server, StartServer, answer_all, http_response

BODY = b'{"Item":{"pk":{"S":"acct#1"},"balance":{"N":"101"}}}'
KEY = {"TableName": "t", "Key": {"pk": {"S": "acct#1"}}}
TRANSPORTS = ("aiobotocore", "lean")


async def server_answering(start_server: StartServer, crc32: int) -> Server:
    response = http_response(
        BODY,
        headers={"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": str(crc32)},
    )

    async def handler(server: Server, peer: Peer) -> None:
        await answer_all(server, peer, response)

    return await start_server(handler)


def transport_for(kind: str, server: Server) -> AiobotocoreTransport | LeanTransport:
    config = Config(endpoint_url=server.url, credentials=Credentials("AKIDTEST", "secret"))
    return AiobotocoreTransport(config) if kind == "aiobotocore" else LeanTransport(config)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_body_failing_its_crc32_is_a_retryable_connection_failure(
    start_server: StartServer, kind: str
) -> None:
    server = await server_answering(start_server, binascii.crc32(BODY) ^ 1)
    transport = transport_for(kind, server)
    with pytest.raises(ConnectionFailedError, match="CRC32") as raised:
        await transport.call("GetItem", KEY)
    await transport.aclose()

    assert raised.value.retryable


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_body_matching_its_crc32_is_returned(start_server: StartServer, kind: str) -> None:
    server = await server_answering(start_server, binascii.crc32(BODY))
    transport = transport_for(kind, server)
    response = await transport.call("GetItem", KEY)
    await transport.aclose()

    assert response["Item"]["balance"] == {"N": "101"}
