"""``python -m bench``: the demo, then every benchmark, each reported against a same-run baseline.

```
python -m bench                 # demo + all suites, quick sizes (a few minutes on 2 cores)
python -m bench --full          # larger samples for steadier medians
python -m bench codec transports  # only these suites
python -m bench demo            # only the end-to-end demo
python -m bench --json out.json # also write the results as JSON
```
Nothing here asserts a timing: numbers are for reading and for the release notes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from collections.abc import Sequence

from bench._report import print_table

SUITES = ("codec", "transports", "cold_start", "partners", "encryption", "payments")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help=f"demo and/or any of {', '.join(SUITES)}")
    parser.add_argument("--full", action="store_true", help="larger samples (slower)")
    parser.add_argument("--json", metavar="PATH", help="write all results to PATH as JSON")
    args = parser.parse_args(argv)
    chosen = list(args.suites) or ["demo", *SUITES]
    unknown = [s for s in chosen if s not in ("demo", *SUITES)]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")

    if "demo" in chosen:
        from bench.demo import run_demo

        asyncio.run(run_demo())
        print()

    results: list[dict[str, object]] = []
    for name in (s for s in SUITES if s in chosen):
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"== {name} ==", flush=True)
        suite_results = module.run(quick=not args.full)
        print_table(suite_results)
        print(f"   ({time.perf_counter() - started:.1f}s)\n", flush=True)
        results.extend(suite_results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
