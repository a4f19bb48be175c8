"""The partner credential source: refresh windows, single flight, and STS error translation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncdynamo import (
    AccessDeniedError,
    AssumeRoleFailedError,
    AssumeRoleUnavailableError,
    ConfigurationError,
    Credentials,
    DeadlineExceededError,
    PartnerAccountMismatchError,
    PartnerConfig,
    RetryPolicy,
    ThrottlingError,
    deadline_scope,
)
from asyncdynamo._client import Client
from asyncdynamo._partner_credentials import PartnerCredentials, RefreshWindows, assume_role

ACME = PartnerConfig(
    partner_id="acme",
    role_arn="arn:aws:iam::111111111111:role/payments-partner",
    external_id="acme-7f3a",
    session_seconds=900,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeAssume:
    """Plays STS: hands out numbered credentials valid ``lifetime`` seconds, or scripted errors.

    With ``gate`` set, each call waits for it (to hold a refresh in flight).
    """

    def __init__(self, clock: FakeClock, lifetime: float = 900.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.errors: list[Exception] = []
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def __call__(self) -> Credentials:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.errors:
            raise self.errors.pop(0)
        expiration = self.clock() + timedelta(seconds=self.lifetime)
        return Credentials(f"AKIA{self.calls}", "secret", "token", expiration)


def unavailable() -> AssumeRoleUnavailableError:
    return AssumeRoleUnavailableError("throttled", partner_id="acme")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sts(clock: FakeClock) -> FakeAssume:
    return FakeAssume(clock)


@pytest.fixture
def source(sts: FakeAssume, clock: FakeClock) -> PartnerCredentials:
    return PartnerCredentials(sts, clock=clock, name="acme")


@pytest.mark.parametrize(
    ("lifetime", "advisory", "mandatory"),
    [(900, 225, 150), (3600, 900, 600), (43200, 900, 600)],
)
def test_refresh_windows_scale_with_short_sessions(
    lifetime: float, advisory: float, mandatory: float
) -> None:
    assert RefreshWindows.for_lifetime(lifetime) == RefreshWindows(advisory, mandatory)


async def test_the_first_call_assumes_and_later_ones_use_the_cache(
    source: PartnerCredentials, sts: FakeAssume, clock: FakeClock
) -> None:
    first = await source()
    clock.advance(600)  # still before the advisory window (675 s into a 900 s session)

    assert await source() is first
    assert sts.calls == 1


async def test_the_advisory_window_refreshes(
    source: PartnerCredentials, sts: FakeAssume, clock: FakeClock
) -> None:
    await source()
    clock.advance(680)

    refreshed = await source()

    assert refreshed.access_key_id == "AKIA2"
    assert sts.calls == 2


async def test_a_failed_advisory_refresh_keeps_the_cached_credentials(
    source: PartnerCredentials,
    sts: FakeAssume,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = await source()
    clock.advance(680)
    sts.errors.append(unavailable())

    with caplog.at_level(logging.WARNING, logger="asyncdynamo.partners"):
        assert await source() is first

    assert "advisory window" in caplog.text
    assert sts.calls == 2


async def test_after_a_failed_advisory_refresh_sts_is_not_asked_again_at_once(
    source: PartnerCredentials, sts: FakeAssume, clock: FakeClock
) -> None:
    first = await source()
    clock.advance(680)
    sts.errors.append(unavailable())
    await source()

    clock.advance(5)
    assert await source() is first
    assert sts.calls == 2

    clock.advance(6)  # 10 s after the failure: try again
    assert (await source()).access_key_id == "AKIA3"


async def test_the_mandatory_window_refresh_must_succeed(
    source: PartnerCredentials, sts: FakeAssume, clock: FakeClock
) -> None:
    await source()
    clock.advance(760)  # the mandatory window opens at 750 s
    sts.errors.append(unavailable())

    with pytest.raises(AssumeRoleUnavailableError):
        await source()


async def test_expired_credentials_are_never_returned(
    source: PartnerCredentials, sts: FakeAssume, clock: FakeClock
) -> None:
    await source()
    clock.advance(3600)
    sts.errors.append(AssumeRoleFailedError("denied", partner_id="acme"))

    with pytest.raises(AssumeRoleFailedError):
        await source()
    assert (await source()).expiration == clock() + timedelta(seconds=900)


async def test_concurrent_callers_share_one_assume_role(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    callers = [asyncio.create_task(source()) for _ in range(200)]
    await sts.started.wait()
    sts.gate.set()

    handed_out = await asyncio.gather(*callers)

    assert sts.calls == 1
    assert {c.access_key_id for c in handed_out} == {"AKIA1"}


async def test_concurrent_callers_share_one_failure(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    sts.errors.append(AssumeRoleFailedError("denied", partner_id="acme"))
    callers = [asyncio.create_task(source()) for _ in range(20)]
    await sts.started.wait()
    sts.gate.set()

    outcomes = await asyncio.gather(*callers, return_exceptions=True)

    assert sts.calls == 1
    assert all(isinstance(outcome, AssumeRoleFailedError) for outcome in outcomes)


async def test_during_an_advisory_refresh_other_callers_do_not_wait(
    source: PartnerCredentials, sts: FakeAssume, clock: FakeClock
) -> None:
    first = await source()
    clock.advance(680)
    sts.gate = asyncio.Event()
    sts.started.clear()
    refresher = asyncio.create_task(source())
    await sts.started.wait()

    assert await source() is first  # answered while the refresh is still in flight

    sts.gate.set()
    assert (await refresher).access_key_id == "AKIA2"


async def test_a_waiter_past_its_deadline_gives_up_without_cancelling_the_refresh(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    patient = asyncio.create_task(source())
    await sts.started.wait()

    with (
        deadline_scope(asyncio.get_running_loop().time() - 1),
        pytest.raises(DeadlineExceededError),
    ):
        await source()

    sts.gate.set()
    assert (await patient).access_key_id == "AKIA1"
    assert sts.calls == 1


async def test_invalidation_drops_the_cache(source: PartnerCredentials, sts: FakeAssume) -> None:
    await source()

    source.invalidate()

    assert source.current is None
    assert (await source()).access_key_id == "AKIA2"


async def test_a_refresh_in_flight_does_not_undo_an_invalidation(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    pending = asyncio.create_task(source())
    await sts.started.wait()

    source.invalidate()
    sts.gate.set()
    await pending

    assert source.current is None


async def test_credentials_that_expire_too_soon_are_refused(
    clock: FakeClock,
) -> None:
    sts = FakeAssume(clock, lifetime=-5)  # a clock far ahead of STS's
    source = PartnerCredentials(sts, clock=clock, name="acme")

    with pytest.raises(AssumeRoleFailedError, match="too soon"):
        await source()


async def test_closing_cancels_a_refresh_in_flight_and_fails_its_waiters_clearly(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    pending = asyncio.create_task(source())
    await sts.started.wait()

    await source.aclose()

    # The waiter was not cancelled: it gets an error it can handle, not a CancelledError.
    with pytest.raises(ConfigurationError, match="closed"):
        await pending
    assert not pending.cancelled()


async def test_waiters_still_get_credentials_when_the_first_caller_is_cancelled(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    first = asyncio.create_task(source())
    await sts.started.wait()
    second = asyncio.create_task(source())
    await asyncio.sleep(0)  # let the second caller join the refresh in flight

    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    sts.gate.set()

    assert (await second).access_key_id == "AKIA1"
    assert sts.calls == 1


async def test_callers_after_an_invalidation_do_not_get_credentials_from_before_it(
    source: PartnerCredentials, sts: FakeAssume
) -> None:
    sts.gate = asyncio.Event()
    before = asyncio.create_task(source())
    await sts.started.wait()

    source.invalidate()
    after = asyncio.create_task(source())
    await asyncio.sleep(0)  # let it start (or, wrongly, join the stale refresh)
    sts.gate.set()

    stale = await before
    fresh = await after
    assert sts.calls == 2  # the caller after the invalidation assumed the role again
    assert fresh is not stale
    assert source.current is fresh


async def test_a_refresh_cut_short_by_its_starters_deadline_is_retried_for_a_patient_waiter(
    clock: FakeClock,
) -> None:
    # STS hangs on the first AssumeRole and answers the second; the caller that started the
    # refresh has a short deadline, the one that joined it has none.
    hang = asyncio.Event()
    joined = asyncio.Event()

    class SlowThenFineSts(ScriptedSts):
        async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
            if not self.params:
                self.params.append(dict(params))
                joined.set()
                await hang.wait()
            return await super().call(operation, params)

    sts = SlowThenFineSts(answer(expiration=clock() + timedelta(hours=1)))
    sts_client = Client(sts, RetryPolicy(max_attempts=1))
    source = PartnerCredentials(lambda: assume_role(sts_client, ACME), clock=clock, name="acme")

    async def hurried() -> Credentials:
        with deadline_scope(asyncio.get_running_loop().time() + 0.05):
            return await source()

    starter = asyncio.create_task(hurried())
    await joined.wait()
    patient = asyncio.create_task(source())

    with pytest.raises(DeadlineExceededError):
        await starter
    assert (await patient).access_key_id == "ASIA1"


# --- the AssumeRole call and its errors ---------------------------------------------------------


class ScriptedSts:
    def __init__(self, *outcomes: Mapping[str, Any] | Exception) -> None:
        self.outcomes = list(outcomes)
        self.params: list[dict[str, Any]] = []

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        assert operation == "AssumeRole"
        self.params.append(dict(params))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return dict(outcome)

    async def aclose(self) -> None:
        pass


def answer(account: str = "111111111111", expiration: Any = None) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIA1",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": expiration or datetime(2026, 11, 25, 4, 0, tzinfo=UTC),
        },
        "AssumedRoleUser": {"Arn": f"arn:aws:sts::{account}:assumed-role/payments-partner/s"},
    }


def client(*outcomes: Mapping[str, Any] | Exception) -> tuple[Client, ScriptedSts]:
    sts = ScriptedSts(*outcomes)
    return Client(sts, RetryPolicy(max_attempts=1)), sts


async def test_assume_role_sends_the_external_id_session_name_and_duration() -> None:
    sts_client, sts = client(answer())

    credentials = await assume_role(sts_client, ACME)

    assert sts.params == [
        {
            "RoleArn": ACME.role_arn,
            "RoleSessionName": "asyncdynamo-acme",
            "ExternalId": "acme-7f3a",
            "DurationSeconds": 900,
        }
    ]
    assert credentials.session_token == "token"
    assert credentials.expiration == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


async def test_an_sts_refusal_is_a_permanent_assume_role_failure() -> None:
    denied = AccessDeniedError("not authorized", code="AccessDenied", operation="AssumeRole")
    sts_client, _ = client(denied)

    with pytest.raises(AssumeRoleFailedError) as raised:
        await assume_role(sts_client, ACME)

    assert type(raised.value) is AssumeRoleFailedError
    assert not raised.value.retryable
    assert raised.value.partner_id == "acme"
    assert raised.value.role_arn == ACME.role_arn
    assert raised.value.__cause__ is denied
    assert raised.value.cause is denied


async def test_an_sts_throttle_is_a_retryable_assume_role_failure() -> None:
    throttled = ThrottlingError("slow down", code="Throttling", operation="AssumeRole")
    sts_client, _ = client(throttled)

    with pytest.raises(AssumeRoleUnavailableError) as raised:
        await assume_role(sts_client, ACME)

    assert raised.value.retryable
    assert raised.value.__cause__ is throttled


async def test_a_session_in_another_account_is_refused() -> None:
    sts_client, _ = client(answer(account="999999999999"))

    with pytest.raises(PartnerAccountMismatchError, match="999999999999") as raised:
        await assume_role(sts_client, ACME)

    assert raised.value.assumed_arn.startswith("arn:aws:sts::999999999999:")


@pytest.mark.parametrize(
    "assumed_role_user",
    [
        None,
        {},
        {"Arn": None},
        {"Arn": ""},
        {"Arn": "not-an-arn"},
        {"Arn": "arn:aws:sts::11111111111:assumed-role/payments-partner/s"},
        {"Arn": "arn:aws:sts::111111111111"},
        {"Arn": "arn:aws:iam::111111111111:role/payments-partner"},
        "arn:aws:sts::111111111111:assumed-role/payments-partner/s",
    ],
)
async def test_a_session_not_provably_in_the_partners_account_is_refused(
    assumed_role_user: Any,
) -> None:
    response = answer()
    if assumed_role_user is None:
        del response["AssumedRoleUser"]
    else:
        response["AssumedRoleUser"] = assumed_role_user
    sts_client, _ = client(response)

    with pytest.raises(PartnerAccountMismatchError) as raised:
        await assume_role(sts_client, ACME)

    assert isinstance(raised.value, AssumeRoleFailedError)
    assert not raised.value.retryable
    assert raised.value.partner_id == "acme"
    assert raised.value.expected_account == "111111111111"


async def test_an_answer_without_credentials_is_refused() -> None:
    sts_client, _ = client({"AssumedRoleUser": {}})

    with pytest.raises(AssumeRoleFailedError, match="without usable credentials"):
        await assume_role(sts_client, ACME)


async def test_a_text_expiration_is_read_as_utc() -> None:
    sts_client, _ = client(answer(expiration="2026-11-25T04:00:00Z"))

    credentials = await assume_role(sts_client, ACME)

    assert credentials.expiration == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
