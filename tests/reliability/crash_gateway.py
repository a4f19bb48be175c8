"""A card processor whose charges outlive the process that asked for them.

The crash-point scenarios kill a process in the middle of a payment; the charge it made must
still count when the retry runs in another process. ``FileGateway`` keeps one file per
idempotency key (the stored answer, written atomically) and a line per charge in
``charges.log``, and can stop at a named point so a test can cancel or kill the caller there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from payments import AuthorizationRequest, FakeGateway, GatewayOutcome, GatewayResult

Stop = Callable[[str], Awaitable[None]]


async def _go_on(point: str) -> None:
    return None


@dataclass
class FileGateway(FakeGateway):
    """A :class:`FakeGateway` whose authorizations are kept in ``directory``.

    ``stop(point)`` is awaited at ``"claimed"`` (the call arrived, nothing charged yet) and at
    ``"charged"`` (the charge is stored, the answer not yet returned).
    """

    directory: Path = Path()
    stop: Stop = _go_on

    def _answer(self, key: str) -> Path:
        return self.directory / ("auth-" + hashlib.sha256(key.encode()).hexdigest()[:24])

    def charges_by_key(self) -> Counter[str]:
        log = self.directory / "charges.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return Counter(lines)

    async def authorize(
        self, request: AuthorizationRequest, *, idempotency_key: str
    ) -> GatewayResult:
        self.calls[idempotency_key] += 1
        await self.stop("claimed")
        answer = self._answer(idempotency_key)
        if answer.exists():
            stored = json.loads(answer.read_text())
            result = GatewayResult(
                GatewayOutcome(stored["outcome"]), stored["reference"], stored["card_token"]
            )
        else:
            result = await FakeGateway().authorize(request, idempotency_key=idempotency_key)
            with (self.directory / "charges.log").open("a") as log:
                log.write(idempotency_key + "\n")
                log.flush()
                os.fsync(log.fileno())
            draft = answer.with_suffix(".tmp")
            draft.write_text(
                json.dumps(
                    {
                        "outcome": result.outcome.value,
                        "reference": result.reference,
                        "card_token": result.card_token,
                    }
                )
            )
            draft.replace(answer)
            self.charges[idempotency_key] += 1
        await self.stop("charged")
        return result


def stop_at(point: str, reached: Callable[[], None]) -> Stop:
    """A ``stop`` that calls ``reached()`` and then waits forever at ``point``."""

    async def stop(where: str) -> None:
        if where == point:
            reached()
            await asyncio.Event().wait()

    return stop
