"""Instructions a fresh Python process executes, counted by valgrind's callgrind.

CPU time on a shared machine moves by ±30% from one run to the next; the number of instructions
a deterministic script executes moves by well under 1%, so it shows small import-time changes
that timings hide. callgrind runs a process ~50× slower, so it is used for a few cold paths only,
and only when ``valgrind`` is on the PATH (it is never required).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence

__all__ = ["available", "instructions", "startup_instructions"]

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def available() -> bool:
    """Whether valgrind can be run here."""
    return shutil.which("valgrind") is not None


def instructions(args: Sequence[str], env: Mapping[str, str], timeout: float = 600.0) -> int:
    """Instructions executed by ``python *args`` (every thread, interpreter start-up included).

    Raises ``RuntimeError`` when the process fails: a count of a failed run means nothing.
    """
    completed = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            *args,
        ],
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=timeout,
        check=False,
    )
    found = _COLLECTED.search(completed.stderr)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed:\n{completed.stderr[-3000:]}")
    return int(found.group(1))


def startup_instructions(env: Mapping[str, str]) -> int:
    """The interpreter's own start-up (and ``import time``): subtracted from every script's count
    so a figure starts, like the timed ones, at the script's first line. Measured scripts end
    with ``os._exit`` as this one does: the interpreter's teardown is no part of a cold start."""
    return instructions(["-c", "import time, os; os._exit(0)"], env)
