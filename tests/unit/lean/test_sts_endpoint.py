"""STS has its own endpoint setting: AssumeRole never goes to DynamoDB's endpoint override."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    AssumeRoleFailedError,
    Config,
    Credentials,
    MultiAccountDB,
    PartnerConfig,
    RetryPolicy,
    TransportKind,
    create_transport,
)
from asyncdynamo._aiobotocore import AiobotocoreTransport
from asyncdynamo._lean import LeanTransport
from asyncdynamo.local import Endpoint, config_for
from tests.unit.lean.lean_server import Peer, Server, StartServer, answer_all, http_response

ACME = PartnerConfig(
    partner_id="acme",
    role_arn="arn:aws:iam::111111111111:role/payments-partner",
    external_id="acme-7f3a",
)
DENIED = http_response(
    b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
    b"<Message>not authorized</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
    status="403 Forbidden",
    headers={"Content-Type": "text/xml"},
)


async def deny(server: Server, peer: Peer) -> None:
    await answer_all(server, peer, DENIED)


class NoNetwork:
    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise AssertionError(f"unexpected {operation}")

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("kind", [TransportKind.LEAN, TransportKind.AIOBOTOCORE])
async def test_assume_role_goes_to_the_sts_endpoint_not_dynamodbs(
    start_server: StartServer, kind: TransportKind
) -> None:
    dynamodb = await start_server(deny)
    sts = await start_server(deny)
    config = Config(
        region="eu-west-1",
        endpoint_url=dynamodb.url,
        sts_endpoint_url=sts.url,
        credentials=Credentials("base-key", "base-secret", "base-session-token"),
        transport=kind,
        retry=RetryPolicy(max_attempts=1),
    )
    base = DB(config, transport=NoNetwork())

    async with MultiAccountDB(base, [ACME]) as multi:
        with pytest.raises(AssumeRoleFailedError):
            await multi.partner("acme")

    assert dynamodb.requests == []
    assert len(sts.requests) == 1
    assert b"Action=AssumeRole" in sts.requests[0].body


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "cn-north-1"])
def test_without_an_sts_setting_the_lean_transport_uses_the_regional_sts_endpoint(
    region: str,
) -> None:
    config = Config(region=region, endpoint_url="http://127.0.0.1:9", transport=TransportKind.LEAN)

    transport = create_transport(config, service="sts")

    assert isinstance(transport, LeanTransport)
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    assert transport._host_header == f"sts.{region}.{suffix}"


async def test_without_an_sts_setting_aiobotocore_uses_the_regional_sts_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")  # would pick the global one
    config = Config(
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        credentials=Credentials("k", "s"),
    )
    transport = AiobotocoreTransport(config, service="sts")
    try:
        client = await transport._open()
        assert client.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"
    finally:
        await transport.aclose()


def test_the_test_configs_point_sts_at_moto_only() -> None:
    moto = Endpoint(url="http://127.0.0.1:5000", region="us-east-1", credentials=None, is_moto=True)
    other = Endpoint(url="http://127.0.0.1:8000", region="us-east-1", credentials=None)

    assert config_for(moto).endpoint_url_for("sts") == "http://127.0.0.1:5000"
    assert config_for(other).endpoint_url_for("sts") is None
    assert config_for(other).endpoint_url_for("dynamodb") == "http://127.0.0.1:8000"
