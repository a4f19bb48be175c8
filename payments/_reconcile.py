"""Daily reconciliation of each partner account's ledger with the card processor's settlement.

```
reconcile(day) ─► reports already stored for the day (base account) ─► skip those partners
              └─► fan out over the others (bounded, under the deadline):
                    partner's ledger entries of the day ─┐
                    processor's settlement report ───────┴► compare ─► store the report
```
The stored report is the checkpoint: a partner whose report exists is never redone; a partner
that failed or ran out of time has none, so the next run does it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from asyncdynamo import (
    DB,
    DeadlineExceededError,
    ItemAlreadyExistsError,
    PartitionKey,
    SortKey,
    attr,
)

from ._card import StoredModel
from ._models import LedgerKind, Transaction
from ._settlement import SettlementLine

if TYPE_CHECKING:
    from asyncdynamo import MultiAccountDB

__all__ = [
    "Discrepancy",
    "DiscrepancyKind",
    "PartnerReconciliation",
    "Reconciler",
    "ReconciliationReport",
    "ReconciliationStatus",
    "SettlementSource",
    "compare_settlement",
]

# Ledger kinds the processor settles money for (a decline or a void moves none).
_SETTLED = {
    LedgerKind.AUTHORIZATION: "authorization",
    LedgerKind.CAPTURE: "capture",
    LedgerKind.REFUND: "refund",
}


class DiscrepancyKind(StrEnum):
    """How our ledger and the processor's settlement report differ for one payment."""

    MISSING = "missing"  # in the processor's report, not in our ledger
    EXTRA = "extra"  # in our ledger, not in the processor's report
    AMOUNT_MISMATCH = "amount_mismatch"  # in both, with different amounts or currencies


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference between our ledger and the processor's settlement report.

    Attributes:
        kind: what differs.
        reference: the processor's reference of the movement.
        movement: ``authorization``, ``capture`` or ``refund``.
        ledger_amount: what our ledger recorded (minor units), ``None`` when missing.
        settled_amount: what the processor reported (minor units), ``None`` when extra.
        currency: the currency (the processor's when they differ).
        payment_id: our payment, when the ledger has the movement.
    """

    kind: DiscrepancyKind
    reference: str
    movement: str
    ledger_amount: int | None
    settled_amount: int | None
    currency: str
    payment_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "reference": self.reference,
            "movement": self.movement,
            "ledger_amount": self.ledger_amount,
            "settled_amount": self.settled_amount,
            "currency": self.currency,
            "payment_id": self.payment_id,
        }


def compare_settlement(
    ledger: Iterable[Transaction], lines: Iterable[SettlementLine]
) -> list[Discrepancy]:
    """The differences between ledger entries and settlement lines, matched by reference and
    movement (sorted by reference)."""
    ours = {
        (entry.gateway_reference, _SETTLED[entry.kind]): entry
        for entry in ledger
        if entry.kind in _SETTLED
    }
    theirs = {(line.reference, line.kind): line for line in lines}
    found: list[Discrepancy] = []
    for key, line in theirs.items():
        entry = ours.get(key)
        if entry is None:
            found.append(
                Discrepancy(
                    DiscrepancyKind.MISSING,
                    line.reference,
                    line.kind,
                    None,
                    line.amount.minor,
                    line.amount.currency,
                )
            )
        elif (entry.amount, entry.currency) != (line.amount.minor, line.amount.currency):
            found.append(
                Discrepancy(
                    DiscrepancyKind.AMOUNT_MISMATCH,
                    line.reference,
                    line.kind,
                    entry.amount,
                    line.amount.minor,
                    line.amount.currency,
                    entry.payment_id,
                )
            )
    for key, entry in ours.items():
        if key not in theirs:
            found.append(
                Discrepancy(
                    DiscrepancyKind.EXTRA,
                    entry.gateway_reference,
                    key[1],
                    entry.amount,
                    None,
                    entry.currency,
                    entry.payment_id,
                )
            )
    return sorted(found, key=lambda d: (d.reference, d.movement, d.kind.value))


class SettlementSource(Protocol):
    """The card processor's settlement report of one partner's merchant account for one day."""

    async def settlement_report(self, partner_id: str, day: date) -> Sequence[SettlementLine]: ...


class ReconciliationReport(StoredModel):
    """One partner's reconciliation of one day (stored in the base account; the checkpoint)."""

    __table__ = "reconciliations"

    day: Annotated[str, PartitionKey]
    partner_id: Annotated[str, SortKey]
    ledger_entries: int
    settlement_lines: int
    discrepancies: list[dict[str, Any]] = []
    completed_at: datetime
    request_id: str | None = None


class ReconciliationStatus(StrEnum):
    """What a reconciliation run did for one partner."""

    DONE = "done"  # reconciled by this run
    ALREADY_DONE = "already_done"  # a stored report from an earlier run
    FAILED = "failed"  # the partner's work raised; the next run retries it
    NOT_DONE = "not_done"  # the deadline came first; the next run does it


@dataclass(frozen=True, slots=True)
class PartnerReconciliation:
    """One partner's outcome of a reconciliation run."""

    partner_id: str
    status: ReconciliationStatus
    report: ReconciliationReport | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status.value}
        if self.report is not None:
            body["ledger_entries"] = self.report.ledger_entries
            body["settlement_lines"] = self.report.settlement_lines
            body["discrepancies"] = self.report.discrepancies
        if self.error is not None:
            body["error"] = self.error
        return body


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first and last instant (UTC) of ``day``."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1) - timedelta(microseconds=1)


class Reconciler:
    """Reconciles every partner account for a day, concurrently, resuming unfinished partners.

    Args:
        multi: the partners (a deadline view inside a Lambda invocation). Reports are stored in
            ``multi.base``.
        settlements: where each partner's settlement report comes from.
        concurrency: how many partners run at once.
    """

    def __init__(
        self,
        multi: MultiAccountDB,
        settlements: SettlementSource,
        *,
        concurrency: int = 8,
        request_id: str | None = None,
    ) -> None:
        self.multi = multi
        self.settlements = settlements
        self.concurrency = concurrency
        self.request_id = request_id

    async def reconcile(
        self, day: date, partner_ids: Sequence[str] | None = None
    ) -> dict[str, PartnerReconciliation]:
        """Reconcile ``day`` for ``partner_ids`` (default: every configured partner)."""
        wanted = list(partner_ids) if partner_ids is not None else self.multi.list_partners()
        stored = (
            await self.multi.base.query(ReconciliationReport)
            .where(attr("day") == day.isoformat())
            .consistent()
            .all()
        )
        done = {report.partner_id: report for report in stored}
        outcomes = {
            pid: PartnerReconciliation(pid, ReconciliationStatus.ALREADY_DONE, done[pid])
            for pid in wanted
            if pid in done
        }
        todo = [pid for pid in wanted if pid not in done]

        async def one(partner_id: str, partner_db: DB) -> ReconciliationReport:
            return await self._partner(day, partner_id, partner_db)

        results = await self.multi.fan_out(todo, one, concurrency=self.concurrency)
        for pid, result in results.items():
            if result.ok and result.value is not None:
                outcomes[pid] = PartnerReconciliation(pid, ReconciliationStatus.DONE, result.value)
            elif isinstance(result.error, DeadlineExceededError):
                outcomes[pid] = PartnerReconciliation(
                    pid, ReconciliationStatus.NOT_DONE, error="the invocation's deadline came first"
                )
            else:
                outcomes[pid] = PartnerReconciliation(
                    pid, ReconciliationStatus.FAILED, error=type(result.error).__name__
                )
        return {pid: outcomes[pid] for pid in wanted}

    async def _partner(self, day: date, partner_id: str, partner_db: DB) -> ReconciliationReport:
        start, end = day_bounds(day)
        # The ledger has no index by day: a filtered scan of the partner's ledger table.
        ledger = (
            await partner_db.scan(Transaction).filter(attr("created_at").between(start, end)).all()
        )
        lines = await self.settlements.settlement_report(partner_id, day)
        report = ReconciliationReport(
            day=day.isoformat(),
            partner_id=partner_id,
            ledger_entries=len(ledger),
            settlement_lines=len(lines),
            discrepancies=[d.to_json() for d in compare_settlement(ledger, lines)],
            completed_at=self.multi.base.now(),
            request_id=self.request_id,
        )
        try:
            # create-only: a concurrent run that finished first keeps its report
            return await self.multi.base.put(report)
        except ItemAlreadyExistsError:
            existing = await self.multi.base.get(
                ReconciliationReport, report.day, partner_id, consistent=True
            )
            return existing if existing is not None else report
