"""``python -m bench``: the demo, then every registered benchmark suite, with live progress.

```
python -m bench                     # demo + every default suite
python -m bench --quick             # smaller samples: the whole run in under two minutes
python -m bench --full              # larger samples for steadier medians
python -m bench codec peers         # only these suites (no demo unless named)
python -m bench --list              # the registered suites
python -m bench --out DIR           # where the results folder goes (default bench-results/)
python -m bench --server moto       # skip dynalite even when node is available
```
Each suite prints one table whose ratios divide only rows of the same group by that group's
baseline row; every run writes ``results.json`` (figures + environment) and PNG charts into a
new folder and prints its path. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from bench._core import SuiteResult, discover
from bench._report import print_suite
from bench._results import environment, new_folder, write
from bench._runner import Run


def _parser(names: list[str]) -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m bench", description=doc.splitlines()[0])
    parser.add_argument("suites", nargs="*", help=f"demo and/or any of: {', '.join(names)}")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller samples (under 2 minutes)")
    size.add_argument("--full", action="store_true", help="larger samples (slower)")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    parser.add_argument("--out", default="bench-results", help="parent of the results folder")
    parser.add_argument(
        "--server",
        choices=("auto", "dynalite", "moto"),
        default="auto",
        help="database for client-bound suites (auto: dynalite when node is available)",
    )
    parser.add_argument("--plain", action="store_true", help="no colours or live bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and the chosen suites; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    suites = discover()
    by_name = {suite.name: suite for suite in suites}
    parser = _parser(list(by_name))
    args = parser.parse_args(arguments)
    if args.list:
        for suite in suites:
            default = "" if suite.default else "  (only when named)"
            print(f"{suite.name:<14} {suite.title}{default}")
        return 0
    unknown = [name for name in args.suites if name != "demo" and name not in by_name]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    chosen = args.suites or ["demo", *(s.name for s in suites if s.default)]

    if "demo" in chosen:
        from bench.demo import run_demo

        asyncio.run(run_demo())
        print()

    # Stopped from outside, still stop the servers this run started (they are child processes).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    results: dict[str, SuiteResult] = {}
    failed: list[str] = []
    started = time.perf_counter()
    with Run(quick=args.quick, full=args.full, server=args.server, plain=args.plain) as run:
        for suite in (s for s in suites if s.name in chosen):
            run.start_suite(suite.name, suite.title)
            try:
                result = suite.run(run)
            except Exception:
                failed.append(suite.name)
                run.end_suite()
                print(f"{suite.name}: failed\n{traceback.format_exc()}", file=sys.stderr)
                continue
            run.end_suite()
            results[suite.name] = result
            print_suite(suite.name, suite.title, result, plain=args.plain)
            print()
        server = run.server_name
    if not results:
        return 1 if failed else 0
    folder = new_folder(Path(args.out))
    files = write(folder, results, environment(server), arguments)
    elapsed = time.perf_counter() - started
    print(f"database server for client-bound suites: {server}")
    print(f"results: {folder}/ ({', '.join(f.name for f in files)}) in {elapsed:.0f}s")
    if failed:
        print(f"failed suites: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
