"""The card processor's settlement report, line by line (``Gateway.settlement_report``).

Only reconciliation reads it: the process handler's cold path never imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._money import Money

__all__ = ["SettlementLine"]


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One movement in the processor's settlement report."""

    reference: str
    kind: str
    amount: Money
