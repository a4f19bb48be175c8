"""Transactions: up to 100 writes applied all-or-nothing, and consistent multi-item reads.

```python
async with db.transaction() as tx:
    tx.update(account, changes=Update().increment("balance", -500))
    tx.put(Ledger(entry_id="e1", account_id=account.account_id, amount=-500))
    tx.check(Limits, "eu", condition=attr("frozen") == False)
# committed here; if any condition failed nothing was written
```

Every transaction carries a ``ClientRequestToken`` (generated, or passed by the caller for
idempotency across retries of the *whole* operation). The client's own retries resend the
same parameters, token included, so a retried transaction applies at most once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from ._batch import Key, item_identity
from ._codec import deserialize_item
from ._errors import (
    AsyncDynamoError,
    CancellationReason,
    ConditionalCheckFailedError,
    RequestLimitError,
    TransactionCanceledError,
    TransactionFailedError,
    UsageError,
)
from ._expr import Condition
from ._item import from_item, item_size
from ._model import Model, spec_of
from ._ops import (
    PreparedWrite,
    explain_condition_failure,
    prepare_condition_check,
    prepare_delete,
    prepare_put,
    prepare_update,
    utc_time,
)
from ._update import Update

if TYPE_CHECKING:
    from ._db import DB

__all__ = ["MAX_TRANSACTION_ACTIONS", "Transaction", "TransactionFailedError", "transact_get"]

M = TypeVar("M", bound=Model)

MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_TOKEN_LENGTH = 36


def _cause(write: PreparedWrite, reason: CancellationReason) -> AsyncDynamoError | None:
    if not reason.failed:
        return None
    from ._error_table import error_from_service  # a cancelled transaction only

    error = error_from_service(reason.code, reason.message, operation="TransactWriteItems")
    if isinstance(error, ConditionalCheckFailedError):
        old = deserialize_item(reason.item) if reason.item else None
        return explain_condition_failure(
            write, None, old, operation="TransactWriteItems", raw_item=reason.item
        )
    return error


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _action_size(params: Mapping[str, Any]) -> int:
    size = 0
    for name, value in params.items():
        if name in ("Item", "Key", "ExpressionAttributeValues"):
            size += item_size(value)
        elif isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, Mapping):
            size += sum(len(k) + len(str(v)) for k, v in value.items())
    return size


class Transaction:
    """Collects up to 100 write actions and commits them atomically (see :meth:`DB.transaction`).

    Each action is built (and validated) when added, so misuse fails at the line that caused
    it. Two actions on one item, a 101st action or more than 4 MB are rejected before sending.

    Attributes:
        token: the ClientRequestToken sent with the commit.
        now: the time stamped into every action's created/updated fields.
    """

    def __init__(self, db: DB, *, token: str | None = None, now: datetime | None = None) -> None:
        if token is not None and (
            not 1 <= len(token) <= MAX_TOKEN_LENGTH or _has_lone_surrogate(token)
        ):
            raise UsageError(
                f"a transaction token is 1 to {MAX_TOKEN_LENGTH} characters of valid text"
            )
        self._db = db
        self.token = token if token is not None else str(uuid.uuid4())
        # One time for every action: a handler that rebuilds the transaction after a retry,
        # with the same token and now, sends the same parameters (same token, same request).
        self.now = utc_time(now) if now is not None else db.now()
        self._writes: list[PreparedWrite] = []
        self._targets: set[Any] = set()
        self._size = 0
        self._committed = False
        # Writes with their Encrypted values sealed, done once: a commit sent again under the
        # same token must carry the same parameters (fresh nonces would differ).
        self._sealed: list[PreparedWrite] | None = None

    def __len__(self) -> int:
        return len(self._writes)

    def _add(self, write: PreparedWrite) -> None:
        if self._committed:
            raise UsageError("this transaction was committed; start a new one")
        if self._sealed is not None:
            raise UsageError("this transaction was already sent; start a new one to add actions")
        self._db._crypto(write.spec, write.table)  # no KMS key for an encrypted model: fail now
        if len(self._writes) >= MAX_TRANSACTION_ACTIONS:
            raise RequestLimitError(
                f"a transaction takes at most {MAX_TRANSACTION_ACTIONS} actions; split the work"
            )
        identity = item_identity(write.table, write.key)
        if identity in self._targets:
            raise UsageError(
                f"two actions of one transaction target {write.spec.model.__name__} "
                f"{write.key}; DynamoDB rejects that, combine them into one action"
            )
        size = _action_size(write.params)
        if self._size + size > MAX_TRANSACTION_BYTES:
            raise RequestLimitError("a transaction carries at most 4 MB; split the work")
        self._targets.add(identity)
        self._size += size
        self._writes.append(write)

    def put(
        self,
        item: M,
        *,
        overwrite: bool = False,
        condition: Condition | None = None,
        skip_version_check: bool = False,
    ) -> M:
        """Add a put (arguments as :meth:`DB.put`); returns the item as it will be stored."""
        spec, table = spec_of(type(item)), self._db.table_name(type(item))
        write = prepare_put(
            spec,
            table,
            item,
            overwrite=overwrite,
            condition=condition,
            now=self.now,
            skip_version_check=skip_version_check,
        )
        self._add(write)
        stored: M = write.stored
        return stored

    def update(
        self,
        target: M | type[M],
        /,
        *key: Any,
        changes: Update,
        condition: Condition | None = None,
        expected_version: int | None = None,
        create_if_missing: bool = False,
        skip_version_check: bool = False,
    ) -> None:
        """Add an update (arguments as :meth:`DB.update`)."""
        spec, table, wire_key, expected_version = self._db._target(
            target, key, expected_version, skip_version_check=skip_version_check
        )
        self._add(
            prepare_update(
                spec,
                table,
                wire_key,
                changes,
                condition=condition,
                expected_version=expected_version,
                create_if_missing=create_if_missing,
                now=self.now,
            )
        )

    def delete(
        self,
        target: M | type[M],
        /,
        *key: Any,
        condition: Condition | None = None,
        expected_version: int | None = None,
        skip_version_check: bool = False,
    ) -> None:
        """Add a delete (arguments as :meth:`DB.delete`)."""
        spec, table, wire_key, expected_version = self._db._target(
            target, key, expected_version, skip_version_check=skip_version_check
        )
        self._add(
            prepare_delete(
                spec, table, wire_key, condition=condition, expected_version=expected_version
            )
        )

    def check(self, target: M | type[M], /, *key: Any, condition: Condition) -> None:
        """Add a condition on an item that the transaction does not write."""
        # A check carries only the caller's condition, so it needs no version.
        spec, table, wire_key, _ = self._db._target(target, key, skip_version_check=True)
        self._add(prepare_condition_check(spec, table, wire_key, condition))

    def request(self) -> dict[str, Any]:
        """The TransactWriteItems parameters this transaction sends.

        Values of ``Encrypted`` fields appear here as given; :meth:`commit` seals them.
        """
        return self._request(self._writes)

    def _request(self, writes: list[PreparedWrite]) -> dict[str, Any]:
        if not writes:
            raise UsageError("a transaction needs at least one action")
        actions = []
        for write in writes:
            body = dict(write.params)
            if "ConditionExpression" in body:
                # The stored item comes back on failure, so a cause can say e.g. which version won.
                body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            actions.append({write.kind.value: body})
        return {"TransactItems": actions, "ClientRequestToken": self.token}

    async def commit(self) -> None:
        """Apply every action, or none.

        A commit that failed without an answer (a transport error, the deadline) may be
        committed again: the same token makes DynamoDB apply it at most once.

        Raises:
            TransactionFailedError: a condition or another action failed (``causes[i]``).
            UsageError: the transaction is empty or already committed.
        """
        if self._committed:
            raise UsageError("this transaction was already committed")
        if self._sealed is None:
            self._sealed = await self._seal()
        params = self._request(self._sealed)
        try:
            await self._db.client.call("TransactWriteItems", params)
        except TransactionCanceledError as exc:
            raise self._explain(exc) from exc
        self._committed = True

    async def _seal(self) -> list[PreparedWrite]:
        sealed: list[PreparedWrite] = []
        for write in self._writes:
            crypto = self._db._crypto(write.spec, write.table)
            sealed.append(write if crypto is None else await crypto.seal_write(write))
        return sealed

    def _explain(self, exc: TransactionCanceledError) -> TransactionFailedError:
        causes: list[AsyncDynamoError | None] = [None] * len(self._writes)
        for index, (write, reason) in enumerate(zip(self._writes, exc.reasons, strict=False)):
            causes[index] = _cause(write, reason)
        described = [
            f"action {i} ({self._writes[i].kind.value} {self._writes[i].spec.model.__name__}): "
            f"{type(c).__name__}: {c}"
            for i, c in enumerate(causes)
            if c is not None
        ]
        return TransactionFailedError(
            "transaction cancelled; " + ("; ".join(described) or exc.message),
            reasons=exc.reasons,
            causes=causes,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.commit()


async def transact_get(db: DB, keys: Sequence[Key[M]]) -> list[M | None]:
    """Read up to 100 items as one consistent snapshot (see :meth:`DB.transact_get`)."""
    if not keys:
        return []
    if len(keys) > MAX_TRANSACTION_ACTIONS:
        raise RequestLimitError(
            f"transact_get takes at most {MAX_TRANSACTION_ACTIONS} keys, got {len(keys)}"
        )
    actions = []
    seen: set[Any] = set()
    for key in keys:
        _, wire = key.wire()
        table = db.table_name(key.model)
        identity = item_identity(table, wire)
        if identity in seen:
            raise UsageError(f"{key} appears twice in one transact_get; pass it once")
        seen.add(identity)
        actions.append({"Get": {"TableName": table, "Key": wire}})
    cryptos = [db._crypto(spec_of(key.model), db.table_name(key.model)) for key in keys]
    response = await db.client.call("TransactGetItems", {"TransactItems": actions})
    raws = [
        (entry.get("Item") if entry else None) or None
        for _, entry in zip(keys, response.get("Responses", ()), strict=True)
    ]
    # Encrypted items of one model are opened together (their data keys fetched concurrently).
    groups: dict[type[Any], list[int]] = {}
    for index, (key, raw) in enumerate(zip(keys, raws, strict=True)):
        if raw is not None and cryptos[index] is not None:
            groups.setdefault(key.model, []).append(index)
    for indexes in groups.values():
        crypto = cryptos[indexes[0]]
        assert crypto is not None
        opened = await crypto.open_items([raws[i] or {} for i in indexes])
        for index, item in zip(indexes, opened, strict=True):
            raws[index] = item
    return [
        from_item(spec_of(key.model), raw) if raw else None
        for key, raw in zip(keys, raws, strict=True)
    ]
