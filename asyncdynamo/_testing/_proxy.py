"""A fault-injecting HTTP proxy for tests: latency, throttling, errors, resets, partial batches.

It runs its own event loop in a thread, so it behaves like a remote server: none of its tasks
appear on the test's loop (tests can check that nothing is left pending there). Requests are
parsed as HTTP/1.1 (``Content-Length`` or chunked bodies, keep-alive connections), so each one
can be counted by operation (its ``X-Amz-Target``, or the ``Action`` of a query-protocol call)
and have a fault applied to it. Client connections stay open between requests (as DynamoDB's
do, so connection pools are exercised) even when the server closes its side after each reply.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qs

from ._faults import (
    Counts,
    Delay,
    ErrorReply,
    Fault,
    Reset,
    Rule,
    Stage,
    Stall,
    TransactionConflict,
    Unprocessed,
)
from ._replies import cancellation_reply, cut_batch, error_reply
from ._server import ThreadedProxy
from ._wire import MAX_HEAD_BYTES, Message, WireError, abort, read_message

__all__ = ["FaultProxy", "operation_name"]


class FaultProxy(ThreadedProxy):
    """A proxy on 127.0.0.1 in front of ``upstream_url`` that injects scripted faults.

    ```python
    with FaultProxy(server_url) as proxy:
        proxy.inject(ErrorReply.throttling(), operation="UpdateItem", first=2)
        proxy.inject(Reset(Stage.AFTER_FORWARD), operation="PutItem", nth=1)
        ...  # a DB configured with endpoint_url=proxy.url
        assert proxy.counts("UpdateItem") == Counts(received=3, forwarded=1, injected=2)
    ```

    Args:
        upstream_url: ``http://host:port`` of the server (moto, DynamoDB Local).
        seed: seeds the random choices (``Delay`` jitter, rule ``probability``).

    Attributes:
        url: ``http://127.0.0.1:PORT`` to point a ``Config.endpoint_url`` at.
    """

    def __init__(self, upstream_url: str, *, seed: int | None = None) -> None:
        super().__init__(upstream_url, name="fault-proxy", read_limit=MAX_HEAD_BYTES * 2)
        self._random = random.Random(seed)
        self._rules: list[Rule] = []
        self._received: Counter[str] = Counter()
        self._forwarded: Counter[str] = Counter()
        self._injected: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._connections = 0
        self._clients: set[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = set()
        self._waiters: list[tuple[Rule, int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    # -- scripting (from the test's thread) ---------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        operation: str | Iterable[str] | None = None,
        nth: int | None = None,
        first: int | None = None,
        probability: float = 1.0,
    ) -> Rule:
        """Apply ``fault`` to matching requests from now on.

        Args:
            fault: what to do (:class:`Delay`, :class:`Stall`, :class:`Reset`,
                :class:`ErrorReply`, :class:`Unprocessed`, :class:`TransactionConflict`).
            operation: an operation name (``"UpdateItem"`` or ``"DynamoDB_20120810.UpdateItem"``)
                or several; ``None`` for every request.
            nth: apply to the nth matching request only (1-based).
            first: apply to the first ``first`` matching requests.
            probability: apply to each selected request with this probability (drawn from the
                proxy's seeded random generator), e.g. ``0.2`` for one in five on average.

        Returns:
            The rule, with its ``matched``/``injected`` counts; ``remove()`` or ``release()`` it.
        """
        names = (
            []
            if operation is None
            else [operation]
            if isinstance(operation, str)
            else list(operation)
        )
        rule = Rule(
            fault,
            names,
            nth=nth,
            first=first,
            probability=probability,
            wake=lambda: self._wake(rule),
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def release(self) -> None:
        """Release every :class:`Stall` rule: held requests go on, later ones are not held."""
        with self._lock:
            stalls = [rule for rule in self._rules if isinstance(rule.fault, Stall)]
        for rule in stalls:
            rule.release()

    def clear(self) -> None:
        """Remove every rule (held requests go on)."""
        with self._lock:
            rules, self._rules = self._rules, []
        for rule in rules:
            rule.remove()

    def counts(self, operation: str | None = None) -> Counts:
        """What happened to requests of ``operation`` (all operations for ``None``)."""
        with self._lock:
            if operation is None:
                return Counts(
                    sum(self._received.values()),
                    sum(self._forwarded.values()),
                    sum(self._injected.values()),
                    sum(self._dropped.values()),
                )
            name = operation.rsplit(".", 1)[-1]
            return Counts(
                self._received[name],
                self._forwarded[name],
                self._injected[name],
                self._dropped[name],
            )

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self._connections

    @property
    def open_connections(self) -> int:
        """Client connections that neither side has closed yet (as seen by the proxy)."""
        with self._lock:
            clients = list(self._clients)
        return sum(not _client_gone(reader, writer) for reader, writer in clients)

    async def wait_for_injected(self, rule: Rule, count: int = 1) -> None:
        """Wait (on the caller's loop) until ``rule`` was applied ``count`` times.

        Bound it with ``asyncio.timeout``: a rule that never fires never wakes the caller.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        entry = (rule, count, loop, waiter)
        with self._lock:
            if rule.injected >= count:
                return
            self._waiters.append(entry)
        try:
            await waiter
        finally:
            with self._lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)

    # -- lifecycle ----------------------------------------------------------------------------

    def _closing(self) -> None:
        self.clear()  # held requests go on, so their connections can end

    def _wake(self, rule: Rule) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(rule.released.set)

    # -- the proxy's loop ---------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._connections += 1
            self._clients.add((reader, writer))
        upstream = _Upstream(self._upstream)
        try:
            while (request := await read_message(reader)) is not None:
                if not await self._exchange(request, reader, writer, upstream):
                    break
        except (OSError, asyncio.IncompleteReadError, WireError):
            pass  # the client or the server went away: so does this connection
        except asyncio.CancelledError:
            pass  # the proxy is stopping; end quietly (asyncio logs a cancelled handler task)
        finally:
            with self._lock:
                self._clients.discard((reader, writer))
            upstream.close()
            if not writer.is_closing():
                writer.close()

    def _choose(self, operation: str) -> Rule | None:
        with self._lock:
            self._received[operation] += 1
            chosen: Rule | None = None
            for rule in self._rules:
                if rule.matches(operation):
                    rule.matched += 1
                    if chosen is None and rule.fires(self._random.random):
                        chosen = rule
            return chosen

    def _count_injected(self, chosen: Rule, operation: str) -> None:
        """Count ``chosen`` as applied (when it takes effect) and wake who waits for that."""
        with self._lock:
            chosen.injected += 1
            self._injected[operation] += 1
            for rule, count, loop, waiter in self._waiters:
                if rule is chosen and chosen.injected >= count:
                    loop.call_soon_threadsafe(_wake_waiter, waiter)

    async def _exchange(
        self,
        request: Message,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
    ) -> bool:
        """Handle one request; whether the client connection stays open."""
        operation = operation_name(request)
        rule = self._choose(operation)
        fault = rule.fault if rule is not None else None
        stage = getattr(fault, "stage", None)
        keep_alive = request.keep_alive
        if rule is not None and stage is not Stage.AFTER_FORWARD:
            self._count_injected(rule, operation)
            if isinstance(fault, Reset):
                abort(writer)
                return False
            await self._hold(rule)
            held = isinstance(fault, Delay | Stall)
            if held and _client_gone(reader, writer):  # it gave up while held: never sent
                with self._lock:
                    self._dropped[operation] += 1
                return False
        reply: Message
        if isinstance(fault, ErrorReply):
            reply = error_reply(fault, keep_alive=keep_alive)
        elif isinstance(fault, TransactionConflict):
            reply = cancellation_reply(fault, request, keep_alive=keep_alive)
        elif isinstance(fault, Unprocessed) and (cut := cut_batch(fault, operation, request)):
            if cut.forward is None:
                reply = cut.reply_without_forwarding(keep_alive=keep_alive)
            else:
                request.replace_body(json.dumps(cut.forward).encode())
                reply = await self._forward(operation, request, upstream)
                cut.merge_into(reply)
        else:
            reply = await self._forward(operation, request, upstream)
        if rule is not None and stage is Stage.AFTER_FORWARD:
            self._count_injected(rule, operation)  # the server has answered: it applied it
            if isinstance(fault, Reset):
                abort(writer)
                return False
            await self._hold(rule)
        # Connection is hop-by-hop: the client gets keep-alive as DynamoDB gives it, whatever the
        # server did (moto's werkzeug closes every connection), since the reply is re-framed.
        reply.set_header("Connection", "keep-alive" if keep_alive else "close")
        writer.write(reply.to_bytes())
        await writer.drain()
        return keep_alive

    async def _forward(self, operation: str, request: Message, upstream: _Upstream) -> Message:
        with self._lock:
            self._forwarded[operation] += 1
        return await upstream.exchange(request)

    async def _hold(self, rule: Rule) -> None:
        """Wait as a :class:`Delay` or :class:`Stall` says (other faults do not wait)."""
        fault = rule.fault
        if isinstance(fault, Delay):
            extra = self._random.uniform(0, fault.jitter) if fault.jitter else 0.0
            # injected latency, not a wait for a condition
            await asyncio.sleep(fault.seconds + extra)
        elif isinstance(fault, Stall):
            await rule.released.wait()


class _Upstream:
    """The server connection behind one client connection, opened on first use."""

    def __init__(self, address: tuple[str, int]) -> None:
        self._address = address
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: Message) -> Message:
        if self._streams is not None and self._streams[0].at_eof():
            self.close()  # the server closed it while idle: this request goes on a new one
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address, limit=MAX_HEAD_BYTES * 2)
        reader, writer = self._streams
        writer.write(request.to_bytes())
        await writer.drain()
        head_only = request.start_line.startswith("HEAD ")
        reply = await read_message(reader, response=True, head_only=head_only)
        if reply is None:
            raise asyncio.IncompleteReadError(b"", None)
        if not reply.keep_alive:
            self.close()
        return reply

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _client_gone(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Whether the client closed (FIN) or reset its connection."""
    return reader.at_eof() or reader.exception() is not None or writer.transport.is_closing()


def _wake_waiter(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def operation_name(request: Message) -> str:
    """``UpdateItem`` from ``X-Amz-Target``; a query-protocol call's ``Action``; else ``""``."""
    target = request.header("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if "x-www-form-urlencoded" in (request.header("content-type") or ""):
        actions = parse_qs(request.body.decode("latin-1")).get("Action")
        if actions:
            return actions[0]
    return ""
