"""Memory of a Lambda handler: peak RSS of a cold process, RSS growth over warm invocations.

asyncdynamo behind a Lambda handler (``LambdaDB``, the container's loop, a deadline view per
invocation) and on a plain ``DB``, each in fresh processes against the run's local server: the
peak resident set size when the first GetItem result is in hand (``VmHWM``: imports,
client, first request), then the growth of the resident set over 1,000 more invocations after a
20-call warm-up. Growth is reported in MB without ratios: near zero, a ratio would only amplify
noise. The peers' peak RSS is measured by the ``peers`` suite, in its cold-path processes.
"""

from __future__ import annotations

import statistics

from bench._core import Measurement, SuiteContext, SuiteResult, register
from bench.peers import OURS, available, driver_scripts, interleaved_rounds, seed

__all__ = ["run"]

HANDLER = "asyncdynamo LambdaDB handler"
WARM_CALLS = 1_000


def run(ctx: SuiteContext) -> SuiteResult:
    """Peak RSS of cold processes and RSS growth over 1,000 warm calls, per stack."""
    stacks, notes = available([HANDLER, OURS])
    url = ctx.database()
    seed(url)
    rounds = 1 if ctx.quick else 3
    with (
        driver_scripts(stacks) as paths,
        ctx.case("cold + 1,000 warm calls", total=rounds + 1) as step,
    ):
        samples = interleaved_rounds(paths, url, "memory", WARM_CALLS, rounds, step)
    rows = [
        Measurement(
            "peak RSS of a cold process at its first GetItem result",
            stack,
            statistics.median(float(str(s["peak_mb"])) for s in samples[stack]),
            "MB",
            baseline=stack == HANDLER,
        )
        for stack in stacks
    ]
    rows += [
        Measurement(
            f"RSS growth over {WARM_CALLS:,} warm invocations (GetItem each)",
            stack,
            statistics.median(float(str(s["growth_mb"])) for s in samples[stack]),
            "MB",
        )
        for stack in stacks
    ]
    notes.append(f"server: {ctx.server_name}; median of {rounds} process(es) per stack")
    return SuiteResult(rows, notes)


register(
    "memory", "a Lambda handler's peak RSS and RSS growth over 1,000 invocations", run, order=50
)
