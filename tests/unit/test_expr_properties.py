"""Property-based checks: placeholders always resolve, never collide, and are all used."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from asyncdynamo import Update, attr, spec_of
from asyncdynamo._expr import (
    And,
    Condition,
    Not,
    Or,
    Placeholders,
    render_condition,
)
from asyncdynamo._update import render_update
from tests.integration.query_models import Event

EVENT = spec_of(Event)
NAME_TOKEN = re.compile(r"#[A-Za-z0-9_]+")
VALUE_TOKEN = re.compile(r":[A-Za-z0-9_]+")

texts = st.text(min_size=1, max_size=8)
numbers = st.integers(min_value=-(10**12), max_value=10**12)

leaves: st.SearchStrategy[Condition] = st.one_of(
    st.builds(lambda v: attr("label") == v, texts),
    st.builds(lambda v: attr("label") != v, texts),
    st.builds(lambda v: attr("weight") < v, numbers),
    st.builds(lambda v: attr("weight") >= v, numbers),
    st.builds(lambda a, b: attr("weight").between(a, b), numbers, numbers),
    st.builds(lambda vs: attr("kind").is_in(vs), st.lists(texts, min_size=1, max_size=5)),
    st.builds(lambda v: attr("label").begins_with(v), texts),
    st.builds(lambda v: attr("tags").contains(v), texts),
    st.builds(lambda n: attr("parts").size() > n, st.integers(0, 50)),
    st.builds(lambda i, v: attr("parts")[i] == v, st.integers(0, 9), texts),
    st.builds(lambda k, v: attr("attrs").key(k) == v, texts.filter(lambda t: "." not in t), texts),
    st.just(attr("note").exists()),
    st.just(attr("note").not_exists()),
    st.just(attr("weight") == attr("seq")),
)


def combine(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(many.map(And), many.map(Or), children.map(Not))


conditions = st.recursive(leaves, combine, max_leaves=12)

updates = st.lists(
    st.one_of(
        st.builds(lambda v: ("set", "label", v), texts),
        st.builds(lambda v: ("increment", "weight", v), numbers),
        st.builds(lambda v: ("append", "parts", [v]), texts),
        st.just(("remove", "note", None)),
        st.builds(lambda v: ("add", "tags", {v}), texts),
        st.builds(lambda k, v: ("set", f"attrs.{k}", v), st.sampled_from("abc"), texts),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda action: action[1].split(".")[0],
)


def build_update(actions: list[tuple[str, str, Any]]) -> Update:
    update = Update()
    for op, path, value in actions:
        update = update.remove(path) if op == "remove" else getattr(update, op)(path, value)
    return update


def assert_consistent(texts_sent: list[str], ph: Placeholders) -> None:
    used_names = {t for text in texts_sent for t in NAME_TOKEN.findall(text)}
    used_values = {t for text in texts_sent for t in VALUE_TOKEN.findall(text)}
    assert used_names == set(ph.names), "every #name used is defined, every defined one used"
    assert used_values == set(ph.values), "every :value used is defined, every defined one used"
    assert len(set(ph.names.values())) == len(ph.names), "one placeholder per attribute name"


@given(conditions)
def test_condition_placeholders_are_defined_used_and_unique(condition: Condition) -> None:
    ph = Placeholders(spec=EVENT)
    text = render_condition(condition, ph)
    assert_consistent([text], ph)


@given(conditions)
def test_rendering_is_deterministic(condition: Condition) -> None:
    first, second = Placeholders(spec=EVENT), Placeholders(spec=EVENT)
    assert render_condition(condition, first) == render_condition(condition, second)
    assert (first.names, first.values) == (second.names, second.values)


@given(updates, conditions)
def test_update_and_condition_share_placeholders_without_collisions(
    actions: list[tuple[str, str, Any]], condition: Condition
) -> None:
    ph = Placeholders(spec=EVENT)
    update_text = render_update(build_update(actions), ph)
    condition_text = render_condition(condition, ph)
    assert_consistent([update_text, condition_text], ph)


@given(conditions)
def test_top_level_placeholders_name_model_attributes(condition: Condition) -> None:
    ph = Placeholders(spec=EVENT)
    text = render_condition(condition, ph)
    tops = {ph.names[t] for t in re.findall(r"(?<![.\w#])#\w+", text)}
    assert tops <= set(EVENT.by_attribute)
