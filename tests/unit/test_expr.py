"""Condition expressions: rendering, grouping and client-side validation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from asyncdynamo import AttributeType, ExpressionError, Path, attr, spec_of
from asyncdynamo._expr import Condition, Placeholders, render_condition
from asyncdynamo._query import condition_paths
from tests.integration.query_models import Event
from tests.models import Order

ORDER = spec_of(Order)
EVENT = spec_of(Event)


def render(condition: Condition, spec: object = ORDER) -> tuple[str, Placeholders]:
    ph = Placeholders(spec=ORDER if spec is ORDER else EVENT)
    return render_condition(condition, ph), ph


def resolved(text: str, ph: Placeholders) -> str:
    """The expression with every placeholder replaced (longest tokens first)."""
    for token in sorted(ph.names, key=len, reverse=True):
        text = text.replace(token, ph.names[token])
    for token in sorted(ph.values, key=len, reverse=True):
        text = text.replace(token, repr(ph.values[token]))
    return text


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (attr("status") == "paid", "status = {'S': 'paid'}"),
        (attr("status") != "paid", "status <> {'S': 'paid'}"),
        (attr("total") < Decimal("5"), "amt < {'N': '5'}"),
        (attr("total") <= 5, "amt <= {'N': '5'}"),
        (attr("total") > 5, "amt > {'N': '5'}"),
        (attr("total") >= 5, "amt >= {'N': '5'}"),
        (attr("total").between(1, 9), "amt BETWEEN {'N': '1'} AND {'N': '9'}"),
        (attr("status").is_in(["a", "b"]), "status IN ({'S': 'a'}, {'S': 'b'})"),
        (attr("order_id").begins_with("o-"), "begins_with(order_id, {'S': 'o-'})"),
        (attr("note").contains("x"), "contains(note, {'S': 'x'})"),
        (attr("lines").size() > 2, "size(lines) > {'N': '2'}"),
        (attr("note").exists(), "attribute_exists(note)"),
        (attr("note").not_exists(), "attribute_not_exists(note)"),
        (attr("note").is_type(AttributeType.STRING), "attribute_type(note, {'S': 'S'})"),
    ],
)
def test_each_operator_renders_through_placeholders(condition: Condition, expected: str) -> None:
    text, ph = render(condition)
    assert "status" not in text and "amt" not in text  # names only via placeholders
    assert resolved(text, ph) == expected


def test_and_or_not_keep_their_grouping() -> None:
    a, b, c = attr("status") == "a", attr("status") == "b", attr("note").exists()
    text, ph = render((a | b) & ~c)
    assert resolved(text, ph) == (
        "((status = {'S': 'a'}) OR (status = {'S': 'b'})) AND (NOT (attribute_exists(note)))"
    )


def test_chained_and_flattens_into_one_group() -> None:
    cond = (attr("status") == "a") & (attr("note") == "n") & attr("total").exists()
    text, ph = render(cond)
    assert resolved(text, ph).count("AND") == 2


def test_nested_path_and_list_index_render_each_segment() -> None:
    text, ph = render(attr("lines[2].sku") == "A")
    assert text == "#n0[2].#n1 = :v0"
    assert ph.names == {"#n0": "lines", "#n1": "sku"}


def test_path_built_with_index_and_key_matches_parsed_path() -> None:
    built = attr("lines")[0].key("sku")
    assert built.elements == Path.parse("lines[0].sku").elements


def test_renamed_field_uses_its_stored_attribute_name() -> None:
    _, ph = render(attr("total") > 1)
    assert list(ph.names.values()) == ["amt"]


def test_a_name_used_twice_gets_one_placeholder() -> None:
    text, ph = render((attr("status") == "a") | (attr("status") == "b"))
    assert len(ph.names) == 1 and text.count("#n0") == 2


def test_datetime_values_are_encoded_as_the_field_stores_them() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    _, ph = render(attr("placed_at") >= when)
    assert ph.values == {":v0": {"S": "2024-05-01T00:00:00.000000+00:00"}}


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="no field 'colour'"):
        render(attr("colour") == "red")


def test_value_of_the_wrong_type_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="stores N values"):
        render(attr("total") == "ten")


def test_comparing_fields_of_different_types_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="different types"):
        render(attr("status") == attr("total"))


def test_nested_path_into_a_scalar_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="not a document"):
        render(attr("status.inner") == "x")


def test_named_entry_of_a_list_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="is a list"):
        render(attr("lines.sku") == "x")


def test_list_index_into_a_map_field_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="is a map"):
        render(attr("attrs[0]") == "x", EVENT)


def test_negative_list_index_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="non-negative"):
        attr("lines")[-1]


@pytest.mark.parametrize("text", ["", "a..b", "[0]", "a.[0]", "a[0]b", "a.", "a[x]"])
def test_malformed_paths_are_rejected(text: str) -> None:
    with pytest.raises(ExpressionError):
        attr(text)


def test_python_and_between_conditions_is_refused() -> None:
    with pytest.raises(ExpressionError, match=r"& \| ~"):
        _ = (attr("status") == "a") and (attr("note") == "b")


def test_chained_comparison_is_refused() -> None:
    with pytest.raises(ExpressionError, match="between"):
        _ = 1 < attr("total") < 5


def test_in_with_more_than_100_values_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="at most 100"):
        render(attr("status").is_in([str(i) for i in range(101)]))


def test_in_without_values_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="at least one"):
        render(attr("status").is_in([]))


def test_expression_over_4kb_is_rejected() -> None:
    cond: Condition = attr("status") == "x"
    for _ in range(400):
        cond = cond | (attr("status") == "x")
    with pytest.raises(ExpressionError, match="4096"):
        render(cond)


def test_begins_with_needs_a_string_prefix() -> None:
    with pytest.raises(ExpressionError, match="string or bytes prefix"):
        render(attr("total").begins_with(1))


def test_size_compares_only_with_whole_numbers() -> None:
    with pytest.raises(ExpressionError, match="whole numbers"):
        render(attr("lines").size() > 1.5)


def test_condition_paths_lists_every_path_read() -> None:
    cond = (attr("status") == "a") & ~(attr("lines").size() > attr("total"))
    assert [str(p) for p in condition_paths(cond)] == ["status", "lines", "total"]


def test_without_a_spec_paths_are_used_as_attribute_names() -> None:
    ph = Placeholders()
    assert render_condition(attr("any.thing") == 1, ph) == "#n0.#n1 = :v0"
    assert ph.names == {"#n0": "any", "#n1": "thing"}
