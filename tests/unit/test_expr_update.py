"""The update-expression builder: rendering and validation."""

from __future__ import annotations

from typing import Annotated

import pytest

from asyncdynamo import ExpressionError, GlobalIndex, Model, PartitionKey, Update, spec_of
from asyncdynamo._expr import Placeholders
from asyncdynamo._update import render_update
from tests.integration.query_models import Event
from tests.models import Account, Order

EVENT = spec_of(Event)


def render(update: Update, spec: object = EVENT) -> tuple[str, Placeholders]:
    ph = Placeholders(spec=spec_of(Order) if spec is Order else EVENT)
    return render_update(update, ph), ph


def test_set_remove_and_add_go_to_their_clauses() -> None:
    text, ph = render(Update().set("label", "x").remove("note").add("weight", 2))
    assert text == "SET #n0 = :v0 REMOVE #n1 ADD #n2 :v1"
    assert ph.names == {"#n0": "label", "#n1": "note", "#n2": "weight"}


def test_increment_treats_a_missing_number_as_zero() -> None:
    text, ph = render(Update().increment("weight", 3))
    assert text == "SET #n0 = if_not_exists(#n0, :v0) + :v1"
    assert ph.values == {":v0": {"N": "0"}, ":v1": {"N": "3"}}


def test_append_and_prepend_treat_a_missing_list_as_empty() -> None:
    text, _ = render(Update().append("parts", ["a"]))
    assert text == "SET #n0 = list_append(if_not_exists(#n0, :v0), :v1)"
    text, _ = render(Update().prepend("parts", ["a"]))
    assert text == "SET #n0 = list_append(:v1, if_not_exists(#n0, :v0))"


def test_set_if_not_exists_keeps_an_existing_value() -> None:
    text, _ = render(Update().set_if_not_exists("label", "first"))
    assert text == "SET #n0 = if_not_exists(#n0, :v0)"


def test_delete_removes_elements_from_a_set() -> None:
    text, ph = render(Update().delete("tags", {"a"}))
    assert text == "DELETE #n0 :v0" and ph.values == {":v0": {"SS": ["a"]}}


class Sparse(Model):
    __table__ = "sparse_things"

    thing_id: Annotated[str, PartitionKey]
    flagged: Annotated[str | None, GlobalIndex("by_flag")] = None


def test_setting_none_on_an_index_key_removes_it() -> None:
    ph = Placeholders(spec=spec_of(Sparse))
    assert render_update(Update().set("flagged", None), ph) == "REMOVE #n0"


def test_setting_none_on_an_optional_field_stores_null() -> None:
    text, ph = render(Update().set("note", None), Order)
    assert text == "SET #n0 = :v0" and ph.values == {":v0": {"NULL": True}}


def test_setting_none_on_an_omit_empty_field_removes_it() -> None:
    text, _ = render(Update().set("note", None))
    assert text == "REMOVE #n0"


def test_setting_none_on_a_required_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="not optional"):
        render(Update().set("label", None))


def test_nested_set_renders_each_path_segment() -> None:
    text, ph = render(Update().set("attrs.colour", "red"))
    assert text == "SET #n0.#n1 = :v0" and ph.names == {"#n0": "attrs", "#n1": "colour"}


def test_overlapping_paths_are_rejected() -> None:
    with pytest.raises(ExpressionError, match="overlapping"):
        render(Update().set("attrs", {}).set("attrs.colour", "red"))


def test_protected_fields_cannot_be_updated() -> None:
    ph = Placeholders(spec=EVENT)
    with pytest.raises(ExpressionError, match="key or managed"):
        render_update(Update().set("seq", 2), ph, protected=frozenset({"seq"}))


def test_an_empty_update_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="at least one action"):
        render(Update())


def test_increment_of_a_string_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="stores S"):
        render(Update().increment("label", 1))


def test_append_to_a_non_list_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="needs a L field"):
        render(Update().append("label", ["x"]))


def test_add_needs_a_number_or_a_set() -> None:
    with pytest.raises(ExpressionError, match="number or a non-empty set"):
        render(Update().add("tags", ["a"]))


def test_add_to_a_string_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="needs a SET or N field"):
        render(Update().add("label", 1))


def test_delete_needs_a_non_empty_set() -> None:
    with pytest.raises(ExpressionError, match="non-empty set"):
        render(Update().delete("tags", set()))


def test_delete_from_a_non_set_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="needs a SET field"):
        render(Update().delete("parts", {"a"}))


def test_add_on_a_nested_path_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="top-level"):
        render(Update().add("attrs.n", 1))


def test_update_expression_over_4kb_is_rejected() -> None:
    update = Update()
    for i in range(300):
        update = update.set(f"attrs.k{i}", i)
    with pytest.raises(ExpressionError, match="4096"):
        render(update)


def test_updates_with_equal_actions_are_equal() -> None:
    assert Update().set("label", "x") == Update().set("label", "x")
    assert Update().set("label", "x") != Update().set("note", "x")


def test_versioned_model_fields_are_checked_like_any_other() -> None:
    ph = Placeholders(spec=spec_of(Account))
    with pytest.raises(ExpressionError, match="stores N"):
        render_update(Update().set("balance", "lots"), ph)
