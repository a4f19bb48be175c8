"""The part of ``DB`` that works on many items: queries, scans, batches and transactions.

Each builder lives in its own module (``_query``, ``_scan``, ``_batch``, ``_transact``), imported
on first use: a handler whose first request is a GetItem never loads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from ._model import Model

if TYPE_CHECKING:
    from ._batch import Key
    from ._cursor import CursorCodec
    from ._db import DB
    from ._query import Query
    from ._scan import Scan
    from ._transact import Transaction

__all__ = ["ManyItems"]

M = TypeVar("M", bound=Model)


class ManyItems:
    """The many-item methods of :class:`~asyncdynamo.DB`, which subclasses this."""

    # -- queries, scans, batches and transactions (built in _query/_scan/_batch/_transact) ---
    def _cursor_codec(self) -> CursorCodec:
        # Without Config.cursor_secret the key is random per DB: cursors then only work within
        # this process (fine inside one invocation, not for cursors handed to API clients).
        db = cast("DB", self)
        if db._cursors is None:
            from ._cursor import CursorCodec

            db._cursors = CursorCodec(db.config.cursor_secret)
        return db._cursors

    def query(self, model: type[M]) -> Query[M]:
        """A query on ``model``'s table or indexes: add ``.where(...)`` key conditions.

        ```python
        orders = db.query(Order).where(attr("customer_id") == "c1").descending()
        async for order in orders: ...
        page = await orders.page(size=20)         # Page[Order]; pass page.cursor for more
        ```
        """
        from ._query import new_query

        db = cast("DB", self)
        spec, table = db._spec(model)
        query: Query[M] = new_query(db, spec, table)
        return query

    def scan(self, model: type[M]) -> Scan[M]:
        """A scan of ``model``'s table; ``.parallel(segments)`` for a concurrent one."""
        from ._scan import new_scan

        db = cast("DB", self)
        spec, table = db._spec(model)
        scan: Scan[M] = new_scan(db, spec, table)
        return scan

    async def batch_get(
        self,
        model: type[M],
        keys: Iterable[Any],
        *,
        consistent: bool = False,
        concurrency: int = 4,
    ) -> list[M]:
        """Read many items of ``model`` by key, 100 per request, ``concurrency`` requests at once.

        Args:
            keys: each a partition value, or a ``(partition, sort)`` tuple; no duplicates.

        Returns:
            The items found, in the order of ``keys`` (missing ones are left out).

        Raises:
            UnprocessedItemsError: keys still unprocessed after every retry (``.unprocessed``).
        """
        from ._batch import batch_get

        return await batch_get(
            cast("DB", self), model, keys, consistent=consistent, concurrency=concurrency
        )

    async def batch_write(
        self,
        *,
        puts: Iterable[Model] = (),
        deletes: Iterable[Model | Key[Any]] = (),
        skip_version_check: bool = False,
        concurrency: int = 4,
    ) -> list[Model]:
        """Put and delete many items (any models), 25 per request, without conditions.

        Puts overwrite. Versioned models are refused unless ``skip_version_check=True``, since a
        batch cannot check versions. Returns the put items as stored (timestamps, version).

        Raises:
            UnprocessedItemsError: writes still unprocessed after every retry (``.unprocessed``).
        """
        from ._batch import batch_write

        return await batch_write(
            cast("DB", self),
            puts=puts,
            deletes=deletes,
            skip_version_check=skip_version_check,
            concurrency=concurrency,
        )

    def transaction(self, *, token: str | None = None, now: datetime | None = None) -> Transaction:
        """A write transaction; ``async with`` commits it when the block exits without error.

        Args:
            token: the ClientRequestToken (idempotency key); generated when not given. DynamoDB
                remembers a token for 10 minutes: the same token with the same parameters is
                applied once, with different parameters it raises
                :class:`IdempotentParameterMismatchError`.
            now: the one time stamped into every action's created/updated fields (aware);
                defaults to this DB's clock when the transaction is created. A retried handler
                that passes its own ``token`` must pass the same ``now`` too (e.g. the event's
                time), or the rebuilt transaction differs from the first.
        """
        from ._transact import Transaction

        return Transaction(cast("DB", self), token=token, now=now)

    @overload
    async def transact_get(self, keys: Sequence[Key[M]]) -> list[M | None]: ...

    @overload
    async def transact_get(self, keys: Sequence[Key[Any]]) -> list[Model | None]: ...

    async def transact_get(self, keys: Sequence[Key[Any]]) -> list[Any]:
        """Read up to 100 items (``Key(Model, partition, sort)``) as one consistent snapshot.

        Returns:
            One entry per key, in order: the model, or ``None`` where no item exists.
        """
        from ._transact import transact_get

        result: list[Any] = await transact_get(cast("DB", self), keys)
        return result
