"""Money: integer minor units plus an ISO 4217 currency with its real exponent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from ._errors import PaymentRequestError

__all__ = ["CURRENCY_EXPONENTS", "Money", "currency_exponent"]

# ISO 4217 minor-unit exponents for the currencies we accept. Anything not listed is refused
# rather than guessed: a wrong exponent charges 100x or 1/100th of the intended amount.
CURRENCY_EXPONENTS: MappingProxyType[str, int] = MappingProxyType(
    {
        # no minor unit
        "CLP": 0,
        "ISK": 0,
        "JPY": 0,
        "KRW": 0,
        "PYG": 0,
        "UGX": 0,
        "VND": 0,
        "XAF": 0,
        "XOF": 0,
        # cents
        "AED": 2,
        "AUD": 2,
        "BRL": 2,
        "CAD": 2,
        "CHF": 2,
        "CNY": 2,
        "CZK": 2,
        "DKK": 2,
        "EUR": 2,
        "GBP": 2,
        "HKD": 2,
        "HUF": 2,
        "INR": 2,
        "MXN": 2,
        "NOK": 2,
        "NZD": 2,
        "PLN": 2,
        "SEK": 2,
        "SGD": 2,
        "USD": 2,
        "ZAR": 2,
        # thousandths
        "BHD": 3,
        "IQD": 3,
        "JOD": 3,
        "KWD": 3,
        "LYD": 3,
        "OMR": 3,
        "TND": 3,
    }
)
"""ISO 4217 minor-unit exponents by currency code (JPY 0, USD 2, BHD 3...)."""


def currency_exponent(currency: str) -> int:
    """The number of minor-unit digits of ``currency`` (JPY 0, USD 2, BHD 3).

    Raises:
        PaymentRequestError: the code is not a supported ISO 4217 currency.
    """
    exponent = CURRENCY_EXPONENTS.get(currency) if isinstance(currency, str) else None
    if exponent is None:
        raise PaymentRequestError(
            f"unsupported currency {currency!r}: use an ISO 4217 code such as 'USD'",
            field="currency",
        )
    return exponent


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units of an ISO 4217 currency.

    ``Money(1250, "USD")`` is $12.50; ``Money(1250, "JPY")`` is ¥1,250; ``Money(1250, "BHD")``
    is 1.250 BD. Construct from a decimal string with :meth:`of`.

    Raises:
        PaymentRequestError: the currency is unknown or the amount is not a positive integer.
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise PaymentRequestError(
                f"amount must be an int of minor units, got {type(self.minor).__name__}",
                field="amount",
            )
        currency_exponent(self.currency)
        if self.minor <= 0:
            raise PaymentRequestError("amount must be greater than zero", field="amount")

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Money:
        """Money from a major-unit amount: ``Money.of("12.50", "USD") == Money(1250, "USD")``.

        Raises:
            PaymentRequestError: more decimals than the currency has, or not a number.
        """
        exponent = currency_exponent(currency)
        try:
            value = Decimal(amount)
        except (ArithmeticError, TypeError, ValueError) as exc:  # not a number of any kind
            raise PaymentRequestError(f"{amount!r} is not a number", field="amount") from exc
        if not value.is_finite():
            raise PaymentRequestError(f"{amount!r} is not a finite amount", field="amount")
        minor = value.scaleb(exponent)
        if minor != minor.to_integral_value():
            raise PaymentRequestError(
                f"{currency} has {exponent} decimal places; {amount} has more",
                field="amount",
            )
        return cls(int(minor), currency)

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    @property
    def amount(self) -> Decimal:
        """The major-unit value (``Decimal("12.50")`` for 1250 USD cents)."""
        return Decimal(self.minor).scaleb(-self.exponent)

    def check_maximum(self, maximum: Decimal) -> None:
        """Refuse an amount above ``maximum`` major units.

        Raises:
            PaymentRequestError: the amount is above the configured maximum.
        """
        if self.amount > maximum:
            raise PaymentRequestError(
                f"amount {self} is above the maximum of {maximum} {self.currency}",
                field="amount",
            )

    def __str__(self) -> str:
        return f"{self.amount:.{self.exponent}f} {self.currency}"
