"""TLS: verified connections for https endpoints, and no TLS setup at all for http ones."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from asyncdynamo._client import Client
from asyncdynamo._config import Config, Credentials, RetryPolicy, TransportKind
from asyncdynamo._errors import CertificateVerificationError, TransportError
from asyncdynamo._lean import LeanTransport, _http
from asyncdynamo._lean._http import ConnectionPool
from tests.unit.lean.lean_server import Server, StartServer, answer_all


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost/127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[Server, Path]]:
    cert_file, key_file = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = Server(answer_all, ssl_context=context)
    await server.start()
    yield server, cert_file
    await server.aclose()


def tls_pool(server: Server, context: ssl.SSLContext | None) -> ConnectionPool:
    return ConnectionPool(
        "127.0.0.1",
        server.port,
        tls=True,
        max_connections=2,
        connect_timeout=5,
        read_timeout=5,
        ssl_context=context,
    )


async def test_https_requests_are_verified_and_reuse_the_connection(
    tls_server: tuple[Server, Path],
) -> None:
    server, cert_file = tls_server
    pool = tls_pool(server, ssl.create_default_context(cafile=str(cert_file)))

    first = await pool.request("POST", "/", {"Host": "127.0.0.1"}, b"{}")
    second = await pool.request("POST", "/", {"Host": "127.0.0.1"}, b"{}")
    await pool.aclose()

    assert (first.status, second.status) == (200, 200)
    assert server.connections == 1


async def test_untrusted_certificate_is_a_certificate_verification_error(
    tls_server: tuple[Server, Path],
) -> None:
    server, _ = tls_server
    pool = tls_pool(server, None)  # the shared default context: system CAs only

    with pytest.raises(CertificateVerificationError, match="CERTIFICATE_VERIFY_FAILED") as raised:
        await pool.request("POST", "/", {"Host": "127.0.0.1"}, b"{}")

    assert isinstance(raised.value, TransportError)
    assert not raised.value.retryable
    assert isinstance(raised.value.__cause__, ssl.SSLCertVerificationError)


async def test_a_certificate_failure_is_not_retried(tls_server: tuple[Server, Path]) -> None:
    server, _ = tls_server
    config = Config(
        endpoint_url=f"https://127.0.0.1:{server.port}",
        credentials=Credentials("testing", "testing"),
        transport=TransportKind.LEAN,
        retry=RetryPolicy(max_attempts=4, base=0.001),
    )
    client = Client(LeanTransport(config), config.retry)
    outcomes: list[tuple[int, BaseException | None]] = []
    client.observers.append(
        lambda op, params, response, retries, error: outcomes.append((retries, error))
    )
    try:
        with pytest.raises(CertificateVerificationError):
            await client.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "v"}}})
    finally:
        await client.aclose()

    assert [retries for retries, _ in outcomes] == [0]


async def test_http_endpoints_never_build_a_tls_context(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer
) -> None:
    def forbidden() -> ssl.SSLContext:
        raise AssertionError("an http endpoint built a TLS context")

    monkeypatch.setattr(_http, "shared_ssl_context", forbidden)
    server = await start_server(answer_all)
    pool = ConnectionPool(
        "127.0.0.1", server.port, tls=False, max_connections=1, connect_timeout=5, read_timeout=5
    )

    response = await pool.request("POST", "/", {"Host": "x"}, b"{}")
    await pool.aclose()

    assert response.status == 200
