"""Data fidelity: what is stored is what the model holds, and reads back the same."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Json

from asyncdynamo import (
    ConditionalCheckFailedError,
    ExpressionError,
    ItemAlreadyExistsError,
    ItemNotFoundError,
    Model,
    PartitionKey,
    SerializationError,
    TransactionFailedError,
    Update,
    VersionConflictError,
    attr,
    deserialize,
    serialize,
    serialize_item,
    spec_of,
)
from asyncdynamo._expr import Placeholders, render_condition
from asyncdynamo._item import from_item, to_item
from asyncdynamo._update import render_update
from tests.fakes import FakeTransport, fake_db
from tests.integration.fidelity_models import Card, Color, Holder, Palette, Size
from tests.models import Account

# --- enum members in sets, lists and maps ------------------------------------------------------


def test_a_set_of_str_enum_members_stores_their_values() -> None:
    assert sorted(serialize({Color.RED, Color.BLUE})["SS"]) == ["blue", "red"]


def test_a_set_of_int_enum_members_stores_their_values() -> None:
    assert sorted(serialize(frozenset({Size.SMALL, Size.LARGE}))["NS"]) == ["1", "2"]


def test_update_add_and_delete_of_enum_members_store_their_values() -> None:
    ph = Placeholders(spec=spec_of(Palette))
    render_update(Update().add("colors", {Color.RED}).delete("sizes", {Size.LARGE}), ph)
    assert sorted(ph.values.values(), key=str) == [{"NS": ["2"]}, {"SS": ["red"]}]


def test_contains_compares_an_enum_member_by_value() -> None:
    ph = Placeholders(spec=spec_of(Palette))
    render_condition(attr("colors").contains(Color.GREEN), ph)
    render_condition(attr("ordered").contains({Color.GREEN}), ph)
    assert list(ph.values.values()) == [{"S": "green"}, {"SS": ["green"]}]


def test_an_enum_map_key_is_stored_as_its_value() -> None:
    assert serialize({Color.RED: 1}) == {"M": {"red": {"N": "1"}}}


palettes = st.builds(
    Palette,
    palette_id=st.text(min_size=1, max_size=8),
    colors=st.sets(st.sampled_from(Color)),
    sizes=st.frozensets(st.sampled_from(Size)),
    ordered=st.lists(st.sampled_from(Color), max_size=5),
    by_color=st.dictionaries(st.sampled_from(Color), st.sampled_from(Size), max_size=3),
    doc=st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.one_of(st.sampled_from(Color), st.lists(st.sampled_from(Size), max_size=3)),
        max_size=3,
    ),
)


@settings(max_examples=150, deadline=None)
@given(palettes)
def test_enums_in_sets_lists_and_maps_round_trip(palette: Palette) -> None:
    spec = spec_of(Palette)
    back = from_item(spec, to_item(spec, palette))
    assert (back.colors, back.sizes, back.ordered, back.by_color) == (
        palette.colors,
        palette.sizes,
        palette.ordered,
        palette.by_color,
    )
    # Untyped values come back as the values the members stand for.
    assert back.doc == {
        k: v.value if isinstance(v, Color) else [int(s) for s in v] for k, v in palette.doc.items()
    }


# --- the stored item is what the model holds, not its output view -------------------------------


def _card() -> Card:
    return Card(
        card_id="c1",
        number="4111111111111111",
        internal_note="kyc ok",
        holder=Holder(holder_name="Ada Lovelace", secret_ref="ref-7"),
    )


def test_put_stores_excluded_fields_and_unmasked_values() -> None:
    item = to_item(spec_of(Card), _card())
    assert item["number"] == {"S": "4111111111111111"}
    assert item["internal_note"] == {"S": "kyc ok"}
    assert item["holder"] == {
        "M": {"holderName": {"S": "Ada Lovelace"}, "secretRef": {"S": "ref-7"}}
    }


def test_a_model_with_output_only_settings_reads_back_equal() -> None:
    spec = spec_of(Card)
    card = _card()
    back = from_item(spec, to_item(spec, card))
    assert back == card
    assert (back.number, back.internal_note, back.holder) == (
        card.number,
        card.internal_note,
        card.holder,
    )


def test_update_set_of_a_nested_model_stores_what_it_holds() -> None:
    ph = Placeholders(spec=spec_of(Card))
    holder = Holder(holder_name="Grace Hopper", secret_ref="r")
    render_update(Update().set("holder", holder), ph)
    assert list(ph.values.values()) == [
        {"M": {"holderName": {"S": "Grace Hopper"}, "secretRef": {"S": "r"}}}
    ]


# --- numbers and nesting ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["NaN123", "sNaN", "-sNaN5", "NaN", "-Infinity"])
def test_a_nan_with_a_payload_is_refused(text: str) -> None:
    with pytest.raises(SerializationError):
        serialize(Decimal(text))
    with pytest.raises(SerializationError):
        serialize({"n": [Decimal(text)]})


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return value


def test_a_value_nesting_31_maps_and_lists_is_stored() -> None:
    # DynamoDB counts the attribute as level 1: its innermost values are then at level 32.
    assert deserialize(serialize(_nested(31))) == _nested(31)
    assert serialize_item({"a": _nested(31)})["a"] == serialize(_nested(31))
    with pytest.raises(SerializationError):
        serialize({"a": _nested(31)})  # a map around it: 32 containers


@pytest.mark.parametrize("levels", [32, 5000])
def test_nesting_deeper_than_32_levels_is_a_serialization_error(levels: int) -> None:
    with pytest.raises(SerializationError, match="32"):
        serialize(_nested(levels))


def test_a_path_deeper_than_32_levels_is_refused() -> None:
    ph = Placeholders(spec=spec_of(Palette))
    render_condition(attr("doc." + ".".join(["k"] * 31)).exists(), ph)
    with pytest.raises(ExpressionError, match="32"):
        render_condition(attr("doc." + ".".join(["k"] * 32)).exists(), ph)


def test_a_self_containing_list_is_a_serialization_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="32"):
        serialize(loop)


# --- timestamps: one representation -----------------------------------------------------------


async def test_created_at_has_the_same_tzinfo_from_put_update_and_get() -> None:
    stored: dict[str, Any] = {}

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "PutItem":
            stored.update(params["Item"])
            return {}
        if operation == "UpdateItem":
            return {"Attributes": {**stored, "version": {"N": "2"}}}
        return {"Item": stored}

    east = timezone(timedelta(hours=2))
    clock = lambda: datetime(2026, 3, 1, 12, tzinfo=east)  # noqa: E731
    transport = FakeTransport(handler=answer)
    db = fake_db(transport)
    db._clock = clock
    put = await db.put(Account(account_id="a", owner="o"))
    updated = await db.update(put, changes=Update().set("owner", "p"))
    got = await db.get(Account, "a", required=True)
    for account in (put, updated, got):
        assert account.created_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
        assert account.created_at is not None and account.created_at.tzinfo is UTC
        assert account.updated_at is not None and account.updated_at.tzinfo is UTC


# --- versions --------------------------------------------------------------------------------


async def test_an_upsert_at_version_0_may_create_the_item() -> None:
    transport = FakeTransport(
        script=[{"Attributes": {"account_id": {"S": "a"}, "owner": {"S": "o"}}}]
    )
    await fake_db(transport).update(
        Account,
        "a",
        changes=Update().set("owner", "o"),
        expected_version=0,
        create_if_missing=True,
    )
    params = transport.calls[0].params
    names = {v: k for k, v in params["ExpressionAttributeNames"].items()}
    assert f"attribute_not_exists({names['version']})" in params["ConditionExpression"]
    assert "attribute_exists" not in params["ConditionExpression"].replace("_not_exists", "")


def _ccf(item: dict[str, Any] | None) -> ConditionalCheckFailedError:
    return ConditionalCheckFailedError("The conditional request failed", item=item)


async def test_update_with_a_version_of_a_missing_item_is_item_not_found() -> None:
    transport = FakeTransport(script=[_ccf(None)])
    with pytest.raises(ItemNotFoundError):
        await fake_db(transport).update(
            Account, "a", changes=Update().set("owner", "x"), expected_version=3
        )


async def test_a_version_conflict_carries_the_decoded_item_and_the_model() -> None:
    stored = {"account_id": "a", "owner": "o", "version": 5, "tags": {"t"}}
    transport = FakeTransport(script=[_ccf(stored)])
    with pytest.raises(VersionConflictError) as caught:
        await fake_db(transport).update(
            Account, "a", changes=Update().set("owner", "x"), expected_version=3
        )
    assert caught.value.item == stored
    assert caught.value.actual_version == 5
    assert caught.value.model_item == Account(account_id="a", owner="o", version=5, tags={"t"})


async def test_item_already_exists_carries_the_stored_model() -> None:
    transport = FakeTransport(script=[_ccf({"account_id": "a", "owner": "other", "version": 1})])
    with pytest.raises(ItemAlreadyExistsError) as caught:
        await fake_db(transport).put(Account(account_id="a", owner="o"))
    assert isinstance(caught.value.model_item, Account)
    assert caught.value.model_item.owner == "other"


async def test_a_failed_transaction_action_carries_the_decoded_item_and_model() -> None:
    from asyncdynamo import CancellationReason, TransactionCanceledError

    reason = CancellationReason(
        "ConditionalCheckFailed",
        "failed",
        item={"account_id": {"S": "a"}, "owner": {"S": "o"}, "version": {"N": "4"}},
    )
    transport = FakeTransport(script=[TransactionCanceledError("x", reasons=[reason])])
    db = fake_db(transport)
    with pytest.raises(TransactionFailedError) as caught:
        async with db.transaction() as tx:
            tx.update(Account, "a", changes=Update().set("owner", "x"), expected_version=3)
    cause = caught.value.causes[0]
    assert isinstance(cause, VersionConflictError)
    assert cause.item == {"account_id": "a", "owner": "o", "version": 4}
    assert isinstance(cause.model_item, Account) and cause.model_item.version == 4


async def test_a_blind_overwrite_of_a_versioned_model_sends_no_version_condition() -> None:
    transport = FakeTransport()
    db = fake_db(transport)
    stored = await db.put(
        Account(account_id="a", owner="o", version=7), overwrite=True, skip_version_check=True
    )
    assert stored.version == 8
    assert "ConditionExpression" not in transport.calls[0].params


async def test_a_transaction_put_can_skip_the_version_check() -> None:
    transport = FakeTransport()
    db = fake_db(transport)
    async with db.transaction() as tx:
        tx.put(
            Account(account_id="a", owner="o", version=7), overwrite=True, skip_version_check=True
        )
    (action,) = transport.calls[0].params["TransactItems"]
    assert "ConditionExpression" not in action["Put"]


# --- transactions rebuilt by a retried handler -----------------------------------------------


async def test_a_rebuilt_transaction_with_the_same_token_and_now_sends_the_same_request() -> None:
    ticks = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s) for s in range(100))
    transport = FakeTransport()
    db = fake_db(transport)
    db._clock = lambda: next(ticks)
    event_time = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for _ in range(2):  # the handler ran, its reply was lost, Lambda retried it
        async with db.transaction(token="payment-p1", now=event_time) as tx:
            tx.put(Account(account_id="a", owner="o"))
            tx.update(Account, "b", changes=Update().increment("balance", -5), expected_version=2)
    first, second = transport.calls
    assert first.params == second.params


async def test_every_action_of_a_transaction_gets_one_time() -> None:
    ticks = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s) for s in range(100))
    transport = FakeTransport()
    db = fake_db(transport)
    db._clock = lambda: next(ticks)
    async with db.transaction() as tx:
        first = tx.put(Account(account_id="a", owner="o"))
        second = tx.put(Account(account_id="b", owner="o"))
    assert first.created_at == second.created_at == tx.now


class Settings(Model):
    """``Json[...]`` fields validate only from JSON text."""

    __table__ = "fidelity_settings"

    settings_id: Annotated[str, PartitionKey]
    limits: Json[list[int]]
    extra: Json[dict[str, Any]] | None = None


def test_json_fields_are_stored_as_the_text_pydantic_reads_back() -> None:
    spec = spec_of(Settings)
    settings = Settings(settings_id="s", limits="[1, 2]", extra='{"a": [1, "b"]}')
    item = to_item(spec, settings)
    assert item["limits"] == {"S": "[1,2]"}
    assert from_item(spec, item) == settings
    ph = Placeholders(spec=spec)
    render_update(Update().set("limits", [3]), ph)
    assert list(ph.values.values()) == [{"S": "[3]"}]


class Limits(BaseModel):
    values: Json[list[int]]


def test_a_nested_json_field_reads_back() -> None:
    spec = spec_of(Palette)
    palette = Palette(palette_id="p", doc={"limits": Limits(values="[1]")})
    back = from_item(spec, to_item(spec, palette))
    assert Limits.model_validate(back.doc["limits"]) == Limits(values="[1]")


_PRINT_SETS = (
    "from asyncdynamo import serialize;"
    "print(serialize({'tags': {f't{i}' for i in range(40)}, 'ns': {i * 7 for i in range(40)}}))"
)


def test_sets_encode_the_same_in_every_process() -> None:
    # A transaction rebuilt by a retried handler (maybe in another container) must send the
    # same parameters under its token; a set's order follows the process's hash seed.
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", _PRINT_SETS],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


async def test_a_create_only_put_whose_own_condition_fails_is_not_item_not_found() -> None:
    transport = FakeTransport(script=[_ccf(None)])
    with pytest.raises(ConditionalCheckFailedError) as caught:
        await fake_db(transport).put(
            Account(account_id="a", owner="o", version=5), condition=attr("owner").exists()
        )
    assert type(caught.value) is ConditionalCheckFailedError
