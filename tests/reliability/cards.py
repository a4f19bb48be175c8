"""Card numbers for the reliability scenarios, and the PAN pattern searched for in their output.

A PAN here is what a card network would issue: a run of 13-19 digits (contiguous, or printed in
groups of four with a shorter rest, or as ``4-6-5`` / ``4-6-4``, with one space or one dash between
groups) that is not part
of a longer run of digits or of a hexadecimal token (a signature, a trace id: a neighbouring
``a``-``f`` counts as a digit), starts with a network's issuer prefix (IIN), has a length that network
issues, and passes the Luhn check. Millisecond timestamps, sequence numbers and other long numbers
that happen to pass Luhn are not card numbers: no network issues numbers starting with ``1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def with_check_digit(body: str) -> str:
    """``body`` followed by the digit that makes it Luhn-valid."""
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


_ANY = frozenset(range(13, 20))
_16_19 = frozenset(range(16, 20))

# (lowest prefix, highest prefix, lengths issued): prefixes compared on their own number of digits.
_NETWORKS: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("34", "34", frozenset({15})),  # American Express
    ("37", "37", frozenset({15})),
    ("6011", "6011", _16_19),  # Discover
    ("644", "649", _16_19),
    ("65", "65", _16_19),
    ("3528", "3589", _16_19),  # JCB
    ("300", "305", frozenset(range(14, 20))),  # Diners Club
    ("36", "36", frozenset(range(14, 20))),
    ("38", "38", frozenset(range(14, 20))),
    ("62", "62", _16_19),  # UnionPay
)

_CANDIDATE = re.compile(
    r"(?<![0-9A-Fa-f])(?:"
    r"[0-9]{13,19}"  # contiguous
    r"|[0-9]{4}(?P<s>[ -])[0-9]{4}(?:(?P=s)[0-9]{4}){1,3}(?:(?P=s)[0-9]{1,3})?"  # fours, a rest
    r"|[0-9]{4}(?P<a>[ -])[0-9]{6}(?P=a)[0-9]{4,5}"  # 4-6-5 (Amex), 4-6-4 (Diners)
    r")(?![0-9A-Fa-f])"
)


def network_of(digits: str) -> str | None:
    """The issuer range ``digits`` falls in with a length that range issues, or ``None``."""
    for low, high, lengths in _NETWORKS:
        if len(digits) in lengths and low <= digits[: len(low)] <= high:
            return low if low == high else f"{low}-{high}"
    return None


def is_pan(digits: str) -> bool:
    """Whether ``digits`` (digits only) is a card number a network could have issued."""
    return 13 <= len(digits) <= 19 and network_of(digits) is not None and luhn_valid(digits)


def pans_in(texts: Iterable[str]) -> list[str]:
    """Every card number (see the module doc) found in ``texts``, digits only."""
    found = []
    for text in texts:
        for match in _CANDIDATE.finditer(text):
            digits = re.sub(r"[ -]", "", match.group())
            if is_pan(digits):
                found.append(digits)
    return found
