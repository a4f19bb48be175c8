"""Card data on its way in: the PAN is validated and masked, verification data never stored.

A :class:`CardDetails` lives only in memory, for the call to the card processor. What is
stored is the processor's token, the last four digits and the brand; the PAN itself only in
an ``Encrypted`` field of the card vault (``payments.Card``). The card verification code may
never be stored (PCI DSS 3.2.2): every payments model derives from :class:`StoredModel`, which
refuses a field that could hold it when the class is defined.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, get_args

from asyncdynamo import Model

from ._errors import PaymentRequestError, SensitiveFieldError

__all__ = ["CardBrand", "CardDetails", "StoredModel", "mask_pan"]

# Name parts (split at _, - and camelCase) and phrases that mean card verification data.
_VERIFICATION_PARTS = frozenset({"cvv", "cvv2", "cvc", "cvc2", "csc", "cav2", "cid"})
_VERIFICATION_PHRASES = ("securitycode", "verificationcode", "verificationvalue")
_NAME_PARTS = re.compile(r"[_\-\s]+|(?<=[a-z0-9])(?=[A-Z])")


class CardBrand(StrEnum):
    """The card network, recognised from the card number's leading digits."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    UNKNOWN = "unknown"


def _digits(text: str, shortest: int, longest: int) -> bool:
    # [0-9]{shortest,longest} without compiling a regex on the cold path (isdigit alone would
    # also accept other scripts' digits)
    return shortest <= len(text) <= longest and text.isascii() and text.isdigit()


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _brand(number: str) -> CardBrand:
    if number.startswith("4"):
        return CardBrand.VISA
    if number[:2] in {"34", "37"}:
        return CardBrand.AMEX
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return CardBrand.MASTERCARD
    if number.startswith(("6011", "65")):
        return CardBrand.DISCOVER
    return CardBrand.UNKNOWN


def mask_pan(last4: str) -> str:
    """The only form of a card number that may appear in logs, errors and audit records."""
    return f"**** {last4}"


class CardDetails:
    """A card as the customer entered it, for one call to the card processor.

    The number and the verification code are kept in private slots: ``repr``, ``str``,
    errors and :meth:`canonical` show at most the last four digits.

    Raises:
        PaymentRequestError: the number is not 12-19 digits with a valid check digit, the
            expiry is not a valid month, or the verification code is not 3-4 digits.
    """

    __slots__ = ("_cvc", "_number", "brand", "exp_month", "exp_year", "last4")

    def __init__(
        self, number: str, *, exp_month: int, exp_year: int, cvc: str | None = None
    ) -> None:
        digits = number.replace(" ", "").replace("-", "") if isinstance(number, str) else ""
        if not _digits(digits, 12, 19) or not _luhn_ok(digits):
            raise PaymentRequestError(
                "card number must be 12 to 19 digits with a valid check digit",
                field="card.number",
            )
        if not (_is_int(exp_month) and _is_int(exp_year)) or (
            not 1 <= exp_month <= 12 or not 2000 <= exp_year <= 2100
        ):
            raise PaymentRequestError("card expiry is not a valid month/year", field="card.expiry")
        if cvc is not None and not (isinstance(cvc, str) and _digits(cvc, 3, 4)):
            raise PaymentRequestError("card verification code is 3 or 4 digits", field="card.cvc")
        self._number = digits
        self._cvc = cvc
        self.last4 = digits[-4:]
        self.brand = _brand(digits)
        self.exp_month = exp_month
        self.exp_year = exp_year

    def reveal_number(self) -> str:
        """The full card number, for the card processor (and the encrypted vault) only."""
        return self._number

    def reveal_cvc(self) -> str | None:
        """The verification code, for the card processor only; it is never stored."""
        return self._cvc

    def canonical(self) -> dict[str, Any]:
        """What identifies the card in a request hash: brand, last four digits and expiry.

        A plain hash of the full number could be reversed by trying every number with the
        same first six and last four digits, so the number itself is not part of the hash.
        """
        return {
            "brand": self.brand.value,
            "last4": self.last4,
            "exp": f"{self.exp_year:04d}-{self.exp_month:02d}",
        }

    def __repr__(self) -> str:
        brand = getattr(self, "brand", CardBrand.UNKNOWN)
        return f"CardDetails({brand.value} {mask_pan(getattr(self, 'last4', '????'))})"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # pickling would copy the PAN out of process
        raise TypeError("CardDetails cannot be pickled")


def _is_verification_name(name: str) -> bool:
    parts = {part.lower() for part in _NAME_PARTS.split(name) if part}
    joined = "".join(sorted(parts, key=name.lower().find))
    return bool(parts & _VERIFICATION_PARTS) or any(p in joined for p in _VERIFICATION_PHRASES)


class StoredModel(Model):
    """Base of the payments package's stored models: refuses card verification fields.

    ```python
    class Bad(StoredModel):
        __table__ = "bad"
        id: Annotated[str, PartitionKey]
        cvv: str            # SensitiveFieldError when the class is defined
    ```
    A field named like a verification code (``cvv``, ``cvc``, ``security_code``...), or one
    that could hold a :class:`CardDetails`, is refused.
    """

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        for name, info in cls.model_fields.items():
            names = [name, info.alias] if info.alias else [name]
            if any(_is_verification_name(n) for n in names):
                raise SensitiveFieldError(
                    f"{cls.__name__}.{name}: card verification data may never be stored",
                    model=cls.__name__,
                    field=name,
                )
            annotation = info.annotation
            if annotation is CardDetails or CardDetails in get_args(annotation):
                raise SensitiveFieldError(
                    f"{cls.__name__}.{name}: store the card token and last four digits, "
                    "not CardDetails",
                    model=cls.__name__,
                    field=name,
                )
        super().__pydantic_init_subclass__(**kwargs)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
