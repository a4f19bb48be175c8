"""The final table of a suite: one section per group, the baseline named, ratios only within it.

A ratio is ``value / baseline value`` of the same group (same quantity, same unit); a group
without a baseline row shows no ratio. ``check_groups`` refuses mixed units before printing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bench._core import Measurement, SuiteResult, check_groups

__all__ = ["format_value", "grouped", "print_suite", "print_table", "ratio"]


def format_value(value: float) -> str:
    """Three significant figures, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def grouped(measurements: Sequence[Measurement]) -> dict[str, list[Measurement]]:
    """Rows by group, in first-seen order."""
    groups: dict[str, list[Measurement]] = {}
    for row in measurements:
        groups.setdefault(row.group, []).append(row)
    return groups


def ratio(row: Measurement, rows: Sequence[Measurement]) -> float | None:
    """``row.value`` over its group's baseline, or ``None`` when the group has none."""
    base = next((r for r in rows if r.baseline and r.group == row.group), None)
    if base is None or base.value == 0:
        return None
    return row.value / base.value


def _ratio_text(row: Measurement, rows: Sequence[Measurement]) -> str:
    if row.baseline:
        return "1 (baseline)"
    value = ratio(row, rows)
    if value is None:
        return ""
    return f"{value:.2f}×"


def _plain(name: str, result: SuiteResult) -> None:
    print(f"\n{name}")
    for group, rows in grouped(result.measurements).items():
        print(f"  {group}")
        width = max(len(r.case) for r in rows)
        for row in rows:
            print(
                f"    {row.case.ljust(width)}  {format_value(row.value):>9} {row.unit:<4}"
                f" {_ratio_text(row, rows):>14}  {row.note}".rstrip()
            )
    for note in result.notes:
        print(f"  note: {note}")


def print_suite(name: str, title: str, result: SuiteResult, *, plain: bool = False) -> None:
    """Print ``result`` as one table, a section per group, then its notes."""
    check_groups(result.measurements)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        plain = True
    if plain:
        _plain(name, result)
        return
    table = Table(
        title=f"{name} — {title}",
        title_justify="left",
    )
    table.add_column("case")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("ratio", justify="right")
    with_notes = any(row.note for row in result.measurements)
    if with_notes:
        table.add_column("note", style="dim")
    groups = grouped(result.measurements)
    for index, (group, rows) in enumerate(groups.items()):
        table.add_row(f"[bold]{group}[/]", end_section=False)
        for row_index, row in enumerate(rows):
            case = f"  {row.case}" + (" [cyan](baseline)[/]" if row.baseline else "")
            cells = [case, format_value(row.value), row.unit, _ratio_text(row, rows)]
            cells[3] = cells[3].replace(" (baseline)", "")
            table.add_row(
                *cells,
                *([row.note] if with_notes else []),
                end_section=row_index == len(rows) - 1 and index < len(groups) - 1,
            )
    console = Console() if sys.stdout.isatty() else Console(width=120)
    console.print(table)
    console.print("  [dim]ratio = value ÷ the baseline row of the same group[/]")
    for note in result.notes:
        console.print(f"  [dim]note:[/] {note}")


def print_table(rows: Sequence[dict[str, object]]) -> None:
    """Rows as dicts (``bench``, ``case``, ``value``, ``unit``), for a module's own ``__main__``;
    ``python -m bench`` prints registered suites with :func:`print_suite` instead."""
    for row in rows:
        value = row.get("value")
        shown = format_value(value) if isinstance(value, int | float) else str(value)
        print(
            f"{row.get('bench', '')!s:<12} {row.get('case')!s:<56} {shown:>10} {row.get('unit', '')}"
        )
