"""What a suite is, what it returns, and where it registers itself.

A suite module calls :func:`register` at import time::

    from bench._core import Measurement, SuiteContext, SuiteResult, register

    def run(ctx: SuiteContext) -> SuiteResult:
        with ctx.case("GetItem", total=3) as step:
            ...
            step()
        return SuiteResult([Measurement("client CPU per GetItem", "ours", 250.0, "µs", baseline=True)])

    register("mysuite", "What it measures, in a few words", run, order=50)

``python -m bench`` imports every public module of the ``bench`` package, so a new module joins
the run by registering itself; nothing else has to change. A module that predates the registry
and only defines ``run(quick: bool) -> list[dict]`` (rows with ``bench``, ``case``, ``value``,
``unit`` and optionally ``baseline``) is adapted by :func:`legacy_suite`.

Rows of one *group* measure the same quantity in the same unit, so only they are compared: the
ratio column divides each row by its group's baseline row and by nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import Protocol

__all__ = [
    "Chart",
    "ChartKind",
    "Measurement",
    "Step",
    "Suite",
    "SuiteContext",
    "SuiteResult",
    "check_groups",
    "discover",
    "legacy_suite",
    "register",
    "registered",
]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One figure.

    Attributes:
        group: what is measured (rows with the same group are compared with each other).
        case: which stack or variant.
        value: the figure (a median unless the group says otherwise).
        unit: ``"ms"``, ``"µs"``, ``"MB"``, ``"/s"``...; every row of a group has the same.
        baseline: the row the group's ratios divide by (at most one per group).
        samples: the raw samples behind ``value``, when they are worth plotting.
        note: a short remark printed beside the row.
    """

    group: str
    case: str
    value: float
    unit: str
    baseline: bool = False
    samples: tuple[float, ...] = ()
    note: str = ""


class ChartKind(StrEnum):
    """How :mod:`bench._plots` draws a chart."""

    STACKED = "stacked"  # one bar per stack, split into parts (a cold-start breakdown)
    BARS = "bars"  # grouped bars: one cluster per operation, one bar per stack
    DISTRIBUTION = "distribution"  # box plots of raw samples per stack


@dataclass(frozen=True, slots=True)
class Chart:
    """Data for one PNG.

    Attributes:
        name: file name stem (``cold_start_breakdown`` → ``cold_start_breakdown.png``).
        title: the chart title.
        kind: how to draw it.
        unit: the axis unit.
        series: ``{stack: {part or operation: value}}`` for stacked and grouped bars.
        samples: ``{stack: [values]}`` for distributions.
    """

    name: str
    title: str
    kind: ChartKind
    unit: str
    series: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    samples: Mapping[str, Sequence[float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """What a suite returns: figures, remarks for the reader, and charts."""

    measurements: list[Measurement]
    notes: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


class Step(Protocol):
    """Advances a case's progress bar by one step."""

    def __call__(self, advance: int = 1) -> None:
        """Advance by ``advance`` steps."""


class SuiteContext(Protocol):
    """What the runner hands a suite."""

    @property
    def quick(self) -> bool:
        """Smaller samples: the whole default run stays under two minutes."""

    @property
    def full(self) -> bool:
        """Larger samples for steadier medians."""

    def case(self, name: str, total: int) -> AbstractContextManager[Step]:
        """A progress bar for one case of ``total`` steps."""

    def database(self) -> str:
        """URL of the fastest local DynamoDB server available (dynalite, else moto); shared."""

    def moto(self) -> str:
        """URL of a moto server (STS, KMS, transactions); shared by every suite."""

    @property
    def server_name(self) -> str:
        """Which server :meth:`database` runs (``"dynalite 4.0.0"``, ``"moto 5.2.5"``)."""

    @property
    def server_keep_alive(self) -> bool:
        """Whether :meth:`database`'s server keeps connections (dynalite); moto closes each
        one and serves a few hundred requests a second, so suites may take fewer samples."""


@dataclass(frozen=True, slots=True)
class Suite:
    """A registered suite: ``run`` is called once per ``python -m bench`` that selects it."""

    name: str
    title: str
    run: Callable[[SuiteContext], SuiteResult]
    order: int = 100
    default: bool = True


_SUITES: dict[str, Suite] = {}


def register(
    name: str,
    title: str,
    run: Callable[[SuiteContext], SuiteResult],
    *,
    order: int = 100,
    default: bool = True,
) -> Suite:
    """Add a suite to ``python -m bench``; returns it. Registering a name twice replaces it.

    Args:
        name: the command-line name (``python -m bench NAME``).
        title: one line saying what it measures.
        run: called with the run's :class:`SuiteContext`.
        order: suites run in ascending order (the built-in ones use 10..70).
        default: whether a bare ``python -m bench`` runs it.
    """
    suite = Suite(name=name, title=title, run=run, order=order, default=default)
    _SUITES[name] = suite
    return suite


def registered() -> list[Suite]:
    """Every registered suite, in run order."""
    return sorted(_SUITES.values(), key=lambda suite: (suite.order, suite.name))


def legacy_suite(name: str, module: ModuleType) -> Suite:
    """Adapt a module that only has ``run(quick: bool) -> list[dict]``."""
    legacy_run: Callable[..., list[dict[str, object]]] = module.run

    def run(ctx: SuiteContext) -> SuiteResult:
        with ctx.case(name, total=1) as step:
            rows = legacy_run(quick=ctx.quick)
            step()
        measurements = [
            Measurement(
                group=str(row.get("group", row.get("bench", name))),
                case=str(row["case"]),
                value=float(str(row["value"])),
                unit=str(row.get("unit", "")),
                baseline=bool(row.get("baseline", False)),
            )
            for row in rows
            if isinstance(row.get("value"), int | float)
        ]
        notes = [
            f"{row['case']}: {row['value']}"
            for row in rows
            if not isinstance(row.get("value"), int | float)
        ]
        return SuiteResult(measurements, notes)

    doc = (module.__doc__ or name).strip().splitlines()[0]
    return register(name, doc, run, order=200)


def _public_modules(package: ModuleType) -> Iterator[str]:
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name != "demo":
            yield info.name


def discover() -> list[Suite]:
    """Import every public ``bench`` module so it can register itself; returns the suites.

    A module that fails to import becomes a suite that fails with that error when run, so one
    broken module never stops the others.
    """
    import bench

    for name in _public_modules(bench):
        try:
            module = importlib.import_module(f"bench.{name}")
        except Exception as exc:
            register(name, f"(cannot be imported: {exc!r})", _failing(exc), order=300)
            continue
        if name not in _SUITES and callable(getattr(module, "run", None)):
            legacy_suite(name, module)
    return registered()


def _failing(error: Exception) -> Callable[[SuiteContext], SuiteResult]:
    def run(ctx: SuiteContext) -> SuiteResult:
        raise error

    return run


def check_groups(measurements: Sequence[Measurement]) -> None:
    """Refuse groups that would divide unlike quantities: mixed units or two baselines."""
    units: dict[str, set[str]] = {}
    baselines: dict[str, int] = {}
    for row in measurements:
        units.setdefault(row.group, set()).add(row.unit)
        baselines[row.group] = baselines.get(row.group, 0) + int(row.baseline)
    for group, seen in units.items():
        if len(seen) > 1:
            raise ValueError(f"group {group!r} mixes units {sorted(seen)}")
        if baselines[group] > 1:
            raise ValueError(f"group {group!r} has {baselines[group]} baseline rows")
