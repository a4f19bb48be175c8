"""Fuzzed bad input through the public API and the payments Processor (hypothesis).

Every call either goes through with a request that is valid on the wire (strict UTF-8 JSON) or
fails with the package's own typed error (``AsyncDynamoError`` / ``PaymentsError``) before anything
is sent: never a ``TypeError``, ``ValueError``, ``KeyError`` or pydantic ``ValidationError`` of
its own, and never half a transaction. Example counts scale with ``ASYNCDYNAMO_SOAK``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from asyncdynamo import (
    DB,
    AsyncDynamoError,
    Config,
    CursorError,
    Key,
    RequestLimitError,
    Update,
    attr,
)
from payments import (
    CardDetails,
    FakeGateway,
    InvalidMerchantError,
    Money,
    PaymentConfig,
    PaymentRequest,
    PaymentsError,
    Processor,
)
from tests.fakes import FakeTransport, fake_db
from tests.integration.fidelity_models import Palette
from tests.models import Note
from tests.payments.conftest import MERCHANT_ID, TEST_PAN
from tests.reliability.soak import examples

# text with every code point, lone surrogates included
TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats()
    | st.decimals()
    | TEXT
    | st.binary(max_size=20)
    | st.just(object())
    | st.complex_numbers(allow_nan=False, allow_infinity=False)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(TEXT, inner, max_size=3)
        | st.sets(st.integers() | TEXT, max_size=3)
        | st.tuples(inner, inner)
    ),
    max_leaves=10,
)
FIELDS = st.sampled_from(["note_id", "text", "count", "labels", "nope", ""]) | TEXT


def _sent_valid(transport: FakeTransport) -> None:
    """What reached the transport is a request DynamoDB can parse: strict UTF-8 JSON."""
    for call in transport.calls:
        json.dumps(call.params, ensure_ascii=False, default=_b64).encode("utf-8")


def _b64(value: object) -> str:
    assert isinstance(value, bytes), f"not JSON: {value!r}"
    return "<bytes>"


async def _typed_or_sent(
    operation: Callable[[DB], Awaitable[Any]], *, config: Config | None = None
) -> FakeTransport:
    transport = FakeTransport()
    db = fake_db(transport) if config is None else DB(config, transport=transport)
    async with db:
        try:
            await operation(db)
        except AsyncDynamoError:
            assert transport.calls == [], "typed error after sending part of the request"
        except Exception as exc:  # the point: anything else is a leak
            if transport.calls == []:
                raise AssertionError(f"foreign {type(exc).__name__} leaked: {exc!r}") from exc
    _sent_valid(transport)
    return transport


@examples(30)
@given(key=VALUES)
async def test_a_fuzzed_key_is_refused_typed_or_sent_valid(key: Any) -> None:
    await _typed_or_sent(lambda db: db.get(Note, key))
    await _typed_or_sent(lambda db: db.delete(Note, key))
    await _typed_or_sent(lambda db: db.batch_get(Note, [key, "n"]))


@examples(30)
@given(field=FIELDS, value=VALUES)
async def test_a_fuzzed_update_or_condition_is_refused_typed_or_sent_valid(
    field: str, value: Any
) -> None:
    await _typed_or_sent(lambda db: db.update(Note, "n", changes=Update().set(field, value)))
    await _typed_or_sent(lambda db: db.delete(Note, "n", condition=attr(field) == value))
    await _typed_or_sent(
        lambda db: db.query(Note).where(attr("note_id") == "n").filter(attr(field) == value).all()
    )


@examples(30)
@given(note_id=VALUES, text=VALUES, count=VALUES, labels=VALUES, doc=VALUES)
async def test_a_wrong_typed_item_is_refused_typed_or_sent_valid(
    note_id: Any, text: Any, count: Any, labels: Any, doc: Any
) -> None:
    # model_construct skips pydantic's validation: what the codec sees is anything at all
    note = Note.model_construct(note_id=note_id, text=text, count=count, labels=labels)
    palette = Palette.model_construct(palette_id="p", doc=doc)
    await _typed_or_sent(lambda db: db.put(note))
    await _typed_or_sent(lambda db: db.put(palette))
    await _typed_or_sent(lambda db: db.batch_write(puts=[Note(note_id="ok"), note]))


@examples(20)
@given(shape=st.lists(st.booleans(), min_size=1, max_size=80))
async def test_deep_nesting_is_refused_typed_or_sent_valid(shape: list[bool]) -> None:
    value: Any = 1
    for as_map in shape:
        value = {"k": value} if as_map else [value]
    await _typed_or_sent(lambda db: db.put(Palette(palette_id="p", doc={"v": value})))
    await _typed_or_sent(lambda db: db.update(Palette, "p", changes=Update().set("doc", value)))


SECRET = Config(cursor_secret=b"0123456789abcdef")


async def _real_cursor() -> str:
    items = [{"note_id": {"S": f"n{i}"}} for i in range(5)]
    transport = FakeTransport([{"Items": items, "LastEvaluatedKey": {"note_id": {"S": "n4"}}}])
    async with DB(SECRET, transport=transport) as db:
        page = await db.scan(Note).page(size=5)
    assert page.cursor is not None
    return page.cursor


@examples(40)
@given(data=st.data())
async def test_a_tampered_or_made_up_cursor_is_a_cursor_error_and_nothing_is_sent(
    data: st.DataObject,
) -> None:
    real = await _real_cursor()
    at = data.draw(st.integers(min_value=0, max_value=len(real) - 1))
    replacement = data.draw(st.characters(exclude_categories=()).filter(lambda c: c != real[at]))
    cut = data.draw(st.integers(min_value=0, max_value=len(real) - 1))
    cursors = [
        real[:at] + replacement + real[at + 1 :],
        real[:cut],
        real + data.draw(TEXT.filter(bool)),
        data.draw(TEXT),
    ]
    for cursor in cursors:
        transport = FakeTransport()
        async with DB(SECRET, transport=transport) as db:
            try:
                await db.scan(Note).page(cursor=cursor, size=5)
            except CursorError:
                pass
            else:
                raise AssertionError(f"cursor {cursor!r} accepted")
        assert transport.calls == []


@examples(5)
@given(actions=st.integers(min_value=101, max_value=130))
async def test_an_oversized_transaction_or_transact_get_sends_nothing(actions: int) -> None:
    transport = FakeTransport()
    async with fake_db(transport) as db:
        try:
            async with db.transaction() as tx:
                for i in range(actions):
                    tx.put(Note(note_id=f"n{i}"))
        except RequestLimitError:
            pass
        else:
            raise AssertionError("a transaction of more than 100 actions was committed")
        try:
            await db.transact_get([Key(Note, f"n{i}") for i in range(actions)])
        except RequestLimitError:
            pass
        else:
            raise AssertionError("transact_get of more than 100 keys was sent")
    assert transport.calls == []


# -- payments: requests built from fuzzed parts -------------------------------------------


async def _payments_typed_or_sent(build: Callable[[], PaymentRequest], key: Any) -> None:
    transport = FakeTransport()
    async with fake_db(transport) as db:
        try:
            request = build()
            processor = Processor(db, config=PaymentConfig(), gateway=FakeGateway())
            await processor.process_payment(request, idempotency_key=key)
        except InvalidMerchantError:
            pass  # sent: the fake's empty answers make the merchant unknown
        except PaymentsError:
            assert transport.calls == [], "typed error after sending"
        except Exception as exc:  # the point: anything else is a leak
            if transport.calls == []:
                raise AssertionError(f"foreign {type(exc).__name__} leaked: {exc!r}") from exc
    _sent_valid(transport)


@examples(40)
@given(
    number=VALUES | st.just(TEST_PAN),
    exp_month=VALUES | st.just(12),
    exp_year=VALUES | st.just(2030),
    cvc=VALUES | st.just("123"),
)
async def test_fuzzed_card_details_fail_as_payment_request_errors(
    number: Any, exp_month: Any, exp_year: Any, cvc: Any
) -> None:
    def build() -> PaymentRequest:
        card = CardDetails(number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
        return PaymentRequest(merchant_id=MERCHANT_ID, amount=Money(100, "USD"), card=card)

    await _payments_typed_or_sent(build, "k")


@examples(40)
@given(
    merchant_id=VALUES | st.just(MERCHANT_ID),
    minor=VALUES | st.integers(),
    currency=VALUES | st.sampled_from(["USD", "JPY"]),
    major=VALUES | st.decimals().map(str),
    customer_id=VALUES | st.none(),
    description=VALUES | TEXT,
    metadata=VALUES | st.dictionaries(TEXT, TEXT, max_size=2),
    key=VALUES | TEXT,
)
async def test_fuzzed_payment_requests_fail_as_payment_request_errors(
    merchant_id: Any,
    minor: Any,
    currency: Any,
    major: Any,
    customer_id: Any,
    description: Any,
    metadata: Any,
    key: Any,
) -> None:
    card = CardDetails(TEST_PAN, exp_month=12, exp_year=2030)

    def build(amount: Callable[[], Money]) -> Callable[[], PaymentRequest]:
        return lambda: PaymentRequest(
            merchant_id=merchant_id,
            amount=amount(),
            card=card,
            customer_id=customer_id,
            description=description,
            metadata=metadata,
        )

    await _payments_typed_or_sent(build(lambda: Money(minor, currency)), key)
    await _payments_typed_or_sent(build(lambda: Money.of(major, currency)), key)
