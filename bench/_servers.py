"""Local DynamoDB servers for the benchmarks, each in its own process so its CPU never counts.

* moto's server (the ``bench`` extra installs it): every feature the suites need (STS, KMS,
  transactions), but it answers every request with ``Connection: close``, which hides
  keep-alive gains and makes the server, not the client, the bottleneck.
* dynalite (npm), when ``node`` and ``npm`` are on the PATH: several times faster and
  keep-alive, so client-bound figures measure the client. It is installed on first use into
  ``~/.cache/asyncdynamo-bench`` (``ASYNCDYNAMO_BENCH_CACHE`` moves it); it is never required.
  It lacks transactions, TTL updates and streams, so suites needing them use moto.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "REGION",
    "Server",
    "child_env",
    "dynalite_command",
    "dynalite_process",
    "free_port",
    "moto_process",
    "seed_table",
]

REGION = "us-east-1"
_ROOT = Path(__file__).resolve().parent.parent
_PYCACHE = Path(tempfile.gettempdir()) / "asyncdynamo-bench-pycache"
DYNALITE_VERSION = "4"


@dataclass(frozen=True, slots=True)
class Server:
    """A running local server: its URL and what it is (for the report)."""

    url: str
    name: str
    keep_alive: bool


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured child process: a private bytecode cache, the repo on the
    path, dummy credentials from the environment (no config files, no IMDS), plus ``extra``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        **extra,
    )
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return env


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time") from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:  # moto stops slowly on SIGTERM
        process.kill()
        process.wait()


@contextmanager
def moto_process(timeout: float = 60.0) -> Iterator[str]:
    """Runs moto's server in its own process on 127.0.0.1; yields its URL."""
    with moto_server(timeout) as (url, _):
        yield url


@contextmanager
def moto_server(timeout: float = 60.0) -> Iterator[tuple[str, int]]:
    """Runs moto's server in its own process on 127.0.0.1; yields its URL and process id (to
    read the server's own CPU time)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
    )
    try:
        _wait_listening(process, port, timeout)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        _stop(process)


def run_child(source: str, args: Sequence[str]) -> dict[str, Any]:
    """Run ``source`` in a fresh measured child process; its last stdout line, as JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    try:
        completed = subprocess.run(
            [sys.executable, handle.name, *args],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
        )
    finally:
        os.unlink(handle.name)
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark script failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _cache_dir() -> Path:
    default = Path.home() / ".cache" / "asyncdynamo-bench"
    return Path(os.environ.get("ASYNCDYNAMO_BENCH_CACHE", default))


def dynalite_command() -> tuple[list[str], str] | None:
    """``(argv prefix, version)`` to start dynalite, installing it on first use; ``None`` when
    node or npm is missing or the install fails (the caller falls back to moto)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    cache = _cache_dir()
    package = cache / "node_modules" / "dynalite"
    if not (package / "package.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"bench: installing dynalite into {cache} (once)", file=sys.stderr, flush=True)
        completed = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(cache),
                "--no-audit",
                "--no-fund",
                "--silent",
                f"dynalite@{DYNALITE_VERSION}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not (package / "package.json").is_file():
            print(f"bench: dynalite install failed, using moto\n{completed.stderr[-500:]}")
            return None
    manifest = json.loads((package / "package.json").read_text())
    binary = manifest.get("bin", "cli.js")
    script = package / str(binary.get("dynalite", "cli.js") if isinstance(binary, dict) else binary)
    return [node, str(script)], str(manifest.get("version", "?"))


@contextmanager
def dynalite_process(command: list[str], timeout: float = 30.0) -> Iterator[str]:
    """Runs dynalite (in memory) on 127.0.0.1; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            *command,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--createTableMs",
            "0",
            "--deleteTableMs",
            "0",
            "--updateTableMs",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(process, port, timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


async def _seed(url: str, table: str, keys: dict[str, str], items: list[dict[str, Any]]) -> None:
    from asyncdynamo._config import Config, Credentials
    from asyncdynamo._lean import LeanTransport

    config = Config(region=REGION, endpoint_url=url, credentials=Credentials("testing", "testing"))
    async with LeanTransport(config) as transport:
        listed = await transport.call("ListTables", {})
        if table not in listed.get("TableNames", []):
            await transport.call(
                "CreateTable",
                {
                    "TableName": table,
                    "KeySchema": [
                        {"AttributeName": name, "KeyType": kind} for name, kind in keys.items()
                    ],
                    "AttributeDefinitions": [
                        {"AttributeName": name, "AttributeType": "S"} for name in keys
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            )
        # dynalite (like DynamoDB) answers CreateTable while the table is still CREATING.
        for _ in range(200):
            described = await transport.call("DescribeTable", {"TableName": table})
            if described["Table"]["TableStatus"] == "ACTIVE":
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"table {table} did not become ACTIVE in 10 s")
        for item in items:
            await transport.call("PutItem", {"TableName": table, "Item": item})


def seed_table(url: str, table: str, keys: dict[str, str], items: list[dict[str, Any]]) -> None:
    """Create ``table`` (string keys: ``{"pk": "HASH", "sk": "RANGE"}``) unless it exists, wait
    until it is ACTIVE, and put ``items`` (wire form) into it."""
    asyncio.run(_seed(url, table, keys, items))
