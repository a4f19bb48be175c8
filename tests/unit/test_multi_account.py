"""MultiAccountDB without a server: partner bookkeeping, partner DB settings and fan-out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    Config,
    ConfigurationError,
    Credentials,
    DeadlineExceededError,
    LambdaConfig,
    LambdaDB,
    LambdaEnvironment,
    LambdaTimeoutError,
    MultiAccountDB,
    PartnerConfig,
    PartnerConfigurationError,
    PartnerNotFoundError,
    PartnerResult,
    TransportKind,
)
from tests.models import Note

ACME = PartnerConfig(
    partner_id="acme",
    role_arn="arn:aws:iam::111111111111:role/payments-partner",
    external_id="acme-7f3a",
    region="eu-west-1",
)
GLOBEX = PartnerConfig(
    partner_id="globex",
    role_arn="arn:aws:iam::222222222222:role/payments-partner",
    external_id="globex-91c2",
)
BASE_CONFIG = Config(
    region="us-east-1",
    credentials=Credentials("base-key", "base-secret"),
    transport=TransportKind.LEAN,
    table_prefix="prod-",
)


class FakeSts:
    """Answers every AssumeRole with fresh one-hour credentials in the role's account."""

    def __init__(self) -> None:
        self.role_arns: list[str] = []

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        role_arn = str(params["RoleArn"])
        self.role_arns.append(role_arn)
        account = role_arn.split(":")[4]
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{len(self.role_arns)}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": datetime.now(UTC) + timedelta(hours=1),
            },
            "AssumedRoleUser": {"Arn": f"arn:aws:sts::{account}:assumed-role/r/s"},
        }

    async def aclose(self) -> None:
        pass


class NoNetwork:
    """The base DB's transport: these tests never reach DynamoDB."""

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise AssertionError(f"unexpected {operation}")

    async def aclose(self) -> None:
        pass


@dataclass
class FakeContext:
    remaining_ms: int
    aws_request_id: str = "req-unit"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def sts() -> FakeSts:
    return FakeSts()


@pytest.fixture
async def mdb(sts: FakeSts) -> AsyncIterator[MultiAccountDB]:
    base = DB(BASE_CONFIG, transport=NoNetwork())
    async with MultiAccountDB(base, [ACME, GLOBEX], sts=sts) as multi:
        yield multi


# --- partners -----------------------------------------------------------------------------------


def test_partners_are_listed_in_the_order_added(mdb: MultiAccountDB) -> None:
    mdb.add_partner(PartnerConfig("initech", "arn:aws:iam::333333333333:role/r", "ini-1"))

    assert mdb.list_partners() == ["acme", "globex", "initech"]


async def test_partners_can_come_from_a_json_document(sts: FakeSts) -> None:
    document = json.dumps({"acme": {"role_arn": ACME.role_arn, "external_id": "acme-7f3a"}})

    async with MultiAccountDB(DB(BASE_CONFIG, transport=NoNetwork()), document, sts=sts) as multi:
        assert multi.list_partners() == ["acme"]


def test_adding_the_same_partner_again_changes_nothing(mdb: MultiAccountDB) -> None:
    mdb.add_partner(ACME)

    assert mdb.list_partners() == ["acme", "globex"]


def test_a_different_config_for_a_taken_id_needs_replace(mdb: MultiAccountDB) -> None:
    changed = PartnerConfig("acme", ACME.role_arn, "acme-rotated")

    with pytest.raises(PartnerConfigurationError, match="replace=True"):
        mdb.add_partner(changed)
    mdb.add_partner(changed, replace=True)

    assert mdb.partner_config("acme").external_id == "acme-rotated"


async def test_replacing_a_partner_drops_its_cached_db(mdb: MultiAccountDB, sts: FakeSts) -> None:
    before = await mdb.partner("acme")

    mdb.add_partner(PartnerConfig("acme", ACME.role_arn, "acme-rotated"), replace=True)

    assert await mdb.partner("acme") is not before
    assert len(sts.role_arns) == 2


def test_invalidating_an_unknown_partner_is_refused(mdb: MultiAccountDB) -> None:
    with pytest.raises(PartnerNotFoundError):
        mdb.invalidate_partner("initech")


async def test_a_partner_db_signs_as_the_partner_with_the_same_table_names(
    mdb: MultiAccountDB,
) -> None:
    mdb.base.register(Note)

    acme = await mdb.partner("acme")

    assert acme.config.region == "eu-west-1"
    assert acme.config.credentials is None
    assert acme.config.credentials_provider is not None
    assert (await acme.config.credentials_provider()).access_key_id == "ASIA1"
    assert acme.config.table_prefix == "prod-"
    assert acme.table_name(Note) == mdb.base.table_name(Note) == "prod-notes"
    assert Note in acme.registered_models


async def test_a_lambda_base_passes_on_its_lambda_settings(sts: FakeSts) -> None:
    environment = LambdaEnvironment(function_name="payments", memory_size_mb=1024)
    base = LambdaDB(
        LambdaConfig(base_config=BASE_CONFIG, timeout_buffer=0.5, environment=environment),
        transport=NoNetwork(),
    )
    base.pre_register_models(Note)

    async with MultiAccountDB(base, [ACME], sts=sts) as multi:
        acme = await multi.partner("acme")
        view = multi.with_lambda_timeout(FakeContext(remaining_ms=30_000))

        assert acme.timeout_buffer == 0.5
        assert acme.environment is environment
        assert acme.registered_models == (Note,)
        assert view.deadline == pytest.approx(asyncio.get_running_loop().time() + 30 - 0.5, abs=1.0)


async def test_the_base_account_of_a_lambda_view_carries_the_deadline(sts: FakeSts) -> None:
    base = LambdaDB(LambdaConfig(base_config=BASE_CONFIG), transport=NoNetwork())
    async with MultiAccountDB(base, [ACME], sts=sts) as multi:
        first = multi.with_lambda_timeout(FakeContext(remaining_ms=1_000))
        nested = first.with_lambda_timeout(FakeContext(remaining_ms=60_000))
        acme_through_view = await first.partner("acme")

        # Base-account calls made through the view end with the invocation, as partners' do.
        assert isinstance(first.base, LambdaDB)
        assert first.base.deadline == first.deadline
        assert isinstance(nested.base, LambdaDB)
        assert nested.base.deadline == first.deadline
        assert multi.base is base  # the container-lifetime object stays unbounded
        assert acme_through_view.deadline == first.deadline
        assert (await multi.partner("acme")).deadline is None


async def test_a_closed_multi_account_db_opens_no_partner(mdb: MultiAccountDB) -> None:
    await mdb.aclose()

    with pytest.raises(ConfigurationError, match="closed"):
        await mdb.partner("acme")


# --- fan-out ------------------------------------------------------------------------------------


async def test_fan_out_returns_every_partners_result_in_order(mdb: MultiAccountDB) -> None:
    async def region_of(partner_id: str, partner_db: LambdaDB) -> str:
        if partner_id == "globex":
            raise ValueError("globex is closed for the night")
        return partner_db.config.region

    results = await mdb.fan_out(["globex", "initech", "acme", "acme"], region_of)

    assert list(results) == ["globex", "initech", "acme"]
    assert results["acme"] == PartnerResult("acme", value="eu-west-1")
    assert results["acme"].unwrap() == "eu-west-1"
    assert isinstance(results["globex"].error, ValueError)
    assert isinstance(results["initech"].error, PartnerNotFoundError)
    with pytest.raises(ValueError, match="closed for the night"):
        results["globex"].unwrap()


async def test_fan_out_runs_at_most_concurrency_partners_at_once(mdb: MultiAccountDB) -> None:
    for n in range(10):
        mdb.add_partner(PartnerConfig(f"p{n}", f"arn:aws:iam::{n:012d}:role/r", f"ext-{n}"))
    running = 0
    most = 0

    async def busy(partner_id: str, partner_db: LambdaDB) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(5):  # let the others run in between
            await asyncio.sleep(0)
        running -= 1

    results = await mdb.fan_out([f"p{n}" for n in range(10)], busy, concurrency=3)

    assert all(result.ok for result in results.values())
    assert most == 3


async def test_a_partner_over_its_timeout_does_not_hold_up_the_others(
    mdb: MultiAccountDB,
) -> None:
    never = asyncio.Event()

    async def operation(partner_id: str, partner_db: LambdaDB) -> str:
        if partner_id == "globex":
            await never.wait()
        return partner_id

    results = await mdb.fan_out(["acme", "globex"], operation, per_partner_timeout=0.05)

    assert results["acme"].value == "acme"
    assert isinstance(results["globex"].error, DeadlineExceededError)


async def test_fan_out_after_the_lambda_deadline_runs_no_operation(mdb: MultiAccountDB) -> None:
    expired = mdb.with_lambda_timeout(FakeContext(remaining_ms=0))
    called: list[str] = []

    async def operation(partner_id: str, partner_db: LambdaDB) -> None:
        called.append(partner_id)

    results = await expired.fan_out(["acme", "globex"], operation)

    assert called == []
    assert all(isinstance(r.error, LambdaTimeoutError) for r in results.values())


async def test_partner_dbs_in_a_fan_out_carry_the_lambda_deadline(mdb: MultiAccountDB) -> None:
    view = mdb.with_lambda_timeout(FakeContext(remaining_ms=60_000))

    async def deadline_of(partner_id: str, partner_db: LambdaDB) -> float | None:
        return partner_db.deadline

    results = await view.fan_out(["acme", "globex"], deadline_of)

    assert {r.value for r in results.values()} == {view.deadline}


async def test_a_view_of_a_view_keeps_the_earlier_deadline(mdb: MultiAccountDB) -> None:
    first = mdb.with_lambda_timeout(FakeContext(remaining_ms=1_000))
    nested = first.with_lambda_timeout(FakeContext(remaining_ms=60_000))
    assert nested.deadline == first.deadline


async def test_cancelling_a_fan_out_cancels_every_partner_and_propagates(
    mdb: MultiAccountDB,
) -> None:
    started = 0
    all_started = asyncio.Event()
    cancelled: list[str] = []

    async def hang(partner_id: str, partner_db: LambdaDB) -> None:
        nonlocal started
        started += 1
        if started == 2:
            all_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(partner_id)
            raise

    fan_out = asyncio.create_task(mdb.fan_out(["acme", "globex"], hang))
    await all_started.wait()
    fan_out.cancel()

    with pytest.raises(asyncio.CancelledError):
        await fan_out
    assert sorted(cancelled) == ["acme", "globex"]


async def test_a_partner_cancelled_from_inside_still_gets_a_result(mdb: MultiAccountDB) -> None:
    # Not the caller's cancellation: the partner's operation awaited something that was
    # cancelled elsewhere. The other partners' results must not be lost.
    abandoned: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def operation(partner_id: str, partner_db: LambdaDB) -> str:
        if partner_id == "globex":
            abandoned.cancel()
            await abandoned
        return partner_id

    results = await mdb.fan_out(["acme", "globex"], operation)

    assert results["acme"].value == "acme"
    assert results["globex"].error is not None
    assert isinstance(results["globex"].error.__cause__, asyncio.CancelledError)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"concurrency": 0}, "concurrency"), ({"per_partner_timeout": 0}, "timeout")],
)
async def test_fan_out_settings_that_cannot_work_are_refused(
    mdb: MultiAccountDB, options: dict[str, Any], message: str
) -> None:
    async def nothing(partner_id: str, partner_db: LambdaDB) -> None:
        pass

    with pytest.raises(ConfigurationError, match=message):
        await mdb.fan_out(["acme"], nothing, **options)
