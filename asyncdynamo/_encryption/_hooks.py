"""The entry points the DB, readers, batches and transactions call for encrypted models.

Callers reach this module only for a model that has ``Encrypted`` fields (``spec.encrypted``),
so a DB without such models never imports it, nor ``cryptography``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._client import Client
from .._codec import AttributeValue, deserialize
from .._errors import (
    ConditionalCheckFailedError,
    ItemNotFoundError,
    ItemTooLargeError,
    UsageError,
)
from .._item import check_size, from_item
from .._ops import PreparedWrite, WriteKind
from .._record import replace
from .._spec import TableSpec
from ._engine import FieldEncryption, kms_key_id

if TYPE_CHECKING:
    from .._db import DB

__all__ = ["FieldCrypto", "close_encryption", "field_crypto", "reencrypt"]

_REENCRYPT_ATTEMPTS = 3
_ENGINE = "engine"
_KMS = "kms"


def _engine(db: DB) -> FieldEncryption:
    state = db._crypto_state  # shared by a DB and its deadline views, never across accounts
    engine = state.get(_ENGINE)
    if engine is None:
        engine = FieldEncryption(db.config.kms_key_id, db.config.data_key_cache)
        state[_ENGINE] = engine
    assert isinstance(engine, FieldEncryption)
    return engine


def _kms_client(db: DB) -> Client:
    state = db._crypto_state
    client = state.get(_KMS)
    if client is None:
        if db._closed:
            raise UsageError("this DB is closed")
        from .._db import create_transport

        # The transport takes KMS's own endpoint setting (Config.kms_endpoint_url), never the
        # DynamoDB endpoint_url: a local test server or VPC endpoint is not where KMS calls go.
        client = Client(create_transport(db.config, service="kms"), db.config.retry)
        state[_KMS] = client
    assert isinstance(client, Client)
    deadline = getattr(db, "deadline", None)  # a LambdaDB deadline view bounds KMS calls too
    if isinstance(deadline, float):
        from .._lambda_client import DeadlineClient

        return DeadlineClient(client, deadline)
    return client


async def close_encryption(state: dict[Any, Any]) -> None:
    """Drop the cached data keys and close the KMS client of a DB."""
    engine = state.pop(_ENGINE, None)
    if isinstance(engine, FieldEncryption):
        engine.clear()
    client = state.pop(_KMS, None)
    state.clear()  # the per-model FieldCrypto entries hold the engine and client too
    if isinstance(client, Client):
        await client.aclose()


@dataclass(frozen=True, slots=True)
class FieldCrypto:
    """Sealing and opening for one encrypted model's table, through one DB."""

    engine: FieldEncryption
    kms: Client
    spec: TableSpec
    table: str

    async def seal_item(self, item: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
        """``item`` with its encrypted attributes sealed, checked against the 400 KB limit."""
        sealed = await self.engine.seal_item(self.kms, self.spec, self.table, item)
        try:
            check_size(self.spec, sealed)
        except ItemTooLargeError as exc:
            raise ItemTooLargeError(
                f"{exc} (after encryption, which adds about 300 bytes per encrypted field)",
                size=exc.size,
            ) from None
        return sealed

    async def seal_write(self, write: PreparedWrite) -> PreparedWrite:
        """The same write with every encrypted value in it sealed (puts and whole-value sets)."""
        if write.kind is WriteKind.PUT:
            params = {**write.params, "Item": await self.seal_item(write.params["Item"])}
            return replace(write, params=params)
        if write.kind is WriteKind.UPDATE and write.sealed_values:
            values = write.params["ExpressionAttributeValues"]
            plain = {attribute: values[token] for token, attribute in write.sealed_values.items()}
            sealed = await self.engine.seal_values(
                self.kms, self.spec, self.table, write.key, plain
            )
            new_values = dict(values)
            for token, attribute in write.sealed_values.items():
                new_values[token] = sealed[attribute]
            return replace(write, params={**write.params, "ExpressionAttributeValues": new_values})
        return write  # deletes and condition checks carry no values of encrypted fields

    async def open_item(self, item: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
        """``item`` with its encrypted attributes opened."""
        (opened,) = await self.engine.open_items(self.kms, self.spec, self.table, [item])
        return opened

    async def open_items(
        self, items: Sequence[Mapping[str, AttributeValue]]
    ) -> list[dict[str, AttributeValue]]:
        """``items`` with their encrypted attributes opened (data keys fetched concurrently)."""
        if not items:
            return []
        return await self.engine.open_items(self.kms, self.spec, self.table, items)


def field_crypto(db: DB, spec: TableSpec, table: str) -> FieldCrypto:
    """Sealing and opening for ``spec``'s model on ``db``.

    Raises:
        EncryptionNotConfiguredError: no KMS key for this model (nothing has been sent).
    """
    engine = _engine(db)
    kms_key_id(spec, engine.default_key_id)  # fail closed before anything is sent
    client = _kms_client(db)
    crypto = FieldCrypto(engine, client, spec, table)
    if client is db._crypto_state.get(_KMS):  # not bound to a deadline: reusable
        db._crypto_state[(spec.model, table)] = crypto
    return crypto


async def reencrypt(db: DB, spec: TableSpec, table: str, key: dict[str, AttributeValue]) -> Any:
    """Re-seal one item's encrypted values under the current key; the item as a model.

    Each attempt reads the item (consistently), opens its values (so they are known to be
    intact), seals them again and writes them with a condition that each stored value is still
    the one read: a writer that changed the item in between wins (its values were sealed under
    the current key anyway) and the item is read again. Nothing else in the item changes; the
    version and timestamps are not bumped (the plaintext is the same).
    """
    crypto = db._crypto(spec, table)
    if crypto is None:
        raise UsageError(f"{spec.model.__name__} has no Encrypted fields to re-encrypt")
    failure: ConditionalCheckFailedError | None = None
    for _ in range(_REENCRYPT_ATTEMPTS):
        read = {"TableName": table, "Key": key, "ConsistentRead": True}
        raw = (await db.client.call("GetItem", read)).get("Item")
        if not raw:
            raise ItemNotFoundError(
                f"no {spec.model.__name__} to re-encrypt under that key",
                model=spec.model.__name__,
                key={f.name: deserialize(key[f.attribute]) for f in spec.key_fields},
            )
        opened = await crypto.open_item(raw)
        plain = {
            f.attribute: opened[f.attribute]
            for f in spec.encrypted
            if f.attribute in opened and "NULL" not in opened[f.attribute]
        }
        if not plain:
            return from_item(spec, opened)
        sealed = await crypto.engine.seal_values(crypto.kms, spec, table, key, plain)
        names: dict[str, str] = {}
        values: dict[str, AttributeValue] = {}
        sets: list[str] = []
        checks: list[str] = []
        for position, attribute in enumerate(plain):
            names[f"#e{position}"] = attribute
            values[f":new{position}"] = sealed[attribute]
            values[f":old{position}"] = raw[attribute]
            sets.append(f"#e{position} = :new{position}")
            # Only if the value is still the one read and opened: never overwrite a newer one.
            checks.append(f"#e{position} = :old{position}")
        params = {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": " AND ".join(checks),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        try:
            response = await db.client.call("UpdateItem", params)
        except ConditionalCheckFailedError as exc:
            failure = exc
            continue
        return from_item(spec, await crypto.open_item(response["Attributes"]))
    assert failure is not None
    raise failure
