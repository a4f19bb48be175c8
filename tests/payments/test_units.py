"""Pure code: money, request hashing, keys, the transition table and the conditions sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from asyncdynamo import (
    ConditionalCheckFailedError,
    ConnectionFailedError,
    LambdaConfig,
    deadline_scope,
)
from payments import (
    TRANSITIONS,
    CardDetails,
    IdempotencyStore,
    InvalidIdempotencyKeyError,
    InvalidTransitionError,
    Money,
    Payment,
    PaymentConfig,
    PaymentInProgressError,
    PaymentRequestError,
    PaymentsLambdaConfig,
    PaymentStatus,
    RefundExceedsCaptureError,
    canonical_hash,
    check_idempotency_key,
    check_transition,
)
from payments._requests import plan_refund
from tests.fakes import FakeTransport, fake_db

# -- money -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.50", "USD", 1250), ("1250", "JPY", 1250), ("1.250", "BHD", 1250), ("0.001", "KWD", 1)],
)
def test_money_uses_each_currencys_real_exponent(text: str, currency: str, minor: int) -> None:
    money = Money.of(text, currency)
    assert money == Money(minor, currency)
    assert money.amount == Decimal(text)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Money(0, "USD"), "amount"),
        (lambda: Money(-5, "USD"), "amount"),
        (lambda: Money(True, "USD"), "amount"),
        (lambda: Money(100, "XXX"), "currency"),
        (lambda: Money(100, "usd"), "currency"),
        (lambda: Money.of("1.5", "JPY"), "amount"),
        (lambda: Money.of("1.2345", "BHD"), "amount"),
        (lambda: Money.of("NaN", "USD"), "amount"),
    ],
)
def test_bad_amounts_and_currencies_are_typed_request_errors(build: object, field: str) -> None:
    with pytest.raises(PaymentRequestError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_the_maximum_is_in_major_units_of_the_currency() -> None:
    Money(100_000_00, "USD").check_maximum(Decimal("100000"))
    Money(100_000, "JPY").check_maximum(Decimal("100000"))
    with pytest.raises(PaymentRequestError):
        Money(100_000_01, "USD").check_maximum(Decimal("100000"))


# -- hashing and keys ----------------------------------------------------------------------------


def test_the_request_hash_ignores_key_order_and_sees_every_value() -> None:
    a = {"amount": Money(100, "USD"), "meta": {"x": 1, "y": [1, 2]}}
    b = {"meta": {"y": [1, 2], "x": 1}, "amount": Money(100, "USD")}
    assert canonical_hash(a) == canonical_hash(b)
    assert canonical_hash(a) != canonical_hash({**a, "amount": Money(101, "USD")})
    assert canonical_hash({"v": Decimal("1.50")}) == canonical_hash({"v": Decimal("1.5")})
    assert len(canonical_hash(a)) == 64


def test_the_request_hash_never_contains_the_card_number() -> None:
    card = CardDetails("4242424242424242", exp_month=1, exp_year=2030)
    other = CardDetails("4000000000024242", exp_month=1, exp_year=2030)
    assert card.canonical() == other.canonical()  # same brand, last four, expiry
    assert "424242424242" not in str(card.canonical())


@pytest.mark.parametrize(
    ("number", "cvc", "field"),
    [
        ("4242 4242 4242 4242", "123", None),  # spaces and dashes are dropped
        ("4242-4242-4242-4242", "1234", None),
        ("42424242424", None, "card.number"),  # 11 digits
        ("4" * 20, None, "card.number"),  # 20 digits
        ("424242424242424\u00b2", None, "card.number"),  # superscript two: a digit, not 0-9
        ("\u0664\u0662" * 8, None, "card.number"),  # Arabic-Indic digits
        ("4242424242424242\n", None, "card.number"),
        ("4242424242424242", "12", "card.cvc"),
        ("4242424242424242", "12345", "card.cvc"),
        ("4242424242424242", "\uff11\uff12\uff13", "card.cvc"),  # fullwidth digits
        ("4242424242424242", "123\n", "card.cvc"),
    ],
)
def test_card_numbers_and_codes_are_ascii_digits_of_the_right_length(
    number: str, cvc: str | None, field: str | None
) -> None:
    if field is None:
        assert CardDetails(number, exp_month=1, exp_year=2030, cvc=cvc).last4 == number[-4:]
        return
    with pytest.raises(PaymentRequestError) as caught:
        CardDetails(number, exp_month=1, exp_year=2030, cvc=cvc)
    assert caught.value.field == field


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "new\nline", 42])
def test_bad_idempotency_keys_are_refused(key: object) -> None:
    with pytest.raises(InvalidIdempotencyKeyError):
        check_idempotency_key(key)


def test_idempotency_keys_up_to_255_printable_characters_are_accepted() -> None:
    assert check_idempotency_key("k" * 255) == "k" * 255
    assert check_idempotency_key("order #42/é") == "order #42/é"


# -- transitions ---------------------------------------------------------------------------------


def test_the_transition_table_allows_exactly_the_documented_changes() -> None:
    s = PaymentStatus
    allowed = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert allowed == {
        (s.PENDING, s.AUTHORIZED),
        (s.PENDING, s.DECLINED),
        (s.PENDING, s.FAILED),
        (s.AUTHORIZED, s.CAPTURED),
        (s.AUTHORIZED, s.VOIDED),
        (s.CAPTURED, s.PARTIALLY_REFUNDED),
        (s.CAPTURED, s.REFUNDED),
        (s.PARTIALLY_REFUNDED, s.PARTIALLY_REFUNDED),
        (s.PARTIALLY_REFUNDED, s.REFUNDED),
    }
    for source in s:
        for target in s:
            if (source, target) not in allowed:
                with pytest.raises(InvalidTransitionError):
                    check_transition("p1", source, target)


def _captured(captured: int, refunded: int) -> Payment:
    from datetime import UTC, datetime

    status = PaymentStatus.PARTIALLY_REFUNDED if refunded else PaymentStatus.CAPTURED
    return Payment(
        payment_id="p1",
        merchant_id="m",
        status=status,
        created_at=datetime.now(UTC),
        amount=captured,
        currency="USD",
        captured_amount=captured,
        refunded_amount=refunded,
        version=3,
    )


async def test_a_refund_sends_status_version_and_captured_bound_in_its_condition() -> None:
    transport = FakeTransport()
    db = fake_db(transport)
    change = plan_refund(_captured(1000, 200), Money(300, "USD"))
    async with db.transaction() as tx:
        tx.put(
            _captured(1000, 200).model_copy(update=change.fields),
            overwrite=True,
            condition=change.condition,
        )
    (put,) = transport.calls[0].params["TransactItems"]
    expression = put["Put"]["ConditionExpression"]
    names = put["Put"]["ExpressionAttributeNames"]
    values = put["Put"]["ExpressionAttributeValues"]
    assert {"status", "captured_amount", "version"} <= set(names.values())
    assert {"N": "500"} in values.values()  # the new refunded total must stay <= captured
    assert {"N": "3"} in values.values()  # the version read
    assert " IN " in expression and ">=" in expression


def test_a_refund_beyond_what_is_left_is_refused_before_any_request() -> None:
    with pytest.raises(RefundExceedsCaptureError) as caught:
        plan_refund(_captured(1000, 800), Money(201, "USD"))
    assert caught.value.refundable == 200


# -- leases and configuration ----------------------------------------------------------------------


async def test_the_lease_never_outlives_the_deadline() -> None:
    store = IdempotencyStore(fake_db(FakeTransport()), lease=timedelta(seconds=30))
    assert store.lease_ms() == 30_000
    with deadline_scope(asyncio.get_running_loop().time() + 2.0):
        assert 0 < store.lease_ms() <= 2_000


async def test_a_claim_with_no_time_left_sends_nothing() -> None:
    transport = FakeTransport()
    store = IdempotencyStore(fake_db(transport))
    with (
        deadline_scope(asyncio.get_running_loop().time() - 1.0),
        pytest.raises(PaymentInProgressError),
    ):
        await store.claim("m", "authorize", "k", "h")
    assert transport.calls == []


async def test_the_claim_condition_admits_new_and_expired_keys_only() -> None:
    transport = FakeTransport([ConditionalCheckFailedError("taken"), {"Item": {}}, {}])
    store = IdempotencyStore(fake_db(transport))
    await store.claim("m", "authorize", "k", "h")
    put = transport.calls[0].params
    assert put["ConditionExpression"].count("attribute_not_exists") == 1
    assert " OR " in put["ConditionExpression"] and "<=" in put["ConditionExpression"]
    assert set(put["ExpressionAttributeNames"].values()) == {"scope_key", "expires_at"}


def test_payments_lambda_config_reads_the_environment_once() -> None:
    settings = PaymentsLambdaConfig.from_environment(
        {"PAYMENTS_AUDIT_TABLE": "prod-audit", "PAYMENTS_LEASE": "5", "PAYMENTS_MAX_AMOUNT": "50"},
        LambdaConfig(),
    )
    assert settings.payments.audit_table_name == "prod-audit"
    assert settings.payments.in_progress_lease == timedelta(seconds=5)
    assert settings.payments.max_amount == Decimal("50")
    base = settings.lambda_config().base_config
    assert base is not None and base.table_name("audit") == "prod-audit"


def test_a_lease_longer_than_the_idempotency_ttl_is_refused() -> None:
    from asyncdynamo import ConfigurationError

    with pytest.raises(ConfigurationError):
        PaymentConfig(
            idempotency_ttl=timedelta(seconds=10), in_progress_lease=timedelta(seconds=20)
        )


async def test_a_claim_whose_outcome_asyncdynamo_cannot_tell_is_resolved_by_the_owner_token() -> (
    None
):
    stored: dict[str, Any] = {}

    def server(operation: str, params: dict[str, Any]) -> Any:
        if operation == "PutItem":
            first = not stored
            stored.update(params["Item"])
            if first:  # applied, but the answer is lost
                return ConnectionFailedError("reset after sending")
            return {}
        if operation == "GetItem":
            # the core's own resolution cannot see its write token: outcome unknown
            return {"Item": {k: v for k, v in stored.items() if k != "_adw"}}
        return {}

    transport = FakeTransport(handler=server)
    store = IdempotencyStore(fake_db(transport))

    claim = await store.claim("m", "authorize", "k", "h", resource_id="pay_1")

    assert not claim.replay and claim.record.resource_id == "pay_1"
    assert transport.operations().count("PutItem") == 1  # never re-sent blindly


async def test_waiting_for_another_call_never_sleeps_past_the_deadline() -> None:
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    other = {
        "scope_key": {"S": "m#authorize#k"},
        "scope": {"S": "m"},
        "operation": {"S": "authorize"},
        "key": {"S": "k"},
        "request_hash": {"S": "h"},
        "state": {"S": "in_progress"},
        "phase": {"S": "claimed"},
        "owner": {"S": "someone-else"},
        "lease_until_ms": {"N": str(now_ms + 20_000)},
        "expires_at": {"N": str(now_ms // 1000 + 3600)},
        "created_at": {"S": datetime.now(UTC).isoformat()},
    }

    def server(operation: str, params: dict[str, Any]) -> Any:
        if operation == "PutItem":
            return ConditionalCheckFailedError("taken", item=other)
        return {"Item": other}

    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    store = IdempotencyStore(fake_db(FakeTransport(handler=server)), sleep=sleep)
    deadline = asyncio.get_running_loop().time() + 0.005  # shorter than one 20 ms poll
    with deadline_scope(deadline), pytest.raises(PaymentInProgressError) as caught:
        await store.claim("m", "authorize", "k", "h", wait=True)
    assert slept == [] and caught.value.retry_after > 10
