"""``DB``: the object users hold. It resolves tables, builds requests and sends them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, overload

from ._client import Client, ConsumedCapacity, track_capacity
from ._config import Config, TransportKind
from ._db_many import ManyItems
from ._errors import ConditionalCheckFailedError, ItemNotFoundError, UsageError
from ._item import from_item, key_from_values, key_of
from ._model import Model, spec_of
from ._ops import (
    PreparedWrite,
    decode_projection,
    explain_condition_failure,
    prepare_delete,
    prepare_get,
    prepare_put,
    prepare_update,
    utc_time,
)
from ._outcome import send_write
from ._spec import TableSpec
from ._transport import Transport

if TYPE_CHECKING:
    # Imported when first used (queries, batches, transactions, schema), not on the cold path
    # of a handler whose first request is a GetItem.
    from ._cursor import CursorCodec
    from ._encryption._hooks import FieldCrypto
    from ._expr import Condition
    from ._schema import Schema
    from ._update import Update

__all__ = ["DB", "create_transport"]

M = TypeVar("M", bound=Model)


def create_transport(config: Config, *, service: str = "dynamodb") -> Transport:
    """Build the transport ``config.transport`` names (imported only when chosen)."""
    if config.transport is TransportKind.LEAN:
        from ._lean import LeanTransport

        return LeanTransport(config, service=service)
    from ._aiobotocore import AiobotocoreTransport

    return AiobotocoreTransport(config, service=service)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DB(ManyItems):
    """An asyncio DynamoDB database handle.

    ```python
    async with DB(Config(region="eu-west-1")) as db:
        payment = await db.put(Payment(payment_id="p1", amount=1250, currency="EUR"))
        again = await db.get(Payment, "p1", consistent=True)
    ```

    Args:
        config: how to reach DynamoDB; defaults to ``Config()``.
        transport: a ready transport (otherwise built from ``config`` on first use).
        clock: returns the current aware UTC time (for created/updated timestamps).
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        transport: Transport | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config or Config()
        self._transport = transport
        self._client: Client | None = None
        self._tables: dict[type[Any], str] = {}
        self._clock = clock
        self._closed = False
        self._cursors: CursorCodec | None = None
        # Field encryption's KMS client and data-key caches (created on first encrypted use);
        # the dict is shared with deadline views, never with another DB (or partner account).
        self._crypto_state: dict[Any, Any] = {}

    @cached_property
    def schema(self) -> Schema:
        """Create, ensure, describe and delete the tables of this DB's models."""
        from ._schema import Schema

        return Schema(self)

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        """The retrying client (created on first use; shares one transport)."""
        if self._client is None:
            if self._closed:
                raise UsageError("this DB is closed")
            transport = self._transport or create_transport(self.config)
            self._transport = transport
            self._client = Client(
                transport,
                self.config.retry,
                always_return_capacity=self.config.return_consumed_capacity,
            )
        return self._client

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport and its pooled connections."""
        self._closed = True
        if self._crypto_state:
            from ._encryption._hooks import close_encryption

            await close_encryption(self._crypto_state)
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        elif self._transport is not None:
            await self._transport.aclose()

    # -- tables ----------------------------------------------------------------------------------
    def table_name(self, model: type[Model]) -> str:
        """The physical table name of ``model`` under this DB's config (resolved once)."""
        name = self._tables.get(model)
        if name is None:
            spec = spec_of(model)
            name = (
                spec.table(self.config)
                if callable(spec.table)
                else self.config.table_name(spec.table)
            )
            self._tables[model] = name
        return name

    def register(self, *models: type[Model]) -> None:
        """Resolve specs and table names now, so the first request does no extra work."""
        for model in models:
            self.table_name(model)

    @contextmanager
    def track_capacity(self) -> Iterator[ConsumedCapacity]:
        """Collect consumed capacity of every call made inside the ``with`` block.

        ```python
        with db.track_capacity() as used:
            await db.put(payment)
        print(used.write_units)
        ```
        """
        with track_capacity() as tracker:
            yield tracker

    def _spec(self, model: type[Model]) -> tuple[TableSpec, str]:
        return spec_of(model), self.table_name(model)

    def _crypto(self, spec: TableSpec, table: str) -> FieldCrypto | None:
        """Sealing/opening for a model with ``Encrypted`` fields, else ``None``; raises
        EncryptionNotConfiguredError (callers ask before sending anything) without a KMS key."""
        if not spec.encrypted:
            return None
        cached = self._crypto_state.get((spec.model, table))  # never for a deadline view
        if cached is not None and not isinstance(getattr(self, "deadline", None), float):
            return cached  # type: ignore[no-any-return]
        from ._encryption._hooks import field_crypto

        return field_crypto(self, spec, table)

    async def _write(self, write: PreparedWrite, extra: Mapping[str, Any]) -> dict[str, Any]:
        params = {**write.params, **extra}
        if "ConditionExpression" in params:
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            # A lost answer is resolved (applied once, or WriteOutcomeUnknownError) there.
            return await send_write(self.client, write, params)
        except ConditionalCheckFailedError as exc:
            raise explain_condition_failure(write, exc, exc.item, raw_item=exc.raw_item) from exc

    # -- CRUD ------------------------------------------------------------------------------------
    async def put(
        self,
        item: M,
        *,
        overwrite: bool = False,
        condition: Condition | None = None,
        skip_version_check: bool = False,
    ) -> M:
        """Store ``item`` and return it as stored (version bumped, timestamps set).

        By default ``put`` only creates: if an item with the same key exists it raises
        :class:`ItemAlreadyExistsError`. ``overwrite=True`` replaces it. A versioned model
        checks its version: a stale instance raises :class:`VersionConflictError`;
        ``overwrite=True, skip_version_check=True`` replaces the stored item whatever its
        version (migrations, imports; DynamORM's create-or-update), storing the instance's
        version + 1 (a ``Compat.DYNAMORM`` model stores its version unchanged, as DynamORM
        does). ``skip_version_check`` without ``overwrite`` is a UsageError.

        The item stored is the field values ``item`` holds (not its ``model_dump()`` view).
        """
        spec, table = self._spec(type(item))
        crypto = self._crypto(spec, table)
        write = prepare_put(
            spec,
            table,
            item,
            overwrite=overwrite,
            condition=condition,
            now=self._clock(),
            skip_version_check=skip_version_check,
        )
        if crypto is not None:
            write = await crypto.seal_write(write)
        await self._write(write, {})
        stored: M = write.stored
        return stored

    @overload
    async def get(
        self,
        model: type[M],
        /,
        *key: Any,
        consistent: bool = ...,
        required: Literal[True],
        projection: None = None,
    ) -> M: ...

    @overload
    async def get(
        self,
        model: type[M],
        /,
        *key: Any,
        consistent: bool = ...,
        required: bool = ...,
        projection: None = None,
    ) -> M | None: ...

    @overload
    async def get(
        self,
        model: type[M],
        /,
        *key: Any,
        consistent: bool = ...,
        required: Literal[True],
        projection: Sequence[str],
    ) -> dict[str, Any]: ...

    @overload
    async def get(
        self,
        model: type[M],
        /,
        *key: Any,
        consistent: bool = ...,
        required: bool = ...,
        projection: Sequence[str],
    ) -> dict[str, Any] | None: ...

    async def get(
        self,
        model: type[M],
        /,
        *key: Any,
        consistent: bool = False,
        required: bool = False,
        projection: Sequence[str] | None = None,
    ) -> M | dict[str, Any] | None:
        """Read one item by its key (partition, then sort key if the model has one).

        Args:
            consistent: strongly consistent read.
            required: raise :class:`ItemNotFoundError` instead of returning ``None``.
            projection: return only these fields, as a ``{field: value}`` dict.
        """
        spec, table = self._spec(model)
        crypto = self._crypto(spec, table)
        wire_key = key_from_values(spec, *key)
        params = prepare_get(spec, table, wire_key, consistent=consistent, projection=projection)
        response = await self.client.call("GetItem", params)
        raw = response.get("Item")
        if not raw:
            if required:
                raise ItemNotFoundError(
                    f"no {model.__name__} with key {key!r}",
                    model=model.__name__,
                    key={f.name: v for f, v in zip(spec.key_fields, key, strict=False)},
                )
            return None
        if projection is not None:
            return decode_projection(spec, raw)
        if crypto is not None:
            raw = await crypto.open_item(raw)
        found: M = from_item(spec, raw)
        return found

    def _target(
        self,
        target: M | type[M],
        key: tuple[Any, ...],
        expected_version: int | None = None,
        *,
        skip_version_check: bool = False,
    ) -> tuple[TableSpec, str, Any, int | None]:
        """Spec, table, wire key and the version to check for a class+key or an instance.

        An instance of a versioned model brings its own version to check, unless the caller
        gave ``expected_version`` explicitly. A versioned model addressed by class and key needs
        ``expected_version``, or ``skip_version_check=True`` to say a blind write is intended.
        """
        if isinstance(target, type):
            spec, table = self._spec(target)
            if spec.version is not None and expected_version is None and not skip_version_check:
                raise UsageError(
                    f"{target.__name__} is versioned: pass expected_version=..., or the instance "
                    "you read, so the write checks it; or skip_version_check=True for a blind "
                    "write (the version is still bumped)"
                )
            return spec, table, key_from_values(spec, *key), expected_version
        if key:
            raise UsageError("pass either a model instance or a model class with its key, not both")
        spec, table = self._spec(type(target))
        if spec.version is not None and expected_version is None and not skip_version_check:
            expected_version = int(getattr(target, spec.version.name))
        return spec, table, key_of(spec, target), expected_version

    async def update(
        self,
        target: M | type[M],
        /,
        *key: Any,
        changes: Update,
        condition: Condition | None = None,
        expected_version: int | None = None,
        create_if_missing: bool = False,
        skip_version_check: bool = False,
    ) -> M:
        """Apply ``changes`` to one item atomically and return the item as now stored.

        ``target`` is a model class followed by the key values, or a model instance (whose key,
        and version for a versioned model, are used). The item must exist unless
        ``create_if_missing``: otherwise :class:`ItemNotFoundError`. A versioned model's
        version is checked (the instance's, or ``expected_version``) and bumped in the same
        request; ``skip_version_check=True`` bumps it without checking (e.g. an atomic
        ``increment`` that does not depend on what was read).
        """
        spec, table, wire_key, expected_version = self._target(
            target, key, expected_version, skip_version_check=skip_version_check
        )
        crypto = self._crypto(spec, table)
        write = prepare_update(
            spec,
            table,
            wire_key,
            changes,
            condition=condition,
            expected_version=expected_version,
            create_if_missing=create_if_missing,
            now=self._clock(),
        )
        if crypto is not None:
            write = await crypto.seal_write(write)
        response = await self._write(write, {"ReturnValues": "ALL_NEW"})
        attributes = response["Attributes"]
        if crypto is not None:
            attributes = await crypto.open_item(attributes)
        updated: M = from_item(spec, attributes)
        return updated

    async def delete(
        self,
        target: M | type[M],
        /,
        *key: Any,
        condition: Condition | None = None,
        expected_version: int | None = None,
        skip_version_check: bool = False,
    ) -> M | None:
        """Delete one item; return it as it was, or ``None`` if there was none.

        A versioned model's version is checked (the instance's, or ``expected_version``)
        unless ``skip_version_check=True``.
        """
        spec, table, wire_key, expected_version = self._target(
            target, key, expected_version, skip_version_check=skip_version_check
        )
        crypto = self._crypto(spec, table)
        write = prepare_delete(
            spec, table, wire_key, condition=condition, expected_version=expected_version
        )
        response = await self._write(write, {"ReturnValues": "ALL_OLD"})
        old = response.get("Attributes")
        if not old:
            return None
        if crypto is not None:
            old = await crypto.open_item(old)
        deleted: M = from_item(spec, old)
        return deleted

    async def reencrypt(self, target: M | type[M], /, *key: Any) -> M:
        """Re-seal an item's ``Encrypted`` fields under the current KMS key and data key.

        ``target`` is an instance, or a model class and its key. Only the encrypted attributes
        are rewritten, each only if it still holds the value read; version and timestamps are
        left alone. See docs/encryption.md (rotation).

        Raises:
            ItemNotFoundError: no item under that key.
            UsageError: the model has no ``Encrypted`` fields.
        """
        from ._encryption._hooks import reencrypt

        spec, table, wire_key, _ = self._target(target, key, skip_version_check=True)
        item: M = await reencrypt(self, spec, table, wire_key)
        return item

    def now(self) -> datetime:
        """The current time on this DB's clock, as an aware ``datetime.timezone.utc`` time."""
        return utc_time(self._clock())
