"""Encrypted fields as users meet them: declarations, refused expressions, no leaks, deadlines."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

import pytest
from pydantic import SecretStr

from asyncdynamo import (
    DB,
    Config,
    Encrypted,
    EncryptionNotConfiguredError,
    ExpressionError,
    GlobalIndex,
    ItemDecodeError,
    ItemTooLargeError,
    LambdaTimeoutError,
    Model,
    ModelDeclarationError,
    PartitionKey,
    SortKey,
    Update,
    Version,
    attr,
    spec_of,
)
from asyncdynamo._client import Client
from asyncdynamo._encryption._engine import FieldEncryption
from asyncdynamo._encryption._hooks import _kms_client
from asyncdynamo._item import from_item
from asyncdynamo.lambda_testing import LambdaContext
from tests.encryption_models import Card, Vault
from tests.fakes import FAST_RETRY, FakeTransport, fake_db
from tests.kms_fake import FakeKms, fake_kms_client
from tests.unit.test_lambda_fakes import FakeTransport as SlowTransport
from tests.unit.test_lambda_fakes import lambda_db, never_answers


def card(**changes: Any) -> Card:
    values: dict[str, Any] = {"card_id": "k1", "pan": "4111111111111111", "holder": "Ada"}
    values.update(changes)
    return Card.model_validate(values)


def sealed_db(transport: FakeTransport, kms: FakeKms | None = None) -> tuple[DB, FakeTransport]:
    db = fake_db(transport, kms_key_id="alias/test")
    client, kms_transport = fake_kms_client(kms)
    db._crypto_state["kms"] = client  # the KMS client a real DB builds from kms_endpoint_url
    return db, kms_transport


class TestDeclaration:
    def test_a_partition_key_cannot_be_encrypted(self) -> None:
        with pytest.raises(ModelDeclarationError, match="keys cannot be encrypted"):

            class Bad(Model):
                __table__ = "bad"
                pan: Annotated[str, PartitionKey, Encrypted]

    def test_a_sort_key_cannot_be_encrypted(self) -> None:
        with pytest.raises(ModelDeclarationError, match="keys cannot be encrypted"):

            class Bad(Model):
                __table__ = "bad"
                id: Annotated[str, PartitionKey]
                pan: Annotated[str, SortKey, Encrypted]

    def test_an_index_key_cannot_be_encrypted(self) -> None:
        with pytest.raises(ModelDeclarationError, match="keys cannot be encrypted"):

            class Bad(Model):
                __table__ = "bad"
                id: Annotated[str, PartitionKey]
                pan: Annotated[str, GlobalIndex("by_pan"), Encrypted]

    def test_a_version_field_cannot_be_encrypted(self) -> None:
        with pytest.raises(ModelDeclarationError, match="stored in clear"):

            class Bad(Model):
                __table__ = "bad"
                id: Annotated[str, PartitionKey]
                version: Annotated[int, Version, Encrypted] = 0


class TestRefusedBeforeSending:
    async def test_conditions_filters_key_conditions_and_projections_are_refused(self) -> None:
        transport = FakeTransport()
        db, _ = sealed_db(transport)
        attempts = [
            db.put(card(), condition=attr("pan") == "4111111111111111"),
            db.update(
                Card, "k1", changes=Update().set("last4", "1"), condition=attr("pan").exists()
            ),
            db.query(Card)
            .where(attr("customer") == "c1")
            .filter(attr("pan").begins_with("4"))
            .all(),
            db.scan(Card).filter(attr("holder") == "Ada").all(),
            db.get(Card, "k1", projection=["pan"]),
            db.query(Card).where(attr("customer") == "c1").project("holder").all(),
        ]
        for attempt in attempts:
            with pytest.raises(ExpressionError, match="is Encrypted"):
                await attempt
        assert transport.calls == []

    @pytest.mark.parametrize(
        "change",
        [
            Update().append("pan", ["x"]),
            Update().set_if_not_exists("pan", "x"),
            Update().add("holder", {"x"}),
            Update().increment("pan"),
        ],
    )
    async def test_updates_other_than_a_whole_value_set_are_refused(self, change: Update) -> None:
        transport = FakeTransport()
        db, _ = sealed_db(transport)
        with pytest.raises(ExpressionError, match="is Encrypted"):
            await db.update(Card, "k1", changes=change)
        assert transport.calls == []

    async def test_a_nested_path_into_an_encrypted_field_is_refused(self) -> None:
        transport = FakeTransport()
        db, _ = sealed_db(transport)
        with pytest.raises(ExpressionError, match="is Encrypted"):
            await db.update(Vault, "o1", 1, changes=Update().set("address.zip", "1"))

    async def test_a_whole_value_set_is_sealed_and_none_is_stored_as_null(self) -> None:
        def echo(operation: str, params: dict[str, Any]) -> dict[str, Any]:
            # UpdateItem with ALL_NEW: the item as the SET clauses left it.
            names, values = params["ExpressionAttributeNames"], params["ExpressionAttributeValues"]
            pairs = re.findall(r"(#\w+) = (:\w+)", params["UpdateExpression"])
            return {
                "Attributes": {"card_id": {"S": "k1"}} | {names[n]: values[v] for n, v in pairs}
            }

        transport = FakeTransport(handler=echo)
        db, _ = sealed_db(transport)
        change = Update().set("pan", "5500000000000004").set("holder", "Grace").set("cvv", None)
        updated = await db.update(Card, "k1", changes=change)
        assert (updated.pan, updated.holder, updated.cvv) == ("5500000000000004", "Grace", None)
        values = transport.calls[0].params["ExpressionAttributeValues"]
        assert sum(set(v) == {"B"} for v in values.values()) == 2
        assert {"NULL": True} in values.values()
        assert b"5500000000000004" not in repr(values).encode()

    async def test_an_item_too_large_once_sealed_is_refused_before_sending(self) -> None:
        transport = FakeTransport()
        db, _ = sealed_db(transport)
        near_limit = "x" * (400 * 1024 - 200)  # fits in clear; not with the envelope added
        with pytest.raises(ItemTooLargeError, match="after encryption"):
            await db.put(card(pan=near_limit))
        with pytest.raises(ItemTooLargeError):
            await db.batch_write(puts=[card(pan=near_limit)])
        assert transport.calls == []

    async def test_missing_key_fails_closed_for_every_operation(self) -> None:
        transport = FakeTransport()
        db = fake_db(transport)
        from asyncdynamo import Key

        attempts = [
            db.put(card()),
            db.get(Card, "k1"),
            db.delete(Card, "k1"),
            db.batch_get(Card, ["k1"]),
            db.batch_write(deletes=[Key(Card, "k1")]),
            db.scan(Card).all(),
            db.transact_get([Key(Card, "k1")]),
            db.reencrypt(Card, "k1"),
        ]
        for attempt in attempts:
            with pytest.raises(EncryptionNotConfiguredError):
                await attempt
        assert transport.calls == []

    async def test_a_model_key_overrides_the_db_key(self) -> None:
        class Own(Model):
            __table__ = "own"
            __kms_key_id__ = "alias/test"
            id: Annotated[str, PartitionKey]
            secret: Annotated[str, Encrypted]

        transport = FakeTransport()
        db = fake_db(transport)  # no kms_key_id on the DB
        client, kms_transport = fake_kms_client()
        db._crypto_state["kms"] = client
        await db.put(Own(id="1", secret="s"))
        assert kms_transport.calls[0].params["KeyId"] == "alias/test"


class TestNoLeaks:
    def test_repr_and_str_hide_encrypted_values(self) -> None:
        value = card(cvv=SecretStr("987"))
        for text in (repr(value), str(value), repr([value])):
            assert "4111111111111111" not in text and "Ada" not in text and "987" not in text
            assert "<encrypted>" in text
        assert "c1" in repr(value)  # clear fields still show

    async def test_an_opened_item_that_fails_validation_names_no_value(self) -> None:
        kms, _ = fake_kms_client()
        engine = FieldEncryption("alias/test", Config().data_key_cache)
        spec = spec_of(Vault)
        key = {"owner": {"S": "o1"}, "seq": {"N": "1"}}
        sealed = await engine.seal_values(kms, spec, "vault", key, {"number": {"S": "top-secret"}})
        (opened,) = await engine.open_items(kms, spec, "vault", [{**key, **sealed}])
        with pytest.raises(ItemDecodeError) as caught:
            from_item(spec, opened)
        assert "top-secret" not in str(caught.value)
        assert "top-secret" not in repr(caught.value.item)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__


class TestDeadlines:
    async def test_kms_calls_of_a_deadline_view_are_bounded_by_it(self) -> None:
        dynamodb = SlowTransport()
        db = lambda_db(dynamodb, config=Config(kms_key_id="alias/test", retry=FAST_RETRY))
        db._crypto_state["kms"] = Client(SlowTransport(never_answers()), FAST_RETRY)
        view = db.with_lambda_timeout(LambdaContext(timeout=0.3))
        assert _kms_client(view) is not _kms_client(db)
        with pytest.raises(LambdaTimeoutError):
            await view.put(card())
        assert dynamodb.calls == []  # nothing was written


class TestAccounts:
    def test_each_db_has_its_own_key_cache(self) -> None:
        first, second = DB(Config(kms_key_id="k")), DB(Config(kms_key_id="k"))
        assert first._crypto_state is not second._crypto_state

    async def test_a_partner_db_calls_kms_with_its_own_client_cache_and_credentials(self) -> None:
        from asyncdynamo import MultiAccountDB, PartnerConfig, TransportKind
        from tests.unit.test_multi_account import ACME, BASE_CONFIG, GLOBEX, FakeSts, NoNetwork

        base_config = replace(BASE_CONFIG, kms_key_id="alias/payments")
        acme_config = replace(ACME, kms_key_id="alias/acme-cards")
        base = DB(base_config, transport=NoNetwork())
        async with MultiAccountDB(base, [acme_config, GLOBEX], sts=FakeSts()) as multi:
            acme, globex = await multi.partner("acme"), await multi.partner("globex")
            assert acme.config.kms_key_id == "alias/acme-cards"
            assert globex.config.kms_key_id == "alias/payments"  # the alias in globex's account
            clients = [_kms_client(db) for db in (base, acme, globex)]
            assert len({id(c) for c in clients}) == 3
            assert len({id(db._crypto_state) for db in (base, acme, globex)}) == 3
            assert base_config.transport is TransportKind.LEAN
            signed_as = await clients[1].transport._credentials.get()  # type: ignore[attr-defined]
            assert signed_as.access_key_id.startswith("ASIA")  # the partner's assumed role
            assert isinstance(acme_config, PartnerConfig)


def test_importing_asyncdynamo_and_using_a_clear_model_does_not_import_cryptography() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from typing import Annotated
        from asyncdynamo import DB, Config, Encrypted, Model, PartitionKey
        from tests.fakes import FakeTransport

        class Plain(Model):
            __table__ = "plain"
            id: Annotated[str, PartitionKey]

        class Secret(Model):
            __table__ = "secret"
            id: Annotated[str, PartitionKey]
            pan: Annotated[str, Encrypted]

        async def main():
            db = DB(Config(kms_key_id="alias/test"), transport=FakeTransport())
            await db.put(Plain(id="1"))
            await db.get(Plain, "1")
            print("clear", "cryptography" in sys.modules)
            try:
                await db.get(Secret, "1")
            except Exception:
                pass
            print("encrypted", "cryptography" in sys.modules)

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["clear", "False", "encrypted", "True"]


class TestManyItems:
    async def test_data_keys_of_one_read_load_concurrently_and_bounded(self) -> None:
        from asyncdynamo._encryption._engine import MAX_CONCURRENT_KEY_LOADS

        kms = FakeKms()
        writer, _ = fake_kms_client(kms)
        engine = FieldEncryption("alias/test", Config().data_key_cache)
        spec = spec_of(Card)
        items = []
        for i in range(20):  # 20 values under 20 distinct data keys
            key = {"card_id": {"S": f"k{i}"}}
            sealed = await engine.seal_values(writer, spec, "cards", key, {"pan": {"S": str(i)}})
            engine.clear()  # the next value gets a new data key
            items.append({**key, **sealed})
        in_flight, peak, release = 0, 0, asyncio.Event()

        async def slow_kms(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            if peak >= MAX_CONCURRENT_KEY_LOADS:
                release.set()
            await release.wait()
            in_flight -= 1
            return dict(kms(operation, dict(params)))

        reader = Client(SlowTransport(slow_kms), FAST_RETRY)
        async with asyncio.timeout(30):  # loads one at a time would never release: fail, not hang
            opened = await FieldEncryption("alias/test", Config().data_key_cache).open_items(
                reader, spec, "cards", items
            )
        assert [o["pan"] for o in opened] == [{"S": str(i)} for i in range(20)]
        assert peak == MAX_CONCURRENT_KEY_LOADS

    async def test_kms_down_on_a_read_is_retryable(self) -> None:
        from asyncdynamo import InternalServerError, KMSUnavailableError

        kms = FakeKms()
        writer, _ = fake_kms_client(kms)
        spec = spec_of(Card)
        key = {"card_id": {"S": "k1"}}
        engine = FieldEncryption("alias/test", Config().data_key_cache)
        sealed = await engine.seal_values(writer, spec, "cards", key, {"pan": {"S": "4111"}})
        reader, transport = fake_kms_client(kms)
        transport.script = [InternalServerError("down", code="KMSInternalException")] * 4
        fresh = FieldEncryption("alias/test", Config().data_key_cache)
        with pytest.raises(KMSUnavailableError) as caught:
            await fresh.open_items(reader, spec, "cards", [{**key, **sealed}])
        assert caught.value.retryable and caught.value.operation == "Decrypt"


class TestTransactions:
    async def test_a_commit_sent_again_carries_the_same_sealed_parameters(self) -> None:
        from asyncdynamo import ConnectionFailedError, RetryPolicy

        transport = FakeTransport(script=[ConnectionFailedError("reset"), {}])
        db = fake_db(transport, kms_key_id="alias/test", retry=RetryPolicy(max_attempts=1))
        db._crypto_state["kms"] = fake_kms_client()[0]
        tx = db.transaction(token="t-1")
        tx.put(card())
        with pytest.raises(ConnectionFailedError):
            await tx.commit()
        await tx.commit()  # the outcome was unknown: the same token, the same parameters
        first, second = (c.params for c in transport.calls)
        assert first == second
        sealed_pan = first["TransactItems"][0]["Put"]["Item"]["pan"]
        assert set(sealed_pan) == {"B"}


def test_kms_never_uses_the_dynamodb_endpoint_override() -> None:
    from asyncdynamo.local import Endpoint, config_for

    local = Config(endpoint_url="http://127.0.0.1:8000")
    assert local.endpoint_url_for("kms") is None  # the regional KMS endpoint
    assert replace(local, kms_endpoint_url="http://kms.test").endpoint_url_for("kms") == (
        "http://kms.test"
    )
    moto = Endpoint("http://127.0.0.1:5000", "us-east-1", None, is_moto=True)
    other = Endpoint("http://127.0.0.1:8000", "us-east-1", None)
    assert config_for(moto).endpoint_url_for("kms") == "http://127.0.0.1:5000"
    assert config_for(other).endpoint_url_for("kms") is None
