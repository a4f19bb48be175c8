"""Encrypted fields against moto's DynamoDB and KMS, on both transports."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from asyncdynamo import (
    DB,
    BatchDeadlineExceededError,
    Config,
    DecryptionFailedError,
    EncryptionNotConfiguredError,
    KMSUnavailableError,
    RetryPolicy,
    Update,
    attr,
    deadline_scope,
)
from asyncdynamo.testing import Endpoint, FaultProxy, Stall, create_kms_key
from tests.encryption_models import Card, OtherCard, Vault, full_vault

pytestmark = pytest.mark.integration

MakeTables = Callable[..., Awaitable[list[str]]]


@pytest.fixture
def moto_only(dynamo_endpoint: Endpoint) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("creates several KMS keys and stops KMS: moto's server only")


@pytest.fixture
def sealed_config(dynamo_config: Config, kms_key: str) -> Config:
    return replace(dynamo_config, kms_key_id=kms_key)


@pytest.fixture
async def edb(sealed_config: Config) -> AsyncIterator[DB]:
    async with DB(sealed_config) as database:
        yield database


@pytest.fixture
async def tables(make_tables: MakeTables) -> None:
    await make_tables(Vault, Card, OtherCard)


def kms_calls(db: DB) -> list[str]:
    """Every KMS call ``db`` finishes from now on (operation names)."""
    from asyncdynamo._encryption._hooks import _kms_client

    calls: list[str] = []
    _kms_client(db).observers.append(lambda op, *_: calls.append(op))
    return calls


async def raw_item(db: DB, model: type[Any], key: Mapping[str, Any]) -> dict[str, Any]:
    response = await db.client.call(
        "GetItem", {"TableName": db.table_name(model), "Key": key, "ConsistentRead": True}
    )
    item: dict[str, Any] = response["Item"]
    return item


async def put_raw(db: DB, model: type[Any], item: Mapping[str, Any]) -> None:
    await db.client.call("PutItem", {"TableName": db.table_name(model), "Item": dict(item)})


def card(card_id: str = "k1", **changes: Any) -> Card:
    values: dict[str, Any] = {
        "card_id": card_id,
        "pan": "4111111111111111",
        "holder": "Ada Lovelace",
        "cvv": SecretStr("123"),
        "last4": "1111",
    }
    values.update(changes)
    return Card.model_validate(values)


@pytest.mark.usefixtures("tables")
class TestRoundTrip:
    async def test_every_supported_type_round_trips_and_is_stored_sealed(self, edb: DB) -> None:
        stored = await edb.put(full_vault())
        read = await edb.get(Vault, "o1", Decimal("1.50"), consistent=True, required=True)
        assert read == stored
        assert read.secret is not None and read.secret.get_secret_value() == "s3cr3t"
        raw = await raw_item(edb, Vault, {"owner": {"S": "o1"}, "seq": {"N": "1.5"}})
        for name, field in Vault.model_fields.items():
            if any(type(m).__name__ == "Encrypted" for m in field.metadata):
                assert set(raw[name]) == {"B"}, name
        assert raw["note"] == {"S": "clear"}
        stored_bytes = repr(raw).encode()
        for clear in (b"s3cr3t", "héllo".encode(), b"02139", b"1 Main St"):
            assert clear not in stored_bytes

    async def test_none_stays_none_and_is_stored_as_null(self, edb: DB) -> None:
        await edb.put(Vault(owner="o2", seq=Decimal(2)))
        read = await edb.get(Vault, "o2", 2, consistent=True, required=True)
        assert read.text is None and read.tags == set()
        raw = await raw_item(edb, Vault, {"owner": {"S": "o2"}, "seq": {"N": "2"}})
        assert raw["text"] == {"NULL": True}

    async def test_update_sets_a_whole_encrypted_value_and_returns_it_opened(self, edb: DB) -> None:
        await edb.put(card())
        updated = await edb.update(Card, "k1", changes=Update().set("pan", "5500000000000004"))
        assert updated.pan == "5500000000000004"
        assert (await edb.get(Card, "k1", consistent=True, required=True)).pan == updated.pan
        raw = await raw_item(edb, Card, {"card_id": {"S": "k1"}})
        assert b"5500000000000004" not in raw["pan"]["B"]

    async def test_delete_returns_the_old_item_opened(self, edb: DB) -> None:
        await edb.put(card())
        deleted = await edb.delete(Card, "k1")
        assert deleted is not None and deleted.pan == "4111111111111111"

    async def test_batch_query_scan_and_transactions_seal_and_open(self, edb: DB) -> None:
        await edb.batch_write(puts=[card("k1"), card("k2", pan="4000000000000002")])
        async with edb.transaction() as tx:
            tx.put(card("k3", pan="4000000000000010"))
            tx.update(Card, "k1", changes=Update().set("holder", "Grace Hopper"))
        by_key = {c.card_id: c for c in await edb.batch_get(Card, ["k1", "k2", "k3"])}
        assert by_key["k1"].holder == "Grace Hopper"
        assert by_key["k3"].pan == "4000000000000010"
        queried = [c async for c in edb.query(Card).where(attr("customer") == "c1")]
        assert sorted(c.pan for c in queried) == sorted(c.pan for c in by_key.values())
        scanned = await edb.scan(Card).all()
        assert len(scanned) == 3
        from asyncdynamo import Key

        got = await edb.transact_get([Key(Card, "k2"), Key(Card, "nope")])
        assert got[0] is not None and got[0].pan == "4000000000000002" and got[1] is None


@pytest.mark.usefixtures("tables")
class TestBinding:
    async def test_a_value_moved_to_another_item_is_rejected(self, edb: DB) -> None:
        await edb.put(card("k1"))
        await edb.put(card("k2", pan="4000000000000002"))
        first = await raw_item(edb, Card, {"card_id": {"S": "k1"}})
        second = await raw_item(edb, Card, {"card_id": {"S": "k2"}})
        await put_raw(edb, Card, {**second, "pan": first["pan"]})
        with pytest.raises(DecryptionFailedError):
            await edb.get(Card, "k2", consistent=True)

    async def test_a_value_moved_to_another_attribute_is_rejected(self, edb: DB) -> None:
        await edb.put(card("k1"))
        raw = await raw_item(edb, Card, {"card_id": {"S": "k1"}})
        await put_raw(edb, Card, {**raw, "holder": raw["pan"]})
        with pytest.raises(DecryptionFailedError):
            await edb.get(Card, "k1", consistent=True)

    async def test_a_value_moved_to_another_table_is_rejected(self, edb: DB) -> None:
        await edb.put(card("k1"))
        raw = await raw_item(edb, Card, {"card_id": {"S": "k1"}})
        await put_raw(edb, OtherCard, raw)
        with pytest.raises(DecryptionFailedError):
            await edb.get(OtherCard, "k1", consistent=True)

    async def test_a_flipped_byte_anywhere_is_rejected(self, edb: DB) -> None:
        await edb.put(card("k1"))
        raw = await raw_item(edb, Card, {"card_id": {"S": "k1"}})
        blob = bytes(raw["pan"]["B"])
        # version, key ARN, encrypted data key, nonce, ciphertext, tag
        for position in (0, 5, 120, len(blob) - 40, len(blob) - 20, len(blob) - 1):
            damaged = bytearray(blob)
            damaged[position] ^= 0x01
            await put_raw(edb, Card, {**raw, "pan": {"B": bytes(damaged)}})
            with pytest.raises(DecryptionFailedError):
                await edb.get(Card, "k1", consistent=True)

    async def test_a_value_stored_in_clear_is_refused(self, edb: DB) -> None:
        await edb.put(card("k1"))
        raw = await raw_item(edb, Card, {"card_id": {"S": "k1"}})
        await put_raw(edb, Card, {**raw, "pan": {"S": "4111111111111111"}})
        with pytest.raises(DecryptionFailedError, match="stored in clear"):
            await edb.get(Card, "k1", consistent=True)


@pytest.mark.usefixtures("tables")
class TestFailClosed:
    async def test_missing_key_config_fails_before_anything_is_sent(self, db: DB) -> None:
        sent: list[str] = []
        db.client.observers.append(lambda op, *_: sent.append(op))
        with pytest.raises(EncryptionNotConfiguredError) as caught:
            await db.put(card())
        assert caught.value.model == "Card"
        with pytest.raises(EncryptionNotConfiguredError):
            await db.get(Card, "k1")
        with pytest.raises(EncryptionNotConfiguredError):
            await db.update(Card, "k1", changes=Update().set("last4", "0000"))
        with pytest.raises(EncryptionNotConfiguredError):
            await db.batch_write(puts=[card()])
        with pytest.raises(EncryptionNotConfiguredError):
            await db.query(Card).where(attr("customer") == "c1").all()
        with pytest.raises(EncryptionNotConfiguredError):
            db.transaction().put(card())
        assert sent == []
        stored = await db.client.call("Scan", {"TableName": db.table_name(Card)})
        assert stored["Items"] == []

    async def test_kms_unreachable_is_retryable_and_nothing_is_written(
        self, sealed_config: Config, db: DB
    ) -> None:
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = replace(
            sealed_config,
            kms_endpoint_url=f"http://127.0.0.1:{port}",
            retry=RetryPolicy(max_attempts=2, base=0.001, cap=0.002),
        )
        async with DB(config) as broken:
            with pytest.raises(KMSUnavailableError) as caught:
                await broken.put(card())
        assert caught.value.retryable
        assert caught.value.operation == "GenerateDataKey"
        raw = await db.client.call(
            "GetItem", {"TableName": db.table_name(Card), "Key": {"card_id": {"S": "k1"}}}
        )
        assert "Item" not in raw


@pytest.mark.usefixtures("tables")
class TestKeyCache:
    async def test_reads_of_many_items_make_a_few_kms_calls(
        self, edb: DB, sealed_config: Config
    ) -> None:
        writes = kms_calls(edb)
        await edb.batch_write(puts=[card(f"k{i}") for i in range(30)])
        assert writes == ["GenerateDataKey"] * 3  # one data key per (table, attribute)
        async with DB(sealed_config) as reader:  # a cold cache, as in a new Lambda container
            reads = kms_calls(reader)
            queried = await reader.query(Card).where(attr("customer") == "c1").all()
            for i in range(30):
                await reader.get(Card, f"k{i}")
            found = await reader.batch_get(Card, [f"k{i}" for i in range(30)])
        assert len(queried) == 30 and len(found) == 30
        assert reads == ["Decrypt"] * 3  # 90 reads of 30 items: one Decrypt per data key

    async def test_read_your_writes_needs_no_decrypt(self, edb: DB) -> None:
        calls = kms_calls(edb)
        await edb.put(card())
        await edb.get(Card, "k1", consistent=True)
        assert "Decrypt" not in calls


@pytest.mark.usefixtures("tables", "moto_only")
class TestRotation:
    async def test_items_under_an_old_key_still_open_and_reencrypt_moves_them(
        self, edb: DB, sealed_config: Config
    ) -> None:
        await edb.put(card("k1"))
        new_key = await create_kms_key(sealed_config)
        async with DB(replace(sealed_config, kms_key_id=new_key)) as rotated:
            assert (await rotated.get(Card, "k1", consistent=True, required=True)).pan
            await rotated.put(card("k2"))
            before = await raw_item(rotated, Card, {"card_id": {"S": "k1"}})
            moved = await rotated.reencrypt(Card, "k1")
            after = await raw_item(rotated, Card, {"card_id": {"S": "k1"}})
            fresh = await raw_item(rotated, Card, {"card_id": {"S": "k2"}})
        assert moved.pan == "4111111111111111" and moved.holder == "Ada Lovelace"
        assert sealed_config.kms_key_id is not None
        assert sealed_config.kms_key_id.encode() in bytes(before["pan"]["B"])
        assert new_key.encode() in bytes(after["pan"]["B"])
        assert new_key.encode() in bytes(fresh["pan"]["B"])
        assert after["last4"] == before["last4"]


@pytest.mark.usefixtures("tables", "moto_only")
async def test_a_deadline_while_kms_opens_a_batch_reports_every_key_read_but_not_opened(
    edb: DB, sealed_config: Config, fault_proxy: FaultProxy
) -> None:
    wanted = [f"k{i}" for i in range(6)]
    await edb.batch_write(puts=[card(key) for key in wanted])
    stall = fault_proxy.inject(Stall(), operation="Decrypt")
    via_proxy = replace(sealed_config, kms_endpoint_url=fault_proxy.url)
    async with DB(via_proxy) as reader:  # a cold cache: opening needs KMS, which stalls
        deadline = asyncio.get_running_loop().time() + 2.0
        with deadline_scope(deadline), pytest.raises(BatchDeadlineExceededError) as raised:
            await reader.batch_get(Card, wanted, concurrency=2)
    stall.release()
    opened = [item.card_id for item in raised.value.partial]
    not_done = [
        str(key["card_id"]["S"]) for keys in raised.value.unprocessed.values() for key in keys
    ]
    assert fault_proxy.counts("Decrypt").injected >= 1
    assert sorted(opened + not_done) == sorted(wanted)  # every key: opened or handed back
    assert raised.value.processed_count == len(opened)
