"""The run: live progress bars, the shared local servers, and the context each suite gets."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from types import TracebackType
from typing import Any

from bench._core import Step
from bench._servers import Server, dynalite_command, dynalite_process, moto_process

__all__ = ["Run"]


def _moto_version() -> str:
    from importlib.metadata import version

    return f"moto {version('moto')}"


class _PlainBars:
    """Progress without rich (or without a terminal): one line per finished case."""

    def __init__(self) -> None:
        self._suite = ""

    def start_suite(self, name: str, title: str) -> None:
        self._suite = name
        print(f"{name}: {title}", flush=True)

    def end_suite(self) -> None:
        return None

    @contextmanager
    def case(self, name: str, total: int) -> Iterator[Step]:
        started = time.perf_counter()

        def step(advance: int = 1) -> None:
            return None

        yield step
        print(f"  {self._suite} · {name} ({time.perf_counter() - started:.1f}s)", flush=True)


class _RichBars:
    """One bar for the suite (cases done) and one per case (its steps)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        )
        self._suite_task: Any = None
        self._done = 0

    def start_suite(self, name: str, title: str) -> None:
        self._progress.start()
        self._suite_task = self._progress.add_task(f"[bold]{name}[/]: {title}", total=None)

    def end_suite(self) -> None:
        if self._suite_task is not None:
            self._progress.update(
                self._suite_task, total=max(self._done, 1), completed=max(self._done, 1)
            )
        self._progress.stop()
        for task_id in list(self._progress.task_ids):
            self._progress.remove_task(task_id)
        self._suite_task, self._done = None, 0

    @contextmanager
    def case(self, name: str, total: int) -> Iterator[Step]:
        task = self._progress.add_task(f"  {name}", total=max(total, 1))

        def step(advance: int = 1) -> None:
            self._progress.advance(task, advance)

        try:
            yield step
        finally:
            self._progress.update(task, completed=max(total, 1))
            self._done += 1
            if self._suite_task is not None:
                self._progress.update(self._suite_task, completed=self._done)


def _bars(plain: bool) -> _PlainBars | _RichBars:
    if plain or not sys.stdout.isatty():
        return _PlainBars()
    try:
        return _RichBars()
    except ImportError:
        return _PlainBars()


class Run(AbstractContextManager["Run"]):
    """One ``python -m bench``: the :class:`~bench._core.SuiteContext` every suite receives.

    Servers start on first use and are shared by every suite, then stopped at the end.
    """

    def __init__(self, *, quick: bool, full: bool, server: str = "auto", plain: bool = False):
        self.quick = quick
        self.full = full
        self._server_choice = server
        self._bars = _bars(plain)
        self._stack = ExitStack()
        self._moto: str | None = None
        self._database: Server | None = None
        self.server_name = "(no database server used)"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def start_suite(self, name: str, title: str) -> None:
        self._bars.start_suite(name, title)

    def end_suite(self) -> None:
        self._bars.end_suite()

    def case(self, name: str, total: int) -> AbstractContextManager[Step]:
        return self._bars.case(name, total)

    def moto(self) -> str:
        if self._moto is None:
            self._moto = self._stack.enter_context(moto_process())
        return self._moto

    def database(self) -> str:
        if self._database is None:
            self._database = self._start_database()
            self.server_name = self._database.name
        return self._database.url

    @property
    def server_keep_alive(self) -> bool:
        return self._database is not None and self._database.keep_alive

    def _start_database(self) -> Server:
        choice = os.environ.get("ASYNCDYNAMO_BENCH_SERVER", self._server_choice)
        if choice in ("auto", "dynalite"):
            found = dynalite_command()
            if found is not None:
                command, version = found
                url = self._stack.enter_context(dynalite_process(command))
                return Server(url, f"dynalite {version} (keep-alive)", keep_alive=True)
            if choice == "dynalite":
                raise RuntimeError("dynalite requested but node/npm are not available")
        return Server(self.moto(), f"{_moto_version()} (Connection: close)", keep_alive=False)
