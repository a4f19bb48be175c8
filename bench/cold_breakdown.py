"""Where a Lambda handler's init CPU goes, and what bytecode and pydantic's plugin scan change.

Each sample is a fresh interpreter running a handler module's init as Lambda does: imports, a
20-field model, ``new_lambda_optimized`` and ``pre_register_models`` (no request, so no server is
needed). Variants, interleaved round by round, medians of in-script CPU time:

* ``as installed``: the packages as this environment has them (pip compiles ``.pyc`` files);
* ``no bytecode``: asyncdynamo and pydantic's packages copied without ``__pycache__`` and a
  read-only cache (``PYTHONDONTWRITEBYTECODE``), as in a Lambda package shipped without ``.pyc``
  files: every cold start compiles every module again;
* ``timestamp .pyc, sources re-timed``: default ``.pyc`` files whose sources got new
  modification times (an unpacking that does not keep them): the cache is stale, so the same;
* ``unchecked-hash .pyc``: ``compileall --invalidation-mode unchecked-hash``, valid whatever the
  file times are;
* the same plus ``PYDANTIC_DISABLE_PLUGINS=__all__`` (pydantic skips its entry-point scan);
* ``pydantic floor``: asyncio, pydantic and the same model without asyncdynamo.

Also printed: import self time per top-level package under ``-X importtime`` for the
unchecked-hash variant. With ``--instructions`` (needs valgrind) it prints instead the
instructions each step of the same init executes, in the order a handler pays them (counted by
callgrind: repeatable to well under 1%, where CPU times on a shared machine are not), with
pydantic's plugin lookup on and off. Run ``python -m bench.cold_breakdown [--rounds N]
[--instructions]``. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._servers import child_env

__all__ = ["main"]

PACKAGES = ("asyncdynamo", "pydantic", "pydantic_core", "annotated_types", "typing_inspection")
MODULES = ("typing_extensions",)
PLUGINS_OFF = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}

_MODEL = """
class Payment({base}):
{table}    pk: {key}
    sk: str
    merchant_id: str
    customer_id: str
    amount: int
    currency: str
    fee: int
    status: str
    method: str
    card_last4: str
    created_at: str
    updated_at: str
    attempts: int
    captured: bool
    refunded_amount: int
    tags: set[str]
    billing: dict[str, str]
    lines: list[dict[str, int]]
    note: str
    version: int
"""

HANDLER = (
    """\
import time
_c0 = time.process_time()
from typing import Annotated
from asyncdynamo import (
    Config, Credentials, LambdaConfig, Model, PartitionKey, TransportKind,
    new_lambda_optimized, run_in_lambda_loop,
)
"""
    + _MODEL.format(
        base="Model", table='    __table__ = "payments"\n', key="Annotated[str, PartitionKey]"
    )
    + """
config = Config(
    region="us-east-1", endpoint_url="http://127.0.0.1:9", transport=TransportKind.LEAN,
    credentials=Credentials("testing", "testing"),
)
db = run_in_lambda_loop(new_lambda_optimized(LambdaConfig(base_config=config)))
db.pre_register_models(Payment)
print((time.process_time() - _c0) * 1000)
"""
)

FLOOR = (
    """\
import time
_c0 = time.process_time()
import asyncio
from pydantic import BaseModel
"""
    + _MODEL.format(base="BaseModel", table="", key="str")
    + """
print((time.process_time() - _c0) * 1000)
"""
)

# Each step's script is the previous one plus one line; their instruction counts' differences
# are the steps' costs.
_STEPS = (
    ("interpreter start-up", "import time"),
    ("import asyncio", "import asyncio"),
    ("from pydantic import BaseModel", "from pydantic import BaseModel"),
    (
        "import asyncdynamo (builds the first model)",
        "from typing import Annotated\n"
        "from asyncdynamo import Config, Credentials, LambdaConfig, Model, PartitionKey,"
        " TransportKind, new_lambda_optimized, run_in_lambda_loop",
    ),
    (
        "a 20-field model",
        _MODEL.format(
            base="Model", table='    __table__ = "payments"\n', key="Annotated[str, PartitionKey]"
        ),
    ),
    (
        "new_lambda_optimized + pre_register_models",
        HANDLER[HANDLER.index("config = Config(") : HANDLER.index("print(")],
    ),
)
# Ends each step's script before the interpreter tears its modules down (no Lambda cold start
# pays that, and it grows with what was imported).
_EXIT = "\nimport os; os._exit(0)"
_FIRST_MODEL = (
    "import asyncio\nfrom pydantic import BaseModel",
    "class First(BaseModel):\n    x: int",
)

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def _copy_packages(target: Path) -> None:
    for name in (*PACKAGES, *MODULES):
        module = importlib.import_module(name)
        source = Path(str(module.__file__))
        if source.name == "__init__.py":
            shutil.copytree(
                source.parent, target / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, target / source.name)


def _compile(target: Path, mode: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", mode, target],
        check=True,
    )


def _retime_sources(target: Path) -> None:
    for path in target.rglob("*.py"):
        stat = path.stat()
        os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))


def _run(script: str, path: str | None, extra: dict[str, str], *flags: str) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **extra}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([path, os.environ.get("PYTHONPATH", "")])
    if "PYDANTIC_DISABLE_PLUGINS" not in extra:
        env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    completed = subprocess.run(
        [sys.executable, *flags, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return completed.stdout if not flags else completed.stderr


def _self_times(script: str, path: str, rounds: int) -> dict[str, float]:
    runs: list[dict[str, int]] = []
    for _ in range(rounds):
        stderr = _run(script, path, {}, "-X", "importtime")
        runs.append({m.group(2): int(m.group(1)) for m in _IMPORT_LINE.finditer(stderr)})
    names: set[str] = set().union(*runs)
    per_module = {name: statistics.median(run.get(name, 0) for run in runs) for name in names}
    per_package: dict[str, float] = collections.defaultdict(float)
    for name, micros in per_module.items():
        per_package[name.partition(".")[0]] += micros / 1000
    return dict(per_package)


def _instruction_steps() -> None:
    from bench._instructions import available, instructions

    if not available():
        raise SystemExit("--instructions needs valgrind on the PATH")
    modes = {"plugin lookup on": {}, "plugins all off": PLUGINS_OFF}
    print("instructions per step of a handler's init, millions (callgrind)")
    print("  (plugins all off: PYDANTIC_DISABLE_PLUGINS=__all__)")
    print(f"  {'step':48s}" + "".join(f"{mode:>18s}" for mode in modes))
    counts: dict[str, list[int]] = {mode: [] for mode in modes}
    for mode, extra in modes.items():
        env = _env(extra)
        whole = "\n".join(line for _, line in _STEPS)
        subprocess.run([sys.executable, "-c", whole], env=env, check=True)  # fills the cache
        script = ""
        for _, line in _STEPS:
            script = f"{script}\n{line}" if script else line
            counts[mode].append(instructions(["-c", script + _EXIT], env))
        first = [instructions(["-c", "\n".join(_FIRST_MODEL[:n]) + _EXIT], env) for n in (1, 2)]
        counts[mode].append(first[1] - first[0])
    for index, (step, _) in enumerate(_STEPS):
        cells = []
        for mode in modes:
            values = counts[mode]
            own = values[index] - (values[index - 1] if index else 0)
            cells.append(f"{own / 1e6:18.1f}")
        print(f"  {step:48s}" + "".join(cells))
    totals = [(counts[m][len(_STEPS) - 1] - counts[m][0]) / 1e6 for m in modes]
    print(f"  {'total after start-up':48s}" + "".join(f"{t:18.1f}" for t in totals))
    label = "  pydantic's first model, without asyncdynamo"
    print(f"{label:50s}" + "".join(f"{counts[m][-1] / 1e6:18.1f}" for m in modes))


def _env(extra: dict[str, str]) -> dict[str, str]:
    # The bench's private bytecode cache, written: a module compiled on every run would count
    # its compilation (see the "no bytecode" variant for what that costs).
    env = child_env(**extra)
    if "PYDANTIC_DISABLE_PLUGINS" not in extra:
        env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_breakdown")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--instructions", action="store_true", help="instructions per init step (valgrind)"
    )
    args = parser.parse_args(argv)
    if args.instructions:
        _instruction_steps()
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        trees = {name: root / name for name in ("none", "timestamp", "hash")}
        for tree in trees.values():
            tree.mkdir()
            _copy_packages(tree)
        _compile(trees["timestamp"], "timestamp")
        _compile(trees["hash"], "unchecked-hash")
        for tree in trees.values():
            _retime_sources(tree)
        variants: dict[str, tuple[str, str | None, dict[str, str]]] = {
            "as installed": (HANDLER, None, {}),
            "no bytecode": (HANDLER, str(trees["none"]), {}),
            "timestamp .pyc, sources re-timed": (HANDLER, str(trees["timestamp"]), {}),
            "unchecked-hash .pyc": (HANDLER, str(trees["hash"]), {}),
            "unchecked-hash .pyc + PYDANTIC_DISABLE_PLUGINS": (
                HANDLER,
                str(trees["hash"]),
                {"PYDANTIC_DISABLE_PLUGINS": "__all__"},
            ),
            "pydantic floor (no asyncdynamo), unchecked-hash": (FLOOR, str(trees["hash"]), {}),
        }
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for round_ in range(args.rounds + 1):  # the first round only warms the page cache
            for name, (script, path, extra) in variants.items():
                value = float(_run(script, path, extra).strip().splitlines()[-1])
                if round_:
                    samples[name].append(value)
        print(f"handler init CPU, median of {args.rounds} fresh processes (ms)")
        base = statistics.median(samples["unchecked-hash .pyc"])
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"  {name:50s}{median:8.1f}   {median / base:5.2f}×")
        print("import self time by package, unchecked-hash .pyc, -X importtime (ms)")
        packages = _self_times(HANDLER, str(trees["hash"]), args.rounds)
        for name, millis in sorted(packages.items(), key=lambda item: -item[1])[:12]:
            print(f"  {name:30s}{millis:8.1f}")


if __name__ == "__main__":
    main()
