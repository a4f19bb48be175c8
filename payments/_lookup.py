"""Find a payment, or a customer's payments, when the account holding them is not known.

The base account and every partner account are searched at once (partners through
``MultiAccountDB.fan_out``: bounded, under the caller's deadline); an account that cannot be
searched is reported, never silently skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from asyncdynamo import attr

from ._models import Payment

if TYPE_CHECKING:
    from asyncdynamo import DB, MultiAccountDB

__all__ = ["AccountSearch", "find_customer_payments", "find_payment"]

T = TypeVar("T")
BASE_ACCOUNT = "base"
"""The name the base account's results are reported under."""


@dataclass(frozen=True, slots=True)
class AccountSearch(Generic[T]):
    """Per account searched (``"base"`` or a partner id): what it found, and which failed.

    Attributes:
        found: the accounts' results (only accounts that answered).
        errors: accounts that could not be searched, with the error's type name.
    """

    found: dict[str, T] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


async def _everywhere(
    base: DB,
    multi: MultiAccountDB | None,
    search: Callable[[DB], Awaitable[T]],
    concurrency: int,
) -> AccountSearch[T]:
    outcome: AccountSearch[T] = AccountSearch()

    async def in_base() -> None:
        try:
            outcome.found[BASE_ACCOUNT] = await search(base)
        except Exception as exc:
            outcome.errors[BASE_ACCOUNT] = type(exc).__name__

    async def in_partner(_partner_id: str, partner_db: DB) -> T:
        return await search(partner_db)

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(in_base())
        fanned = (
            tasks.create_task(
                multi.fan_out(multi.list_partners(), in_partner, concurrency=concurrency)
            )
            if multi is not None
            else None
        )
    if fanned is not None:
        for partner_id, result in fanned.result().items():
            if result.error is not None:
                outcome.errors[partner_id] = type(result.error).__name__
            else:
                outcome.found[partner_id] = result.value  # type: ignore[assignment]
    return outcome


async def find_payment(
    base: DB, multi: MultiAccountDB | None, payment_id: str, *, concurrency: int = 8
) -> AccountSearch[Payment | None]:
    """Look for ``payment_id`` in every account; ``found`` maps each account to the payment or
    ``None``."""

    async def search(db: DB) -> Payment | None:
        return await db.get(Payment, payment_id, consistent=True)

    return await _everywhere(base, multi, search, concurrency)


async def find_customer_payments(
    base: DB,
    multi: MultiAccountDB | None,
    customer_id: str,
    *,
    limit: int = 50,
    concurrency: int = 8,
) -> AccountSearch[list[Payment]]:
    """A customer's most recent payments (up to ``limit`` per account), in every account."""

    async def search(db: DB) -> list[Payment]:
        query = db.query(Payment).where(attr("customer_id") == customer_id).descending()
        return await query.limit(limit).all()

    return await _everywhere(base, multi, search, concurrency)
