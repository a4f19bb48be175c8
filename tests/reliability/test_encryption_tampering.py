"""Sealed values moved to another item, attribute or table, or with a byte flipped: all rejected.

Unit level (the encryption engine with the fake KMS), so hypothesis can try many cases; the
integration suite (tests/integration/test_encryption.py) shows the same on the test server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncdynamo import DataKeyCachePolicy, DecryptionFailedError, spec_of
from asyncdynamo._encryption._engine import FieldEncryption
from tests.encryption_models import Card
from tests.kms_fake import FakeKms, fake_kms_client
from tests.reliability.soak import examples

CARD = spec_of(Card)
ENGINE = FieldEncryption("alias/test", DataKeyCachePolicy())
KMS = FakeKms()
ATTRIBUTES = ("pan", "holder")  # Card's two encrypted strings

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.0123456789", min_size=3, max_size=20)
_places = st.tuples(_names, st.text(min_size=1, max_size=20), st.sampled_from(ATTRIBUTES))


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _seal(table: str, card_id: str, attribute: str, value: str) -> bytes:
    kms, _ = fake_kms_client(KMS)
    key = {"card_id": {"S": card_id}}
    sealed = await ENGINE.seal_values(kms, CARD, table, key, {attribute: {"S": value}})
    return bytes(sealed[attribute]["B"])


async def _open(table: str, card_id: str, attribute: str, blob: bytes) -> Any:
    kms, _ = fake_kms_client(KMS)
    item: dict[str, Any] = {"card_id": {"S": card_id}, attribute: {"B": blob}}
    (opened,) = await ENGINE.open_items(kms, CARD, table, [item])
    return opened[attribute]


@examples(100, at_most=2000)
@given(source=_places, value=st.text(max_size=40), data=st.data())
def test_a_value_moved_to_another_table_item_or_attribute_is_rejected(
    source: tuple[str, str, str], value: str, data: st.DataObject
) -> None:
    moved = data.draw(st.sampled_from(["table", "item", "attribute", "anywhere"]))
    table, card_id, attribute = source
    if moved == "table":
        target = (data.draw(_names.filter(lambda t: t != table)), card_id, attribute)
    elif moved == "item":
        target = (
            table,
            data.draw(_places.map(lambda p: p[1]).filter(lambda c: c != card_id)),
            attribute,
        )
    elif moved == "attribute":
        target = (table, card_id, next(a for a in ATTRIBUTES if a != attribute))
    else:
        target = data.draw(_places.filter(lambda p: p != source))
    blob = _run(_seal(*source, value))

    assert _run(_open(*source, blob)) == {"S": value}
    with pytest.raises(DecryptionFailedError):
        _run(_open(*target, blob))


@examples(100, at_most=2000)
@given(place=_places, value=st.text(max_size=40), data=st.data())
def test_a_value_with_any_byte_flipped_is_rejected(
    place: tuple[str, str, str], value: str, data: st.DataObject
) -> None:
    blob = bytearray(_run(_seal(*place, value)))
    position = data.draw(st.integers(0, len(blob) - 1))
    blob[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecryptionFailedError):
        _run(_open(*place, bytes(blob)))
