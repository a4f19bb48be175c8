"""How big the reliability scenarios run: ``ASYNCDYNAMO_SOAK`` (an integer factor, default 1).

Every scenario sizes its loops with :func:`scaled`, so ``ASYNCDYNAMO_SOAK=10`` runs each one ten
times bigger (up to the size the issue asks for, when a scenario names one) without editing tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def _factor() -> int:
    raw = os.environ.get("ASYNCDYNAMO_SOAK", "1")
    try:
        factor = int(raw)
    except ValueError:
        raise ValueError(f"ASYNCDYNAMO_SOAK must be a positive integer, got {raw!r}") from None
    if factor < 1:
        raise ValueError(f"ASYNCDYNAMO_SOAK must be a positive integer, got {raw!r}")
    return factor


SOAK = _factor()


def scaled(ci: int, *, at_most: int | None = None) -> int:
    """``ci`` times the soak factor, capped at ``at_most`` (never below ``ci``)."""
    size = ci * SOAK
    return size if at_most is None else max(ci, min(size, at_most))


def examples(ci: int, *, at_most: int | None = None) -> settings:
    """Hypothesis settings running ``scaled(ci)`` examples, with no per-example deadline.

    Function-scoped fixtures are shared by the examples on purpose (tables, a DB): each example
    works on keys of its own.
    """
    return settings(
        max_examples=scaled(ci, at_most=at_most),
        deadline=None,
        derandomize=SOAK == 1,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
