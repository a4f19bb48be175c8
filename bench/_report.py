"""Printing benchmark results as a table."""

from __future__ import annotations

from collections.abc import Iterable

Result = dict[str, object]


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)


def print_table(results: Iterable[Result]) -> None:
    """One line per result: bench, case, value with unit, ratio to the same-run baseline."""
    rows = list(results)
    if not rows:
        print("(no results)")
        return
    width = max(len(f"{r['bench']}: {r['case']}") for r in rows)
    print(f"{'benchmark'.ljust(width)}  {'value':>12}  {'unit':<8} {'ratio':>7} {'speedup':>8}")
    for row in rows:
        label = f"{row['bench']}: {row['case']}".ljust(width)
        ratio = row.get("ratio")
        speedup = row.get("speedup")
        print(
            f"{label}  {_number(row['value']):>12}  {row['unit']!s:<8} "
            f"{_number(ratio) + 'x' if ratio is not None else '':>7} "
            f"{_number(speedup) + 'x' if speedup is not None else '':>8}"
        )
