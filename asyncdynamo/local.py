"""Run asyncdynamo against a local moto server, without pytest (demos, scripts, benchmarks).

```python
with MotoServer() as server:
    async with DB(config_for(server.endpoint)) as db:
        ...
```
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
    """moto's threaded server on 127.0.0.1 at a free port (a context manager)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
        self.url = ""
        self.region = "us-east-1"

    def __enter__(self) -> MotoServer:
        # werkzeug logs every request at INFO; keep test and demo output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    @property
    def endpoint(self) -> Endpoint:
        """Where this server listens, with the dummy credentials moto accepts."""
        return Endpoint(
            url=self.url, region=self.region, credentials=DUMMY_CREDENTIALS, is_moto=True
        )


def config_for(endpoint: Endpoint, **overrides: Any) -> Config:
    """A Config pointing at ``endpoint`` (fast retries, since test servers are local)."""
    base = Config(
        region=endpoint.region,
        endpoint_url=endpoint.url,
        kms_endpoint_url=endpoint.url,  # moto serves KMS on the same port; None: AWS's own
        credentials=endpoint.credentials,
        connect_timeout=5.0,
        read_timeout=30.0,
    )
    return replace(base, **overrides)
