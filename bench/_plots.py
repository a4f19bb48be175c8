"""PNG charts of a run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._core import Chart, ChartKind

__all__ = ["render"]


def render(charts: Sequence[Chart], folder: Path) -> list[Path]:
    """Draw every chart into ``folder``; returns the files written ([] without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written: list[Path] = []
    for chart in charts:
        figure, axes = plt.subplots(figsize=(8, 0.5 + 0.45 * _rows(chart)), dpi=80)
        if chart.kind is ChartKind.STACKED:
            _stacked(axes, chart)
        elif chart.kind is ChartKind.BARS:
            _bars(axes, chart)
        else:
            _distribution(axes, chart)
        axes.set_title(chart.title, fontsize=10)
        axes.set_xlabel(chart.unit)
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        path = folder / f"{chart.name}.png"
        figure.savefig(path, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def _rows(chart: Chart) -> int:
    if chart.kind is ChartKind.BARS:
        operations = {op for parts in chart.series.values() for op in parts}
        return max(4, len(chart.series) * len(operations) // 2)
    return max(3, len(chart.series) or len(chart.samples))


def _stacked(axes: Any, chart: Chart) -> None:
    stacks = list(chart.series)
    parts = list(dict.fromkeys(part for values in chart.series.values() for part in values))
    left = [0.0] * len(stacks)
    for part in parts:
        widths = [chart.series[stack].get(part, 0.0) for stack in stacks]
        axes.barh(stacks, widths, left=left, label=part)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.invert_yaxis()
    axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))


def _bars(axes: Any, chart: Chart) -> None:
    stacks = list(chart.series)
    operations = list(dict.fromkeys(op for values in chart.series.values() for op in values))
    height = 0.8 / max(len(stacks), 1)
    for index, stack in enumerate(stacks):
        positions = [n + index * height for n in range(len(operations))]
        values = [chart.series[stack].get(op, 0.0) for op in operations]
        axes.barh(positions, values, height=height, label=stack)
    axes.set_yticks([n + 0.4 - height / 2 for n in range(len(operations))], operations)
    axes.invert_yaxis()
    axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))


def _distribution(axes: Any, chart: Chart) -> None:
    labels = list(chart.samples)
    data = [list(chart.samples[label]) for label in labels]
    axes.boxplot(data, orientation="horizontal", showfliers=False)
    axes.set_yticks(range(1, len(labels) + 1), labels)
    axes.invert_yaxis()
