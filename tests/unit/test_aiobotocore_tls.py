"""The aiobotocore transport verifies certificates and hostnames."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from asyncdynamo import CertificateVerificationError, Config, ConnectionFailedError, Credentials
from asyncdynamo._aiobotocore import AiobotocoreTransport, _HostnameCheckingSession
from tests.unit.lean.lean_server import Server
from tests.unit.lean.test_lean_tls import tls_server

__all__ = ["tls_server"]  # the fixture, re-used from the lean TLS tests


def test_tls_context_requires_certificates_and_hostnames() -> None:
    context = _HostnameCheckingSession._get_ssl_context(None)  # type: ignore[arg-type]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


async def test_untrusted_certificate_is_refused(tls_server: tuple[Server, Path]) -> None:
    server, _ = tls_server
    config = Config(
        endpoint_url=f"https://127.0.0.1:{server.port}",
        credentials=Credentials("testing", "testing"),
    )
    transport = AiobotocoreTransport(config)
    try:
        with pytest.raises(CertificateVerificationError) as raised:
            await transport.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "v"}}})
    finally:
        await transport.aclose()

    assert not raised.value.retryable


async def test_an_unreachable_plain_http_endpoint_stays_a_retryable_connection_failure() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config(endpoint_url=f"http://127.0.0.1:{port}", credentials=Credentials("t", "t"))
    transport = AiobotocoreTransport(config)
    try:
        with pytest.raises(ConnectionFailedError) as raised:
            await transport.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "v"}}})
    finally:
        await transport.aclose()

    assert raised.value.retryable
