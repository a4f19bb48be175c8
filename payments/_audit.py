"""The audit trail: one append-only record per payment state change.

Each record is written in the same transaction as the change it describes, create-only
(``attribute_not_exists``) under the payment id and the payment version the change produced,
so a change has exactly one record and a record never exists without its change.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from asyncdynamo import DB, Condition, GlobalIndex, KeyRole, OmitEmpty, PartitionKey, SortKey, attr

from ._card import StoredModel
from ._models import PaymentStatus

__all__ = ["AuditEvent", "AuditLog", "AuditRecord", "to_json_lines"]


class AuditEvent(StrEnum):
    """What an audit record says happened (its ``event``)."""

    AUTHORIZED = "payment.authorized"
    DECLINED = "payment.declined"
    FAILED = "payment.failed"
    CAPTURED = "payment.captured"
    REFUNDED = "payment.refunded"
    VOIDED = "payment.voided"


class AuditRecord(StoredModel):
    """Who changed which payment, from what to what, when, and under which request.

    The card appears at most masked (``"**** 4242"``).
    """

    __table__ = "audit"

    payment_id: Annotated[str, PartitionKey]
    seq: Annotated[int, SortKey]
    merchant_id: Annotated[str, GlobalIndex("by_merchant")]
    at: Annotated[datetime, GlobalIndex("by_merchant", role=KeyRole.SORT)]
    event: AuditEvent
    actor: str
    before_status: PaymentStatus
    after_status: PaymentStatus
    amount: int
    currency: str
    request_id: Annotated[str | None, OmitEmpty] = None
    idempotency_key: str
    card: str = ""
    detail: Annotated[str | None, OmitEmpty] = None


class AuditLog:
    """Reads of the audit trail (in the account the DB is signed for)."""

    def __init__(self, db: DB) -> None:
        self.db = db

    async def history(self, payment_id: str) -> list[AuditRecord]:
        """Every record of one payment, oldest first."""
        query = self.db.query(AuditRecord).where(attr("payment_id") == payment_id).consistent()
        return await query.all()

    def merchant_log(
        self,
        merchant_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        newest_first: bool = True,
    ) -> AsyncIterator[AuditRecord]:
        """A merchant's records between ``since`` and ``until`` (inclusive), by time."""
        conditions: list[Condition] = [attr("merchant_id") == merchant_id]
        if since is not None and until is not None:
            conditions.append(attr("at").between(since, until))
        elif since is not None:
            conditions.append(attr("at") >= since)
        elif until is not None:
            conditions.append(attr("at") <= until)
        query = self.db.query(AuditRecord).index("by_merchant").where(*conditions)
        if newest_first:
            query = query.descending()
        return aiter(query)

    async def export(
        self, merchant_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[str]:
        """The merchant's records as JSON lines (one object per line, oldest first)."""
        async for record in self.merchant_log(
            merchant_id, since=since, until=until, newest_first=False
        ):
            yield to_json_line(record)


def to_json_line(record: AuditRecord) -> str:
    """One record as one line of JSON (sorted keys, ends with a newline)."""
    return json.dumps(record.model_dump(mode="json"), sort_keys=True) + "\n"


def to_json_lines(records: Iterable[AuditRecord]) -> str:
    """Records as JSON lines."""
    return "".join(to_json_line(record) for record in records)
