"""``Config.session``: an aiobotocore ``AioSession`` or an aioboto3-style session builds the client.

A ``credentials_provider`` applies to the DB's own client only: the session passed in keeps its
credentials, so later clients built from it (another partner's, the base DB's) still sign as
before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.session import AioSession, get_session

from asyncdynamo import DB
from asyncdynamo._config import Config, Credentials, TransportKind
from asyncdynamo.testing import Endpoint, config_for
from tests.models import Note

pytestmark = pytest.mark.integration

ORIGINAL = Credentials("AKIDSESSIONORIGINAL", "original-secret")
PROVIDED = Credentials("AKIDFROMPROVIDER", "provided-secret")


class ClientFactorySession:
    """The part of ``aioboto3.Session`` the transport uses: ``client(service, **kwargs)``.

    Like aioboto3, it keeps its aiobotocore session in ``_session`` and sets the credentials it
    was built with on it.
    """

    def __init__(self, credentials: Credentials) -> None:
        self._session = get_session()
        self._session.set_credentials(credentials.access_key_id, credentials.secret_access_key)

    def client(self, service_name: str, **kwargs: Any) -> Any:
        return self._session.create_client(service_name, **kwargs)


def aiobotocore_session(credentials: Credentials) -> AioSession:
    session = get_session()
    session.set_credentials(credentials.access_key_id, credentials.secret_access_key)
    return session


SESSION_KINDS = {"aiobotocore": aiobotocore_session, "aioboto3-style": ClientFactorySession}


@pytest.fixture(params=sorted(SESSION_KINDS))
def session(request: pytest.FixtureRequest) -> Any:
    """A session of each supported kind, holding the ORIGINAL credentials."""
    return SESSION_KINDS[request.param](ORIGINAL)


def session_config(endpoint: Endpoint, session: Any, table_prefix: str, **overrides: Any) -> Config:
    return config_for(
        endpoint,
        transport=TransportKind.AIOBOTOCORE,
        session=session,
        table_prefix=table_prefix,
        **overrides,
    )


@pytest.fixture
async def session_db(
    dynamo_endpoint: Endpoint, session: Any, table_prefix: str
) -> AsyncIterator[DB]:
    """A DB whose client comes from ``session`` (no explicit credentials), with a notes table."""
    config = session_config(dynamo_endpoint, session, table_prefix, credentials=None)
    async with DB(config) as db:
        await db.schema.create(Note)
        yield db
        await db.schema.delete(Note)


def key_id(authorization: bytes) -> str:
    return authorization.decode().split("Credential=", 1)[1].split("/", 1)[0]


async def signing_key_id(session: Any, endpoint: Endpoint) -> str:
    """The access key id a new client from ``session`` signs a request with."""
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(key_id(request.headers["Authorization"]))

    kwargs = {"region_name": endpoint.region, "endpoint_url": endpoint.url}
    if isinstance(session, AioSession):
        creator = session.create_client("dynamodb", **kwargs)
    else:
        creator = session.client("dynamodb", **kwargs)
    async with creator as client:
        client.meta.events.register("before-send.dynamodb", capture)
        await client.list_tables()
    [signed_with] = seen
    return signed_with


@pytest.fixture
def moto_only(dynamo_endpoint: Endpoint) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("signs with made-up keys: needs moto's server")


@pytest.mark.usefixtures("moto_only")
async def test_db_built_from_the_session_reads_and_writes(session_db: DB) -> None:
    stored = await session_db.put(Note(note_id="n1", text="from a session", labels=["a"]))

    assert await session_db.get(Note, "n1", consistent=True) == stored


@pytest.mark.usefixtures("moto_only")
async def test_db_signs_with_the_session_credentials(
    session_db: DB, session: Any, dynamo_endpoint: Endpoint
) -> None:
    await session_db.put(Note(note_id="n1"))

    assert await signing_key_id(session, dynamo_endpoint) == ORIGINAL.access_key_id


@pytest.mark.usefixtures("moto_only")
async def test_credentials_provider_leaves_the_session_credentials_alone(
    dynamo_endpoint: Endpoint, session: Any, table_prefix: str
) -> None:
    db_key_ids: list[str] = []
    later_key_ids: list[str] = []

    async def provider() -> Credentials:
        return PROVIDED

    def capture(request: Any, **_: Any) -> None:
        db_key_ids.append(key_id(request.headers["Authorization"]))

    # Clients copy their session's handlers when built: this one sees the DB's own requests.
    inner: AioSession = session if isinstance(session, AioSession) else session._session
    inner.register("before-send.dynamodb", capture)
    config = session_config(
        dynamo_endpoint, session, table_prefix, credentials=None, credentials_provider=provider
    )
    async with DB(config) as db:
        await db.schema.create(Note)
        await db.put(Note(note_id="n1"))
        inner.unregister("before-send.dynamodb", capture)
        later_key_ids.append(await signing_key_id(session, dynamo_endpoint))  # DB still open
        await db.schema.delete(Note)
    later_key_ids.append(await signing_key_id(session, dynamo_endpoint))  # and after it closed

    assert db_key_ids and set(db_key_ids) == {PROVIDED.access_key_id}
    assert later_key_ids == [ORIGINAL.access_key_id, ORIGINAL.access_key_id]
