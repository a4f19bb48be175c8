"""DynamORM envelopes inside asyncdynamo's field encryption (``asyncdynamo._encryption``).

Reading: a ``Compat.DYNAMORM`` model opens DynamORM envelope maps (see :mod:`._envelope`) as well
as asyncdynamo's own values. Writing: a model with ``__envelope_format__ =
EnvelopeFormat.DYNAMORM`` seals DynamORM envelopes, so Go services can read them; otherwise
asyncdynamo's format is written. Data keys come from the same KMS client and caches as
asyncdynamo's, but without an encryption context (DynamORM's ``Decrypt`` sends none) and under
separate cache entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from .._codec import AttributeValue
from .._errors import DecryptionFailedError
from .._spec import TableSpec
from ._envelope import DmsEnvelope, envelope_aad, is_envelope, parse_envelope, plaintext_of
from ._envelope import value_of_plaintext as _value_of_plaintext
from ._errors import InvalidEnvelopeError

if TYPE_CHECKING:
    from .._client import Client
    from .._encryption._cache import DataKey
    from .._encryption._engine import FieldEncryption

__all__ = ["open_dynamorm_envelopes", "seal_dynamorm_values"]

_NO_CONTEXT: Mapping[str, str] = {}


def _cache_key(encrypted_key: bytes, table: str, attribute: str) -> tuple[object, ...]:
    # ``None`` where asyncdynamo's entries hold the key ARN: the two never share an entry.
    return (encrypted_key, None, table, attribute)


async def _opening_key(kms: Client, key_id: str, encrypted: bytes) -> DataKey:
    from .._encryption._engine import _data_key
    from .._encryption._kms import decrypt_data_key

    plaintext = await decrypt_data_key(kms, encrypted, key_id, _NO_CONTEXT)
    return _data_key(key_id, encrypted, plaintext)


async def open_dynamorm_envelopes(
    engine: FieldEncryption,
    kms: Client,
    spec: TableSpec,
    table: str,
    items: Sequence[Mapping[str, AttributeValue]],
) -> tuple[list[dict[str, AttributeValue]], frozenset[tuple[int, str]]]:
    """``items`` with their DynamORM envelopes opened, and which ``(index, attribute)`` were.

    Raises:
        DecryptionFailedError: an envelope is malformed, or does not open (altered, moved to
            another attribute, another key).
    """
    from .._encryption import _aead
    from .._encryption._engine import kms_key_id

    out = [dict(item) for item in items]
    opened: set[tuple[int, str]] = set()
    key_id: str | None = None
    for index, item in enumerate(out):
        for field in spec.encrypted:
            value = item.get(field.attribute)
            if value is None or not is_envelope(value):
                continue
            attribute = field.attribute
            if key_id is None:
                key_id = kms_key_id(spec, engine.default_key_id)
            try:
                envelope = parse_envelope(value, attribute)
            except InvalidEnvelopeError as exc:
                raise DecryptionFailedError(
                    f"{spec.model.__name__}.{field.name}: {exc}", operation="Decrypt"
                ) from exc

            data_key = await engine.opening.get(
                _cache_key(envelope.encrypted_key, table, attribute),
                partial(_opening_key, kms, key_id, envelope.encrypted_key),
            )
            plaintext = _aead.open_sealed(
                data_key.cipher, envelope.nonce, envelope.ciphertext, envelope_aad(attribute)
            )
            try:
                item[attribute] = _value_of_plaintext(plaintext, attribute)
            except InvalidEnvelopeError as exc:
                raise DecryptionFailedError(
                    f"{spec.model.__name__}.{field.name}: {exc}", operation="Decrypt"
                ) from exc
            opened.add((index, attribute))
    return out, frozenset(opened)


async def seal_dynamorm_values(
    engine: FieldEncryption,
    kms: Client,
    key_id: str,
    table: str,
    values: Mapping[str, AttributeValue],
) -> dict[str, AttributeValue]:
    """Seal ``{attribute: value}`` as DynamORM envelopes; NULL (``None``) stays NULL."""
    from .._encryption import _aead
    from .._encryption._engine import _data_key
    from .._encryption._kms import generate_data_key

    sealed: dict[str, AttributeValue] = {}
    for attribute, value in values.items():
        if "NULL" in value:
            sealed[attribute] = value
            continue

        async def load(attribute: str = attribute) -> DataKey:
            plaintext, encrypted, arn = await generate_data_key(kms, key_id, _NO_CONTEXT)
            # Reading back what this DB wrote needs no KMS Decrypt for this data key.
            engine.opening.put(
                _cache_key(encrypted, table, attribute), _data_key(arn, encrypted, plaintext)
            )
            return _data_key(arn, encrypted, plaintext)

        data_key = await engine.sealing.get((key_id, table, attribute, "dynamorm"), load)
        nonce = _aead.new_nonce()
        ciphertext = _aead.seal(
            data_key.cipher, nonce, plaintext_of(value), envelope_aad(attribute)
        )
        sealed[attribute] = DmsEnvelope(
            data_key.encrypted_key, nonce, ciphertext
        ).to_attribute_value()
    return sealed
