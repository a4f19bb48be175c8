"""The card vault (table ``cards``, key ``token``): card numbers sealed with KMS.

Used only when ``PaymentConfig.kms_key_id`` is set (the processor then stores each card it
authorizes here): without a key nothing imports this module.
"""

from __future__ import annotations

from typing import Annotated

from asyncdynamo import Encrypted, PartitionKey

from ._card import StoredModel

__all__ = ["Card"]


class Card(StoredModel):
    """The card vault: the PAN only envelope-encrypted (KMS), everything else is not secret."""

    __table__ = "cards"

    token: Annotated[str, PartitionKey]
    merchant_id: str
    pan: Annotated[str, Encrypted]
    last4: str
    brand: str
    exp_month: int
    exp_year: int
