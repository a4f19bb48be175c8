"""Batch reads and writes: chunked, concurrent, and never losing an unprocessed item.

DynamoDB may leave part of a batch unprocessed (throttling, partition limits). Those keys/items
are retried with the DB's backoff (full jitter), bounded by the retry policy's attempts and by
the current deadline; whatever is still left is raised as :class:`UnprocessedItemsError`
carrying exactly the leftovers, so a caller can persist or retry them. A chunk whose request
fails outright (throttled past the retry policy, a service error) does not stop the other
chunks: its entries become leftovers too, and the error is the ``UnprocessedItemsError``'s
cause.

The caller's deadline passing mid-batch raises :class:`BatchDeadlineExceededError`
(:class:`BatchLambdaTimeoutError` for a Lambda deadline) carrying what is not done: the entries
never sent, those DynamoDB left unprocessed, and those in flight at the deadline (``in_flight``:
sent, outcome unknown). Everything else was written (or read, ``partial``).

Batch writes cannot carry conditions. A versioned model's optimistic locking would therefore be
bypassed silently, so ``batch_write`` refuses versioned models unless ``skip_version_check=True``
says the blind write is intended (the version is still bumped, but not checked).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._client import current_deadline
from ._codec import AttributeValue
from ._compat import Compat, put_version
from ._errors import (
    AsyncDynamoError,
    BatchDeadlineExceededError,
    BatchLambdaTimeoutError,
    DeadlineExceededError,
    LambdaTimeoutError,
    RequestLimitError,
    UnprocessedItemsError,
    UsageError,
)
from ._item import from_item, key_from_values, key_of, to_item
from ._lambda_client import note_unfinished
from ._model import Model, spec_of
from ._record import FrozenRecord, frozen, setfield
from ._spec import TableSpec

if TYPE_CHECKING:
    from ._db import DB

__all__ = ["MAX_BATCH_GET", "MAX_BATCH_WRITE", "Key", "batch_get", "batch_write", "item_identity"]

M = TypeVar("M", bound=Model)

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25

Entries = dict[str, list[dict[str, Any]]]


@frozen
class Key(FrozenRecord, Generic[M]):
    """A model class and one item's key: ``Key(Order, "c1", "o1")``, ``Key(Note, "n1")``."""

    __slots__ = ("model", "partition", "sort")
    model: type[M]
    partition: Any
    sort: Any

    def __init__(self, model: type[M], partition: Any, sort: Any = None) -> None:
        setfield(self, "model", model)
        setfield(self, "partition", partition)
        setfield(self, "sort", sort)

    def wire(self) -> tuple[TableSpec, dict[str, AttributeValue]]:
        spec = spec_of(self.model)
        return spec, key_from_values(spec, self.partition, self.sort)


def item_identity(table: str, key: Mapping[str, AttributeValue]) -> Hashable:
    """A hashable identity of one item (table + key), to find duplicates before sending."""
    parts: list[tuple[str, str, Any]] = []
    for name, value in sorted(key.items()):
        ((tag, raw),) = value.items()
        if tag == "N":
            # DynamoDB normalises numbers: 1, 1.0 and 1E+0 are one key (and come back as "1").
            parts.append((name, tag, Decimal(raw)))
        else:
            parts.append((name, tag, bytes(raw) if tag == "B" else raw))
    return (table, tuple(parts))


def _count(entries: Entries) -> int:
    return sum(len(v) for v in entries.values())


class _Chunk:
    """One request's worth of entries, and what is still not known to be done of it."""

    __slots__ = ("in_flight", "pending")

    def __init__(self, entries: Entries) -> None:
        self.pending = entries  # not known to be processed
        self.in_flight = False  # a request carrying `pending` was sent and has not answered


async def _drain(
    db: DB,
    operation: str,
    chunk: _Chunk,
    build: Callable[[Entries], dict[str, Any]],
    unprocessed: Callable[[dict[str, Any]], Entries],
    collect: Callable[[dict[str, Any]], None],
) -> tuple[Entries, AsyncDynamoError | None]:
    """Send one chunk, resending what comes back unprocessed.

    Returns what is still left, and the error that stopped it early, if one did: a request that
    failed (after the client's own retries) processed nothing of what it carried, so its entries
    are exactly the leftovers. At the deadline (an error or a cancellation) ``chunk`` says what
    is left and whether its request was in flight.
    """
    retry = db.config.retry
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        chunk.in_flight = True  # from here on the request may reach DynamoDB
        try:
            response = await db.client.call(operation, build(chunk.pending))
        except DeadlineExceededError:
            raise  # the caller's time is up: that is the error to report (in flight stays set)
        except AsyncDynamoError as exc:
            chunk.in_flight = False
            return chunk.pending, exc
        chunk.in_flight = False
        collect(response)
        chunk.pending = {t: list(v) for t, v in unprocessed(response).items() if v}
        if not chunk.pending:
            return {}, None
        if attempt + 1 >= retry.max_attempts:
            return chunk.pending, None
        delay = retry.backoff(attempt)
        deadline = current_deadline()
        if deadline is not None and loop.time() + delay >= deadline:
            return chunk.pending, None  # sleeping would outlive the caller: report the leftovers
        await asyncio.sleep(delay)
        attempt += 1


Run = Callable[[_Chunk], Awaitable[tuple[Entries, AsyncDynamoError | None]]]


async def _run_chunks(
    chunks: Sequence[_Chunk], concurrency: int, run: Run
) -> tuple[Entries, AsyncDynamoError | None]:
    """Run every chunk (one failing never stops the others); return leftovers and first error."""
    if concurrency < 1:
        raise UsageError(f"concurrency must be at least 1, got {concurrency}")
    leftovers: Entries = {}
    errors: list[AsyncDynamoError] = []
    limit = asyncio.Semaphore(concurrency)

    async def one(chunk: _Chunk) -> None:
        async with limit:
            left, error = await run(chunk)
        if error is not None:
            errors.append(error)
        for table, entries in left.items():
            leftovers.setdefault(table, []).extend(entries)

    try:
        async with asyncio.TaskGroup() as group:
            for chunk in chunks:
                group.create_task(one(chunk))
    except ExceptionGroup as failure:
        from ._pages import first_error  # a failed batch only: _pages is the query layer

        raise first_error(failure) from None
    return leftovers, (errors[0] if errors else None)


def _cut_short(
    action: str,
    chunks: Sequence[_Chunk],
    total: int,
    cause: DeadlineExceededError,
    partial: Callable[[], Sequence[Any]],
) -> BatchDeadlineExceededError:
    """The deadline error of a batch, with every entry not known to be done."""
    left: Entries = {}
    in_flight: Entries = {}
    for chunk in chunks:
        for table, entries in chunk.pending.items():
            left.setdefault(table, []).extend(entries)
            if chunk.in_flight:
                in_flight.setdefault(table, []).extend(entries)
    count, sent = _count(left), _count(in_flight)
    error_type = (
        BatchLambdaTimeoutError
        if isinstance(cause, LambdaTimeoutError)
        else BatchDeadlineExceededError
    )
    error = error_type(
        f"{action} stopped at the deadline with {count} of {total} not done ({sent} of them in "
        "flight: maybe applied); they are in .unprocessed",
        operation=cause.operation or action,
        remaining=cause.remaining,
        unprocessed=left,
        in_flight=in_flight,
        processed_count=total - count,
        partial=partial(),
    )
    error.__cause__ = cause
    return error


async def _run_batch(
    action: str,
    chunks: Sequence[_Chunk],
    concurrency: int,
    run: Run,
    partial: Callable[[], Sequence[Any]] = tuple,
) -> tuple[Entries, AsyncDynamoError | None]:
    """:func:`_run_chunks`, turning a deadline into an error that carries what is not done."""
    total = sum(_count(chunk.pending) for chunk in chunks)
    try:
        return await _run_chunks(chunks, concurrency, run)
    except BatchDeadlineExceededError:
        raise
    except DeadlineExceededError as exc:
        raise _cut_short(action, chunks, total, exc, partial) from exc
    except asyncio.CancelledError:
        # Cancelled by an enclosing Lambda deadline (the view bounds the whole method): the
        # bound that turns the cancellation into an error asks this what was left undone.
        deadline = current_deadline()
        if deadline is not None and asyncio.get_running_loop().time() >= deadline:
            note_unfinished(lambda cause: _cut_short(action, chunks, total, cause, partial))
        raise


def _give_up(
    action: str,
    total: int,
    leftovers: Entries,
    error: AsyncDynamoError | None,
    partial: Sequence[Any] = (),
) -> UnprocessedItemsError:
    left = _count(leftovers)
    because = f" ({type(error).__name__}: {error})" if error is not None else ""
    failure = UnprocessedItemsError(
        f"{action} gave up with {left} of {total} unprocessed{because}; they are in .unprocessed",
        unprocessed=leftovers,
        processed_count=total - left,
        partial=partial,
    )
    failure.__cause__ = error
    return failure


def _chunks(entries: Sequence[tuple[str, dict[str, Any]]], size: int) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for start in range(0, len(entries), size):
        chunk: Entries = {}
        for table, entry in entries[start : start + size]:
            chunk.setdefault(table, []).append(entry)
        chunks.append(_Chunk(chunk))
    return chunks


async def batch_get(
    db: DB,
    model: type[M],
    keys: Iterable[Any],
    *,
    consistent: bool = False,
    concurrency: int = 4,
) -> list[M]:
    """Read many items of one model by key (see :meth:`DB.batch_get`)."""
    spec = spec_of(model)
    table = db.table_name(model)
    crypto = db._crypto(spec, table)
    ordered: dict[Hashable, None] = {}
    entries: list[tuple[str, dict[str, Any]]] = []
    for key in keys:
        values = key if isinstance(key, tuple) else (key,)
        wire = key_from_values(spec, *values)
        identity = item_identity(table, wire)
        if identity in ordered:
            raise UsageError(f"key {values!r} appears twice in one batch_get; pass it once")
        ordered[identity] = None
        entries.append((table, wire))
    found: dict[Hashable, dict[str, AttributeValue]] = {}

    def build(pending: Entries) -> dict[str, Any]:
        request: dict[str, Any] = {"Keys": pending[table]}
        if consistent:
            request["ConsistentRead"] = True
        return {"RequestItems": {table: request}}

    def unprocessed(response: dict[str, Any]) -> Entries:
        left = response.get("UnprocessedKeys") or {}
        return {t: list(v.get("Keys", ())) for t, v in left.items()}

    def key_of(raw: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        return {f.attribute: raw[f.attribute] for f in spec.key_fields}

    async def run(chunk: _Chunk) -> tuple[Entries, AsyncDynamoError | None]:
        got: dict[Hashable, dict[str, AttributeValue]] = found if crypto is None else {}

        def collect(response: dict[str, Any]) -> None:
            for raw in (response.get("Responses") or {}).get(table, ()):
                got[item_identity(table, key_of(raw))] = raw

        left, error = await _drain(db, "BatchGetItem", chunk, build, unprocessed, collect)
        if crypto is not None and got:
            # Encrypted items are opened per chunk, while other chunks are read. Until they are
            # opened they are not done: a deadline while KMS answers reports their keys as
            # unprocessed instead of dropping them.
            chunk.pending = {**left, table: [*left.get(table, ()), *map(key_of, got.values())]}
            opened = await crypto.open_items(list(got.values()))
            found.update(zip(got, opened, strict=True))
            chunk.pending = left
        return left, error

    def read() -> list[M]:
        return [from_item(spec, found[i]) for i in ordered if i in found]

    chunks = _chunks(entries, MAX_BATCH_GET)
    leftovers, error = await _run_batch("batch_get", chunks, concurrency, run, read)
    items = read()
    if leftovers:
        raise _give_up("batch_get", len(entries), leftovers, error, partial=items)
    return items


def _stamped(spec: TableSpec, item: Model, now: datetime, skip_version_check: bool) -> Model:
    changes: dict[str, Any] = {}
    if spec.version is not None:
        if not skip_version_check:
            raise UsageError(
                f"{spec.model.__name__} is versioned and batch writes cannot check versions; "
                "use a transaction, or pass skip_version_check=True to write blindly"
            )
        current = int(getattr(item, spec.version.name) or 0)
        changes[spec.version.name] = put_version(spec.compat, current, create=False, blind=True)
    if spec.created_at is not None and (
        getattr(item, spec.created_at.name) is None or spec.compat is Compat.DYNAMORM
    ):
        changes[spec.created_at.name] = now
    if spec.updated_at is not None:
        changes[spec.updated_at.name] = now
    return item.model_copy(update=changes) if changes else item


async def batch_write(
    db: DB,
    *,
    puts: Iterable[Model] = (),
    deletes: Iterable[Model | Key[Any]] = (),
    skip_version_check: bool = False,
    concurrency: int = 4,
) -> list[Model]:
    """Put and delete many items, in chunks of 25 (see :meth:`DB.batch_write`)."""
    now = db.now()
    stored: list[Model] = []
    entries: list[tuple[str, dict[str, Any]]] = []
    seen: set[Hashable] = set()

    def add(table: str, key: dict[str, AttributeValue], entry: dict[str, Any]) -> None:
        identity = item_identity(table, key)
        if identity in seen:
            raise UsageError(
                f"the item {table} {key} appears twice in one batch_write; DynamoDB rejects that"
            )
        seen.add(identity)
        entries.append((table, entry))

    for item in puts:
        spec = spec_of(type(item))
        table = db.table_name(type(item))
        crypto = db._crypto(spec, table)
        item = _stamped(spec, item, now, skip_version_check)
        wire = to_item(spec, item)
        if crypto is not None:
            wire = await crypto.seal_item(wire)
        add(table, key_of(spec, item), {"PutRequest": {"Item": wire}})
        stored.append(item)
    for target in deletes:
        if isinstance(target, Key):
            spec, key = target.wire()
            model: type[Model] = target.model
        else:
            spec, key, model = (
                spec_of(type(target)),
                key_of(spec_of(type(target)), target),
                type(target),
            )
        db._crypto(spec, db.table_name(model))  # fail closed like every other operation
        if spec.version is not None and not skip_version_check:
            raise UsageError(
                f"{spec.model.__name__} is versioned and batch deletes cannot check versions; "
                "use db.delete / a transaction, or pass skip_version_check=True"
            )
        add(db.table_name(model), key, {"DeleteRequest": {"Key": key}})
    if not entries:
        return stored

    def build(pending: Entries) -> dict[str, Any]:
        if _count(pending) > MAX_BATCH_WRITE:  # our chunking guarantees it; moto would not check
            raise RequestLimitError(f"a BatchWriteItem takes at most {MAX_BATCH_WRITE} items")
        return {"RequestItems": pending}

    def unprocessed(response: dict[str, Any]) -> Entries:
        return dict(response.get("UnprocessedItems") or {})

    async def run(chunk: _Chunk) -> tuple[Entries, AsyncDynamoError | None]:
        return await _drain(db, "BatchWriteItem", chunk, build, unprocessed, lambda _: None)

    chunks = _chunks(entries, MAX_BATCH_WRITE)
    leftovers, error = await _run_batch("batch_write", chunks, concurrency, run)
    if leftovers:
        raise _give_up("batch_write", len(entries), leftovers, error)
    return stored
