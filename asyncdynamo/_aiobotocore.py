"""The aiobotocore transport: the only module that imports aiobotocore or botocore."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import copy
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session
from botocore import exceptions as boto_errors
from botocore import xform_name
from botocore.httpsession import create_urllib3_context

from ._config import Config, CredentialsProvider
from ._error_table import error_from_service
from ._errors import (
    CertificateVerificationError,
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
)

__all__ = ["AiobotocoreTransport", "new_session"]

_FAR_FUTURE = timedelta(days=3650)


def _refreshable(provider: CredentialsProvider) -> AioRefreshableCredentials:
    async def refresh() -> dict[str, Any]:
        creds = await provider()
        expiry = creds.expiration or (datetime.now(UTC) + _FAR_FUTURE)
        return {
            "access_key": creds.access_key_id,
            "secret_key": creds.secret_access_key,
            "token": creds.session_token,
            "expiry_time": expiry.isoformat(),
        }

    return AioRefreshableCredentials(
        access_key=None,
        secret_key=None,
        token=None,
        expiry_time=datetime.now(UTC) - timedelta(seconds=1),
        refresh_using=refresh,
        method="asyncdynamo-provider",
    )


def _check_dynamodb_crc32(response_dict: dict[str, Any], **_: Any) -> None:
    # botocore only uses DynamoDB's x-amz-crc32 to decide whether to retry; with its retries off
    # (ours run instead) a damaged body would be parsed and returned. Fail it, retryably.
    expected = response_dict["headers"].get("x-amz-crc32")
    body = response_dict.get("body")
    if (
        isinstance(expected, str)
        and expected.isdigit()
        and isinstance(body, bytes)
        and binascii.crc32(body) != int(expected)
    ):
        raise ConnectionFailedError(
            f"response body failed its CRC32 check (x-amz-crc32: {expected})"
        )


def _request_sent(exc: Exception) -> bool:
    """Whether a botocore connection error can have happened after request bytes left.

    aiobotocore raises ``SSLError`` and ``ProxyConnectionError`` only while connecting, and
    ``EndpointConnectionError`` both for a failed connect (aiohttp's ``ClientConnectorError``,
    DNS) and for a generic ``ClientConnectionError`` (a reset mid-request): its ``error`` tells.
    ``ConnectionClosedError`` (server disconnected, bad status line) and everything else came
    after sending.
    """
    if isinstance(exc, boto_errors.SSLError | boto_errors.ProxyConnectionError):
        return False
    if isinstance(exc, boto_errors.EndpointConnectionError):
        cause = getattr(exc, "kwargs", {}).get("error")
        return not isinstance(cause, aiohttp.ClientConnectorError | socket.gaierror)
    return True


class _HostnameCheckingSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's HTTP session with hostname verification on its TLS context.

    botocore's context factory leaves hostname checks to urllib3, but aiohttp relies on the
    context alone; aiobotocore releases before 3.x then verify the chain but not the name.
    Newer releases turn the check on themselves, and if the hook below is ever renamed upstream
    this class simply falls back to aiobotocore's own behaviour.
    """

    def _get_ssl_context(self) -> ssl.SSLContext:
        context: ssl.SSLContext = create_urllib3_context()
        context.check_hostname = True
        return context


def new_session() -> Any:
    """A fresh ``AioSession``, to pass as ``Config.session`` to several configs so their clients
    share its loaded service models and endpoint data (a second client then costs ≈ 3 ms)."""
    return get_session()


def _session_with_provider(session: Any, provider: CredentialsProvider) -> AioSession:
    # A shallow copy shares the session's components (the loader that caches service models and
    # endpoints.json, the endpoint resolver) but not its credentials. Setting the provider on the
    # given session itself would make every later client built from it (another partner's, the
    # base DB's) sign with these credentials.
    inner = getattr(session, "_session", None)  # aioboto3.Session wraps an AioSession
    if isinstance(inner, AioSession):
        session = inner
    base = session if isinstance(session, AioSession) else get_session()
    scoped = copy.copy(base)
    scoped._credentials = _refreshable(provider)
    return scoped


def _is_certificate_failure(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a certificate that did not verify (botocore wraps aiohttp's
    error, which wraps the ``ssl`` one, as ``kwargs["error"]`` and as causes)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        kwargs = getattr(current, "kwargs", None)
        linked = [current.__cause__, current.__context__, *current.args]
        if isinstance(kwargs, dict):
            linked.append(kwargs.get("error"))
        pending += [item for item in linked if isinstance(item, BaseException)]
    return False


class AiobotocoreTransport:
    """Sends calls through one aiobotocore client, created on first use and reused.

    botocore's own retries are off (``total_max_attempts=1``): the core client retries, so there
    is exactly one retry policy. ``Config.session`` may be an aiobotocore ``AioSession`` or an
    ``aioboto3.Session``.
    """

    def __init__(self, config: Config, *, service: str = "dynamodb") -> None:
        self._config = config
        self._service = service
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._methods: dict[str, Any] = {}
        self._closed = False

    async def _open(self) -> Any:
        async with self._lock:
            if self._client is not None:
                return self._client
            if self._closed:
                raise ConfigurationError("this transport is closed")
            config = self._config
            options = {"http_session_cls": _HostnameCheckingSession, **config.client_options}
            aio_config = AioConfig(
                retries={"total_max_attempts": 1, "mode": "standard"},
                max_pool_connections=config.max_pool_connections,
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                **options,
            )
            kwargs: dict[str, Any] = {"region_name": config.region, "config": aio_config}
            endpoint_url = config.endpoint_url_for(self._service)
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
            elif self._service == "sts":
                # The regional endpoint, whatever AWS_STS_REGIONAL_ENDPOINTS says (as the lean
                # transport does): never the legacy global one.
                from ._lean._endpoints import regional_url

                kwargs["endpoint_url"] = regional_url("sts", config.region)
            session = config.session
            if config.credentials_provider is not None:
                session = _session_with_provider(session, config.credentials_provider)
            elif config.credentials is not None:
                kwargs["aws_access_key_id"] = config.credentials.access_key_id
                kwargs["aws_secret_access_key"] = config.credentials.secret_access_key
                kwargs["aws_session_token"] = config.credentials.session_token
            if session is None:
                session = get_session()
            if hasattr(session, "create_client"):
                creator = session.create_client(self._service, **kwargs)
            else:  # aioboto3.Session
                creator = session.client(self._service, **kwargs)
            stack = contextlib.AsyncExitStack()
            client = await stack.enter_async_context(creator)
            if self._service == "dynamodb":
                client.meta.events.register("before-parse.dynamodb", _check_dynamodb_crc32)
            self._client = client
            self._stack = stack
            return self._client

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client or await self._open()
        method = self._methods.get(operation)
        if method is None:
            method = getattr(client, xform_name(operation))
            self._methods[operation] = method
        try:
            response: dict[str, Any] = await method(**params)
        except boto_errors.ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise error_from_service(
                str(error.get("Code", "")),
                str(error.get("Message", "")),
                operation=operation,
                status=status,
                body=exc.response,
            ) from exc
        except boto_errors.ConnectTimeoutError as exc:
            raise RequestTimeoutError(f"{operation}: {exc}", request_sent=False) from exc
        except boto_errors.ReadTimeoutError as exc:
            raise RequestTimeoutError(f"{operation}: {exc}") from exc
        except (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError) as exc:
            raise ConfigurationError(f"{operation}: no AWS credentials found: {exc}") from exc
        except boto_errors.ParamValidationError as exc:
            raise ConfigurationError(f"{operation}: invalid parameters: {exc}") from exc
        except (boto_errors.HTTPClientError, boto_errors.ConnectionError, OSError) as exc:
            if _is_certificate_failure(exc):  # not retryable: the same certificate every time
                raise CertificateVerificationError(
                    f"{operation}: {exc}", request_sent=False
                ) from exc
            raise ConnectionFailedError(
                f"{operation}: {exc}", request_sent=_request_sent(exc)
            ) from exc
        return response

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            stack, self._stack, self._client = self._stack, None, None
            self._methods.clear()
        if stack is not None:
            await stack.aclose()
