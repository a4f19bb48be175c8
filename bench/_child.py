"""A measured child process that reports progress while it runs.

The child prints ``tick`` (or ``tick N``) lines as it goes, which advance the caller's progress
bar, and its result as one JSON line at the end. A child that prints ``reset`` waits for a line
on stdin: the caller's ``reset`` runs meanwhile (to empty tables outside any timed stretch).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bench._core import Step

__all__ = ["run_streaming"]


def run_streaming(
    args: Sequence[str],
    env: Mapping[str, str],
    step: Step,
    reset: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run ``python *args``; returns its last stdout line as JSON (raises if it fails)."""
    with subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        last = ""
        for line in process.stdout:
            words = line.split()
            if words[:1] == ["tick"]:
                step(int(words[1]) if len(words) > 1 else 1)
            elif words == ["reset"]:
                if reset is not None:
                    reset()
                process.stdin.write("go\n")
                process.stdin.flush()
            elif words:
                last = line
        stderr = process.stderr.read() if process.stderr else ""
        if process.wait() != 0:
            raise RuntimeError(f"benchmark process failed:\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(last)
    return result
