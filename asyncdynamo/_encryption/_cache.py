"""Bounded caches of KMS data keys: one for sealing, one for opening, per DB.

Loads are single-flight: many items needing the same key at once (a query page, a batch) wait
for one KMS call. A load runs as its own task, so a caller that is cancelled does not cancel it
for the others; its outcome is always retrieved.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from .._config import DataKeyCachePolicy

__all__ = ["DataKey", "KeyCache"]


@dataclass(slots=True, eq=False)
class DataKey:
    """One plaintext data key with what is needed to use it.

    ``repr`` shows no key material.
    """

    key_arn: str
    encrypted_key: bytes
    header: bytes
    cipher: Any = field(repr=False)
    material: bytearray = field(repr=False)
    created: float = 0.0
    uses: int = 0

    def wipe(self) -> None:
        """Overwrite our copy of the key bytes (the cipher object is dropped with the entry)."""
        self.material[:] = bytes(len(self.material))


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a load nobody waits for any more never logs


class KeyCache:
    """Data keys by a caller-chosen key, bounded by a :class:`DataKeyCachePolicy`.

    Args:
        policy: max age, max uses (``count_uses``) and max entries.
        count_uses: whether :meth:`get` counts a use (sealing) or not (opening).
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        policy: DataKeyCachePolicy,
        *,
        count_uses: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._count_uses = count_uses
        self._clock = clock
        self._entries: OrderedDict[Hashable, DataKey] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Task[DataKey]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: Hashable) -> DataKey | None:
        """A usable cached key (counting a use when sealing), or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry.created >= self._policy.max_age:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        if self._count_uses:
            entry.uses += 1
            if entry.uses >= self._policy.max_uses:
                # Its last use: out of the cache now (not wiped: the caller is about to seal
                # one value with it; the entry is garbage once that is done).
                del self._entries[key]
        return entry

    async def get(self, key: Hashable, load: Callable[[], Awaitable[DataKey]]) -> DataKey:
        """The cached key, or one ``load()`` fetches (shared by concurrent callers)."""
        entry = self.peek(key)
        if entry is not None:
            return entry
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load))
            task.add_done_callback(_retrieve)
            self._loading[key] = task
        await asyncio.shield(task)
        entry = self.peek(key)
        if entry is None:  # used up or expired the moment it arrived: the loaded key is fresh
            entry = task.result()
        return entry

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[DataKey]]) -> DataKey:
        try:
            entry = await load()
        finally:
            self._loading.pop(key, None)
        self.put(key, entry)
        return entry

    def put(self, key: Hashable, entry: DataKey) -> None:
        """Cache ``entry`` from now on (evicting the least recently used beyond the bound)."""
        entry.created = self._clock()
        self._drop(key)
        self._entries[key] = entry
        while len(self._entries) > self._policy.max_entries:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            entry.wipe()

    def clear(self) -> None:
        """Drop (and wipe) every key."""
        for key in list(self._entries):
            self._drop(key)
