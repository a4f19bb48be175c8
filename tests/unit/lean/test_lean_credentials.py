"""Where the lean transport gets credentials, and how long it keeps temporary ones."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncdynamo._config import Config, Credentials
from asyncdynamo._errors import ConfigurationError, ConnectionFailedError
from asyncdynamo._lean._credentials import CredentialResolver, fetch_container_credentials
from tests.unit.lean.lean_server import Peer, Server, StartServer, http_response

EXPLICIT = Credentials("AKIDEXPLICIT", "explicit-secret")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ambient AWS configuration: no env credentials, no config files, no IMDS."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def credentials_document(expires_in: timedelta, key_id: str = "ASIACONTAINER") -> bytes:
    expiration = (datetime.now(UTC) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "AccessKeyId": key_id,
            "SecretAccessKey": "container-secret",
            "Token": "container-token",
            "Expiration": expiration,
        }
    ).encode()


async def credentials_server(
    start_server: StartServer, *bodies: bytes, status: str = "200 OK"
) -> Server:
    """Answers successive requests with ``bodies`` (the last one repeats)."""

    async def handler(server: Server, peer: Peer) -> None:
        while await server.next_request(peer) is not None:
            index = min(len(server.requests), len(bodies)) - 1
            await peer.send(http_response(bodies[index], status=status))

    return await start_server(handler)


async def test_explicit_credentials_are_used_as_given() -> None:
    resolver = CredentialResolver(Config(credentials=EXPLICIT))

    assert await resolver.get() is EXPLICIT


async def test_provider_is_awaited_for_every_request_and_wins_over_explicit() -> None:
    calls: list[int] = []

    async def provider() -> Credentials:
        calls.append(1)
        return Credentials(f"AKID{len(calls)}", "secret")

    resolver = CredentialResolver(Config(credentials=EXPLICIT, credentials_provider=provider))

    assert (await resolver.get()).access_key_id == "AKID1"
    assert (await resolver.get()).access_key_id == "AKID2"


async def test_environment_credentials_with_session_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-token")
    resolver = CredentialResolver(Config())

    credentials = await resolver.get()

    assert (credentials.access_key_id, credentials.secret_access_key) == ("AKIDENV", "env-secret")
    assert credentials.session_token == "env-token"


async def test_environment_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFIRST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    resolver = CredentialResolver(Config())
    await resolver.get()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLATER")

    assert (await resolver.get()).access_key_id == "AKIDFIRST"


async def test_container_endpoint_credentials_are_cached_until_near_expiry(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer
) -> None:
    server = await credentials_server(start_server, credentials_document(timedelta(hours=6)))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.url}/creds?role=x")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-token")
    resolver = CredentialResolver(Config())

    first = await resolver.get()
    second = await resolver.get()

    assert first is second
    assert (first.access_key_id, first.session_token) == ("ASIACONTAINER", "container-token")
    assert first.expiration is not None
    assert first.expiration.tzinfo is not None
    assert len(server.requests) == 1
    request = server.requests[0]
    assert (request.method, request.target) == ("GET", "/creds?role=x")
    assert request.headers["authorization"] == "secret-token"


async def test_container_credentials_close_to_expiry_are_fetched_again(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer
) -> None:
    server = await credentials_server(
        start_server,
        credentials_document(timedelta(minutes=5), "ASIAOLD"),
        credentials_document(timedelta(hours=1), "ASIANEW"),
    )
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url)
    resolver = CredentialResolver(Config())

    assert (await resolver.get()).access_key_id == "ASIAOLD"
    assert (await resolver.get()).access_key_id == "ASIANEW"
    assert (await resolver.get()).access_key_id == "ASIANEW"
    assert len(server.requests) == 2


async def test_failed_early_refresh_keeps_still_valid_credentials(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer
) -> None:
    good = http_response(credentials_document(timedelta(minutes=10)))
    failure = http_response(b"oops", status="500 Internal Server Error")

    async def handler(server: Server, peer: Peer) -> None:
        while await server.next_request(peer) is not None:
            await peer.send(good if len(server.requests) == 1 else failure)

    server = await start_server(handler)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url)
    resolver = CredentialResolver(Config())

    first = await resolver.get()
    assert await resolver.get() is first
    assert len(server.requests) == 2


async def test_authorization_token_file_is_read_on_each_fetch(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer, tmp_path: Path
) -> None:
    server = await credentials_server(start_server, credentials_document(timedelta(minutes=1)))
    token_file = tmp_path / "token"
    token_file.write_text("token-one\n")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set")
    resolver = CredentialResolver(Config())

    await resolver.get()
    token_file.write_text("token-two")
    await resolver.get()

    assert [r.headers["authorization"] for r in server.requests] == ["token-one", "token-two"]


async def test_container_endpoint_refusal_is_a_configuration_error(
    start_server: StartServer,
) -> None:
    server = await credentials_server(start_server, b"{}", status="403 Forbidden")

    with pytest.raises(ConfigurationError, match="403"):
        await fetch_container_credentials(server.url, token=None, connect_timeout=5, read_timeout=5)


async def test_plain_http_full_uri_to_an_arbitrary_host_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        await fetch_container_credentials(
            "http://169.254.169.254/latest", token=None, connect_timeout=1, read_timeout=1
        )


async def test_botocore_chain_is_the_last_resort(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shared = tmp_path / "credentials"
    shared.write_text(
        "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    resolver = CredentialResolver(Config())

    credentials = await resolver.get()

    assert (credentials.access_key_id, credentials.secret_access_key) == ("AKIDFILE", "file-secret")
    assert await resolver.get() is credentials


async def test_no_credentials_anywhere_is_a_configuration_error() -> None:
    resolver = CredentialResolver(Config())

    with pytest.raises(ConfigurationError, match="no AWS credentials"):
        await resolver.get()


async def test_callers_queued_behind_a_failed_refresh_share_its_failure(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer
) -> None:
    server = await credentials_server(start_server, b"down", status="500 Internal Server Error")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url)
    resolver = CredentialResolver(Config())

    outcomes = await asyncio.gather(*(resolver.get() for _ in range(5)), return_exceptions=True)

    assert all(isinstance(outcome, ConnectionFailedError) for outcome in outcomes)
    assert len(server.requests) == 1  # one attempt, not one per waiting caller


async def test_usable_credentials_are_not_held_back_by_a_slow_early_refresh(
    monkeypatch: pytest.MonkeyPatch, start_server: StartServer
) -> None:
    refresh_started = asyncio.Event()
    release = asyncio.Event()
    soon = credentials_document(timedelta(minutes=10), "ASIAOLD")
    later = credentials_document(timedelta(hours=1), "ASIANEW")

    async def handler(server: Server, peer: Peer) -> None:
        while await server.next_request(peer) is not None:
            index = len(server.requests)
            if index == 2:
                refresh_started.set()
                await release.wait()
            await peer.send(http_response(soon if index == 1 else later))

    server = await start_server(handler)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url)
    resolver = CredentialResolver(Config(read_timeout=1.0))
    first = await resolver.get()  # inside the early-refresh window at once
    refreshing = asyncio.create_task(resolver.get())
    await refresh_started.wait()

    meanwhile = await resolver.get()
    still_refreshing = not refreshing.done()
    release.set()
    refreshed = await refreshing

    assert meanwhile is first
    assert still_refreshing
    assert refreshed.access_key_id == "ASIANEW"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.attacker.example/creds",
        "http://127.0.0.1.nip.io/creds",
        "http://localhost.attacker.example/creds",
        "http://[::2]/creds",
    ],
)
async def test_plain_http_to_a_host_name_that_only_looks_loopback_gets_no_token(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        await fetch_container_credentials(
            url, token="secret-bearer-token", connect_timeout=1, read_timeout=1
        )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "[::1]"])
def test_loopback_ip_literals_and_container_hosts_are_trusted_over_http(host: str) -> None:
    from asyncdynamo._lean._credentials import _is_trusted_http_host
    from asyncdynamo._lean._endpoints import parse_url

    assert _is_trusted_http_host(parse_url(f"http://{host}:8080/x").host)
    for documented in ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"):
        assert _is_trusted_http_host(documented)
