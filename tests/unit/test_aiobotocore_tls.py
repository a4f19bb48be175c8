"""The aiobotocore transport verifies certificates and hostnames."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from asyncdynamo import Config, ConnectionFailedError, Credentials
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
        with pytest.raises(ConnectionFailedError):
            await transport.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "v"}}})
    finally:
        await transport.aclose()
