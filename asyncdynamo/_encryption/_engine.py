"""``FieldEncryption``: seal and open the encrypted attributes of items, one engine per DB."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from .._client import Client
from .._codec import AttributeValue
from .._compat import Compat, EnvelopeFormat
from .._config import DataKeyCachePolicy
from .._errors import AsyncDynamoError, DecryptionFailedError, EncryptionNotConfiguredError
from .._spec import FieldSpec, TableSpec
from . import _aead
from ._cache import DataKey, KeyCache
from ._format import Envelope, binding, header, key_binding
from ._kms import decrypt_data_key, encryption_context, generate_data_key
from ._plaintext import decode_value, encode_value

__all__ = ["MAX_CONCURRENT_KEY_LOADS", "FieldEncryption", "kms_key_id"]

MAX_CONCURRENT_KEY_LOADS = 8
"""KMS Decrypt calls one read makes at once (distinct data keys are few: usually one each)."""


def kms_key_id(spec: TableSpec, default: str | None) -> str:
    """The KMS key that seals ``spec``'s model: its ``__kms_key_id__``, else the DB's."""
    key_id = getattr(spec.model, "__kms_key_id__", None) or default
    if not key_id:
        names = ", ".join(f.name for f in spec.encrypted)
        raise EncryptionNotConfiguredError(
            f"{spec.model.__name__} has Encrypted fields ({names}) but no KMS key is configured: "
            "set Config(kms_key_id=...) or __kms_key_id__ on the model. Nothing was sent; "
            "encrypted fields are never stored or read in clear",
            model=spec.model.__name__,
        )
    return str(key_id)


def _data_key(key_arn: str, encrypted_key: bytes, plaintext: bytes) -> DataKey:
    return DataKey(
        key_arn=key_arn,
        encrypted_key=encrypted_key,
        header=header(key_arn, encrypted_key),
        cipher=_aead.new_cipher(plaintext),
        material=bytearray(plaintext),
    )


def primary_key(spec: TableSpec, item: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    """The primary-key attributes of a stored item (what every encrypted value is bound to)."""
    key: dict[str, AttributeValue] = {}
    for field in spec.key_fields:
        value = item.get(field.attribute)
        if value is None:
            raise DecryptionFailedError(
                f"a {spec.model.__name__} item without its key attribute {field.attribute!r} "
                "cannot be decrypted (its encrypted values are bound to the key)"
            )
        key[field.attribute] = value
    return key


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if isinstance(exc, AsyncDynamoError):
            return exc
    return group.exceptions[0]


class FieldEncryption:
    """Seals and opens encrypted attributes with KMS data keys cached per the policy.

    The KMS client is passed to each call (a DB's own, or one bound to a Lambda deadline), so
    one engine, and its caches, serve a DB and all its deadline views.
    """

    def __init__(self, default_key_id: str | None, policy: DataKeyCachePolicy) -> None:
        self.default_key_id = default_key_id
        self.sealing = KeyCache(policy, count_uses=True)
        self.opening = KeyCache(policy, count_uses=False)

    # -- sealing -----------------------------------------------------------------------------
    async def sealing_key(self, kms: Client, key_id: str, table: str, attribute: str) -> DataKey:
        """The data key that seals ``table.attribute`` now (a new one from KMS when due)."""

        async def load() -> DataKey:
            context = encryption_context(table, attribute)
            plaintext, encrypted, arn = await generate_data_key(kms, key_id, context)
            # Reading back what this DB wrote needs no KMS Decrypt for this data key.
            self.opening.put(
                (encrypted, arn, table, attribute), _data_key(arn, encrypted, plaintext)
            )
            return _data_key(arn, encrypted, plaintext)

        return await self.sealing.get((key_id, table, attribute), load)

    @staticmethod
    def seal_with(
        data_key: DataKey,
        table: str,
        attribute: str,
        key: Mapping[str, AttributeValue],
        value: AttributeValue,
        key_part: bytes | None = None,
    ) -> AttributeValue:
        """The stored ``{"B": envelope}`` of one value (see ``_format`` for the layout)."""
        nonce = _aead.new_nonce()
        aad = data_key.header + binding(table, attribute, key, key_part)
        sealed = _aead.seal(data_key.cipher, nonce, encode_value(value), aad)
        return {"B": data_key.header + nonce + sealed}

    async def seal_values(
        self,
        kms: Client,
        spec: TableSpec,
        table: str,
        key: Mapping[str, AttributeValue],
        values: Mapping[str, AttributeValue],
    ) -> dict[str, AttributeValue]:
        """Seal ``{attribute: value}`` of one item; NULL (``None``) stays NULL."""
        key_id = kms_key_id(spec, self.default_key_id)
        if getattr(spec.model, "__envelope_format__", None) == EnvelopeFormat.DYNAMORM:
            from .._dms._sealing import seal_dynamorm_values

            return await seal_dynamorm_values(self, kms, key_id, table, values)
        sealed: dict[str, AttributeValue] = {}
        key_part = key_binding(key)
        for attribute, value in values.items():
            if "NULL" in value:
                sealed[attribute] = value
                continue
            data_key = await self.sealing_key(kms, key_id, table, attribute)
            sealed[attribute] = self.seal_with(data_key, table, attribute, key, value, key_part)
        return sealed

    async def seal_item(
        self, kms: Client, spec: TableSpec, table: str, item: Mapping[str, AttributeValue]
    ) -> dict[str, AttributeValue]:
        """A copy of ``item`` with every encrypted attribute sealed."""
        values = {f.attribute: item[f.attribute] for f in spec.encrypted if f.attribute in item}
        if not values:
            return dict(item)
        sealed = await self.seal_values(kms, spec, table, primary_key(spec, item), values)
        return {**item, **sealed}

    # -- opening -----------------------------------------------------------------------------
    async def open_items(
        self,
        kms: Client,
        spec: TableSpec,
        table: str,
        items: Sequence[Mapping[str, AttributeValue]],
    ) -> list[dict[str, AttributeValue]]:
        """Copies of ``items`` with every encrypted attribute opened.

        The distinct data keys are fetched first, concurrently (at most
        :data:`MAX_CONCURRENT_KEY_LOADS` KMS calls at once); then every value is opened.

        Raises:
            DecryptionFailedError: a value is damaged, moved, or stored in clear.
            KMSUnavailableError: KMS could not be reached (retryable).
        """
        opened: frozenset[tuple[int, str]] = frozenset()
        if spec.compat is Compat.DYNAMORM:
            # DynamORM's envelopes (bound to the attribute only) are read for DynamORM models
            # alone: a native model never accepts the weaker binding.
            from .._dms._sealing import open_dynamorm_envelopes

            items, opened = await open_dynamorm_envelopes(self, kms, spec, table, items)
        found = list(self._envelopes(spec, table, items, opened))
        keys: dict[Hashable, DataKey] = {}
        missing: dict[Hashable, tuple[Envelope, str]] = {}
        for _, field, envelope in found:
            cache_key = (envelope.encrypted_key, envelope.key_arn, table, field.attribute)
            if cache_key in keys or cache_key in missing:
                continue
            cached = self.opening.peek(cache_key)
            if cached is not None:
                keys[cache_key] = cached
            else:
                missing[cache_key] = (envelope, field.attribute)
        if missing:
            keys.update(await self._load_opening_keys(kms, table, missing))
        out = [dict(item) for item in items]
        key_parts: dict[int, bytes] = {}
        for index, field, envelope in found:
            cache_key = (envelope.encrypted_key, envelope.key_arn, table, field.attribute)
            data_key = keys[cache_key]
            item = out[index]
            key_part = key_parts.get(index)
            if key_part is None:
                key_part = key_parts[index] = key_binding(primary_key(spec, item))
            aad = envelope.header + binding(table, field.attribute, {}, key_part)
            plaintext = _aead.open_sealed(data_key.cipher, envelope.nonce, envelope.ciphertext, aad)
            item[field.attribute] = decode_value(plaintext)
        return out

    def _envelopes(
        self,
        spec: TableSpec,
        table: str,
        items: Sequence[Mapping[str, AttributeValue]],
        opened: frozenset[tuple[int, str]] = frozenset(),
    ) -> Iterable[tuple[int, FieldSpec, Envelope]]:
        for index, item in enumerate(items):
            for field in spec.encrypted:
                value = item.get(field.attribute)
                if value is None or "NULL" in value or (index, field.attribute) in opened:
                    continue
                blob = value.get("B")
                if blob is None:
                    ((tag, _),) = value.items()
                    raise DecryptionFailedError(
                        f"{spec.model.__name__}.{field.name} is stored in clear (type {tag}) "
                        "in an item of this Encrypted field; refusing to read it"
                    )
                yield index, field, Envelope.parse(blob)

    async def _load_opening_keys(
        self, kms: Client, table: str, missing: Mapping[Hashable, tuple[Envelope, str]]
    ) -> dict[Hashable, DataKey]:
        limit = asyncio.Semaphore(MAX_CONCURRENT_KEY_LOADS)
        loaded: dict[Hashable, DataKey] = {}

        async def one(cache_key: Hashable, envelope: Envelope, attribute: str) -> None:
            async def load() -> DataKey:
                context = encryption_context(table, attribute)
                plaintext = await decrypt_data_key(
                    kms, envelope.encrypted_key, envelope.key_arn, context
                )
                return _data_key(envelope.key_arn, envelope.encrypted_key, plaintext)

            async with limit:
                loaded[cache_key] = await self.opening.get(cache_key, load)

        if len(missing) == 1:
            ((cache_key, (envelope, attribute)),) = missing.items()
            await one(cache_key, envelope, attribute)
            return loaded
        try:
            async with asyncio.TaskGroup() as group:
                for cache_key, (envelope, attribute) in missing.items():
                    group.create_task(one(cache_key, envelope, attribute))
        except BaseExceptionGroup as failure:
            raise _first_error(failure) from None
        return loaded

    def clear(self) -> None:
        """Drop every cached data key."""
        self.sealing.clear()
        self.opening.clear()
