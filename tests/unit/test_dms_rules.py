"""Compat.DYNAMORM rules next to the native ones: version numbering, omit-empty, sets, JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, field_serializer

from asyncdynamo import (
    Compat,
    CreatedAt,
    ItemNotFoundError,
    JsonBlob,
    Model,
    ModelDeclarationError,
    OmitEmpty,
    PartitionKey,
    Update,
    UsageError,
    Version,
    VersionConflictError,
    serialize_item,
    spec_of,
)
from asyncdynamo._item import from_item, to_item
from asyncdynamo._ops import explain_condition_failure, prepare_put, prepare_update
from asyncdynamo.dms import NanoDatetime

NOW = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


class Go(Model):
    __table__ = "things"
    __compat__ = Compat.DYNAMORM
    pk: Annotated[str, PartitionKey]
    count: Annotated[int, OmitEmpty] = 0
    ratio: Annotated[Decimal, OmitEmpty] = Decimal(0)
    flag: Annotated[bool, OmitEmpty] = False
    name: Annotated[str, OmitEmpty] = ""
    plain_count: int = 0
    tags: set[str] = set()
    doc: Annotated[Any, JsonBlob] = None
    created: Annotated[datetime | None, CreatedAt] = None
    version: Annotated[int, Version] = 0


class Native(Model):
    __table__ = "things"
    pk: Annotated[str, PartitionKey]
    count: Annotated[int, OmitEmpty] = 0
    flag: Annotated[bool, OmitEmpty] = False
    tags: set[str] = set()
    doc: Annotated[Any, JsonBlob] = None
    version: Annotated[int, Version] = 0


def put(item: Model, **options: Any) -> dict[str, Any]:
    write = prepare_put(
        spec_of(type(item)),
        "things",
        item,
        overwrite=options.pop("overwrite", False),
        condition=None,
        now=NOW,
        **options,
    )
    return write.params


class TestVersionNumbering:
    def test_native_first_write_stores_1_dynamorm_stores_0(self) -> None:
        assert put(Native(pk="a"))["Item"]["version"] == {"N": "1"}
        assert put(Go(pk="a"))["Item"]["version"] == {"N": "0"}

    def test_dynamorm_replace_of_version_0_checks_0_and_stores_1(self) -> None:
        params = put(Go(pk="a"), overwrite=True)
        assert params["Item"]["version"] == {"N": "1"}
        assert params["ConditionExpression"] == "#n0 = :v0"
        assert params["ExpressionAttributeValues"] == {":v0": {"N": "0"}}

    def test_native_replace_of_version_0_is_an_upsert(self) -> None:
        # Native 0 is "never written": no item, or one stored without a version.
        params = put(Native(pk="a"), overwrite=True)
        assert params["ConditionExpression"] == "(attribute_not_exists(#n0)) OR (#n0 = :v0)"

    def test_dynamorm_expected_version_0_is_a_stored_version_on_update_too(self) -> None:
        go = prepare_update(
            spec_of(Go),
            "things",
            {"pk": {"S": "a"}},
            Update().set("count", 1),
            condition=None,
            expected_version=0,
            create_if_missing=True,
            now=NOW,
        )
        native = prepare_update(
            spec_of(Native),
            "things",
            {"pk": {"S": "a"}},
            Update().set("count", 1),
            condition=None,
            expected_version=0,
            create_if_missing=True,
            now=NOW,
        )
        name, value = go.params["ConditionExpression"].split(" = ")  # only version = 0
        assert go.params["ExpressionAttributeNames"][name] == "version"
        assert go.params["ExpressionAttributeValues"][value] == {"N": "0"}
        assert "attribute_not_exists" in native.params["ConditionExpression"]

    def test_dynamorm_replace_at_0_of_a_missing_item_is_item_not_found(self) -> None:
        write = prepare_put(
            spec_of(Go), "things", Go(pk="a"), overwrite=True, condition=None, now=NOW
        )
        assert isinstance(explain_condition_failure(write, None, None), ItemNotFoundError)
        stored = {"pk": "a", "version": 3}
        conflict = explain_condition_failure(write, None, stored, raw_item=serialize_item(stored))
        assert isinstance(conflict, VersionConflictError)
        assert (conflict.actual_version, conflict.model_item.version) == (3, 3)

    def test_blind_overwrite_has_no_condition(self) -> None:
        go = put(Go(pk="a", version=4), overwrite=True, skip_version_check=True)
        native = put(Native(pk="a", version=4), overwrite=True, skip_version_check=True)
        assert "ConditionExpression" not in go and "ConditionExpression" not in native
        assert go["Item"]["version"] == {"N": "4"}  # DynamORM's CreateOrUpdate: as given
        assert native["Item"]["version"] == {"N": "5"}  # ours: bumped, like batch writes

    def test_dynamorm_create_and_blind_overwrite_stamp_created_at(self) -> None:
        earlier = datetime(2020, 1, 1, tzinfo=UTC)
        created = Go(pk="a", created=earlier)
        assert put(created)["Item"]["created"] == {"S": "2026-01-02T03:04:05.600000000Z"}
        blind = put(created, overwrite=True, skip_version_check=True)
        assert blind["Item"]["created"] == {"S": "2026-01-02T03:04:05.600000000Z"}
        checked = put(created, overwrite=True)  # a versioned replace keeps it
        assert checked["Item"]["created"] == {"S": "2020-01-01T00:00:00.000000000Z"}

    def test_a_blind_put_must_say_overwrite(self) -> None:
        with pytest.raises(UsageError, match="overwrite=True"):
            put(Go(pk="a"), skip_version_check=True)


class TestOmitEmpty:
    def test_dynamorm_also_omits_zero_and_false(self) -> None:
        item = put(Go(pk="a"))["Item"]
        assert {"count", "ratio", "flag", "name"}.isdisjoint(item)
        assert item["plain_count"] == {"N": "0"}  # not omit-empty: written

    def test_native_keeps_zero_and_false(self) -> None:
        item = put(Native(pk="a"))["Item"]
        assert (item["count"], item["flag"]) == ({"N": "0"}, {"BOOL": False})

    def test_non_empty_values_are_written(self) -> None:
        item = put(Go(pk="a", count=2, ratio=Decimal("0.5"), flag=True, name="n"))["Item"]
        assert (item["count"], item["ratio"], item["flag"], item["name"]) == (
            {"N": "2"},
            {"N": "0.5"},
            {"BOOL": True},
            {"S": "n"},
        )


class TestSets:
    def test_dynamorm_stores_an_empty_set_as_null_native_leaves_it_out(self) -> None:
        assert put(Go(pk="a"))["Item"]["tags"] == {"NULL": True}
        assert "tags" not in put(Native(pk="a"))["Item"]

    def test_null_reads_back_as_an_empty_set(self) -> None:
        spec = spec_of(Go)
        read = from_item(spec, {"pk": {"S": "a"}, "tags": {"NULL": True}, "version": {"N": "0"}})
        assert read.tags == set()

    def test_null_reads_as_the_zero_value_of_a_field_that_is_not_optional(self) -> None:
        spec = spec_of(Go)
        read = from_item(
            spec, {"pk": {"S": "a"}, "plain_count": {"NULL": True}, "name": {"NULL": True}}
        )
        assert (read.plain_count, read.name) == (0, "")


def _nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)


class TestJsonBlob:
    @pytest.mark.parametrize("model", [Go, Native])
    def test_json_is_compact_sorted_and_null_is_null(self, model: type[Model]) -> None:
        item = to_item(
            spec_of(model), model(pk="a", doc={"b": {"z": 1, "y": [True, None]}, "a": "é<"})
        )
        assert item["doc"] == {"S": '{"a":"é<","b":{"y":[true,null],"z":1}}'}
        assert to_item(spec_of(model), model(pk="a"))["doc"] == {"NULL": True}

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (1.0, "1"),
            (2.5, "2.5"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.00001, "0.00001"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (Decimal("12.50"), "12.50"),
            (10**30, "1000000000000000000000000000000"),
        ],
    )
    def test_numbers_are_written_as_go_writes_them(self, value: Any, text: str) -> None:
        assert to_item(spec_of(Go), Go(pk="a", doc=[value]))["doc"] == {"S": f"[{text}]"}

    def test_reading_keeps_exact_numbers(self) -> None:
        read = from_item(spec_of(Go), {"pk": {"S": "a"}, "doc": {"S": '{"x":0.1,"n":3}'}})
        assert read.doc == {"x": Decimal("0.1"), "n": 3}
        assert to_item(spec_of(Go), read)["doc"] == {"S": '{"n":3,"x":0.1}'}

    def test_text_that_is_not_json_is_a_decode_error(self) -> None:
        from asyncdynamo import ItemDecodeError

        with pytest.raises(ItemDecodeError, match="not JSON"):
            from_item(spec_of(Go), {"pk": {"S": "a"}, "doc": {"S": "{oops"}})

    def test_json_blob_cannot_be_a_lifecycle_field(self) -> None:
        with pytest.raises(ModelDeclarationError, match="JsonBlob"):

            class Bad(Model):
                __table__ = "things"
                pk: Annotated[str, PartitionKey]
                version: Annotated[int, Version, JsonBlob] = 0

    @given(
        st.recursive(st.none() | st.booleans() | st.integers() | st.text(), _nest, max_leaves=10)
    )
    def test_any_json_document_round_trips(self, doc: Any) -> None:
        spec = spec_of(Go)
        stored = to_item(spec, Go(pk="a", doc=doc))
        assert from_item(spec, stored).doc == doc


class TestCompatSetting:
    def test_an_unknown_compat_value_is_a_declaration_error(self) -> None:
        with pytest.raises(ModelDeclarationError, match="__compat__"):

            class Bad(Model):
                __table__ = "things"
                __compat__ = "gorm"  # type: ignore[assignment]
                pk: Annotated[str, PartitionKey]

    def test_timestamps_read_from_dynamorm_items_keep_their_nanoseconds(self) -> None:
        read = from_item(
            spec_of(Go), {"pk": {"S": "a"}, "created": {"S": "2026-01-02T03:04:05.1Z"}}
        )
        assert isinstance(read.created, NanoDatetime)
        assert read.created == datetime(2026, 1, 2, 3, 4, 5, 100000, tzinfo=UTC)
        assert to_item(spec_of(Go), read)["created"] == {"S": "2026-01-02T03:04:05.1Z"}


def test_dynamorm_envelopes_need_a_dynamorm_model() -> None:
    from asyncdynamo import EnvelopeFormat

    with pytest.raises(ModelDeclarationError, match=r"Compat\.DYNAMORM"):

        class Bad(Model):
            __table__ = "things"
            __envelope_format__ = EnvelopeFormat.DYNAMORM
            pk: Annotated[str, PartitionKey]


class Stage(StrEnum):
    OPEN = "open"


class Inner(BaseModel):
    at: datetime
    stage: Stage
    masked: str = ""

    @field_serializer("masked")
    def _mask(self, value: str) -> str:
        return "****"


class Holder(Model):
    __table__ = "things"
    __compat__ = Compat.DYNAMORM
    pk: Annotated[str, PartitionKey]
    inner: Inner | None = None
    blob: Annotated[Any, JsonBlob] = None


class TestFieldValuesNotDumps:
    """The DMS codecs see the values the instance holds, as the native codec does."""

    def test_nested_models_keep_dms_timestamps_enum_values_and_held_values(self) -> None:
        inner = Inner(at=NOW, stage=Stage.OPEN, masked="4111")
        item = put(Holder(pk="a", inner=inner, blob=inner))["Item"]
        assert item["inner"] == {
            "M": {
                "at": {"S": "2026-01-02T03:04:05.600000000Z"},
                "stage": {"S": "open"},
                "masked": {"S": "4111"},
            }
        }
        assert item["blob"] == {
            "S": '{"at":"2026-01-02T03:04:05.600000000Z","masked":"4111","stage":"open"}'
        }
        back = from_item(spec_of(Holder), item)
        assert back.inner == inner
