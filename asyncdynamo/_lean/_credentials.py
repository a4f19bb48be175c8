"""Credential resolution for the lean transport.

Order: ``Config.credentials_provider`` (it wins over explicit credentials, as ``Config``
documents) → ``Config.credentials`` → environment variables → the container credentials endpoint
(ECS, EKS Pod Identity, Lambda SnapStart) → botocore's full chain, imported only then and run in
a thread (shared config files, SSO, IMDS...). The environment is read once, on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from asyncdynamo._config import Config, Credentials
from asyncdynamo._errors import ConfigurationError, ConnectionFailedError
from asyncdynamo._lean._endpoints import Endpoint, parse_url
from asyncdynamo._lean._http import ConnectionPool

__all__ = ["CredentialResolver", "fetch_container_credentials"]

# Refresh temporary credentials this long before they expire (botocore's advisory window)...
REFRESH_BEFORE = 15 * 60.0
# ...and keep using the old ones after a failed refresh until this close to expiry.
USABLE_UNTIL = 60.0
# Frozen botocore credentials are re-read this often; botocore refreshes its own at least
# 10 minutes before expiry, so a frozen copy never outlives them.
_BOTOCORE_REFREEZE = 5 * 60.0

_ECS_HOST = "http://169.254.170.2"
# Plain-http full URIs (the token travels in clear) are only trusted on the documented container
# hosts (ECS, EKS Pod Identity over IPv4 and IPv6) and on loopback, as botocore decides: an IP
# literal in 127.0.0.0/8 or ::1, or the name localhost. A *name* such as 127.evil.example is not
# loopback. https is trusted for any host (the certificate is verified).
_TRUSTED_HTTP_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"})

_Source = Callable[[], Awaitable[tuple[Credentials, float]]]


def _is_trusted_http_host(host: str) -> bool:
    if host in _TRUSTED_HTTP_HOSTS:
        return True
    import ipaddress  # only reached when container credentials are fetched over http

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, not an IP literal
        return False


def _request_target(url: str) -> str:
    after_scheme = url.partition("://")[2]
    slash = after_scheme.find("/")
    return after_scheme[slash:].partition("#")[0] if slash >= 0 else "/"


def _read_token(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def _refresh_at(credentials: Credentials) -> float:
    if credentials.expiration is None:
        return float("inf")
    return credentials.expiration.timestamp() - REFRESH_BEFORE


def _usable(credentials: Credentials, now: float) -> bool:
    # Known to be safe to sign with for a while yet, though due for a refresh. Frozen botocore
    # credentials carry no expiration, so they never qualify.
    expiration = credentials.expiration
    return expiration is not None and now < expiration.timestamp() - USABLE_UNTIL


async def fetch_container_credentials(
    url: str, *, token: str | None, connect_timeout: float, read_timeout: float
) -> Credentials:
    """GET credentials from a container credentials endpoint.

    Args:
        url: the full endpoint URL.
        token: the ``Authorization`` header value, if the endpoint wants one.
        connect_timeout: seconds to connect.
        read_timeout: seconds to get the whole answer.

    Raises:
        ConfigurationError: the URL is not trusted, or the endpoint refused the request.
        ConnectionFailedError: the endpoint failed or answered nonsense.
        RequestTimeoutError: the endpoint did not answer in time.
    """
    endpoint: Endpoint = parse_url(url)
    if not endpoint.tls and not _is_trusted_http_host(endpoint.host):
        raise ConfigurationError(
            f"container credentials URL {url!r} must use https or a loopback/container host"
        )
    headers = {"Host": endpoint.host_header, "Accept": "application/json"}
    if token:
        headers["Authorization"] = token
    pool = ConnectionPool(
        endpoint.host,
        endpoint.port,
        tls=endpoint.tls,
        max_connections=1,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    try:
        response = await pool.request("GET", _request_target(url), headers, b"", repeatable=True)
    finally:
        await pool.aclose()
    if 400 <= response.status < 500:
        raise ConfigurationError(
            f"container credentials endpoint refused the request ({response.status})"
        )
    try:
        if response.status != 200:
            raise ValueError(f"status {response.status}")
        document = json.loads(response.body)
        expiration = document.get("Expiration")
        expires = datetime.fromisoformat(expiration) if expiration else None
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return Credentials(
            access_key_id=document["AccessKeyId"],
            secret_access_key=document["SecretAccessKey"],
            session_token=document.get("Token") or None,
            expiration=expires,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConnectionFailedError(
            f"container credentials endpoint gave no usable credentials: {exc}"
        ) from exc


class CredentialResolver:
    """Finds credentials for signing, caching temporary ones until shortly before expiry.

    Args:
        config: supplies ``credentials_provider``, ``credentials`` and the HTTP timeouts.
        environ: the environment to read (``os.environ`` when omitted), read once.
    """

    def __init__(self, config: Config, *, environ: Mapping[str, str] | None = None) -> None:
        self._config = config
        self._environ = environ
        self._source: _Source | None = None
        self._cached: Credentials | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        # Refresh attempts so far, and how the last one failed: callers that queued behind an
        # attempt share its outcome instead of each trying again in turn.
        self._attempts = 0
        self._failure: Exception | None = None
        self._botocore: Any = None

    async def get(self) -> Credentials:
        """Credentials to sign the next request with.

        Raises:
            ConfigurationError: no source has credentials.
        """
        provider = self._config.credentials_provider
        if provider is not None:
            return await provider()
        if self._config.credentials is not None:
            return self._config.credentials
        cached = self._cached
        if cached is not None:
            now = time.time()
            if now < self._refresh_at:
                return cached
            if self._lock.locked() and _usable(cached, now):
                return cached  # an early refresh is under way: do not queue behind it
        attempts = self._attempts
        async with self._lock:  # single flight: one refresh, every waiter gets its result
            cached = self._cached
            now = time.time()
            if cached is not None and now < self._refresh_at:
                return cached
            if self._attempts != attempts:  # an attempt ended while this caller waited
                if cached is not None and _usable(cached, now):
                    return cached
                if self._failure is not None:
                    raise self._failure
            if self._source is None:
                self._source = self._pick_source()
            self._failure = None
            try:
                credentials, refresh_at = await self._source()
            except Exception as exc:
                self._failure = exc
                if cached is not None and _usable(cached, time.time()):
                    return cached  # a failed early refresh is not fatal yet
                raise
            finally:
                self._attempts += 1
            self._cached, self._refresh_at = credentials, refresh_at
            return credentials

    def forget(self) -> None:
        """Drop the cached credentials and the chosen source: the next :meth:`get` reads the
        environment again (before a SnapStart snapshot, and when the transport closes)."""
        self._cached = None
        self._refresh_at = 0.0
        self._source = None
        self._failure = None
        self._botocore = None

    def _pick_source(self) -> _Source:
        env = os.environ if self._environ is None else self._environ
        key_id = env.get("AWS_ACCESS_KEY_ID")
        secret = env.get("AWS_SECRET_ACCESS_KEY")
        if key_id and secret:
            static = Credentials(key_id, secret, env.get("AWS_SESSION_TOKEN") or None)

            async def from_env() -> tuple[Credentials, float]:
                return static, float("inf")

            return from_env
        relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        if relative or full:
            url = _ECS_HOST + relative if relative else str(full)
            token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
            token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")

            async def from_container() -> tuple[Credentials, float]:
                auth = token
                if token_file:
                    # Re-read every time: the agent rotates the token in place.
                    auth = await asyncio.to_thread(_read_token, token_file)
                credentials = await fetch_container_credentials(
                    url,
                    token=auth,
                    connect_timeout=self._config.connect_timeout,
                    read_timeout=self._config.read_timeout,
                )
                return credentials, _refresh_at(credentials)

            return from_container
        return self._from_botocore

    async def _from_botocore(self) -> tuple[Credentials, float]:
        frozen = await asyncio.to_thread(self._freeze_botocore)
        if frozen is None:
            raise ConfigurationError(
                "no AWS credentials found: pass Config.credentials or credentials_provider, "
                "or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )
        return frozen, time.time() + _BOTOCORE_REFREEZE

    def _freeze_botocore(self) -> Credentials | None:
        if self._botocore is None:
            try:
                from botocore.session import get_session
            except ImportError:
                return None
            self._botocore = get_session().get_credentials()
            if self._botocore is None:
                return None
        frozen = self._botocore.get_frozen_credentials()
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)
