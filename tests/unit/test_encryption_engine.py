"""Sealing and opening values, the envelope format and the data-key cache (fake KMS)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncdynamo import (
    AccessDeniedError,
    DataKeyCachePolicy,
    DecryptionFailedError,
    EncryptionNotConfiguredError,
    InternalServerError,
    KMSUnavailableError,
    ThrottlingError,
    spec_of,
)
from asyncdynamo._encryption._engine import FieldEncryption
from asyncdynamo._encryption._format import Envelope, binding
from asyncdynamo._encryption._plaintext import decode_value, encode_value
from asyncdynamo._item import to_item
from tests.encryption_models import Card, Vault, full_vault
from tests.kms_fake import KEY_ARN, FakeKms, fake_kms_client

CARD = spec_of(Card)
VAULT = spec_of(Vault)
TABLE = "cards"
KEY = {"card_id": {"S": "k1"}}


def engine(policy: DataKeyCachePolicy | None = None) -> FieldEncryption:
    return FieldEncryption("alias/test", policy or DataKeyCachePolicy())


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def seal_pan(value: Any, *, item_key: dict[str, Any] = KEY) -> dict[str, Any]:
    kms, _ = fake_kms_client(SHARED_KMS)
    sealed = await ENGINE.seal_values(kms, CARD, TABLE, item_key, {"pan": value})
    return sealed["pan"]


async def open_pan(value: dict[str, Any], *, item_key: dict[str, Any] = KEY) -> Any:
    kms, _ = fake_kms_client(SHARED_KMS)
    (opened,) = await ENGINE.open_items(kms, CARD, TABLE, [{**item_key, "pan": value}])
    return opened["pan"]


SHARED_KMS = FakeKms()
ENGINE = engine()

scalars = st.one_of(
    st.text().map(lambda s: {"S": s}),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(lambda d: {"N": str(d)}),
    st.binary().map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=4).map(lambda v: {"M": v}),
        st.sets(st.text(), min_size=1, max_size=4).map(lambda v: {"SS": sorted(v)}),
        st.sets(st.binary(), min_size=1, max_size=4).map(lambda v: {"BS": sorted(v)}),
    ),
    max_leaves=10,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_any_attribute_value_round_trips_through_the_plaintext_encoding(value: Any) -> None:
    assert decode_value(encode_value(value)) == value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_random_values_round_trip_sealed(value: Any) -> None:
    sealed = run(seal_pan(value))
    assert set(sealed) == {"B"}
    assert run(open_pan(sealed)) == value


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_byte_corruption_is_rejected(data: st.DataObject) -> None:
    value = data.draw(scalars)
    sealed = bytes(run(seal_pan(value))["B"])
    position = data.draw(st.integers(0, len(sealed) - 1))
    mask = data.draw(st.integers(1, 255))
    damaged = bytearray(sealed)
    damaged[position] ^= mask
    with pytest.raises(DecryptionFailedError):
        run(open_pan({"B": bytes(damaged)}))


def test_truncated_and_extended_values_are_rejected() -> None:
    sealed = bytes(run(seal_pan({"S": "4111"}))["B"])
    for damaged in (sealed[:-1], sealed[:10], b"", sealed + b"\x00"):
        with pytest.raises(DecryptionFailedError):
            run(open_pan({"B": damaged}))


def test_a_value_bound_to_another_key_is_rejected() -> None:
    sealed = run(seal_pan({"S": "4111"}))
    with pytest.raises(DecryptionFailedError):
        run(open_pan(sealed, item_key={"card_id": {"S": "k2"}}))


def test_number_keys_bind_by_value_as_dynamodb_normalises_them() -> None:
    assert binding("t", "a", {"k": {"N": "1.50"}}) == binding("t", "a", {"k": {"N": "1.5"}})
    assert binding("t", "a", {"k": {"N": "100"}}) == binding("t", "a", {"k": {"N": "1E+2"}})
    assert binding("t", "a", {"k": {"N": "1"}}) != binding("t", "a", {"k": {"N": "10"}})


def test_the_envelope_names_its_format_key_and_data_key() -> None:
    sealed = bytes(run(seal_pan({"S": "4111"}))["B"])
    envelope = Envelope.parse(sealed)
    assert sealed[0] == 1
    assert envelope.key_arn == KEY_ARN
    assert envelope.encrypted_key.startswith(b"blob-")
    assert len(envelope.nonce) == 12
    assert len(envelope.ciphertext) == len(b"S4111") + 16
    assert b"4111" not in sealed


def test_each_value_gets_a_fresh_nonce() -> None:
    first, second = (bytes(run(seal_pan({"S": "4111"}))["B"]) for _ in range(2))
    assert first != second
    assert Envelope.parse(first).header == Envelope.parse(second).header  # same cached data key


def test_a_model_round_trips_every_supported_type() -> None:
    async def scenario() -> Any:
        kms, _ = fake_kms_client()
        crypto = engine()
        stored = full_vault()
        item = to_item(VAULT, stored)
        sealed = await crypto.seal_item(kms, VAULT, "vault", item)
        (opened,) = await crypto.open_items(kms, VAULT, "vault", [sealed])
        return item, sealed, opened

    item, sealed, opened = run(scenario())
    assert opened == item
    assert all(set(sealed[f.attribute]) == {"B"} for f in VAULT.encrypted if f.attribute in item)


def test_no_key_configured_fails_closed() -> None:
    kms, transport = fake_kms_client()
    crypto = FieldEncryption(None, DataKeyCachePolicy())
    with pytest.raises(EncryptionNotConfiguredError):
        run(crypto.seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "4111"}}))
    assert transport.calls == []


@pytest.mark.parametrize(
    "failure",
    [
        InternalServerError("down", code="KMSInternalException"),
        ThrottlingError("slow", code="ThrottlingException"),
    ],
)
def test_kms_failing_is_a_retryable_kms_unavailable_error(failure: Exception) -> None:
    kms, transport = fake_kms_client()
    transport.script = [failure] * 10
    with pytest.raises(KMSUnavailableError) as caught:
        run(engine().seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "4111"}}))
    assert caught.value.retryable and caught.value.operation == "GenerateDataKey"
    assert len(transport.calls) == 4  # the client's retries ran first


def test_kms_denying_access_is_not_retryable() -> None:
    kms, transport = fake_kms_client()
    transport.script = [AccessDeniedError("no", code="AccessDeniedException")]
    with pytest.raises(AccessDeniedError):
        run(engine().seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "4111"}}))


class TestKeyCache:
    def test_sealing_reuses_a_data_key_up_to_max_uses(self) -> None:
        async def scenario() -> list[str]:
            kms, transport = fake_kms_client()
            crypto = engine(DataKeyCachePolicy(max_uses=3))
            for _ in range(7):
                await crypto.seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "4111"}})
            return transport.operations()

        assert run(scenario()) == ["GenerateDataKey"] * 3  # uses 1-3, 4-6, 7

    def test_keys_expire_after_max_age(self) -> None:
        now = [0.0]

        async def scenario() -> list[str]:
            kms, transport = fake_kms_client()
            crypto = engine(DataKeyCachePolicy(max_age=10))
            crypto.sealing._clock = lambda: now[0]
            await crypto.seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "1"}})
            now[0] = 9.9
            await crypto.seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "2"}})
            now[0] = 10.0
            await crypto.seal_values(kms, CARD, TABLE, KEY, {"pan": {"S": "3"}})
            return transport.operations()

        assert run(scenario()) == ["GenerateDataKey"] * 2

    def test_entries_are_bounded_and_evicted_keys_are_wiped(self) -> None:
        async def scenario() -> tuple[int, list[bytearray]]:
            kms, _ = fake_kms_client()
            crypto = engine(DataKeyCachePolicy(max_entries=2))
            held = []
            for table in ("t1", "t2", "t3"):
                await crypto.seal_values(kms, CARD, table, KEY, {"pan": {"S": "1"}})
                held.append(crypto.sealing._entries[("alias/test", table, "pan")].material)
            return len(crypto.sealing), held

        size, held = run(scenario())
        assert size == 2
        assert held[0] == bytearray(32)  # the evicted one was overwritten
        assert held[2] != bytearray(32)

    def test_concurrent_reads_of_one_data_key_make_one_decrypt(self) -> None:
        kms_state = FakeKms()

        async def scenario() -> list[str]:
            kms, _ = fake_kms_client(kms_state)
            writer = engine()
            items = []
            for i in range(50):
                key = {"card_id": {"S": f"k{i}"}}
                sealed = await writer.seal_values(kms, CARD, TABLE, key, {"pan": {"S": str(i)}})
                items.append({**key, **sealed})
            reader_kms, transport = fake_kms_client(kms_state)
            reader = engine()
            halves = await asyncio.gather(
                reader.open_items(reader_kms, CARD, TABLE, items[:25]),
                reader.open_items(reader_kms, CARD, TABLE, items[25:]),
            )
            assert [o["pan"]["S"] for o in halves[0] + halves[1]] == [str(i) for i in range(50)]
            return transport.operations()

        assert run(scenario()) == ["Decrypt"]

    def test_the_policy_rejects_unsafe_bounds(self) -> None:
        from asyncdynamo import ConfigurationError

        for bad in ({"max_age": 0}, {"max_uses": 0}, {"max_uses": 2**33}, {"max_entries": 0}):
            with pytest.raises(ConfigurationError):
                DataKeyCachePolicy(**bad)


def test_decimal_values_keep_their_digits() -> None:
    assert run(open_pan(run(seal_pan({"N": "12345.678900"})))) == {"N": "12345.678900"}
