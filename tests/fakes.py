"""A fake transport for unit tests: records every call and answers from a script."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asyncdynamo import DB, Config, RetryPolicy

Answer = Mapping[str, Any] | BaseException
Handler = Callable[[str, dict[str, Any]], Answer]


@dataclass(frozen=True, slots=True)
class Call:
    """One recorded call (params deep-copied when it was made)."""

    operation: str
    params: dict[str, Any]


class FakeTransport:
    """Answers calls with scripted responses (in order), or with ``handler`` once they run out.

    An answer that is an exception is raised instead of returned.
    """

    def __init__(self, script: Iterable[Answer] = (), handler: Handler | None = None) -> None:
        self.script = list(script)
        self.handler = handler
        self.calls: list[Call] = []
        self.closed = False

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        recorded = Call(operation, copy.deepcopy(dict(params)))
        self.calls.append(recorded)
        if self.script:
            answer = self.script.pop(0)
        elif self.handler is not None:
            answer = self.handler(operation, recorded.params)
        else:
            answer = {}
        if isinstance(answer, BaseException):
            raise answer
        return copy.deepcopy(dict(answer))

    async def aclose(self) -> None:
        self.closed = True

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]


FAST_RETRY = RetryPolicy(max_attempts=4, base=0.0001, cap=0.0002)


def fake_db(transport: FakeTransport, **config: Any) -> DB:
    """A DB that talks only to ``transport`` (fast retries unless ``retry=`` is given)."""
    config.setdefault("retry", FAST_RETRY)
    return DB(Config(**config), transport=transport)
