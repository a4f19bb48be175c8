"""``LeanTransport``: the Transport protocol over our own HTTP/1.1 client and SigV4 signer."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from asyncdynamo._config import Config
from asyncdynamo._errors import ConfigurationError
from asyncdynamo._lean._credentials import CredentialResolver
from asyncdynamo._lean._endpoints import resolve_endpoint
from asyncdynamo._lean._http import ConnectionPool
from asyncdynamo._lean._protocols import SERVICES, protocol_for
from asyncdynamo._lean._sigv4 import SigV4Signer
from asyncdynamo._transport import repeatable

__all__ = ["LeanTransport"]

_USER_AGENT = "asyncdynamo-lean/0.1"


class LeanTransport:
    """A stdlib-only transport for DynamoDB, KMS and STS, built for short cold starts.

    It imports no AWS SDK (botocore only as the last credential source), keeps a keep-alive
    connection pool per transport, and signs with a cached SigV4 key. It never retries: the
    client's retry policy does. The one exception is re-sending once on a fresh connection when a
    pooled connection turns out to have been closed by the server: always when the socket
    refused the request's first byte, and for repeatable operations (not single-item writes)
    when it closed before answering.

    ``Config.client_options`` are aiobotocore ``AioConfig`` options and are not used here.

    Args:
        config: region, the service's endpoint override (:meth:`Config.endpoint_url_for`),
            credentials, pool size and timeouts.
        service: ``"dynamodb"`` (default), ``"kms"`` or ``"sts"``.

    Raises:
        ConfigurationError: the service is not supported, or the region/endpoint is unusable.

    Example:
        ```python
        async with LeanTransport(Config(region="eu-west-1")) as transport:
            response = await transport.call("GetItem", {"TableName": "t", "Key": key})
        ```
    """

    def __init__(self, config: Config, *, service: str = "dynamodb") -> None:
        if service not in SERVICES:
            raise ConfigurationError(
                f"LeanTransport speaks to {', '.join(SERVICES)}, not {service!r}"
            )
        self.service = service
        self._protocol = protocol_for(service)
        endpoint = resolve_endpoint(service, config.region, config.endpoint_url_for(service))
        self._host_header = endpoint.host_header
        self._path = endpoint.path
        self._signer = SigV4Signer(config.region, service)
        self._credentials = CredentialResolver(config)
        self._pool = ConnectionPool(
            endpoint.host,
            endpoint.port,
            tls=endpoint.tls,
            max_connections=config.max_pool_connections,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
        )
        self._closed = False

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Send one API call and return its parsed response.

        Args:
            operation: the API operation, e.g. ``"GetItem"``.
            params: the low-level request parameters (binary values as ``bytes``).

        Returns:
            The low-level response (binary values as ``bytes``) with ``ResponseMetadata``.

        Raises:
            ServiceError: the service answered with an error (translated by
                :func:`asyncdynamo.error_from_service`).
            TransportError: no usable answer (connection failure, timeout, corrupt body).
            ConfigurationError: the transport is closed.
        """
        if self._closed:
            raise ConfigurationError("this transport is closed")
        body, headers = self._protocol.encode(operation, params)
        credentials = await self._credentials.get()
        headers.update(
            self._signer.sign(
                credentials,
                method="POST",
                host=self._host_header,
                path=self._path,
                headers=headers,
                body=body,
            )
        )
        headers["Host"] = self._host_header
        headers["User-Agent"] = _USER_AGENT
        headers["Accept-Encoding"] = "identity"  # the CRC32 covers the body as sent
        response = await self._pool.request(
            "POST", self._path, headers, body, repeatable=repeatable(operation, params)
        )
        return self._protocol.decode(operation, response)

    async def prefetch_credentials(self) -> None:
        """Resolve credentials now rather than on the first call (after a SnapStart restore).

        Raises:
            ConfigurationError: no source has credentials.
        """
        await self._credentials.get()

    async def aclose(self) -> None:
        """Close the pooled connections; later calls raise :class:`ConfigurationError`."""
        self._closed = True
        self._credentials.forget()
        await self._pool.aclose()

    async def __aenter__(self) -> LeanTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
