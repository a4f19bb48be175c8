"""Data fidelity against the (moto) server: what is stored reads back as the model held it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC

import pytest

from asyncdynamo import (
    DB,
    ItemNotFoundError,
    Update,
    VersionConflictError,
    attr,
)
from tests.integration.fidelity_models import Card, Color, Holder, Palette, Size
from tests.models import Account

MakeTables = Callable[..., Awaitable[list[str]]]


@pytest.fixture
async def tables(make_tables: MakeTables) -> None:
    await make_tables(Palette, Card, Account)


@pytest.mark.usefixtures("tables")
async def test_enum_members_in_sets_lists_and_maps_read_back(db: DB) -> None:
    palette = Palette(
        palette_id="p",
        colors={Color.RED, Color.BLUE},
        sizes=frozenset({Size.LARGE}),
        ordered=[Color.GREEN, Color.RED],
        by_color={Color.RED: Size.SMALL},
    )
    await db.put(palette)
    await db.update(Palette, "p", changes=Update().add("colors", {Color.GREEN}))
    await db.update(Palette, "p", changes=Update().delete("colors", {Color.RED}))
    back = await db.get(Palette, "p", consistent=True, required=True)
    assert back.colors == {Color.GREEN, Color.BLUE}
    assert (back.sizes, back.ordered, back.by_color) == (
        palette.sizes,
        palette.ordered,
        palette.by_color,
    )
    found = await db.scan(Palette).filter(attr("colors").contains(Color.GREEN)).all()
    assert [p.palette_id for p in found] == ["p"]


@pytest.mark.usefixtures("tables")
async def test_excluded_and_serialized_fields_are_stored_as_held(db: DB) -> None:
    card = Card(
        card_id="c",
        number="4111111111111111",
        internal_note="kyc ok",
        holder=Holder(holder_name="Ada Lovelace", secret_ref="r1"),
    )
    await db.put(card)
    back = await db.get(Card, "c", consistent=True, required=True)
    assert back == card
    assert (back.number, back.internal_note) == ("4111111111111111", "kyc ok")
    assert back.holder is not None and back.holder.secret_ref == "r1"


@pytest.mark.usefixtures("tables")
async def test_an_upsert_at_version_0_creates_then_checks_the_version(db: DB) -> None:
    created = await db.update(
        Account,
        "a",
        changes=Update().set("owner", "o"),
        expected_version=0,
        create_if_missing=True,
    )
    assert created.version == 1
    with pytest.raises(VersionConflictError) as caught:
        await db.update(
            Account,
            "a",
            changes=Update().set("owner", "p"),
            expected_version=0,
            create_if_missing=True,
        )
    assert caught.value.actual_version == 1
    assert isinstance(caught.value.model_item, Account)
    assert caught.value.item is not None and caught.value.item["owner"] == "o"


@pytest.mark.usefixtures("tables")
async def test_a_versioned_update_of_a_missing_item_is_item_not_found(db: DB) -> None:
    with pytest.raises(ItemNotFoundError):
        await db.update(Account, "nobody", changes=Update().set("owner", "x"), expected_version=2)


@pytest.mark.usefixtures("tables")
async def test_timestamps_have_one_representation_from_put_update_and_get(db: DB) -> None:
    put = await db.put(Account(account_id="a", owner="o"))
    updated = await db.update(put, changes=Update().set("owner", "p"))
    got = await db.get(Account, "a", consistent=True, required=True)
    for account in (put, updated, got):
        assert account.created_at is not None and account.updated_at is not None
        assert account.created_at.tzinfo is UTC and account.updated_at.tzinfo is UTC
    assert put.created_at == updated.created_at == got.created_at


@pytest.mark.usefixtures("tables")
async def test_a_blind_overwrite_replaces_a_versioned_item_whatever_its_version(db: DB) -> None:
    stored = await db.put(Account(account_id="a", owner="o"))
    await db.update(stored, changes=Update().set("owner", "p"))
    imported = await db.put(
        Account(account_id="a", owner="imported", version=0),
        overwrite=True,
        skip_version_check=True,
    )
    assert imported.version == 1
    assert (await db.get(Account, "a", consistent=True, required=True)).owner == "imported"


@pytest.mark.usefixtures("tables")
async def test_version_0_matches_an_item_stored_without_a_version(db: DB) -> None:
    table = db.table_name(Account)
    legacy = {"account_id": {"S": "old"}, "owner": {"S": "before versions"}}
    await db.client.call("PutItem", {"TableName": table, "Item": legacy})
    replaced = await db.put(Account(account_id="old", owner="migrated"), overwrite=True)
    assert replaced.version == 1
    with pytest.raises(VersionConflictError):
        await db.put(Account(account_id="old", owner="again"), overwrite=True)
    await db.client.call("PutItem", {"TableName": table, "Item": legacy})
    updated = await db.update(
        Account, "old", changes=Update().set("owner", "u"), expected_version=0
    )
    assert (updated.owner, updated.version) == ("u", 1)
