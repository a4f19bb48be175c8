"""The benchmark suites: each registers with the runner's API, and its rows form valid groups.

The handlers, payments and encryption suites build their rows with pure functions from raw
samples, so synthetic samples check what a run would print without any server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import _core
from bench._child import run_streaming
from bench._core import Measurement, check_groups
from bench.encryption import encryption_result
from bench.handlers import handler_result
from bench.payments import Sample, payment_result


def _baselines(rows: list[Measurement]) -> dict[str, str]:
    return {row.group: row.case for row in rows if row.baseline}


def test_no_suite_is_adapted_from_the_legacy_shape() -> None:
    suites = _core.discover()
    legacy = [s.name for s in suites if s.run.__qualname__.startswith("legacy_suite.")]
    assert legacy == []
    assert {"handlers", "payments", "encryption"} <= {s.name for s in suites}


def test_handler_rows_compare_each_cold_phase_with_plain_aiobotocore() -> None:
    cold = {
        stack: [
            {"import_and_init": 200.0 * k, "first_payment": 30.0 * k, "total": 230.0 * k, "cpu": k}
        ]
        * 3
        for stack, k in (("asyncdynamo", 1), ("plain aiobotocore", 2))
    }
    warm = {
        "asyncdynamo": {
            "sequential": [30.0, 35.0, 40.0],
            "concurrent": [500.0] * 32,
            "cpu_ms": 6.0,
            "rss": [36.0, 36.5],
            "growth": 200,
        },
        "plain aiobotocore": {"sequential": [60.0], "concurrent": [], "cpu_ms": 10.0, "rss": []},
    }
    result = handler_result(cold, warm, {"asyncdynamo": 700.0, "plain aiobotocore": 2000.0})
    check_groups(result.measurements)
    baselines = _baselines(result.measurements)
    cold_groups = {r.group for r in result.measurements if r.group.startswith("cold start")}
    assert len(cold_groups) == 5
    assert all(baselines[group] == "plain aiobotocore" for group in cold_groups)
    assert baselines["client CPU per warm invocation (concurrency 1)"] == "plain aiobotocore"
    latency = [r for r in result.measurements if "latency" in r.group]
    assert {r.case for r in latency} == {"concurrency 1", "concurrency 32"}
    assert not any(r.baseline for r in latency)
    growth = next(r for r in result.measurements if r.group.startswith("RSS growth over 200"))
    assert growth.value == pytest.approx(0.5)
    assert growth.unit == "MB"


def test_payment_rows_have_one_quantity_per_group_and_no_baseline() -> None:
    samples = {
        (transport, level): Sample(tuple(float(v) for v in range(1, 101)), 4.0, 20.0, 2.0)
        for transport in ("lean", "aiobotocore")
        for level in (1, 32)
    }
    result = payment_result(samples)
    check_groups(result.measurements)
    assert _baselines(result.measurements) == {}
    p99 = [r for r in result.measurements if r.group == "p99 latency per payment"]
    assert len(p99) == 4
    assert {r.value for r in p99} == {100.0}
    throughput = next(r for r in result.measurements if r.group == "throughput")
    assert throughput.value == pytest.approx(50.0)


def test_encryption_rows_divide_encrypted_by_clear_of_the_same_transport() -> None:
    child = {
        "cpu": {
            "put plain": [100.0, 110.0],
            "put 3 encrypted": [140.0, 150.0],
            "get plain": [80.0, 90.0],
            "get 3 encrypted": [120.0, 130.0],
        },
        "kms_cold": 3,
        "kms_warm": 0,
        "reads": 200,
    }
    result = encryption_result({"lean": child, "aiobotocore": child})
    check_groups(result.measurements)
    baselines = _baselines(result.measurements)
    cpu_groups = [g for g in baselines if g.startswith("client CPU")]
    assert len(cpu_groups) == 4  # put and get, per transport
    assert set(baselines.values()) == {"clear"}
    kms = [r for r in result.measurements if r.group.startswith("KMS calls")]
    assert {r.unit for r in kms} == {"calls"}
    assert kms[0].group == "KMS calls over 200 reads of 100 encrypted items, lean"
    assert [r.value for r in kms[:2]] == [3.0, 0.0]
    assert not any(r.baseline for r in kms)


def test_a_streaming_child_advances_the_bar_and_waits_for_each_reset(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(
        "import sys\n"
        "print('tick 3', flush=True)\n"
        "print('reset', flush=True)\n"
        "answer = sys.stdin.readline().strip()\n"
        "print('tick', flush=True)\n"
        'print(\'{"answer": "%s"}\' % answer)\n'
    )
    steps: list[int] = []
    resets: list[int] = []

    def step(advance: int = 1) -> None:
        steps.append(advance)

    result = run_streaming([str(script)], {"PATH": ""}, step, lambda: resets.append(len(steps)))
    assert steps == [3, 1]
    assert resets == [1]  # the reset ran after the first tick, before the child went on
    assert result == {"answer": "go"}


def test_a_failing_streaming_child_raises_with_its_error(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text("raise SystemExit('no table')\n")
    with pytest.raises(RuntimeError, match="no table"):
        run_streaming([str(script)], {}, lambda advance=1: None)
