"""Items written the way DynamORM writes them, read, changed and written back by asyncdynamo.

Every test stores a raw item as a DynamORM (DMS) writer would, lets asyncdynamo read and write
it through models loaded from ``tests/fixtures/shop.dms.yml``, and checks the raw item
afterwards is exactly what a DMS writer produces.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asyncdynamo import (
    DB,
    Config,
    DecryptionFailedError,
    EnvelopeFormat,
    Model,
    Update,
    VersionConflictError,
    attr,
    create_transport,
)
from asyncdynamo._client import Client
from asyncdynamo.dms import (
    DYNAMORM_CURSORS,
    NanoDatetime,
    kms_data_keys,
    load_dms,
    load_dms_file,
    open_value,
    seal_value,
)
from asyncdynamo.local import Endpoint

MakeTables = Callable[..., Awaitable[list[str]]]

SCHEMA = load_dms_file(Path(__file__).parent.parent / "fixtures" / "shop.dms.yml")
Customer = SCHEMA["Customer"]
Invoice = SCHEMA["Invoice"]

NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
NOW_TEXT = "2026-03-04T05:06:07.890123000Z"
GO_CREATED = "2026-01-02T03:04:05.123456789Z"  # as Go's RFC3339Nano writes a time


@pytest.fixture
async def sdb(dynamo_config: Config, make_tables: MakeTables) -> AsyncIterator[DB]:
    """A DB on this test's tables whose clock stands still at NOW."""
    await make_tables(Customer, Invoice)
    async with DB(dynamo_config, clock=lambda: NOW) as database:
        yield database


async def raw_put(db: DB, model: type[Model], item: dict[str, Any]) -> None:
    await db.client.call("PutItem", {"TableName": db.table_name(model), "Item": item})


async def raw_get(db: DB, model: type[Model], key: dict[str, Any]) -> dict[str, Any]:
    reply = await db.client.call(
        "GetItem", {"TableName": db.table_name(model), "Key": key, "ConsistentRead": True}
    )
    item: dict[str, Any] = reply["Item"]
    return item


KEY = {"PK": {"S": "CUSTOMER#1"}, "SK": {"S": "PROFILE"}}


def go_customer(**changes: Any) -> dict[str, Any]:
    """A Customer item as DynamORM's Create writes it (version 0, both timestamps now)."""
    item: dict[str, Any] = {
        **KEY,
        "emailHash": {"S": "h1"},
        "nickname": {"S": "ann"},
        "loginCount": {"N": "3"},
        "vip": {"BOOL": True},
        "prefs": {"NULL": True},
        "createdAt": {"S": GO_CREATED},
        "updatedAt": {"S": GO_CREATED},
        "version": {"N": "0"},
    }
    item.update(changes)
    return item


class TestVersion:
    async def test_dms_item_at_version_0_is_updated_to_1(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer())
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        assert read.version == 0  # type: ignore[attr-defined]
        await sdb.update(read, changes=Update().set("nickname", "annie"))
        assert await raw_get(sdb, Customer, KEY) == go_customer(
            nickname={"S": "annie"}, version={"N": "1"}, updatedAt={"S": NOW_TEXT}
        )

    async def test_full_put_of_a_read_item_checks_and_adds_one(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer(version={"N": "4"}))
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        await sdb.put(read.model_copy(update={"nickname": "bo"}), overwrite=True)
        assert await raw_get(sdb, Customer, KEY) == go_customer(
            nickname={"S": "bo"}, version={"N": "5"}, updatedAt={"S": NOW_TEXT}
        )
        with pytest.raises(VersionConflictError):  # the instance read at 4 is stale now
            await sdb.put(read, overwrite=True)

    async def test_create_stores_version_0_like_dynamorm(self, sdb: DB) -> None:
        await sdb.put(Customer(pk="CUSTOMER#1", sk="PROFILE", email_hash="h1", nickname="ann",
                               login_count=3, vip=True))  # fmt: skip
        assert await raw_get(sdb, Customer, KEY) == go_customer(
            createdAt={"S": NOW_TEXT}, updatedAt={"S": NOW_TEXT}
        )

    async def test_blind_create_or_update_writes_the_instance_version(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer(version={"N": "7"}))
        stale = Customer(pk="CUSTOMER#1", sk="PROFILE", email_hash="h1", nickname="ann",
                         login_count=3, vip=True, version=2)  # fmt: skip
        await sdb.put(stale, overwrite=True, skip_version_check=True)
        # DynamORM's CreateOrUpdate: no condition, version as given, both timestamps now.
        assert await raw_get(sdb, Customer, KEY) == go_customer(
            version={"N": "2"}, createdAt={"S": NOW_TEXT}, updatedAt={"S": NOW_TEXT}
        )


class TestOmitEmpty:
    async def test_zero_and_false_are_left_out(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer())
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        await sdb.put(read.model_copy(update={"login_count": 0, "vip": False}), overwrite=True)
        expected = go_customer(version={"N": "1"}, updatedAt={"S": NOW_TEXT})
        del expected["loginCount"], expected["vip"]
        assert await raw_get(sdb, Customer, KEY) == expected

    async def test_an_item_without_them_reads_as_zero_values(self, sdb: DB) -> None:
        item = go_customer()
        del item["loginCount"], item["vip"], item["nickname"]
        await raw_put(sdb, Customer, item)
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        assert (read.login_count, read.vip, read.nickname) == (0, False, None)  # type: ignore[attr-defined]
        await sdb.update(read, changes=Update().set("email_hash", "h2"))
        assert await raw_get(sdb, Customer, KEY) == {
            **item,
            "emailHash": {"S": "h2"},
            "version": {"N": "1"},
            "updatedAt": {"S": NOW_TEXT},
        }


class TestTimestamps:
    async def test_nanoseconds_are_read_and_written_back_unchanged(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer())
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        created = read.created_at  # type: ignore[attr-defined]
        assert isinstance(created, NanoDatetime)
        assert (created.microsecond, created.nanosecond) == (123456, 789)
        await sdb.put(read, overwrite=True)  # a versioned replace keeps created_at
        assert (await raw_get(sdb, Customer, KEY))["createdAt"] == {"S": GO_CREATED}

    async def test_index_order_agrees_with_time_order(self, sdb: DB) -> None:
        # Two invoices written by Go (nanosecond text), one by us in between.
        for invoice_id, created in (("i1", "2026-01-01T00:00:00.000000100Z"),
                                    ("i3", "2026-01-01T00:00:00.000002500Z")):  # fmt: skip
            await raw_put(sdb, Invoice, {
                "customerId": {"S": "c1"}, "invoiceId": {"S": invoice_id},
                "status": {"S": "open"}, "amount": {"N": "5"},
                "createdAt": {"S": created}, "updatedAt": {"S": created}, "version": {"N": "0"},
            })  # fmt: skip
        middle = datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
        async with DB(sdb.config, clock=lambda: middle) as other:
            await other.put(Invoice(customer_id="c1", invoice_id="i2", status="open", amount=5))
        found = await sdb.query(Invoice).where(attr("status") == "open").project("invoice_id").all()
        assert [row["invoice_id"] for row in found] == ["i1", "i2", "i3"]


class TestJsonAndSets:
    async def test_json_blob_is_read_and_written_as_sorted_compact_json(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer(prefs={"S": '{"lang":"de","limits":[1,2.5]}'}))
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        assert read.prefs == {"lang": "de", "limits": [1, Decimal("2.5")]}  # type: ignore[attr-defined]
        changed = {**read.prefs, "theme": "dark", "a": None}  # type: ignore[attr-defined]
        await sdb.update(read, changes=Update().set("prefs", changed))
        assert (await raw_get(sdb, Customer, KEY))["prefs"] == {
            "S": '{"a":null,"lang":"de","limits":[1,2.5],"theme":"dark"}'
        }

    async def test_empty_set_is_null_and_omitted_when_omit_empty(self, sdb: DB) -> None:
        await raw_put(sdb, Customer, go_customer(tags={"SS": ["x"]}))
        read = await sdb.get(Customer, "CUSTOMER#1", "PROFILE", consistent=True, required=True)
        assert read.tags == {"x"}  # type: ignore[attr-defined]
        await sdb.put(read.model_copy(update={"tags": set()}), overwrite=True)
        assert "tags" not in await raw_get(sdb, Customer, KEY)  # tags is omit_empty


class TestCursors:
    async def test_pages_hand_over_dynamorm_cursors(self, sdb: DB) -> None:
        for number in (1, 2, 3):
            await sdb.put(Invoice(customer_id="c1", invoice_id=f"i{number}", amount=number))
        query = (
            sdb.query(Invoice).where(attr("customer_id") == "c1").cursor_format(DYNAMORM_CURSORS)
        )
        first = await query.page(size=1)
        assert first.cursor == _go_cursor({"customerId": "c1", "invoiceId": "i1"})
        # A cursor made by a DynamORM service resumes the same query.
        second = await query.page(cursor=_go_cursor({"customerId": "c1", "invoiceId": "i2"}))
        assert [i.invoice_id for i in second.items] == ["i3"]  # type: ignore[attr-defined]


def _go_cursor(key: dict[str, str]) -> str:
    last_key = {name: {"S": value} for name, value in sorted(key.items())}
    text = json.dumps({"lastKey": last_key, "sort": "ASC"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


class TestTwoModelRoundTrip:
    async def test_both_models_of_the_file_round_trip(self, sdb: DB) -> None:
        customer = await sdb.put(Customer(pk="CUSTOMER#2", sk="PROFILE", email_hash="h9",
                                          ttl=datetime(2030, 1, 1, tzinfo=UTC)))  # fmt: skip
        invoice = await sdb.put(Invoice(customer_id="c2", invoice_id="i1", status="paid",
                                        amount=Decimal("12.50")))  # fmt: skip
        assert await sdb.get(Customer, "CUSTOMER#2", "PROFILE", consistent=True) == customer
        assert await sdb.get(Invoice, "c2", "i1", consistent=True) == invoice
        by_email = await sdb.query(Customer).where(attr("email_hash") == "h9").all()
        assert by_email == [customer]
        raw = await raw_get(sdb, Customer, {"PK": {"S": "CUSTOMER#2"}, "SK": {"S": "PROFILE"}})
        assert raw == {
            "PK": {"S": "CUSTOMER#2"}, "SK": {"S": "PROFILE"}, "emailHash": {"S": "h9"},
            "prefs": {"NULL": True}, "createdAt": {"S": NOW_TEXT}, "updatedAt": {"S": NOW_TEXT},
            "version": {"N": "0"}, "ttl": {"N": "1893456000"},
        }  # fmt: skip
        updated = await sdb.update(invoice, changes=Update().set("status", "void"))
        assert (updated.version, updated.status) == (1, "void")  # type: ignore[attr-defined]
        assert await sdb.delete(updated) == updated


class TestEncryptedEnvelope:
    """DynamORM's envelope (map v/edk/nonce/ct, AAD bound to the attribute) against moto's KMS."""

    async def test_a_dynamorm_envelope_is_opened_and_ours_opens_the_dynamorm_way(
        self, sdb: DB, dynamo_endpoint: Endpoint
    ) -> None:
        if not dynamo_endpoint.is_moto:
            pytest.skip("creates KMS keys: moto's server only")
        async with aclosing(Client(create_transport(sdb.config, service="kms"))) as kms:
            key_id = (await kms.call("CreateKey", {}))["KeyMetadata"]["Arn"]
            data_key = await kms.call("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"})
            # Built here from the documented format, independently of asyncdynamo.dms.
            nonce = os.urandom(12)
            plaintext = json.dumps({"t": "S", "s": "top secret"}).encode()
            sealed = AESGCM(data_key["Plaintext"]).encrypt(
                nonce, plaintext, b"dynamorm:encrypted:v1|attr=nickname"
            )
            envelope = {"M": {"v": {"N": "1"}, "edk": {"B": data_key["CiphertextBlob"]},
                              "nonce": {"B": nonce}, "ct": {"B": sealed}}}  # fmt: skip
            await raw_put(sdb, Customer, go_customer(nickname=envelope))
            keys = kms_data_keys(kms, key_id)

            stored = (await raw_get(sdb, Customer, KEY))["nickname"]
            assert await open_value(stored, "nickname", keys) == {"S": "top secret"}

            ours = await seal_value({"S": "new secret"}, "nickname", keys)
            await raw_put(sdb, Customer, go_customer(nickname=ours))
            stored = (await raw_get(sdb, Customer, KEY))["nickname"]["M"]
            assert stored["v"] == {"N": "1"}
            opened = await kms.call("Decrypt", {"CiphertextBlob": stored["edk"]["B"]})
            clear = AESGCM(opened["Plaintext"]).decrypt(
                stored["nonce"]["B"], stored["ct"]["B"], b"dynamorm:encrypted:v1|attr=nickname"
            )
            assert json.loads(clear) == {"t": "S", "s": "new secret"}


VAULT_DMS = """
dms_version: "0.1"
models:
  - name: "Vault"
    table: { name: "vault" }
    keys:
      partition: { attribute: "PK", type: "S" }
    attributes:
      - { attribute: "PK", type: "S", required: true, roles: ["pk"] }
      - { attribute: "label", type: "S", optional: true }
      - { attribute: "secret", type: "S", optional: true, encryption: { v: 1 } }
      - { attribute: "version", type: "N", format: "int", roles: ["version"] }
"""
Vault = load_dms(VAULT_DMS)["Vault"]
VaultWritingDynamorm = load_dms(VAULT_DMS, envelope_format=EnvelopeFormat.DYNAMORM)["Vault"]


class TestEncryptedFields:
    """Encrypted DMS attributes through db.get / update / put, with moto's KMS."""

    @pytest.fixture
    async def vdb(
        self, dynamo_config: Config, dynamo_endpoint: Endpoint, make_tables: MakeTables
    ) -> AsyncIterator[tuple[DB, Client, str]]:
        if not dynamo_endpoint.is_moto:
            pytest.skip("creates KMS keys: moto's server only")
        await make_tables(Vault)
        async with aclosing(Client(create_transport(dynamo_config, service="kms"))) as kms:
            key_id = (await kms.call("CreateKey", {}))["KeyMetadata"]["Arn"]
            async with DB(replace(dynamo_config, kms_key_id=key_id)) as database:
                yield database, kms, key_id

    @staticmethod
    async def go_envelope(kms: Client, key_id: str, plaintext: dict[str, Any]) -> dict[str, Any]:
        """An envelope as DynamORM writes it, built here from the documented format."""
        data_key = await kms.call("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"})
        nonce = os.urandom(12)
        sealed = AESGCM(data_key["Plaintext"]).encrypt(
            nonce,
            json.dumps(plaintext, separators=(",", ":")).encode(),
            b"dynamorm:encrypted:v1|attr=secret",
        )
        return {"M": {"v": {"N": "1"}, "edk": {"B": data_key["CiphertextBlob"]},
                      "nonce": {"B": nonce}, "ct": {"B": sealed}}}  # fmt: skip

    @staticmethod
    async def go_open(kms: Client, stored: dict[str, Any]) -> Any:
        """What DynamORM reads from an envelope: Decrypt without context, AAD by attribute."""
        envelope = stored["M"]
        assert envelope["v"] == {"N": "1"}
        opened = await kms.call("Decrypt", {"CiphertextBlob": envelope["edk"]["B"]})
        clear = AESGCM(opened["Plaintext"]).decrypt(
            envelope["nonce"]["B"], envelope["ct"]["B"], b"dynamorm:encrypted:v1|attr=secret"
        )
        return json.loads(clear)

    async def test_a_dynamorm_envelope_is_read_and_kept_by_an_update(
        self, vdb: tuple[DB, Client, str]
    ) -> None:
        db, kms, key_id = vdb
        envelope = await self.go_envelope(kms, key_id, {"t": "S", "s": "4111"})
        item = {"PK": {"S": "v1"}, "secret": envelope, "version": {"N": "0"}}
        await raw_put(db, Vault, item)
        read = await db.get(Vault, "v1", consistent=True, required=True)
        assert read.secret == "4111"  # type: ignore[attr-defined]
        await db.update(read, changes=Update().set("label", "card"))
        after = await raw_get(db, Vault, {"PK": {"S": "v1"}})
        assert after == {**item, "label": {"S": "card"}, "version": {"N": "1"}}

    async def test_ours_is_written_by_default_and_read_back(
        self, vdb: tuple[DB, Client, str]
    ) -> None:
        db, _, _ = vdb
        stored = await db.put(Vault(pk="v2", secret="5500"))
        assert "B" in (await raw_get(db, Vault, {"PK": {"S": "v2"}}))["secret"]
        assert await db.get(Vault, "v2", consistent=True) == stored

    async def test_dynamorm_envelopes_are_written_on_request(
        self, vdb: tuple[DB, Client, str]
    ) -> None:
        db, kms, _ = vdb
        stored = await db.put(VaultWritingDynamorm(pk="v3", secret="6011"))
        raw = await raw_get(db, Vault, {"PK": {"S": "v3"}})
        assert await self.go_open(kms, raw["secret"]) == {"t": "S", "s": "6011"}
        assert await db.get(VaultWritingDynamorm, "v3", consistent=True) == stored
        assert (await db.get(Vault, "v3", consistent=True, required=True)).secret == "6011"  # type: ignore[attr-defined]

    async def test_an_envelope_moved_to_another_attribute_does_not_open(
        self, vdb: tuple[DB, Client, str]
    ) -> None:
        db, kms, key_id = vdb
        data_key = await kms.call("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"})
        nonce = os.urandom(12)
        sealed = AESGCM(data_key["Plaintext"]).encrypt(
            nonce, b'{"t":"S","s":"x"}', b"dynamorm:encrypted:v1|attr=other"
        )
        moved = {"M": {"v": {"N": "1"}, "edk": {"B": data_key["CiphertextBlob"]},
                       "nonce": {"B": nonce}, "ct": {"B": sealed}}}  # fmt: skip
        await raw_put(db, Vault, {"PK": {"S": "v4"}, "secret": moved, "version": {"N": "0"}})
        with pytest.raises(DecryptionFailedError):
            await db.get(Vault, "v4", consistent=True)
