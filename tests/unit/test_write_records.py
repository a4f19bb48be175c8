"""The write path's value objects (paths, conditions, updates, keys, placeholders) are records
(``asyncdynamo._record``) and behave as the dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Annotated

import pytest

from asyncdynamo import Key, Model, PartitionKey, Path, Update, attr, spec_of
from asyncdynamo._expr import Compare, FunctionCondition, Placeholders, render_condition
from asyncdynamo._update import UpdateAction, render_update


class Note(Model):
    __table__ = "notes"

    note_id: Annotated[str, PartitionKey]
    body: str = ""
    tags: list[str] = []


def test_paths_are_immutable_and_hash_by_their_elements() -> None:
    path = attr("tags[0]")
    assert path.elements == ("tags", 0)
    assert hash(path) == hash(Path(("tags", 0))) == hash(attr("tags")[0])
    assert hash(path.size()) == hash(Path(("tags", 0)).size())
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.elements = ("body",)  # type: ignore[misc]
    assert repr(path) == "Path(elements=('tags', 0))"
    assert pickle.loads(pickle.dumps(path)).elements == ("tags", 0)


def test_comparing_a_path_still_builds_a_condition() -> None:
    condition = attr("body") == "hi"
    assert isinstance(condition, Compare) and isinstance(condition.left, Path)
    assert (condition.op, condition.left.elements, condition.right) == ("=", ("body",), "hi")
    assert isinstance(attr("body") != "hi", Compare)


def test_a_plain_name_and_a_nested_path_parse_as_before() -> None:
    assert attr("body").elements == ("body",)
    assert attr("a.b[2].c").elements == ("a", "b", 2, "c")
    assert Path.parse("x-y z").elements == ("x-y z",)


def test_a_condition_equals_only_itself_without_comparing_paths() -> None:
    condition = attr("body") == "hi"
    twin = attr("body") == "hi"
    assert condition == condition
    assert condition != twin  # as the eq=False dataclasses: no truth value asked of a path
    assert len({condition, twin}) == 2


def test_conditions_are_immutable_and_show_their_fields() -> None:
    condition = attr("body").begins_with("h")
    with pytest.raises(dataclasses.FrozenInstanceError):
        condition.function = "contains"  # type: ignore[misc]
    assert repr(condition) == (
        "FunctionCondition(function='begins_with', path=Path(elements=('body',)), "
        "args=('h',), raw=False, element=False)"
    )
    assert [f.name for f in dataclasses.fields(FunctionCondition)] == [
        "function",
        "path",
        "args",
        "raw",
        "element",
    ]


def test_a_copied_condition_renders_the_same() -> None:
    condition = (attr("body") == "hi") & attr("tags").size().between(1, 3)
    spec = spec_of(Note)
    expected = render_condition(condition, Placeholders(spec=spec))
    for twin in (pickle.loads(pickle.dumps(condition)), copy.deepcopy(condition)):
        assert render_condition(twin, Placeholders(spec=spec)) == expected


def test_updates_compare_and_hash_by_their_actions() -> None:
    change = Update().set("body", "hi").remove("tags")
    assert change == Update().set("body", "hi").remove("tags")
    assert hash(change) == hash(Update().set("body", "hi").remove("tags"))
    assert change != Update().set("body", "ho").remove("tags")
    assert pickle.loads(pickle.dumps(change)) == change
    assert dataclasses.replace(change, actions=change.actions[:1]) == Update().set("body", "hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.actions = ()  # type: ignore[misc]
    assert repr(Update().remove("tags")) == (
        "Update(actions=(UpdateAction(op='REMOVE', path=Path(elements=('tags',)), value=None),))"
    )


def test_an_update_action_with_a_list_value_is_still_hashable() -> None:
    action = UpdateAction("APPEND", attr("tags"), ["a"])
    assert hash(action) == hash(UpdateAction("APPEND", attr("tags"), ["b"]))
    assert action == UpdateAction("APPEND", attr("tags"), ["a"])
    assert action != UpdateAction("APPEND", attr("tags"), ["b"])


def test_an_update_renders_each_kind_of_action() -> None:
    change = Update().set("body", "hi").append("tags", ["x"]).remove("note_id")
    ph = Placeholders(spec=spec_of(Note))
    assert render_update(change, ph) == (
        "SET #n0 = :v0, #n1 = list_append(if_not_exists(#n1, :v1), :v2) REMOVE #n2"
    )


def test_keys_compare_hash_and_repr_by_their_fields() -> None:
    key = Key(Note, "n1")
    assert key == Key(Note, "n1") and hash(key) == hash(Key(Note, "n1"))
    assert key != Key(Note, "n2")
    assert key.sort is None
    assert repr(key) == f"Key(model={Note!r}, partition='n1', sort=None)"
    assert pickle.loads(pickle.dumps(key)) == key


def test_placeholders_are_mutable_with_fresh_dicts_per_request() -> None:
    first, second = Placeholders(), Placeholders()
    assert first.name("a") == "#n0"
    assert second.names == {} and first.names == {"#n0": "a"}
    assert first != second
    with pytest.raises(TypeError):
        hash(first)
    assert repr(Placeholders(prefix="p")) == (
        "Placeholders(spec=None, names={}, values={}, _by_name={}, prefix='p', sealed={}, size=0)"
    )
