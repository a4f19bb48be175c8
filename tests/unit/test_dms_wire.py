"""DMS timestamps, DynamORM cursors and encrypted envelopes (pure, no server)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from asyncdynamo import (
    CursorError,
    GlobalIndex,
    KeyRole,
    Model,
    PartitionKey,
    SerializationError,
    SortKey,
    spec_of,
)
from asyncdynamo.dms import (
    DYNAMORM_CURSORS,
    DmsEnvelope,
    InvalidEnvelopeError,
    NanoDatetime,
    envelope_aad,
    format_time,
    open_envelope,
    open_value,
    parse_envelope,
    parse_time,
    plaintext_of,
    seal_envelope,
    seal_value,
    value_of_plaintext,
)

KEY = b"k" * 32


class TestTimestamps:
    def test_written_with_nine_digits_and_z(self) -> None:
        value = datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=timezone(timedelta(hours=2)))
        assert format_time(value) == "2026-01-02T01:04:05.120000000Z"

    def test_parsed_to_the_nanosecond(self) -> None:
        parsed = parse_time("2026-01-02T03:04:05.123456789Z")
        assert parsed is not None
        assert (parsed.microsecond, parsed.nanosecond) == (123456, 789)
        assert parsed.stored_text == "2026-01-02T03:04:05.123456789Z"

    def test_a_derived_value_forgets_the_stored_text(self) -> None:
        parsed = parse_time("2026-01-02T03:04:05.1+02:00")
        assert parsed is not None and format_time(parsed) == "2026-01-02T03:04:05.1+02:00"
        later = parsed.replace(second=6)
        assert format_time(later) == "2026-01-02T01:04:06.100000000Z"
        assert format_time(parsed + timedelta(seconds=1)) == "2026-01-02T01:04:06.100000000Z"

    @pytest.mark.parametrize(
        "text", ["2026-01-02", "2026-01-02T03:04:05", "soon", "2026-13-01T00:00:00Z"]
    )
    def test_what_is_not_rfc3339_is_left_to_validation(self, text: str) -> None:
        assert parse_time(text) is None

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(SerializationError, match="naive"):
            format_time(datetime(2026, 1, 1))

    @given(
        st.datetimes(timezones=st.just(UTC), min_value=datetime(1000, 1, 1)),
        st.datetimes(timezones=st.just(UTC), min_value=datetime(1000, 1, 1)),
        st.integers(0, 999),
        st.integers(0, 999),
    )
    def test_text_order_is_time_order(self, a: datetime, b: datetime, na: int, nb: int) -> None:
        first, second = NanoDatetime.from_parts(a, na), NanoDatetime.from_parts(b, nb)
        assert (format_time(first) < format_time(second)) == ((a, na) < (b, nb))

    @given(
        st.datetimes(timezones=st.just(UTC), min_value=datetime(1000, 1, 1)), st.integers(0, 999)
    )
    def test_written_text_parses_back_to_the_same_instant(
        self, value: datetime, nanos: int
    ) -> None:
        text = format_time(NanoDatetime.from_parts(value, nanos))
        parsed = parse_time(text)
        assert parsed is not None and (parsed, parsed.nanosecond) == (value, nanos)


class Item(Model):
    __table__ = "items"
    pk: Annotated[str, PartitionKey, GlobalIndex("by-email", KeyRole.SORT)]
    sk: Annotated[str, SortKey]
    email: Annotated[str, GlobalIndex("by-email")]


def query_params(**extra: Any) -> dict[str, Any]:
    return {"TableName": "items", "KeyConditionExpression": "#n0 = :v0", **extra}


def raw_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


class TestCursors:
    def test_the_format_matches_dynamorm(self) -> None:
        key = {"sk": {"S": "PROFILE"}, "pk": {"S": "USER#1"}, "email": {"S": "e"}}
        cursor = DYNAMORM_CURSORS.encode(key, query_params(IndexName="by-email"), spec_of(Item))
        text = base64.urlsafe_b64decode(cursor).decode()
        assert text == (
            '{"lastKey":{"email":{"S":"e"},"pk":{"S":"USER#1"},"sk":{"S":"PROFILE"}},'
            '"index":"by-email","sort":"ASC"}'
        )
        assert cursor.endswith("=") or len(cursor) % 4 == 0  # padded base64url
        assert (
            DYNAMORM_CURSORS.decode(cursor, query_params(IndexName="by-email"), spec_of(Item))
            == key
        )

    def test_descending_queries_and_scans(self) -> None:
        key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
        down = DYNAMORM_CURSORS.encode(key, query_params(ScanIndexForward=False), spec_of(Item))
        assert json.loads(base64.urlsafe_b64decode(down))["sort"] == "DESC"
        scan = DYNAMORM_CURSORS.encode(key, {"TableName": "items"}, spec_of(Item))
        assert json.loads(base64.urlsafe_b64decode(scan)) == {
            "lastKey": {"pk": {"S": "a"}, "sk": {"S": "b"}}
        }

    def test_a_cursor_without_sort_or_padding_is_accepted(self) -> None:
        cursor = raw_cursor({"lastKey": {"pk": {"S": "a"}, "sk": {"S": "b"}}}).rstrip("=")
        assert DYNAMORM_CURSORS.decode(cursor, query_params(), spec_of(Item)) == {
            "pk": {"S": "a"},
            "sk": {"S": "b"},
        }

    def test_binary_keys_use_standard_base64(self) -> None:
        class Blob(Model):
            __table__ = "blobs"
            pk: Annotated[bytes, PartitionKey]

        cursor = DYNAMORM_CURSORS.encode(
            {"pk": {"B": b"\xff\xfe"}}, {"TableName": "b"}, spec_of(Blob)
        )
        assert json.loads(base64.urlsafe_b64decode(cursor))["lastKey"] == {"pk": {"B": "//4="}}
        assert DYNAMORM_CURSORS.decode(cursor, {"TableName": "b"}, spec_of(Blob)) == {
            "pk": {"B": b"\xff\xfe"}
        }

    @pytest.mark.parametrize(
        ("cursor", "message"),
        [
            ("%%%", "not a DynamORM cursor"),
            (raw_cursor({"lastKey": []}), "lastKey"),
            (
                raw_cursor({"lastKey": {"pk": {"S": "a"}, "sk": {"S": "b"}}, "index": "by-email"}),
                "index",
            ),
            (raw_cursor({"lastKey": {"pk": {"S": "a"}, "sk": {"S": "b"}}, "sort": "DESC"}), "sort"),
            (raw_cursor({"lastKey": {"pk": {"S": "a"}}}), "keys"),
            (raw_cursor({"lastKey": {"pk": {"S": "a"}, "sk": {"N": "1"}}}), "must be S"),
            (raw_cursor({"lastKey": {"pk": {"S": "a"}, "sk": "b"}}), "typed value"),
        ],
    )
    def test_a_cursor_for_another_read_is_refused(self, cursor: str, message: str) -> None:
        with pytest.raises(CursorError, match=message):
            DYNAMORM_CURSORS.decode(cursor, query_params(), spec_of(Item))


def dynamorm_envelope(
    value: dict[str, Any], attribute: str, nonce: bytes = b"n" * 12
) -> dict[str, Any]:
    """An envelope built from the documented format alone (independent of asyncdynamo.dms)."""
    ciphertext = AESGCM(KEY).encrypt(
        nonce,
        json.dumps(value, separators=(",", ":")).encode(),  # as Go's json.Marshal: compact
        f"dynamorm:encrypted:v1|attr={attribute}".encode(),
    )
    return {
        "M": {"v": {"N": "1"}, "edk": {"B": b"edk"}, "nonce": {"B": nonce}, "ct": {"B": ciphertext}}
    }


class TestEnvelopes:
    def test_a_dynamorm_envelope_opens(self) -> None:
        stored = dynamorm_envelope({"t": "M", "m": {"a": {"t": "N", "n": "1.5"}}}, "card")
        assert open_envelope(parse_envelope(stored, "card"), KEY, "card") == {
            "M": {"a": {"N": "1.5"}}
        }

    def test_another_attribute_does_not_open_it(self) -> None:
        stored = dynamorm_envelope({"t": "S", "s": "x"}, "card")
        with pytest.raises(InvalidEnvelopeError, match="does not open"):
            open_envelope(parse_envelope(stored, "other"), KEY, "other")

    def test_a_changed_byte_does_not_open(self) -> None:
        envelope = parse_envelope(dynamorm_envelope({"t": "S", "s": "x"}, "card"), "card")
        changed = DmsEnvelope(
            envelope.encrypted_key, envelope.nonce, b"\0" + envelope.ciphertext[1:]
        )
        with pytest.raises(InvalidEnvelopeError):
            open_envelope(changed, KEY, "card")

    def test_ours_is_what_dynamorm_opens(self) -> None:
        sealed = seal_envelope({"S": "x"}, KEY, b"edk", "card", nonce=b"n" * 12)
        assert sealed.to_attribute_value() == dynamorm_envelope({"t": "S", "s": "x"}, "card")
        assert envelope_aad("card") == b"dynamorm:encrypted:v1|attr=card"

    @pytest.mark.parametrize(
        "value",
        [
            {"S": ""},
            {"N": "-1e5"},
            {"B": b"\x00\x01"},
            {"BOOL": False},
            {"NULL": True},
            {"SS": ["a", "b"]},
            {"NS": ["1", "2.5"]},
            {"BS": [b"x"]},
            {"L": [{"S": "a"}, {"L": []}]},
            {"M": {"k": {"M": {}}}},
        ],
    )
    def test_every_type_survives_the_plaintext_encoding(self, value: dict[str, Any]) -> None:
        assert value_of_plaintext(plaintext_of(value), "a") == value

    @pytest.mark.parametrize(
        "stored",
        [
            {"S": "plain"},
            {"M": {"v": {"N": "2"}, "edk": {"B": b"e"}, "nonce": {"B": b"n"}, "ct": {"B": b"c"}}},
            {"M": {"v": {"N": "1"}, "edk": {"B": b""}, "nonce": {"B": b"n"}, "ct": {"B": b"c"}}},
            {"M": {"v": {"N": "1"}, "edk": {"B": b"e"}, "ct": {"B": b"c"}}},
        ],
    )
    def test_what_is_not_an_envelope_is_a_typed_error(self, stored: dict[str, Any]) -> None:
        with pytest.raises(InvalidEnvelopeError):
            parse_envelope(stored, "a")

    async def test_seal_and_open_with_a_data_key_source(self) -> None:
        calls: list[str] = []

        async def generate() -> tuple[bytes, bytes]:
            calls.append("generate")
            return KEY, b"edk"

        async def decrypt(encrypted: bytes) -> bytes:
            calls.append(f"decrypt {encrypted!r}")
            return KEY

        sealed = await seal_value({"S": "secret"}, "card", (generate, decrypt))
        assert await open_value(sealed, "card", (generate, decrypt)) == {"S": "secret"}
        assert calls == ["generate", "decrypt b'edk'"]

    def test_the_envelope_repr_shows_no_bytes(self) -> None:
        assert (
            repr(DmsEnvelope(b"key", b"nonce", b"secret-ish")) == "DmsEnvelope(ciphertext=10 bytes)"
        )
