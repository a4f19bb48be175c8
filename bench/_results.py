"""The results folder of a run: ``results.json`` (figures + environment) and PNG charts."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench._core import SuiteResult
from bench._plots import render
from bench._report import ratio

__all__ = ["PACKAGES", "environment", "new_folder", "write"]

PACKAGES = (
    "asyncdynamo-lambda",
    "pydantic",
    "pydantic-core",
    "aiobotocore",
    "botocore",
    "boto3",
    "aiohttp",
    "aiodynamo",
    "pynamodb",
    "pydynox",
    "moto",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _source() -> dict[str, str | None]:
    """Where the measured asyncdynamo was imported from, and its git commit when known."""
    import subprocess

    import asyncdynamo

    folder = Path(asyncdynamo.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"path": str(folder), "commit": commit}


def environment(server: str) -> dict[str, object]:
    """What the figures depend on: CPU, Python, OS, package versions and the server."""
    return {
        "asyncdynamo": _source(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {name: _installed(name) for name in PACKAGES},
        "server": server,
    }


def new_folder(base: Path) -> Path:
    """``base/<UTC timestamp>``, created."""
    folder = base / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(
    folder: Path, results: Mapping[str, SuiteResult], env: Mapping[str, object], argv: list[str]
) -> list[Path]:
    """Write ``results.json`` and every chart into ``folder``; returns the files written."""
    suites: dict[str, object] = {}
    charts = []
    for name, result in results.items():
        rows = []
        for row in result.measurements:
            data = asdict(row)
            data["samples"] = list(row.samples)
            data["ratio_to_baseline"] = ratio(row, result.measurements)
            rows.append(data)
        suites[name] = {"measurements": rows, "notes": result.notes, "details": result.details}
        charts.extend(result.charts)
    document = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": ["python", "-m", "bench", *argv],
        "environment": dict(env),
        "suites": suites,
    }
    path = folder / "results.json"
    path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    return [path, *render(charts, folder)]
