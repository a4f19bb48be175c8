"""The same idempotency key with another payload is always refused, and never charged again.

Hypothesis draws a payload and one mutation of it; the first call pays, the mutated one must
raise DuplicatePaymentError, and the same payload with its metadata keys in another order must
replay the first result. A small table on the test server, one fresh key per example.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncdynamo import DB
from payments import (
    CardDetails,
    DuplicatePaymentError,
    FakeGateway,
    Money,
    PaymentRequest,
    Processor,
)
from tests.payments.conftest import payment_request
from tests.reliability.cards import with_check_digit
from tests.reliability.soak import examples

pytestmark = pytest.mark.integration

_keys = itertools.count()
_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=12)
_metadata = st.dictionaries(_ids, st.text(max_size=20), max_size=5)


@st.composite
def mutations(draw: st.DrawFn, base: PaymentRequest) -> PaymentRequest:
    """``base`` with one field changed to a different value."""
    kind = draw(
        st.sampled_from(
            ["amount", "currency", "customer", "description", "metadata", "expiry", "card"]
        )
    )
    changes: dict[str, Any] = {}
    if kind == "amount":
        delta = draw(st.integers(1, 10**6))
        changes["amount"] = Money(base.amount.minor + delta, base.amount.currency)
    elif kind == "currency":
        changes["amount"] = Money(base.amount.minor, "JPY")
    elif kind == "customer":
        changes["customer_id"] = draw(_ids.filter(lambda v: v != base.customer_id))
    elif kind == "description":
        changes["description"] = draw(st.text(max_size=50).filter(lambda v: v != base.description))
    elif kind == "metadata":
        changes["metadata"] = draw(_metadata.filter(lambda v: v != dict(base.metadata)))
    elif kind == "expiry":
        month = draw(st.integers(1, 12).filter(lambda m: m != base.card.exp_month))
        changes["card"] = CardDetails("4242424242424242", exp_month=month, exp_year=2030)
    else:
        body = draw(st.from_regex(r"\A4[0-9]{14}\Z"))
        number = with_check_digit(body)
        if number[-4:] == base.card.last4:
            number = with_check_digit(body[:-1] + str((int(body[-1]) + 1) % 10))
        changes["card"] = CardDetails(number, exp_month=12, exp_year=2030)
    return replace(base, **changes)


@st.composite
def cases(draw: st.DrawFn) -> tuple[PaymentRequest, PaymentRequest]:
    base = payment_request(
        minor=draw(st.integers(1, 10**5)),
        customer_id=draw(_ids),
        description=draw(st.text(max_size=50)),
        metadata=draw(_metadata),
    )
    return base, draw(mutations(base))


@examples(15, at_most=300)
@given(case=cases())
async def test_a_mutated_payload_under_a_used_key_is_refused_and_not_charged(
    processor: Processor,
    gateway: FakeGateway,
    payment_tables: DB,
    case: tuple[PaymentRequest, PaymentRequest],
) -> None:
    base, mutated = case
    key = f"k{next(_keys)}"
    first = await processor.process_payment(base, idempotency_key=key)
    charges = gateway.total_charges

    with pytest.raises(DuplicatePaymentError):
        await processor.process_payment(mutated, idempotency_key=key)
    reordered = replace(base, metadata=dict(reversed(list(base.metadata.items()))))
    again = await processor.process_payment(reordered, idempotency_key=key)

    assert again.replay
    assert again.payment.payment_id == first.payment.payment_id
    assert gateway.total_charges == charges
