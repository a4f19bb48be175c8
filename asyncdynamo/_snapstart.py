"""Lambda SnapStart: what a :class:`LambdaDB` does before the snapshot and after each restore.

With SnapStart, Lambda runs a version's init phase once, snapshots the whole process, and starts
new execution environments from copies of that snapshot. Whatever init left in memory is in every
copy, hence:

- connections opened during init are dead after a restore (their peers closed them long ago) and
  would be shared by every copy: closed before the snapshot, opened afresh after;
- credentials and KMS data keys would be written into the snapshot and outlive their expiry:
  dropped before, read again after;
- anything meant to be unique would repeat across copies: the write-token prefix is drawn again
  after each restore; retry jitter reads the OS entropy pool and has no state to copy.

The hooks are registered with the runtime's ``snapshot_restore_py`` module when it can be
imported (the managed Python runtimes ship it); elsewhere nothing is registered and nothing else
changes. The runtime runs before-snapshot hooks in reverse order of registration and
after-restore hooks in order; :class:`SnapshotHooks` does the same with its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

__all__ = ["SnapshotHook", "SnapshotHooks", "register_with_runtime", "renew_uniqueness"]

SnapshotHook = Callable[[], "Awaitable[None] | None"]
"""A callable run around a snapshot: a plain function or an ``async def`` one, no arguments."""


class SnapshotHooks:
    """Callbacks a :class:`LambdaDB` runs around a snapshot (its own steps run after/before them).

    Before the snapshot they run newest first, after a restore oldest first, so a component
    registered later (and built on earlier ones) is torn down first and set up last.
    """

    __slots__ = ("_after", "_before")

    def __init__(self) -> None:
        self._before: list[SnapshotHook] = []
        self._after: list[SnapshotHook] = []

    def add(
        self,
        *,
        before_snapshot: SnapshotHook | None = None,
        after_restore: SnapshotHook | None = None,
    ) -> None:
        """Run ``before_snapshot`` before each snapshot and ``after_restore`` after each restore."""
        if before_snapshot is not None:
            self._before.append(before_snapshot)
        if after_restore is not None:
            self._after.append(after_restore)

    async def run_before(self) -> None:
        """Run the before-snapshot callbacks, newest first."""
        for hook in reversed(self._before):
            await _call(hook)

    async def run_after(self) -> None:
        """Run the after-restore callbacks, oldest first."""
        for hook in list(self._after):
            await _call(hook)


async def _call(hook: SnapshotHook) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result


def register_with_runtime(before: Callable[[], None], after: Callable[[], None]) -> bool:
    """Register the two (synchronous) hooks with Lambda's runtime, if this runtime has them.

    Returns:
        Whether ``snapshot_restore_py`` was found and the hooks registered.
    """
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found,unused-ignore]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(before)
    register_after_restore(after)
    return True


def renew_uniqueness() -> None:
    """Re-draw every per-process random value the library keeps (after a restore).

    Only the write-token prefix needs it: retry jitter, transaction tokens and encryption
    nonces are drawn from the OS for each use (``os.urandom``, ``uuid4``), and the OS pool
    differs in each restored copy. A DB's cursor secret (drawn once, when no
    ``Config.cursor_secret`` is set) is a MAC key, not a nonce: copies of one snapshot sharing
    it accept each other's cursors, as DBs sharing a configured secret do.
    """
    from ._outcome import new_token_prefix

    new_token_prefix()
