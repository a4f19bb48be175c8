"""Card numbers for the reliability scenarios, and the PAN pattern searched for in their output."""

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


# 13 to 19 digits, not part of a longer run of digits (spaces or dashes between groups allowed).
_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")


def pans_in(texts: Iterable[str]) -> list[str]:
    """Every Luhn-valid 13-19 digit number found in ``texts``."""
    found = []
    for text in texts:
        for match in _CANDIDATE.finditer(text):
            digits = re.sub(r"[ -]", "", match.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(digits)
    return found
