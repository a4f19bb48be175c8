"""Scans: sequential (pages and cursors like a query) and parallel (segments, streamed).

```python
async for order in db.scan(Order).filter(attr("status") == "open"):
    ...
async with db.scan(Order).parallel(segments=8, concurrency=4) as orders:
    async for order in orders:        # from all segments, as pages arrive
        ...
```
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from ._errors import UsageError
from ._expr import Placeholders
from ._pages import (
    Reader,
    ReadState,
    Target,
    TargetKind,
    dict_decoder,
    finish_read_params,
    first_error,
    result_shape,
)
from ._spec import TableSpec

if TYPE_CHECKING:
    from ._db import DB

__all__ = ["ParallelScan", "Scan"]

T = TypeVar("T")

MAX_SEGMENTS = 1_000_000


class Scan(Reader[T]):
    """A scan of a model's table (or one index); immutable, every method returns a new one.

    A scan reads every item and pays for every item read, filtered or not: prefer a query.
    """

    _operation = "Scan"

    def project(self, *fields: str) -> Scan[dict[str, Any]]:
        """Read only these fields; results become ``{field: value}`` dicts."""
        return Scan(self._db, self._projected(fields), dict_decoder)

    def index(self, name: str) -> Scan[T]:
        """Scan this index instead of the table."""
        self._state.spec.index(name)
        return self._with(index=name)

    def parallel(self, segments: int = 4, *, concurrency: int | None = None) -> ParallelScan[T]:
        """Scan ``segments`` segments, at most ``concurrency`` (default ``min(segments, 4)``)
        at a time, streaming items as pages arrive (in no particular order)."""
        if not 1 <= segments <= MAX_SEGMENTS:
            raise UsageError(f"segments must be between 1 and {MAX_SEGMENTS}, got {segments}")
        workers = min(segments, 4) if concurrency is None else concurrency
        if workers < 1:
            raise UsageError(f"concurrency must be at least 1, got {concurrency}")
        return ParallelScan(self, segments, min(workers, segments))

    def _request(self, *, count: bool) -> dict[str, Any]:
        state = self._state
        spec = state.spec
        target = Target(spec, spec.index(state.index) if state.index is not None else None)
        if state.consistent and target.kind is TargetKind.GLOBAL_INDEX:
            raise UsageError(f"index {target.name!r} is global: it cannot be read consistently")
        result_shape(target, state.projection)
        ph = Placeholders(spec=spec)
        params: dict[str, Any] = {"TableName": state.table}
        if target.index is not None:
            params["IndexName"] = target.index.name
        return finish_read_params(params, ph, state, state.filter, count=count)


@dataclass(frozen=True, slots=True)
class _Done:
    pass


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class ParallelScan(Generic[T]):
    """Items from every segment of a scan, read concurrently and streamed.

    Workers run in an ``asyncio.TaskGroup`` inside a producer task and hand pages over through
    a bounded queue, so at most ``concurrency`` pages wait unread: a slow consumer slows the
    scan down instead of buffering the table in memory. A worker's error reaches the consumer
    (the first one raised, the others noted on it). Leaving early stops the workers: use
    ``async with`` (or ``contextlib.aclosing``) so that happens at once rather than when the
    abandoned iterator is garbage-collected.
    """

    def __init__(self, scan: Scan[T], segments: int, concurrency: int) -> None:
        self._scan = scan
        self.segments = segments
        self.concurrency = concurrency
        self._active: AsyncGenerator[T, None] | None = None

    def __aiter__(self) -> AsyncGenerator[T, None]:
        self._active = self._stream()
        return self._active

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
        """Stop the workers of the current iteration (if any) and wait for them."""
        active, self._active = self._active, None
        if active is not None:
            await active.aclose()

    async def all(self) -> list[T]:
        """Every item of every segment."""
        async with self:
            return [item async for item in self]

    async def count(self) -> int:
        """How many items match, counting segments concurrently."""
        params = self._scan._request(count=True)
        totals: list[int] = []

        async def on_page(response: dict[str, Any]) -> None:
            totals.append(int(response.get("Count", 0)))

        try:
            async with asyncio.TaskGroup() as group:
                segments = iter(range(self.segments))
                for _ in range(self.concurrency):
                    group.create_task(self._worker(params, segments, on_page))
        except ExceptionGroup as failure:
            raise first_error(failure) from None
        return sum(totals)

    async def _worker(
        self,
        params: dict[str, Any],
        segments: Iterator[int],
        on_page: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        page_size = self._scan._page_size()
        # The iterator is shared: next() never awaits, so no two workers take one segment.
        for segment in segments:
            start = None
            while True:
                request = {**params, "Segment": segment, "TotalSegments": self.segments}
                if page_size is not None:
                    request["Limit"] = page_size
                if start is not None:
                    request["ExclusiveStartKey"] = start
                response = await self._scan._call(request)
                await on_page(response)
                start = response.get("LastEvaluatedKey") or None
                if start is None:
                    break

    async def _produce(self, queue: asyncio.Queue[list[T] | _Done | _Failed]) -> None:
        params = self._scan._request(count=False)
        decode = self._scan._decode

        async def on_page(response: dict[str, Any]) -> None:
            items = [decode(raw) for raw in response.get("Items", ())]
            if items:
                await queue.put(items)

        try:
            async with asyncio.TaskGroup() as group:
                segments = iter(range(self.segments))
                for _ in range(self.concurrency):
                    group.create_task(self._worker(params, segments, on_page))
        except ExceptionGroup as failure:
            await queue.put(_Failed(first_error(failure)))
            return
        await queue.put(_Done())

    async def _stream(self) -> AsyncGenerator[T, None]:
        remaining = self._scan._max_items()
        # Validate in the consumer, so misuse raises here rather than inside a task.
        self._scan._request(count=False)
        queue: asyncio.Queue[list[T] | _Done | _Failed] = asyncio.Queue(self.concurrency)
        producer = asyncio.create_task(self._produce(queue))
        try:
            while True:
                entry = await queue.get()
                if isinstance(entry, _Done):
                    return
                if isinstance(entry, _Failed):
                    raise entry.error
                for item in entry:
                    yield item
                    if remaining is not None:
                        remaining -= 1
                        if remaining <= 0:
                            return
        finally:
            producer.cancel()
            # wait() never raises the producer's cancellation into this (consumer) task.
            await asyncio.wait({producer})


def new_scan(db: DB, spec: TableSpec, table: str) -> Scan[Any]:
    """A scan of the whole table (``DB.scan`` types it)."""
    return Scan(db, ReadState(spec=spec, table=table))
