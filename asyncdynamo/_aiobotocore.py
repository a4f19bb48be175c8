"""The aiobotocore transport: the only module that imports aiobotocore or botocore."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session
from botocore import exceptions as boto_errors
from botocore import xform_name
from botocore.httpsession import create_urllib3_context, get_cert_path

from ._config import Config, CredentialsProvider
from ._errors import (
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
    error_from_service,
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


@functools.cache
def _verifying_context(ca_certs: str | None) -> ssl.SSLContext:
    context: ssl.SSLContext = create_urllib3_context()
    # botocore leaves hostname checks to urllib3; aiohttp relies on the context, so turn them on.
    context.check_hostname = True
    if ca_certs:
        context.load_verify_locations(ca_certs, None, None)
    return context


class _SharedTLSContextSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's HTTP session, loading the CA bundle once per process, not once per client.

    Loading it costs ≈ 15–20 ms (even for http endpoints, where it is never used), which was most
    of a partner's cold switch. An ``SSLContext`` is safe to share between connections. Client
    certificates and proxies keep aiobotocore's own per-client path.
    """

    def _create_connector(self, proxy_url: str | None) -> Any:
        try:
            own_path = proxy_url or self._cert_file or not self._verify
            limit, connector_args = self._max_pool_connections, self._connector_args
        except AttributeError:  # an aiobotocore release that changed these internals
            own_path = True
        if own_path:
            return super()._create_connector(proxy_url)
        import aiohttp  # aiobotocore's own dependency, already imported by it

        return aiohttp.TCPConnector(
            limit=limit,
            ssl=_verifying_context(get_cert_path(self._verify)),
            **connector_args,
        )


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
            options = {"http_session_cls": _SharedTLSContextSession, **config.client_options}
            aio_config = AioConfig(
                retries={"total_max_attempts": 1, "mode": "standard"},
                max_pool_connections=config.max_pool_connections,
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                **options,
            )
            kwargs: dict[str, Any] = {"region_name": config.region, "config": aio_config}
            if config.endpoint_url:
                kwargs["endpoint_url"] = config.endpoint_url
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
            self._client = await stack.enter_async_context(creator)
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
        except (boto_errors.ConnectTimeoutError, boto_errors.ReadTimeoutError) as exc:
            raise RequestTimeoutError(f"{operation}: {exc}") from exc
        except (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError) as exc:
            raise ConfigurationError(f"{operation}: no AWS credentials found: {exc}") from exc
        except boto_errors.ParamValidationError as exc:
            raise ConfigurationError(f"{operation}: invalid parameters: {exc}") from exc
        except (boto_errors.HTTPClientError, boto_errors.ConnectionError, OSError) as exc:
            raise ConnectionFailedError(f"{operation}: {exc}") from exc
        return response

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            stack, self._stack, self._client = self._stack, None, None
            self._methods.clear()
        if stack is not None:
            await stack.aclose()
