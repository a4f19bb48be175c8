"""The codec against boto3's TypeSerializer/TypeDeserializer as an oracle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncdynamo import SerializationError, deserialize, serialize

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()

numbers = st.one_of(
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).filter(
        lambda d: abs(d) < Decimal("1e30")
    ),
)
scalars = st.one_of(
    st.text(max_size=20),
    numbers,
    st.booleans(),
    st.none(),
    st.binary(min_size=1, max_size=20),
)
sets = st.one_of(
    st.frozensets(st.text(max_size=8), min_size=1, max_size=5).map(set),
    st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=5).map(set),
    st.frozensets(st.binary(min_size=1, max_size=8), min_size=1, max_size=5).map(set),
)
documents = st.recursive(
    st.one_of(scalars, sets),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)


def canonical(value: Any) -> Any:
    """Wire format with sets sorted and numbers normalised, so both encoders compare equal."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "N":
            return {"N": Decimal(raw).normalize()}
        if tag == "NS":
            return {"NS": sorted(Decimal(n).normalize() for n in raw)}
        if tag in ("SS", "BS"):
            return {tag: sorted(raw)}
        if tag == "M":
            return {"M": {k: canonical(v) for k, v in raw.items()}}
        if tag == "L":
            return {"L": [canonical(v) for v in raw]}
    return value


@settings(max_examples=300, deadline=None)
@given(documents)
def test_serialize_matches_boto3(value: Any) -> None:
    assert canonical(serialize(value)) == canonical(_SERIALIZER.serialize(value))


@settings(max_examples=300, deadline=None)
@given(documents)
def test_deserialize_matches_boto3(value: Any) -> None:
    wire = _SERIALIZER.serialize(value)
    assert deserialize(wire) == _DESERIALIZER.deserialize(wire)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_round_trip_preserves_value(value: Any) -> None:
    assert deserialize(serialize(value)) == value


def test_integral_numbers_read_back_as_int_and_fractions_as_decimal() -> None:
    assert deserialize({"N": "42"}) == 42
    assert type(deserialize({"N": "42"})) is int
    assert deserialize({"N": "1.50"}) == Decimal("1.50")
    assert type(deserialize({"N": "1.5"})) is Decimal


def test_float_is_converted_through_its_shortest_repr() -> None:
    assert serialize(0.1) == {"N": "0.1"}
    assert serialize(1e20) == {"N": "1E+20"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")])
def test_non_finite_numbers_are_rejected(bad: Any) -> None:
    with pytest.raises(SerializationError, match="finite"):
        serialize(bad)


def test_numbers_beyond_38_significant_digits_are_rejected() -> None:
    with pytest.raises(SerializationError, match="38"):
        serialize(10**38 + 1)
    assert serialize(10**40) == {"N": str(10**40)}  # one significant digit is fine


def test_numbers_outside_dynamodb_range_are_rejected() -> None:
    with pytest.raises(SerializationError, match="range"):
        serialize(Decimal("1e126"))
    with pytest.raises(SerializationError, match="range"):
        serialize(Decimal("1e-131"))


def test_empty_set_is_rejected_explicitly() -> None:
    with pytest.raises(SerializationError, match="empty set"):
        serialize(set())


def test_mixed_set_is_rejected() -> None:
    with pytest.raises(SerializationError, match="sets must be all strings"):
        serialize({"a", 1})


def test_datetime_is_stored_as_fixed_width_utc_iso8601() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris)
    assert serialize(moment) == {"S": "2026-01-02T02:04:05.000000+00:00"}


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(SerializationError, match="naive"):
        serialize(datetime(2026, 1, 1))


def test_enums_uuids_and_tuples_are_encoded_by_value() -> None:
    class Colour(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert serialize(Colour.RED) == {"S": "red"}
    assert serialize(Level.HIGH) == {"N": "3"}
    assert serialize(ident) == {"S": str(ident)}
    assert serialize((1, "a")) == {"L": [{"N": "1"}, {"S": "a"}]}


def test_bool_is_not_treated_as_number() -> None:
    assert serialize(True) == {"BOOL": True}
    with pytest.raises(SerializationError):
        serialize({True, False})


def test_unknown_types_raise_serialization_error() -> None:
    with pytest.raises(SerializationError, match="object"):
        serialize(object())


def test_non_string_map_keys_are_rejected() -> None:
    with pytest.raises(SerializationError, match="map keys"):
        serialize({1: "a"})


def test_deserialize_rejects_malformed_attribute_values() -> None:
    with pytest.raises(SerializationError):
        deserialize({"S": "a", "N": "1"})
    with pytest.raises(SerializationError):
        deserialize({"X": "a"})


def test_now_round_trips_through_pydantic_compatible_text() -> None:
    now = datetime.now(UTC)
    assert datetime.fromisoformat(serialize(now)["S"]) == now
