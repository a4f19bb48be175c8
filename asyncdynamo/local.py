"""Run asyncdynamo against a local moto server, without pytest (demos, scripts, benchmarks).

```python
with MotoServer() as server:
    async with DB(config_for(server.endpoint)) as db:
        ...
```

Outside a ``with`` block (a REPL, a notebook): ``server = MotoServer().start()`` ...
``server.stop()``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from ._config import Config, Credentials

__all__ = ["DUMMY_CREDENTIALS", "Endpoint", "MotoServer", "config_for"]

DUMMY_CREDENTIALS = Credentials("testing", "testing")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the tests' database is.

    Attributes:
        url: the endpoint URL, or ``None`` for AWS's own endpoint.
        region: the region to sign for.
        credentials: explicit credentials, or ``None`` for the default chain.
        is_moto: whether it is the moto server this plugin started.
    """

    url: str | None
    region: str
    credentials: Credentials | None
    is_moto: bool = False


class MotoServer:
    """moto's server on 127.0.0.1 at a free port, atomic per request (a context manager).

    Unlike moto's own ``ThreadedMotoServer``, each request is handled atomically, as DynamoDB
    does (two conditional updates expecting the same version never both succeed), and
    ``ClientRequestToken`` on ``TransactWriteItems`` deduplicates for 10 minutes.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        from ._testing._moto import AtomicMotoThread

        self._server = AtomicMotoThread(host)
        self.url = ""
        self.region = "us-east-1"

    def start(self) -> MotoServer:
        """Start serving (in a daemon thread of this process); returns ``self``."""
        # werkzeug logs every request at INFO; keep test and demo output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.address
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> Endpoint:
        """Where this server listens, with the dummy credentials moto accepts."""
        return Endpoint(
            url=self.url, region=self.region, credentials=DUMMY_CREDENTIALS, is_moto=True
        )


def config_for(endpoint: Endpoint, **overrides: Any) -> Config:
    """A Config pointing at ``endpoint`` (fast retries, since test servers are local).

    moto serves STS too, so a moto endpoint is also the STS endpoint; any other endpoint
    (DynamoDB Local...) leaves STS at its regional default.
    """
    base = Config(
        region=endpoint.region,
        endpoint_url=endpoint.url,
        sts_endpoint_url=endpoint.url if endpoint.is_moto else None,
        kms_endpoint_url=endpoint.url if endpoint.is_moto else None,  # moto serves KMS too
        credentials=endpoint.credentials,
        connect_timeout=5.0,
        read_timeout=30.0,
    )
    return replace(base, **overrides)
