"""MultiAccountDB against moto's STS and DynamoDB (moto keeps each assumed account apart)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    AssumeRoleFailedError,
    AssumeRoleUnavailableError,
    Config,
    ConnectionFailedError,
    DeadlineExceededError,
    LambdaDB,
    LambdaTimeoutError,
    MultiAccountDB,
    PartnerConfig,
    PartnerNotFoundError,
    ResourceNotFoundError,
    RetryPolicy,
    Transport,
    create_transport,
    deadline_scope,
)
from asyncdynamo._partner_credentials import PartnerCredentials
from asyncdynamo.testing import Endpoint
from tests.models import Note

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("moto_only")]

ACME = PartnerConfig(
    partner_id="acme",
    role_arn="arn:aws:iam::111111111111:role/payments-partner",
    external_id="acme-external-7f3a",
    session_seconds=900,
)
GLOBEX = PartnerConfig(
    partner_id="globex",
    role_arn="arn:aws:iam::222222222222:role/payments-partner",
    external_id="globex-external-91c2",
)


@pytest.fixture
def moto_only(dynamo_endpoint: Endpoint) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("needs moto's server (any role can be assumed, accounts are free)")


class CountingTransport:
    """Forwards to a real transport and records each operation sent (to count AssumeRole)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.operations: list[str] = []

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        return await self.inner.call(operation, params)

    async def aclose(self) -> None:
        await self.inner.aclose()


class FakeClock:
    """An aware UTC clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeContext:
    remaining_ms: int
    aws_request_id: str = "req-multi-account"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def sts(dynamo_config: Config) -> CountingTransport:
    return CountingTransport(create_transport(dynamo_config, service="sts"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def mdb(db: DB, sts: CountingTransport, clock: FakeClock) -> AsyncIterator[MultiAccountDB]:
    async with MultiAccountDB(db, [ACME, GLOBEX], sts=sts, clock=clock) as multi:
        yield multi


@asynccontextmanager
async def notes_table(database: DB) -> AsyncIterator[None]:
    """A Note table in ``database``'s account, deleted afterwards (moto keeps it otherwise)."""
    await database.schema.create(Note)
    try:
        yield
    finally:
        await database.schema.delete(Note)


def credentials_of(partner_db: LambdaDB) -> PartnerCredentials:
    source = partner_db.config.credentials_provider
    assert isinstance(source, PartnerCredentials)
    return source


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_write_through_one_partner_is_invisible_to_the_others_and_the_base(
    mdb: MultiAccountDB, db: DB
) -> None:
    acme = await mdb.partner("acme")
    globex = await mdb.partner("globex")
    async with notes_table(db), notes_table(acme), notes_table(globex):
        assert acme.table_name(Note) == globex.table_name(Note) == db.table_name(Note)

        await acme.put(Note(note_id="settlement-1", text="acme only"))

        assert await acme.get(Note, "settlement-1", consistent=True) == Note(
            note_id="settlement-1", text="acme only"
        )
        assert await globex.get(Note, "settlement-1", consistent=True) is None
        assert await db.get(Note, "settlement-1", consistent=True) is None


async def test_a_second_call_returns_the_cached_partner_db(
    mdb: MultiAccountDB, sts: CountingTransport
) -> None:
    first = await mdb.partner("acme")
    second = await mdb.partner("acme")

    assert second is first
    assert sts.operations == ["AssumeRole"]


async def test_invalidation_assumes_the_role_again(
    mdb: MultiAccountDB, sts: CountingTransport
) -> None:
    before = await mdb.partner("acme")

    mdb.invalidate_partner("acme")
    after = await mdb.partner("acme")

    assert after is not before
    assert sts.operations == ["AssumeRole", "AssumeRole"]
    with pytest.raises(ResourceNotFoundError):  # signed with the new credentials, and accepted
        await after.get(Note, "missing")


async def test_credentials_are_refreshed_in_the_advisory_window(
    mdb: MultiAccountDB, sts: CountingTransport, clock: FakeClock
) -> None:
    acme = await mdb.partner("acme")
    source = credentials_of(acme)
    first = source.current
    assert first is not None

    clock.advance(700)  # a 900 s session: the advisory window opens at 675 s
    with pytest.raises(ResourceNotFoundError):  # any request will do: it asks for credentials
        await acme.get(Note, "missing")

    assert sts.operations == ["AssumeRole", "AssumeRole"]
    assert source.current is not None
    assert source.current.access_key_id != first.access_key_id


async def test_two_hundred_concurrent_first_callers_share_one_assume_role(
    mdb: MultiAccountDB, sts: CountingTransport
) -> None:
    partner_dbs = await asyncio.gather(*(mdb.partner("acme") for _ in range(200)))

    assert {id(partner_db) for partner_db in partner_dbs} == {id(partner_dbs[0])}
    assert sts.operations == ["AssumeRole"]


async def test_an_unknown_partner_is_refused_without_calling_sts(
    mdb: MultiAccountDB, sts: CountingTransport
) -> None:
    with pytest.raises(PartnerNotFoundError) as raised:
        await mdb.partner("initech")

    assert raised.value.partner_id == "initech"
    assert sts.operations == []


async def test_an_unreachable_sts_is_a_retryable_assume_role_failure(
    db: DB, dynamo_config: Config, closed_port: int
) -> None:
    unreachable = replace(
        dynamo_config,
        sts_endpoint_url=f"http://127.0.0.1:{closed_port}",
        retry=RetryPolicy(max_attempts=2, base=0.001),
    )
    sts = create_transport(unreachable, service="sts")
    async with MultiAccountDB(db, [ACME], sts=sts) as multi:
        with pytest.raises(AssumeRoleUnavailableError) as raised:
            await multi.partner("acme")

    assert isinstance(raised.value, AssumeRoleFailedError)
    assert raised.value.partner_id == "acme"
    assert raised.value.retryable
    assert isinstance(raised.value.__cause__, ConnectionFailedError)


async def test_fan_out_keeps_each_partners_result_when_one_fails(
    mdb: MultiAccountDB,
) -> None:
    acme = await mdb.partner("acme")

    async def read_note(partner_id: str, partner_db: LambdaDB) -> Note | None:
        return await partner_db.get(Note, "n1", consistent=True)

    async with notes_table(acme):  # globex has no Note table: its read fails
        await acme.put(Note(note_id="n1", text="from acme"))
        results = await mdb.fan_out(["acme", "globex", "initech"], read_note, concurrency=2)

    assert list(results) == ["acme", "globex", "initech"]
    assert results["acme"].ok
    assert results["acme"].value == Note(note_id="n1", text="from acme")
    assert isinstance(results["globex"].error, ResourceNotFoundError)
    assert isinstance(results["initech"].error, PartnerNotFoundError)


async def test_partner_dbs_of_a_lambda_view_share_its_deadline(mdb: MultiAccountDB) -> None:
    view = mdb.with_lambda_timeout(FakeContext(remaining_ms=60_000))

    acme = await view.partner("acme")

    assert view.deadline is not None
    assert acme.deadline == view.deadline
    with pytest.raises(ResourceNotFoundError):
        await acme.get(Note, "missing")


async def test_nothing_is_sent_for_a_partner_after_the_lambda_deadline(
    mdb: MultiAccountDB, sts: CountingTransport
) -> None:
    expired = mdb.with_lambda_timeout(FakeContext(remaining_ms=0))

    with pytest.raises(LambdaTimeoutError):
        await expired.partner("acme")

    assert sts.operations == []


async def test_assume_role_honours_the_callers_deadline(
    mdb: MultiAccountDB, sts: CountingTransport
) -> None:
    with (
        deadline_scope(asyncio.get_running_loop().time() - 1),
        pytest.raises(DeadlineExceededError),
    ):
        await mdb.partner("acme")

    assert sts.operations == []
