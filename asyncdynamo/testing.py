"""Test your DynamoDB code against a real server: a pytest plugin and helpers.

Enable it with ``pytest_plugins = ["asyncdynamo.testing"]`` in a ``conftest.py`` (or
``-p asyncdynamo.testing``). It starts moto's server (``moto[server]``) on 127.0.0.1 at a free
port once per test session and gives each test its own table-name prefix, so tables are fresh
per test. moto also serves STS, so its configs set ``sts_endpoint_url`` to the same server. Set ``ASYNCDYNAMO_TEST_ENDPOINT`` to run the same tests elsewhere:

- ``http://127.0.0.1:8000`` (DynamoDB Local or any endpoint; credentials from the usual AWS
  environment variables, else dummy ones), or
- ``aws`` for real AWS in ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` with the default credentials.

``ASYNCDYNAMO_TEST_TRANSPORTS`` (comma-separated, default: every installed transport) picks the
transports the ``db`` fixture is parametrized over.

``ASYNCDYNAMO_TEST_KMS_KEY`` names an existing KMS key for the ``kms_key`` fixture outside moto.

Fixtures: ``dynamo_endpoint`` (session), ``dynamo_transport``, ``table_prefix``, ``dynamo_config``,
``db``, ``make_tables``, ``fault_proxy``, ``kms_key``.

:class:`FaultProxy` sits between a client and the server and injects scripted faults (latency,
throttling, errors, connection resets, unprocessed batch items, transaction conflicts) while
counting what it forwarded, so tests can prove "nothing was sent" or "applied once".
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from ._config import Config, Credentials, TransportKind
from ._db import DB, create_transport
from ._model import Model
from ._testing._faults import (
    Counts,
    Delay,
    ErrorReply,
    Fault,
    Reset,
    Rule,
    Stage,
    Stall,
    TransactionConflict,
    Unprocessed,
)
from ._testing._proxy import FaultProxy
from .local import DUMMY_CREDENTIALS, Endpoint, MotoServer, config_for

__all__ = [
    "ENDPOINT_VARIABLE",
    "Counts",
    "Delay",
    "Endpoint",
    "ErrorReply",
    "Fault",
    "FaultProxy",
    "MotoServer",
    "Reset",
    "Rule",
    "Stage",
    "Stall",
    "TransactionConflict",
    "Unprocessed",
    "config_for",
    "create_kms_key",
    "db",
    "dynamo_config",
    "dynamo_endpoint",
    "dynamo_transport",
    "fault_proxy",
    "kms_key",
    "make_tables",
    "table_prefix",
]

ENDPOINT_VARIABLE = "ASYNCDYNAMO_TEST_ENDPOINT"
"""The environment variable that points the fixtures at another endpoint (or ``aws``)."""
TRANSPORTS_VARIABLE = "ASYNCDYNAMO_TEST_TRANSPORTS"
KMS_KEY_VARIABLE = "ASYNCDYNAMO_TEST_KMS_KEY"


def _env_credentials() -> Credentials | None:
    key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN"))
    return None


def _external_endpoint(value: str) -> Endpoint:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if value.lower() == "aws":
        return Endpoint(url=None, region=region, credentials=_env_credentials())
    return Endpoint(url=value, region=region, credentials=_env_credentials() or DUMMY_CREDENTIALS)


@contextlib.contextmanager
def endpoint_from_environment() -> Iterator[Endpoint]:
    """The endpoint named by ``ASYNCDYNAMO_TEST_ENDPOINT``, else a moto server started here."""
    external = os.environ.get(ENDPOINT_VARIABLE, "").strip()
    if external:
        yield _external_endpoint(external)
        return
    with MotoServer() as server:
        yield server.endpoint


def available_transports() -> list[TransportKind]:
    """Transports to test with: ``ASYNCDYNAMO_TEST_TRANSPORTS``, else every importable one."""
    chosen = os.environ.get(TRANSPORTS_VARIABLE, "").strip()
    if chosen:
        return [TransportKind(name.strip()) for name in chosen.split(",") if name.strip()]
    kinds = []
    if importlib.util.find_spec("aiobotocore") is not None:
        kinds.append(TransportKind.AIOBOTOCORE)
    if importlib.util.find_spec("asyncdynamo._lean") is not None:
        kinds.append(TransportKind.LEAN)
    return kinds


@pytest.fixture(scope="session")
def dynamo_endpoint() -> Iterator[Endpoint]:
    """The session's database endpoint (moto's server unless redirected by the environment)."""
    with endpoint_from_environment() as endpoint:
        yield endpoint


@pytest.fixture(params=available_transports(), ids=lambda kind: str(kind))
def dynamo_transport(request: pytest.FixtureRequest) -> TransportKind:
    """Each transport under test, one after the other."""
    kind: TransportKind = request.param
    return kind


@pytest.fixture
def table_prefix() -> str:
    """A unique table-name prefix, so every test gets fresh tables."""
    return f"t{uuid.uuid4().hex[:10]}-"


@pytest.fixture
def dynamo_config(
    dynamo_endpoint: Endpoint, dynamo_transport: TransportKind, table_prefix: str
) -> Config:
    """A Config for this test: the session endpoint, this test's prefix and transport."""
    return config_for(dynamo_endpoint, transport=dynamo_transport, table_prefix=table_prefix)


@pytest.fixture
async def db(dynamo_config: Config) -> AsyncIterator[DB]:
    """A DB for this test, closed afterwards."""
    async with DB(dynamo_config) as database:
        yield database


@pytest.fixture
async def make_tables(db: DB) -> AsyncIterator[Callable[..., Awaitable[list[str]]]]:
    """``await make_tables(Model, ...)`` creates fresh tables; they are deleted after the test."""
    created: list[type[Model]] = []

    async def create(*models: type[Model], **options: Any) -> list[str]:
        names = await db.schema.create(*models, **options)
        created.extend(models)
        return names

    yield create
    if created:  # moto keeps deleted tables' memory otherwise; runs before `db` closes
        await db.schema.delete(*created, wait=False)


@pytest.fixture
def fault_proxy(dynamo_endpoint: Endpoint) -> Iterator[FaultProxy]:
    """A :class:`FaultProxy` in front of the session's endpoint, stopped after the test.

    Point a config at it with ``dataclasses.replace(dynamo_config, endpoint_url=fault_proxy.url)``.
    Skips the test when the endpoint is not plain http (real AWS).
    """
    if dynamo_endpoint.url is None or not dynamo_endpoint.url.startswith("http://"):
        pytest.skip("the fault proxy needs a plain-http endpoint")
    with FaultProxy(dynamo_endpoint.url) as proxy:
        yield proxy


async def create_kms_key(config: Config) -> str:
    """Create a symmetric KMS key at ``config``'s KMS endpoint (moto: free, instant); its ARN."""
    kms = create_transport(config, service="kms")  # at config.kms_endpoint_url
    try:
        created = await kms.call("CreateKey", {"Description": "asyncdynamo tests"})
    finally:
        await kms.aclose()
    return str(created["KeyMetadata"]["Arn"])


@pytest.fixture
async def kms_key(dynamo_endpoint: Endpoint, dynamo_config: Config) -> str:
    """A KMS key for ``Encrypted`` fields: ``ASYNCDYNAMO_TEST_KMS_KEY``, else a new one in moto.

    Pass it on: ``DB(replace(dynamo_config, kms_key_id=kms_key))``.
    """
    existing = os.environ.get(KMS_KEY_VARIABLE, "").strip()
    if existing:
        return existing
    if not dynamo_endpoint.is_moto:
        pytest.skip(f"set {KMS_KEY_VARIABLE} to test encrypted fields outside moto")
    return await create_kms_key(dynamo_config)
