"""Records (``asyncdynamo._record``) behave as the frozen dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from asyncdynamo import (
    Config,
    ConfigurationError,
    ConsumedCapacity,
    Credentials,
    DataKeyCachePolicy,
    GlobalIndex,
    LambdaConfig,
    RetryPolicy,
    TransportKind,
)
from asyncdynamo._record import FrozenRecord, replace, setfield
from asyncdynamo._spec import FieldSpec, ValueKind

CONFIG = Config(
    region="eu-west-1",
    credentials=Credentials("AKID", "secret-key", "token"),
    retry=RetryPolicy(max_attempts=3),
    table_names={"payments": "prod-payments"},
    cursor_secret=b"k" * 16,
    data_key_cache=DataKeyCachePolicy(max_uses=5),
)


def test_equal_fields_make_equal_records_with_equal_hashes() -> None:
    twin = Config(**{f.name: getattr(CONFIG, f.name) for f in dataclasses.fields(Config)})
    assert twin == CONFIG
    assert hash(GlobalIndex("by_customer")) == hash(GlobalIndex("by_customer"))
    assert GlobalIndex("by_customer") != GlobalIndex("by_merchant")
    assert RetryPolicy() != DataKeyCachePolicy()  # another class is never equal


def test_a_frozen_record_refuses_assignment_and_deletion() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CONFIG.region = "us-east-1"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del CONFIG.region


def test_repr_lists_fields_in_declaration_order_and_hides_secrets() -> None:
    text = repr(CONFIG)
    assert text.startswith("Config(region='eu-west-1', endpoint_url=None, sts_endpoint_url=None,")
    assert "cursor_secret='***'" in text
    assert "secret-key" not in text
    assert repr(RetryPolicy()) == "RetryPolicy(max_attempts=8, base=0.025, cap=2.0)"


def test_pickle_and_copy_round_trip() -> None:
    assert pickle.loads(pickle.dumps(CONFIG)) == CONFIG
    assert copy.copy(CONFIG) == CONFIG
    assert copy.deepcopy(CONFIG) == CONFIG


def test_dataclasses_functions_work_on_records() -> None:
    assert dataclasses.is_dataclass(CONFIG)
    assert [f.name for f in dataclasses.fields(RetryPolicy)] == ["max_attempts", "base", "cap"]
    assert dataclasses.asdict(RetryPolicy()) == {"max_attempts": 8, "base": 0.025, "cap": 2.0}
    changed = dataclasses.replace(CONFIG, transport=TransportKind.LEAN)
    assert changed.transport is TransportKind.LEAN
    assert changed.credentials is CONFIG.credentials
    with pytest.raises(ConfigurationError):  # the constructor validates the copy again
        dataclasses.replace(CONFIG, max_pool_connections=0)
    lambda_config = dataclasses.replace(LambdaConfig(), warm_pool_size=4)
    assert lambda_config.warm_pool_size == 4


def test_replace_keeps_the_other_fields_and_refuses_unknown_ones() -> None:
    assert replace(CONFIG, region="us-west-2") == dataclasses.replace(CONFIG, region="us-west-2")
    with pytest.raises(TypeError):
        replace(CONFIG, regoin="us-west-2")


def test_each_config_gets_its_own_default_mappings() -> None:
    first, second = Config(), Config()
    assert first.table_names == {} and first.client_options == {}
    assert first.table_names is not second.table_names
    assert first == second


def test_a_mutable_record_changes_in_place_and_is_unhashable() -> None:
    capacity = ConsumedCapacity()
    capacity.record("GetItem", {"TableName": "t", "CapacityUnits": 0.5})
    assert capacity == ConsumedCapacity(read_units=0.5, calls=1, by_table={"t": 0.5})
    assert ConsumedCapacity().by_table is not ConsumedCapacity().by_table
    with pytest.raises(TypeError):
        hash(capacity)


def test_hidden_fields_are_left_out_of_equality_and_repr() -> None:
    spec = FieldSpec("data", "data", ValueKind.STRING, False, "data")
    with_adapter = replace(spec, json_adapter=object())
    assert with_adapter == spec
    assert "json_adapter" not in repr(with_adapter)
    assert "json_adapter" in {f.name for f in dataclasses.fields(FieldSpec)}


def test_every_slot_of_a_record_must_be_annotated() -> None:
    with pytest.raises(TypeError, match="annotate every slot"):

        class Broken(FrozenRecord):
            __slots__ = ("a", "b")
            a: int

            def __init__(self, a: int, b: int) -> None:
                setfield(self, "a", a)
                setfield(self, "b", b)

    class Point(FrozenRecord):
        __slots__ = ("x", "y")  # any order: the annotations give the fields' order
        y: int
        x: int

        def __init__(self, y: int, x: int) -> None:
            setfield(self, "y", y)
            setfield(self, "x", x)

    point: Any = Point(1, 2)
    assert repr(point).endswith("Point(y=1, x=2)")


def test_a_pydantic_field_typed_with_a_record_validates_and_fills_defaults() -> None:
    class Settings(BaseModel):
        credentials: Credentials
        retry: RetryPolicy = RetryPolicy()

    settings = Settings.model_validate(
        {"credentials": {"access_key_id": "AKID", "secret_access_key": "s"}, "retry": {"cap": 3}}
    )
    assert settings.credentials == Credentials("AKID", "s")
    assert settings.retry == RetryPolicy(cap=3.0)
    with pytest.raises(PydanticValidationError, match="base and cap must be positive"):
        Settings.model_validate({"credentials": settings.credentials, "retry": {"cap": -1}})


def test_describing_a_base_first_does_not_hide_a_subclass_fields() -> None:
    assert dataclasses.fields(FrozenRecord) == ()

    class Pair(FrozenRecord):
        __slots__ = ("left", "right")
        left: str
        right: str

        def __init__(self, left: str, right: str = "") -> None:
            setfield(self, "left", left)
            setfield(self, "right", right)

    described = dataclasses.fields(Pair)
    assert [(f.name, f.default) for f in described] == [
        ("left", dataclasses.MISSING),
        ("right", ""),
    ]


def test_describing_a_records_fields_parses_no_signature_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # dataclasses.replace(config, ...) at a Lambda's init describes Config's fields first; a
    # signature parsed from text (tokenize) made that ≈ 2 ms instead of ≈ 0.3.
    import inspect

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a signature was parsed from text")

    monkeypatch.setattr(inspect, "_signature_fromstr", refuse)

    class Sample(FrozenRecord):
        __slots__ = ("name", "size")
        name: str
        size: int

        def __init__(self, name: str, size: int = 1) -> None:
            setfield(self, "name", name)
            setfield(self, "size", size)

    changed = dataclasses.replace(Sample("a"), size=2)
    assert (changed.name, changed.size) == ("a", 2)
    assert [(f.name, f.default) for f in dataclasses.fields(Sample)] == [
        ("name", dataclasses.MISSING),
        ("size", 1),
    ]
