"""Cursors: opaque, url-safe, signed and bound to their query."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncdynamo import CursorError
from asyncdynamo._codec import AttributeValue
from asyncdynamo._cursor import CursorCodec, request_binding

SECRET = b"s" * 32
QUERY = {
    "TableName": "orders",
    "KeyConditionExpression": "#n0 = :v0",
    "ExpressionAttributeNames": {"#n0": "customer_id"},
    "ExpressionAttributeValues": {":v0": {"S": "c1"}},
}
BINDING = request_binding(QUERY)
KEY: dict[str, AttributeValue] = {"customer_id": {"S": "c1"}, "order_id": {"S": "o9"}}

key_values = st.one_of(
    st.text(min_size=1).map(lambda s: {"S": s}),
    st.integers().map(lambda n: {"N": str(n)}),
    st.binary(min_size=1).map(lambda b: {"B": b}),
)
keys = st.dictionaries(st.text(min_size=1, max_size=10), key_values, min_size=1, max_size=3)


def test_a_cursor_round_trips_its_key() -> None:
    codec = CursorCodec(SECRET)
    assert codec.decode(codec.encode(KEY, BINDING), BINDING) == KEY


@given(keys)
def test_any_key_round_trips_through_a_url_safe_cursor(key: dict[str, AttributeValue]) -> None:
    codec = CursorCodec(SECRET)
    cursor = codec.encode(key, BINDING)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert codec.decode(cursor, BINDING) == key


@given(keys, st.data())
def test_changing_any_character_is_detected(
    key: dict[str, AttributeValue], data: st.DataObject
) -> None:
    codec = CursorCodec(SECRET)
    cursor = codec.encode(key, BINDING)
    position = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("ABCabc012_-").filter(lambda c: c != cursor[position]))
    tampered = cursor[:position] + replacement + cursor[position + 1 :]
    try:
        decoded = codec.decode(tampered, BINDING)
    except CursorError:
        return
    # Base64 padding bits can change without changing the bytes: then the key is unchanged.
    assert decoded == key


def test_a_cursor_with_an_edited_key_is_rejected() -> None:
    codec = CursorCodec(SECRET)
    cursor = codec.encode(KEY, BINDING)
    raw = base64.urlsafe_b64decode(cursor[1:] + "=" * (-len(cursor[1:]) % 4))
    forged = raw.replace(b"o9", b"o1")
    text = "1" + base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    with pytest.raises(CursorError, match="altered"):
        codec.decode(text, BINDING)


def test_a_cursor_replayed_against_another_query_is_rejected() -> None:
    codec = CursorCodec(SECRET)
    cursor = codec.encode(KEY, BINDING)
    other = request_binding({**QUERY, "ExpressionAttributeValues": {":v0": {"S": "c2"}}})
    with pytest.raises(CursorError, match="another query"):
        codec.decode(cursor, other)


def test_a_cursor_signed_with_another_secret_is_rejected() -> None:
    cursor = CursorCodec(SECRET).encode(KEY, BINDING)
    with pytest.raises(CursorError):
        CursorCodec(b"t" * 32).decode(cursor, BINDING)


def test_without_a_secret_each_codec_has_its_own_random_key() -> None:
    cursor = CursorCodec().encode(KEY, BINDING)
    with pytest.raises(CursorError):
        CursorCodec().decode(cursor, BINDING)


@pytest.mark.parametrize("cursor", ["", "x", "1", "1!!!", "1AAAA", "2" + "A" * 60])
def test_malformed_cursors_are_rejected(cursor: str) -> None:
    with pytest.raises(CursorError):
        CursorCodec(SECRET).decode(cursor, BINDING)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(CursorError, match="16 bytes"):
        CursorCodec(b"short")


@pytest.mark.parametrize(
    "change",
    [
        {"TableName": "other"},
        {"IndexName": "by_status"},
        {"FilterExpression": "#n1 = :v1"},
        {"ScanIndexForward": False},
        {"Segment": 1, "TotalSegments": 4},
        {"ExpressionAttributeValues": {":v0": {"S": "c2"}}},
    ],
)
def test_binding_changes_with_what_selects_the_items(change: dict[str, object]) -> None:
    assert request_binding({**QUERY, **change}) != BINDING


@pytest.mark.parametrize(
    "change", [{"Limit": 5}, {"ConsistentRead": True}, {"ReturnConsumedCapacity": "TOTAL"}]
)
def test_binding_ignores_what_only_shapes_a_page(change: dict[str, object]) -> None:
    assert request_binding({**QUERY, **change}) == BINDING


def test_binary_values_in_the_binding_are_supported() -> None:
    query = {**QUERY, "ExpressionAttributeValues": {":v0": {"B": b"\x00\x01"}}}
    assert request_binding(query) != BINDING
