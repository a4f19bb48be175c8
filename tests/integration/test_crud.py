"""put / get / update / delete against the real (moto) server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from asyncdynamo import (
    DB,
    ConditionalCheckFailedError,
    ExpressionError,
    ItemAlreadyExistsError,
    ItemNotFoundError,
    Update,
    VersionConflictError,
    attr,
)
from tests.models import Account, Line, Note, Order

MakeTables = Callable[..., Awaitable[list[str]]]


@pytest.fixture
async def tables(make_tables: MakeTables) -> None:
    await make_tables(Account, Order, Note)


def order(**changes: object) -> Order:
    values: dict[str, object] = {
        "customer_id": "c1",
        "order_id": "o1",
        "status": "new",
        "placed_at": datetime(2026, 1, 1, tzinfo=UTC),
        "total": Decimal("19.99"),
    }
    values.update(changes)
    return Order.model_validate(values)


@pytest.mark.usefixtures("tables")
class TestPut:
    async def test_put_creates_and_get_reads_it_back(self, db: DB) -> None:
        stored = await db.put(order(lines=[Line(sku="s", quantity=1, price=Decimal("19.99"))]))
        assert await db.get(Order, "c1", "o1", consistent=True) == stored

    async def test_put_refuses_to_replace_an_existing_item(self, db: DB) -> None:
        await db.put(order())
        with pytest.raises(ItemAlreadyExistsError) as caught:
            await db.put(order(status="other"))
        assert caught.value.item is not None  # the stored item comes back for diagnosis
        assert (await db.get(Order, "c1", "o1", required=True)).status == "new"

    async def test_put_with_overwrite_replaces(self, db: DB) -> None:
        await db.put(order())
        await db.put(order(status="shipped"), overwrite=True)
        assert (await db.get(Order, "c1", "o1", required=True)).status == "shipped"

    async def test_put_with_a_false_condition_writes_nothing(self, db: DB) -> None:
        await db.put(order())
        with pytest.raises(ConditionalCheckFailedError):
            await db.put(order(status="x"), overwrite=True, condition=attr("status") == "paid")
        assert (await db.get(Order, "c1", "o1", required=True)).status == "new"

    async def test_binary_uuid_and_decimal_values_survive(self, db: DB) -> None:
        import uuid

        reference = uuid.uuid4()
        await db.put(order(blob=b"\x00\xff", reference=reference, total=Decimal("0.01")))
        loaded = await db.get(Order, "c1", "o1", required=True)
        assert (loaded.blob, loaded.reference, loaded.total) == (
            b"\x00\xff",
            reference,
            Decimal("0.01"),
        )


@pytest.mark.usefixtures("tables")
class TestLifecycle:
    async def test_version_starts_at_one_and_timestamps_are_set(self, db: DB) -> None:
        stored = await db.put(Account(account_id="a1", owner="ann"))
        assert stored.version == 1
        assert stored.created_at is not None and stored.created_at == stored.updated_at

    async def test_update_bumps_version_and_updated_at_but_not_created_at(self, db: DB) -> None:
        created = await db.put(Account(account_id="a1", owner="ann"))
        updated = await db.update(created, changes=Update().increment("balance", 7))
        assert updated.version == 2 and updated.balance == 7
        assert updated.created_at == created.created_at
        assert updated.updated_at is not None and created.updated_at is not None
        assert updated.updated_at >= created.updated_at

    async def test_overwrite_put_keeps_created_at_and_bumps_version(self, db: DB) -> None:
        created = await db.put(Account(account_id="a1", owner="ann"))
        replaced = await db.put(created.model_copy(update={"owner": "bob"}), overwrite=True)
        assert replaced.version == 2 and replaced.created_at == created.created_at
        assert (await db.get(Account, "a1", required=True)).owner == "bob"

    async def test_ttl_is_stored_as_epoch_seconds(self, db: DB) -> None:
        expires = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
        await db.put(Account(account_id="a1", owner="ann", expires_at=expires))
        raw = await db.client.call(
            "GetItem", {"TableName": db.table_name(Account), "Key": {"account_id": {"S": "a1"}}}
        )
        assert raw["Item"]["expires_at"] == {"N": str(int(expires.timestamp()))}
        loaded = await db.get(Account, "a1", required=True)
        assert loaded.expires_at == expires

    async def test_empty_set_round_trips_as_absent(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann", tags=set()))
        assert (await db.get(Account, "a1", required=True)).tags == set()


@pytest.mark.usefixtures("tables")
class TestOptimisticLocking:
    async def test_stale_update_raises_version_conflict_and_changes_nothing(self, db: DB) -> None:
        first = await db.put(Account(account_id="a1", owner="ann"))
        await db.update(first, changes=Update().set("owner", "bob"))
        with pytest.raises(VersionConflictError) as caught:
            await db.update(first, changes=Update().set("owner", "eve"))
        assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
        assert (await db.get(Account, "a1", required=True)).owner == "bob"

    async def test_stale_overwrite_put_raises_version_conflict(self, db: DB) -> None:
        first = await db.put(Account(account_id="a1", owner="ann"))
        await db.put(first.model_copy(update={"owner": "bob"}), overwrite=True)
        with pytest.raises(VersionConflictError):
            await db.put(first.model_copy(update={"owner": "eve"}), overwrite=True)
        assert (await db.get(Account, "a1", required=True)).owner == "bob"

    async def test_creating_a_versioned_item_twice_is_refused(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann"))
        with pytest.raises(ItemAlreadyExistsError):
            await db.put(Account(account_id="a1", owner="bob"))
        assert (await db.get(Account, "a1", required=True)).owner == "ann"

    async def test_replacing_with_a_never_stored_instance_is_a_conflict(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann"))
        with pytest.raises(VersionConflictError) as caught:
            await db.put(Account(account_id="a1", owner="bob"), overwrite=True)
        assert caught.value.actual_version == 1

    async def test_stale_delete_raises_version_conflict_and_keeps_the_item(self, db: DB) -> None:
        first = await db.put(Account(account_id="a1", owner="ann"))
        await db.update(first, changes=Update().set("owner", "bob"))
        with pytest.raises(VersionConflictError):
            await db.delete(first)
        assert await db.get(Account, "a1") is not None

    async def test_blind_update_by_key_bumps_the_version_only_when_asked(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann"))
        updated = await db.update(
            Account, "a1", changes=Update().increment("balance", 5), skip_version_check=True
        )
        assert (updated.version, updated.balance) == (2, 5)

    async def test_update_by_key_with_expected_version(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann"))
        updated = await db.update(
            Account, "a1", changes=Update().set("owner", "bob"), expected_version=1
        )
        assert updated.version == 2
        with pytest.raises(VersionConflictError):
            await db.update(Account, "a1", changes=Update().set("owner", "x"), expected_version=1)


@pytest.mark.usefixtures("tables")
class TestGet:
    async def test_missing_item_is_none_or_item_not_found_on_request(self, db: DB) -> None:
        assert await db.get(Note, "nope") is None
        with pytest.raises(ItemNotFoundError) as caught:
            await db.get(Note, "nope", required=True)
        assert caught.value.key == {"note_id": "nope"}

    async def test_projection_returns_only_the_named_fields(self, db: DB) -> None:
        await db.put(order(note="fragile"))
        fields = await db.get(Order, "c1", "o1", projection=["total", "note"], consistent=True)
        assert fields == {"total": Decimal("19.99"), "note": "fragile"}


@pytest.mark.usefixtures("tables")
class TestUpdate:
    async def test_every_update_action(self, db: DB) -> None:
        await db.put(Note(note_id="n1", text="a", count=1, labels=["x"]))
        await db.put(Account(account_id="a1", owner="ann", tags={"a", "b"}))
        note = await db.update(
            Note,
            "n1",
            changes=Update().set("text", "b").increment("count", 4).append("labels", ["y"]),
        )
        assert (note.text, note.count, note.labels) == ("b", 5, ["x", "y"])
        note = await db.update(Note, "n1", changes=Update().prepend("labels", ["w"]).remove("text"))
        assert (note.labels, note.text) == (["w", "x", "y"], "")
        account = await db.update(
            Account,
            "a1",
            skip_version_check=True,
            changes=Update()
            .delete("tags", {"a"})
            .add("balance", 3)
            .set_if_not_exists("nickname", "annie"),
        )
        assert (account.tags, account.balance, account.nickname) == ({"b"}, 3, "annie")
        account = await db.update(
            Account, "a1", changes=Update().set_if_not_exists("nickname", "z"), expected_version=2
        )
        assert account.nickname == "annie"

    async def test_update_of_a_missing_item_raises_item_not_found(self, db: DB) -> None:
        with pytest.raises(ItemNotFoundError):
            await db.update(Note, "ghost", changes=Update().set("text", "x"))
        assert await db.get(Note, "ghost") is None

    async def test_update_can_create_when_asked(self, db: DB) -> None:
        note = await db.update(
            Note, "n9", changes=Update().increment("count"), create_if_missing=True
        )
        assert note.count == 1

    async def test_conditional_update_fails_without_writing(self, db: DB) -> None:
        await db.put(Note(note_id="n1", count=1))
        with pytest.raises(ConditionalCheckFailedError):
            await db.update(
                Note, "n1", changes=Update().increment("count"), condition=attr("count") > 5
            )
        assert (await db.get(Note, "n1", required=True)).count == 1

    async def test_updating_keys_or_managed_fields_is_refused_before_sending(self, db: DB) -> None:
        with pytest.raises(ExpressionError, match="account_id"):
            await db.update(
                Account, "a1", changes=Update().set("account_id", "other"), expected_version=1
            )
        with pytest.raises(ExpressionError, match="version"):
            await db.update(Account, "a1", changes=Update().set("version", 9), expected_version=1)

    async def test_setting_an_empty_set_removes_the_attribute(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann", tags={"a"}))
        account = await db.update(
            Account, "a1", changes=Update().set("tags", set()), expected_version=1
        )
        assert account.tags == set()

    async def test_ttl_update_is_encoded_as_epoch(self, db: DB) -> None:
        await db.put(Account(account_id="a1", owner="ann"))
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        account = await db.update(
            Account, "a1", changes=Update().set("expires_at", expires), expected_version=1
        )
        assert account.expires_at == expires


@pytest.mark.usefixtures("tables")
class TestDelete:
    async def test_delete_returns_the_old_item_or_none(self, db: DB) -> None:
        stored = await db.put(Note(note_id="n1", text="bye"))
        assert await db.delete(Note, "n1") == stored
        assert await db.delete(Note, "n1") is None
        assert await db.get(Note, "n1") is None

    async def test_conditional_delete_keeps_the_item_when_false(self, db: DB) -> None:
        await db.put(Note(note_id="n1", count=2))
        with pytest.raises(ConditionalCheckFailedError):
            await db.delete(Note, "n1", condition=attr("count") == 3)
        assert await db.get(Note, "n1") is not None

    async def test_delete_of_an_instance_uses_its_key(self, db: DB) -> None:
        stored = await db.put(order())
        await db.delete(stored)
        assert await db.get(Order, "c1", "o1") is None


@pytest.mark.usefixtures("tables")
async def test_consumed_capacity_is_reported_per_operation(db: DB) -> None:
    with db.track_capacity() as used:
        await db.put(Note(note_id="n1"))
        await db.get(Note, "n1", consistent=True)
    assert used.calls == 2
    assert used.write_units > 0 and used.read_units > 0
    assert set(used.by_table) == {db.table_name(Note)}
