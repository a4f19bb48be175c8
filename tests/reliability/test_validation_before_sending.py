"""Input DynamoDB would reject (or store wrongly) fails with a typed error; nothing is sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    Config,
    ConfigurationError,
    ExpressionError,
    InvalidKeyError,
    RetryPolicy,
    SerializationError,
    Update,
    UsageError,
    attr,
    spec_of,
)
from asyncdynamo._item import to_item
from tests.fakes import FakeTransport, fake_db
from tests.integration.fidelity_models import Palette
from tests.models import Account, Note, Order
from tests.reliability.rejects import Case, assert_rejected_before_sending


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


BIG = "x" * 410_000
LONE = "ok \ud800 ok"

CASES: dict[str, Case] = {
    "put of a value nesting 32 maps (33 levels with the attribute)": (
        lambda db: db.put(Palette(palette_id="p", doc=_deep(32))),
        SerializationError,
        "32",
    ),
    "update setting a value nesting 32 maps": (
        lambda db: db.update(Palette, "p", changes=Update().set("doc", _deep(32))),
        ExpressionError,
        "32",
    ),
    "put of an empty map key": (
        lambda db: db.put(Palette(palette_id="p", doc={"": 1})),
        SerializationError,
        "empty attribute name",
    ),
    "update setting an empty map key": (
        lambda db: db.update(Palette, "p", changes=Update().set("doc", {"a": {"": 1}})),
        ExpressionError,
        "empty attribute name",
    ),
    "condition on an empty map key": (
        lambda db: db.delete(Palette, "p", condition=attr("doc").key("") == 1),
        ExpressionError,
        "empty attribute name",
    ),
    "query with an empty partition key": (
        lambda db: db.query(Note).where(attr("note_id") == "").all(),
        InvalidKeyError,
        "empty",
    ),
    "query with an empty sort key": (
        lambda db: db.query(Order).where(attr("customer_id") == "c", attr("order_id") >= "").all(),
        InvalidKeyError,
        "empty",
    ),
    "update with a value over 400 KB": (
        lambda db: db.update(Note, "n", changes=Update().set("text", BIG)),
        ExpressionError,
        "400 KB",
    ),
    "update whose values add up to over 400 KB": (
        lambda db: db.update(
            Order,
            "c",
            "o",
            changes=Update().set("note", BIG[:250_000]).set("status", BIG[:250_000]),
        ),
        ExpressionError,
        "400 KB",
    ),
    "condition with a value over 400 KB": (
        lambda db: db.delete(Note, "n", condition=attr("text") == BIG),
        ExpressionError,
        "400 KB",
    ),
    "condition values adding up to over 2 MB": (
        lambda db: db.delete(
            Note, "n", condition=attr("text").is_in([f"{i}{BIG[:30_000]}" for i in range(80)])
        ),
        ExpressionError,
        "2 MB",
    ),
    "put of a lone surrogate": (
        lambda db: db.put(Note(note_id="n", text=LONE)),
        SerializationError,
        "surrogate",
    ),
    "put of a lone surrogate in a map key": (
        lambda db: db.put(Palette(palette_id="p", doc={LONE: 1})),
        SerializationError,
        "surrogate",
    ),
    "update setting a lone surrogate": (
        lambda db: db.update(Note, "n", changes=Update().set("labels", [LONE])),
        SerializationError,
        "surrogate",
    ),
    "condition on a lone surrogate": (
        lambda db: db.delete(Note, "n", condition=attr("text").begins_with(LONE)),
        SerializationError,
        "surrogate",
    ),
    "get by a key with a lone surrogate": (
        lambda db: db.get(Note, LONE),
        SerializationError,
        "surrogate",
    ),
    "query by a key with a lone surrogate": (
        lambda db: db.query(Note).where(attr("note_id") == LONE).all(),
        SerializationError,
        "surrogate",
    ),
    "batch write of a lone surrogate": (
        lambda db: db.batch_write(puts=[Note(note_id="n", text=LONE)]),
        SerializationError,
        "surrogate",
    ),
    "NaN with a payload in an update": (
        lambda db: db.update(Note, "n", changes=Update().set("count", Decimal("NaN123"))),
        ExpressionError,
        "finite",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_invalid_input_fails_typed_before_sending(case: str) -> None:
    await assert_rejected_before_sending(CASES[case])


def test_a_lone_surrogate_error_does_not_echo_the_text() -> None:
    with pytest.raises(SerializationError) as caught:
        to_item(spec_of(Note), Note(note_id="n", text="4111111111111111\ud800"))
    assert "4111" not in str(caught.value)


CONFIGS: dict[str, Callable[[], object]] = {
    "read_timeout=0": lambda: Config(read_timeout=0),
    "connect_timeout=-1": lambda: Config(connect_timeout=-1),
    "read_timeout=nan": lambda: Config(read_timeout=float("nan")),
    "max_pool_connections=0": lambda: Config(max_pool_connections=0),
    "max_attempts=0": lambda: RetryPolicy(max_attempts=0),
    "base=0": lambda: RetryPolicy(base=0),
    "cursor_secret of 8 bytes": lambda: Config(cursor_secret=b"12345678"),
    "cursor_secret that is text": lambda: Config(cursor_secret="a" * 32),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", list(CONFIGS), ids=list(CONFIGS))
def test_an_unworkable_setting_is_a_configuration_error(case: str) -> None:
    with pytest.raises(ConfigurationError):
        CONFIGS[case]()


def test_configuration_errors_are_usage_errors_and_still_value_errors() -> None:
    assert issubclass(ConfigurationError, UsageError)
    assert issubclass(ConfigurationError, ValueError)


def test_a_16_byte_cursor_secret_is_accepted() -> None:
    assert Config(cursor_secret=b"0123456789abcdef").cursor_secret is not None


async def test_a_transaction_token_with_a_lone_surrogate_is_refused() -> None:
    transport = FakeTransport()
    with pytest.raises(UsageError, match="token"):
        fake_db(transport).transaction(token="pay-\udc80")
    assert transport.calls == []


def test_a_naive_transaction_time_is_refused() -> None:
    with pytest.raises(UsageError, match="naive"):
        fake_db(FakeTransport()).transaction(token="t", now=datetime(2026, 1, 1))


async def test_a_naive_clock_is_refused_before_sending() -> None:
    transport = FakeTransport()
    db = DB(Config(), transport=transport, clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(UsageError, match="naive"):
        await db.put(Account(account_id="a", owner="o"))
    assert transport.calls == []
