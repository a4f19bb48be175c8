"""LeanTransport end to end against a scripted server: headers, signing, parsing, lifecycle."""

from __future__ import annotations

import json

import pytest

from asyncdynamo._config import Config, Credentials
from asyncdynamo._errors import ConfigurationError, ResourceNotFoundError
from asyncdynamo._lean import LeanTransport
from asyncdynamo._transport import Transport
from tests.unit.lean.lean_server import Peer, Server, StartServer, http_response

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret", "session-token")


def config_for(server: Server) -> Config:
    return Config(region="eu-west-1", endpoint_url=server.url, credentials=CREDENTIALS)


async def test_transport_satisfies_the_protocol() -> None:
    transport = LeanTransport(Config(region="eu-west-1", credentials=CREDENTIALS))

    assert isinstance(transport, Transport)
    await transport.aclose()


async def test_call_sends_a_signed_json_request_and_parses_the_answer(
    start_server: StartServer,
) -> None:
    answer = http_response(b'{"Item":{"pk":{"S":"a"},"b":{"B":"AP8="}}}')

    async def handler(server: Server, peer: Peer) -> None:
        while await server.next_request(peer) is not None:
            await peer.send(answer)

    server = await start_server(handler)
    async with LeanTransport(config_for(server)) as transport:
        response = await transport.call("GetItem", {"TableName": "t", "Key": {"pk": {"S": "a"}}})

    assert response["Item"] == {"pk": {"S": "a"}, "b": {"B": b"\x00\xff"}}
    request = server.requests[0]
    assert (request.method, request.target) == ("POST", "/")
    assert request.headers["x-amz-target"] == "DynamoDB_20120810.GetItem"
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["x-amz-security-token"] == "session-token"
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert (
        "/eu-west-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
    ) in request.headers["authorization"]
    assert json.loads(request.body) == {"TableName": "t", "Key": {"pk": {"S": "a"}}}


async def test_service_errors_are_translated(start_server: StartServer) -> None:
    error = http_response(
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
        b'"message":"Requested resource not found"}',
        status="400 Bad Request",
    )

    async def handler(server: Server, peer: Peer) -> None:
        while await server.next_request(peer) is not None:
            await peer.send(error)

    server = await start_server(handler)
    async with LeanTransport(config_for(server)) as transport:
        with pytest.raises(ResourceNotFoundError, match="Requested resource not found"):
            await transport.call("DescribeTable", {"TableName": "missing"})


async def test_closed_transport_refuses_calls() -> None:
    transport = LeanTransport(Config(credentials=CREDENTIALS))
    await transport.aclose()

    with pytest.raises(ConfigurationError, match="closed"):
        await transport.call("GetItem", {})


def test_unsupported_service_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'s3'"):
        LeanTransport(Config(), service="s3")
