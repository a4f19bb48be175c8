"""The SigV4 signer agrees byte for byte with botocore's ``SigV4Auth``."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from asyncdynamo._config import Credentials
from asyncdynamo._lean._sigv4 import SigV4Signer, amz_date_now

AMZ_DATE = "20261125T034501Z"
FIXED_NOW = datetime.datetime(2026, 11, 25, 3, 45, 1)


def botocore_authorization(
    monkeypatch: pytest.MonkeyPatch,
    credentials: Credentials,
    *,
    service: str,
    region: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    query: Sequence[tuple[str, str]] = (),
) -> dict[str, str]:
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: FIXED_NOW)
    request = AWSRequest(
        method="POST", url=url, headers=dict(headers), data=body, params=dict(query)
    )
    signer = SigV4Auth(
        BotocoreCredentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        service,
        region,
    )
    signer.add_auth(request)
    return {name: request.headers[name] for name in request.headers if name not in headers}


CASES = [
    pytest.param(
        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        "dynamodb",
        "us-east-1",
        "https://dynamodb.us-east-1.amazonaws.com/",
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.GetItem",
        },
        b'{"TableName":"t","Key":{"pk":{"S":"a"}}}',
        (),
        id="dynamodb-long-term",
    ),
    pytest.param(
        Credentials("ASIAEXAMPLE", "secret/with+chars", "FwoGZXIvYXdzE//token=="),
        "kms",
        "eu-west-1",
        "https://kms.eu-west-1.amazonaws.com/",
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "TrentService.GenerateDataKey",
        },
        b'{"KeyId":"alias/x","KeySpec":"AES_256"}',
        (),
        id="kms-session-token",
    ),
    pytest.param(
        Credentials("ASIAEXAMPLE", "s3cr3t", "token"),
        "sts",
        "cn-north-1",
        "https://sts.cn-north-1.amazonaws.com.cn/",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx",
        (("Action", "GetCallerIdentity"), ("Version", "2011-06-15"), ("a b", "c/d~e*f")),
        id="sts-query-params",
    ),
    pytest.param(
        Credentials("AKID", "secret"),
        "dynamodb",
        "us-gov-west-1",
        "http://127.0.0.1:8000/prefix/a b",
        {"Content-Type": "application/x-amz-json-1.0", "X-Custom": "  spaced   out  value "},
        b"",
        (),
        id="port-path-whitespace-empty-body",
    ),
]


@pytest.mark.parametrize(
    ("credentials", "service", "region", "url", "headers", "body", "query"), CASES
)
def test_signature_matches_botocore(
    monkeypatch: pytest.MonkeyPatch,
    credentials: Credentials,
    service: str,
    region: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    query: tuple[tuple[str, str], ...],
) -> None:
    expected = botocore_authorization(
        monkeypatch,
        credentials,
        service=service,
        region=region,
        url=url,
        headers=headers,
        body=body,
        query=query,
    )
    authority, _, path = url.partition("://")[2].partition("/")

    ours = SigV4Signer(region, service).sign(
        credentials,
        method="POST",
        host=authority,
        path="/" + path,
        headers=headers,
        body=body,
        query=query,
        amz_date=AMZ_DATE,
    )

    assert ours == expected


def test_user_agent_is_not_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = Credentials("AKID", "secret")
    headers = {"Content-Type": "application/x-amz-json-1.0", "User-Agent": "anything/1.0"}
    signer = SigV4Signer("us-east-1", "dynamodb")

    signed = signer.sign(
        credentials, method="POST", host="h", path="/", headers=headers, body=b"", amz_date=AMZ_DATE
    )

    assert "SignedHeaders=content-type;host;x-amz-date," in signed["Authorization"]


def test_signing_again_with_a_cached_key_gives_the_same_signature() -> None:
    signer = SigV4Signer("us-east-1", "dynamodb")

    def sign(secret: str) -> str:
        return signer.sign(
            Credentials("A", secret),
            method="POST",
            host="h",
            path="/",
            headers={},
            body=b"x",
            amz_date=AMZ_DATE,
        )["Authorization"]

    first, other, again = sign("one"), sign("two"), sign("one")

    assert first == again
    assert first != other


def test_amz_date_now_is_a_sigv4_timestamp() -> None:
    stamp = amz_date_now()

    assert datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").year >= 2024
