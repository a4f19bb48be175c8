"""The benchmark runner's report: what may be compared, and what a run leaves on disk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from bench import _core
from bench._core import Measurement, Step, SuiteResult, check_groups, legacy_suite, registered
from bench._report import grouped, print_suite, ratio
from bench._results import environment, write


def test_a_ratio_divides_only_by_the_baseline_of_the_same_group() -> None:
    rows = [
        Measurement("cold path", "ours", 100.0, "ms", baseline=True),
        Measurement("cold path", "theirs", 250.0, "ms"),
        Measurement("cached lookup", "ours", 0.2, "µs"),
    ]
    assert ratio(rows[1], rows) == pytest.approx(2.5)
    assert ratio(rows[2], rows) is None  # its group has no baseline: never divided by 100 ms


def test_a_group_mixing_units_is_refused() -> None:
    rows = [
        Measurement("switch", "naive", 200.0, "ms", baseline=True),
        Measurement("switch", "cached", 0.2, "µs"),
    ]
    with pytest.raises(ValueError, match="mixes units"):
        check_groups(rows)


def test_a_group_with_two_baselines_is_refused() -> None:
    rows = [
        Measurement("fan-out", "slowest", 200.0, "ms", baseline=True),
        Measurement("fan-out", "sum", 2_000.0, "ms", baseline=True),
    ]
    with pytest.raises(ValueError, match="2 baseline rows"):
        check_groups(rows)


def test_the_table_names_the_baseline_and_groups_rows(capsys: pytest.CaptureFixture[str]) -> None:
    result = SuiteResult(
        [
            Measurement("GetItem CPU", "asyncdynamo", 250.0, "µs", baseline=True),
            Measurement("peak RSS", "asyncdynamo", 35.0, "MB"),
            Measurement("GetItem CPU", "boto3", 900.0, "µs"),
        ],
        notes=["server: test"],
    )
    print_suite("peers", "same operations", result, plain=True)
    out = capsys.readouterr().out
    assert list(grouped(result.measurements)) == ["GetItem CPU", "peak RSS"]
    assert "1 (baseline)" in out
    assert "3.60×" in out
    assert out.index("boto3") < out.index("peak RSS")  # grouped, not in input order
    assert "note: server: test" in out


def test_a_module_with_only_run_quick_joins_the_registry() -> None:
    module = ModuleType("bench.legacy_example", "Legacy: rows as dicts.")

    def run(quick: bool = False) -> list[dict[str, object]]:
        return [
            {"bench": "payments", "case": "p50 (baseline)", "value": 3.0, "unit": "ms"},
            {"bench": "payments", "case": "imports", "value": "none", "unit": ""},
        ]

    module.run = run  # type: ignore[attr-defined]
    suite = legacy_suite("legacy_example", module)
    try:
        assert suite in registered()
        result = suite.run(_FakeContext())
        assert [row.case for row in result.measurements] == ["p50 (baseline)"]
        assert result.notes == ["imports: none"]
    finally:
        _core._SUITES.pop("legacy_example")


def test_every_built_in_suite_registers_itself() -> None:
    names = {suite.name for suite in _core.discover()}
    assert {"codec", "transports", "cold_start", "peers", "memory", "partners"} <= names


def test_a_run_writes_json_with_its_environment(tmp_path: Path) -> None:
    result = SuiteResult([Measurement("codec", "ours", 5.0, "µs", baseline=True, samples=(4, 6))])
    files = write(tmp_path, {"codec": result}, environment("moto 5"), ["--quick"])
    document = json.loads((tmp_path / "results.json").read_text())
    assert files[0] == tmp_path / "results.json"
    assert document["command"] == ["python", "-m", "bench", "--quick"]
    assert document["environment"]["server"] == "moto 5"
    assert document["environment"]["python"]
    assert "pydantic" in document["environment"]["packages"]
    row = document["suites"]["codec"]["measurements"][0]
    assert row["ratio_to_baseline"] == 1.0
    assert row["samples"] == [4, 6]


def test_charts_are_written_as_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    chart = _core.Chart(
        "breakdown", "t", _core.ChartKind.STACKED, "ms", series={"a": {"x": 1.0, "y": 2.0}}
    )
    latency = _core.Chart(
        "latency", "t", _core.ChartKind.DISTRIBUTION, "ms", samples={"a": [1.0, 2.0, 3.0]}
    )
    bars = _core.Chart("cpu", "t", _core.ChartKind.BARS, "µs", series={"a": {"get": 1.0}})
    result = SuiteResult([], charts=[chart, latency, bars])
    files = write(tmp_path, {"s": result}, {}, [])
    assert [f.name for f in files] == ["results.json", "breakdown.png", "latency.png", "cpu.png"]
    assert all(f.read_bytes().startswith(b"\x89PNG") for f in files[1:])


class _FakeContext:
    quick = True
    full = False
    server_name = "none"
    server_keep_alive = False

    @contextmanager
    def case(self, name: str, total: int) -> Iterator[Step]:
        def step(advance: int = 1) -> None:
            return None

        yield step

    def database(self) -> str:
        raise AssertionError("not used")

    def moto(self) -> str:
        raise AssertionError("not used")


def test_a_peer_whose_process_fails_is_left_out_with_its_reason(tmp_path: Path) -> None:
    from bench.peers import interleaved_rounds

    ours = tmp_path / "ours.py"
    ours.write_text("print('{\"cpu_us\": 1.0}')\n")
    broken = tmp_path / "broken.py"
    broken.write_text("raise SystemExit('panic in a function that cannot unwind')\n")
    failures: dict[str, str] = {}
    samples = interleaved_rounds(
        {"asyncdynamo": str(ours), "pydynox": str(broken)},
        "http://127.0.0.1:9",
        "warm",
        1,
        2,
        lambda advance=1: None,
        failures=failures,
    )
    assert samples == {"asyncdynamo": [{"cpu_us": 1.0}, {"cpu_us": 1.0}]}
    assert "cannot unwind" in failures["pydynox"]


def test_our_own_failure_fails_the_suite(tmp_path: Path) -> None:
    from bench.peers import interleaved_rounds

    broken = tmp_path / "broken.py"
    broken.write_text("raise SystemExit('boom')\n")
    with pytest.raises(RuntimeError, match="boom"):
        interleaved_rounds(
            {"asyncdynamo": str(broken)}, "u", "warm", 1, 1, lambda advance=1: None, failures={}
        )


def test_a_module_that_cannot_be_imported_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "_public_modules", lambda package: iter(["no_such_suite_module"]))
    try:
        suite = next(s for s in _core.discover() if s.name == "no_such_suite_module")
        assert "cannot be imported" in suite.title
        with pytest.raises(ModuleNotFoundError):
            suite.run(_FakeContext())
    finally:
        _core._SUITES.pop("no_such_suite_module", None)
