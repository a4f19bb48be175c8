"""A batch of payment requests across merchants and partners, each item exactly once.

Items are grouped by the account their merchant's payments live in (a partner, or the base
account) and the groups run concurrently (partners through ``MultiAccountDB.fan_out``, bounded,
under the caller's deadline). Every item gets its own outcome; an item is charged at most once
however often the batch is re-run, because each goes through
:meth:`Processor.process_payment` with its own idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from asyncdynamo import DeadlineExceededError

from ._errors import InvalidMerchantError, PaymentDeclinedError, PaymentsError
from ._requests import PaymentRequest

if TYPE_CHECKING:
    from asyncdynamo import DB, MultiAccountDB

    from ._processor import Processor

__all__ = ["BatchItem", "ItemOutcome", "ItemStatus", "settle_batch"]


class ItemStatus(StrEnum):
    """What happened to one item of a settlement batch."""

    AUTHORIZED = "authorized"  # charged by this run
    REPLAYED = "replayed"  # an earlier run (same key) made it; nothing charged now
    DECLINED = "declined"
    REJECTED = "rejected"  # invalid item, unknown merchant, key reused... (``error`` says)
    FAILED = "failed"  # retryable: in progress elsewhere, processor unavailable
    NOT_DONE = "not_done"  # the deadline came first; a re-run does it


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One item of a batch: a request and its idempotency key, or why it could not be read."""

    item_id: str
    idempotency_key: str
    request: PaymentRequest | None = None
    invalid: PaymentsError | None = None


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to one item."""

    item_id: str
    status: ItemStatus
    payment_id: str | None = None
    partner_id: str | None = None
    error: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in _fields(self).items() if v is not None}


def _fields(outcome: ItemOutcome) -> dict[str, Any]:
    return {
        "item_id": outcome.item_id,
        "status": outcome.status.value,
        "payment_id": outcome.payment_id,
        "partner_id": outcome.partner_id,
        "error": outcome.error,
        "field": outcome.field,
    }


def _failure(item: BatchItem, exc: BaseException, partner_id: str | None) -> ItemOutcome:
    if isinstance(exc, PaymentDeclinedError):
        return ItemOutcome(item.item_id, ItemStatus.DECLINED, exc.payment_id, partner_id)
    if isinstance(exc, DeadlineExceededError):
        return ItemOutcome(item.item_id, ItemStatus.NOT_DONE, partner_id=partner_id)
    status = (
        ItemStatus.FAILED
        if getattr(exc, "retryable", False) or not isinstance(exc, PaymentsError)
        else ItemStatus.REJECTED
    )
    return ItemOutcome(
        item.item_id,
        status,
        partner_id=partner_id,
        error=type(exc).__name__,
        field=getattr(exc, "field", None),
    )


async def settle_batch(
    processor: Processor,
    multi: MultiAccountDB | None,
    items: Sequence[BatchItem],
    *,
    concurrency: int = 8,
    per_partner: int = 4,
    request_id: str | None = None,
    actor: str = "settle",
    deadline: float | None = None,
) -> list[ItemOutcome]:
    """Process every item; outcomes in the items' order.

    Args:
        processor: processes each item (built on ``multi``, or on the base DB).
        multi: the partners; ``None`` when every merchant is in the base account.
        concurrency: partners processed at once.
        per_partner: items of one partner (or of the base account) processed at once.
        deadline: ``loop.time()`` by which the base account's items stop (partners' items stop
            at ``multi``'s deadline); unfinished items are ``NOT_DONE``.
    """
    outcomes: dict[str, ItemOutcome] = {}
    groups: dict[str | None, list[BatchItem]] = {}
    for item in items:
        if item.request is None:
            error = item.invalid
            outcomes[item.item_id] = ItemOutcome(
                item.item_id,
                ItemStatus.REJECTED,
                error=type(error).__name__ if error else "PaymentRequestError",
                field=getattr(error, "field", None),
            )
            continue
        try:
            merchant = await processor.merchant(item.request.merchant_id)
        except InvalidMerchantError as exc:
            outcomes[item.item_id] = _failure(item, exc, None)
            continue
        except DeadlineExceededError as exc:
            outcomes[item.item_id] = _failure(item, exc, None)
            continue
        groups.setdefault(merchant.partner_id, []).append(item)

    async def run_group(partner_id: str | None, group: list[BatchItem]) -> None:
        limit = asyncio.Semaphore(per_partner)

        async def one(item: BatchItem) -> None:
            assert item.request is not None
            async with limit:
                try:
                    result = await processor.process_payment(
                        item.request,
                        idempotency_key=item.idempotency_key,
                        actor=actor,
                        request_id=request_id,
                    )
                except Exception as exc:
                    outcomes[item.item_id] = _failure(item, exc, partner_id)
                else:
                    status = ItemStatus.REPLAYED if result.replay else ItemStatus.AUTHORIZED
                    outcomes[item.item_id] = ItemOutcome(
                        item.item_id, status, result.payment.payment_id, partner_id
                    )

        try:
            async with asyncio.timeout_at(deadline), asyncio.TaskGroup() as tasks:
                for item in group:
                    tasks.create_task(one(item))
        except TimeoutError:
            for item in group:
                outcomes.setdefault(
                    item.item_id,
                    ItemOutcome(item.item_id, ItemStatus.NOT_DONE, partner_id=partner_id),
                )

    async def partner_group(partner_id: str, _db: DB) -> None:
        await run_group(partner_id, groups[partner_id])

    partner_ids = [pid for pid in groups if pid is not None]
    async with asyncio.TaskGroup() as tasks:
        if None in groups:
            tasks.create_task(run_group(None, groups[None]))
        if partner_ids:
            if multi is None:
                for pid in partner_ids:
                    for item in groups[pid]:
                        outcomes[item.item_id] = ItemOutcome(
                            item.item_id,
                            ItemStatus.REJECTED,
                            partner_id=pid,
                            error="InvalidMerchantError",
                        )
            else:
                fanned = tasks.create_task(
                    multi.fan_out(partner_ids, partner_group, concurrency=concurrency)
                )
    if partner_ids and multi is not None:
        for pid, result in fanned.result().items():
            if result.error is None:
                continue
            for item in groups[pid]:  # the partner itself failed (STS, deadline): its items
                outcomes.setdefault(item.item_id, _failure(item, result.error, pid))
    return [outcomes[item.item_id] for item in items]
