"""``LambdaDB``: a DB for AWS Lambda, with a container-lifetime client and per-invocation deadlines.

How the deadline reaches every operation: :meth:`LambdaDB.with_lambda_timeout` returns a *view*,
another ``LambdaDB`` sharing the parent's state (config, table-name cache, client), whose
``client`` property returns a :class:`~asyncdynamo._lambda_client.DeadlineClient`. Every DB
method, and every builder, iterator or context manager a DB method returns, sends its requests
through ``self.client``, so each request runs under the deadline: it is put into
``deadline_scope`` (retries never start a backoff sleep that would end after it) and enforced
with ``asyncio.timeout_at`` (the request in flight at the deadline is cancelled). This holds for
methods added to ``DB`` later without any change here. On top of that, each public coroutine
method of the view (``get``, ``put``, ``batch_*``...) runs as a whole under the same deadline,
so waits between requests (batch backoff, pagination) are bounded too.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, ClassVar

from ._client import Client
from ._config import Config, TransportKind
from ._db import DB
from ._errors import ConfigurationError
from ._lambda_client import DeadlineClient, run_until_deadline
from ._lambda_env import (
    LambdaEnvironment,
    default_pool_size,
    default_timeout_buffer,
    lambda_environment,
    reread_lambda_environment,
)
from ._model import Model, spec_of
from ._ops import build_projection_validators
from ._record import FrozenRecord, frozen, replace, setfield
from ._runner import (
    LambdaContextLike,
    begin_invocation,
    forget_invocations,
    invocation_count,
    note_db_deadline,
)
from ._snapstart import SnapshotHook, SnapshotHooks, register_with_runtime, renew_uniqueness
from ._transport import Transport

__all__ = ["LambdaConfig", "LambdaDB", "new_lambda_optimized"]

_log = logging.getLogger("asyncdynamo.lambda")


@frozen
class LambdaConfig(FrozenRecord):
    """How a :class:`LambdaDB` is set up.

    Attributes:
        base_config: the ordinary :class:`Config`. ``None`` builds one for the container: the
            region Lambda runs in and the lean transport (the shortest cold start).
        enable_xray: emit an OpenTelemetry span per call (exported to X-Ray by the ADOT Lambda
            layer); needs ``asyncdynamo-lambda[tracing]``. Off: the tracing code is never imported.
        warm_pool_size: HTTP connections kept open across invocations; ``None`` derives it from
            the function's memory size (one per 128 MB, 4 to 64).
        timeout_buffer: seconds kept back from each invocation's remaining time for cleanup;
            ``None`` scales it with the memory size (0.2 s at 1,769 MB, 0.1 s to 1 s).
        tracer_provider: the OpenTelemetry ``TracerProvider`` to use when tracing; ``None`` uses
            the global one.
        environment: the Lambda environment to derive defaults from; ``None`` reads this
            container's (once). Tests pass one.
    """

    __slots__ = (
        "base_config",
        "enable_xray",
        "environment",
        "timeout_buffer",
        "tracer_provider",
        "warm_pool_size",
    )
    base_config: Config | None
    enable_xray: bool
    warm_pool_size: int | None
    timeout_buffer: float | None
    tracer_provider: Any
    environment: LambdaEnvironment | None

    def __init__(
        self,
        base_config: Config | None = None,
        enable_xray: bool = False,
        warm_pool_size: int | None = None,
        timeout_buffer: float | None = None,
        tracer_provider: Any = None,
        environment: LambdaEnvironment | None = None,
    ) -> None:
        setfield(self, "base_config", base_config)
        setfield(self, "enable_xray", enable_xray)
        setfield(self, "warm_pool_size", warm_pool_size)
        setfield(self, "timeout_buffer", timeout_buffer)
        setfield(self, "tracer_provider", tracer_provider)
        setfield(self, "environment", environment)
        self.__post_init__()

    def __post_init__(self) -> None:  # also run by pydantic when it builds one from a dict
        if self.warm_pool_size is not None and self.warm_pool_size < 1:
            raise ConfigurationError("LambdaConfig.warm_pool_size must be at least 1")
        if self.timeout_buffer is not None and self.timeout_buffer < 0:
            raise ConfigurationError("LambdaConfig.timeout_buffer must not be negative")

    def resolve(self) -> tuple[Config, float, LambdaEnvironment]:
        """The effective ``Config`` and cleanup buffer, and the environment they came from."""
        env = self.environment or lambda_environment()
        base = self.base_config
        if base is None:
            base = Config(region=env.region or "us-east-1", transport=TransportKind.LEAN)
        pool = self.warm_pool_size
        if pool is None and env.in_lambda:
            pool = default_pool_size(env)
        if pool is not None and pool != base.max_pool_connections:
            base = replace(base, max_pool_connections=pool)
        buffer = self.timeout_buffer
        if buffer is None:
            buffer = default_timeout_buffer(env)
        return base, buffer, env


class LambdaDB(DB):
    """A :class:`DB` for AWS Lambda: one client for the container's life, deadlines per invocation.

    Everything a ``DB`` offers works unchanged. Create the process-wide one with
    :func:`new_lambda_optimized`; construct one directly only to own its lifetime (tests, tools).

    ```python
    db = await new_lambda_optimized(LambdaConfig())
    db.pre_register_models(Payment, Transaction)

    async def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        ldb = db.with_lambda_timeout(context)   # every call bounded by the invocation's time
        payment = await ldb.get(Payment, event["payment_id"], required=True)
        ...
    ```

    Args:
        config: the Lambda settings; defaults to ``LambdaConfig()``.
        transport: a ready transport (otherwise built from the config).
        clock: returns the current aware UTC time (for created/updated timestamps).
    """

    _process_instance: ClassVar[LambdaDB | None] = None

    def __init__(
        self,
        config: LambdaConfig | None = None,
        *,
        transport: Transport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        lambda_config = config or LambdaConfig()
        base, buffer, env = lambda_config.resolve()
        if clock is None:
            super().__init__(base, transport=transport)
        else:
            super().__init__(base, transport=transport, clock=clock)
        self.lambda_config = lambda_config
        """The settings this DB was created with."""
        self.environment = env
        """The Lambda environment its defaults came from."""
        self.timeout_buffer = buffer
        """Seconds kept back from each invocation's remaining time."""
        self.registered_models: tuple[type[Model], ...] = ()
        """Models resolved by :meth:`pre_register_models`."""
        self._traced: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # A transport passed in is the caller's; one this DB builds is closed before a SnapStart
        # snapshot and built again after the restore.
        self._owns_transport = transport is None
        self._snapshot_hooks = SnapshotHooks()

    @property
    def client(self) -> Client:
        """The container-lifetime client (traced when ``enable_xray`` is on)."""
        client = super().client
        if not self.lambda_config.enable_xray:
            return client
        if self._traced is None or getattr(self._traced, "inner", None) is not client:
            from ._tracing import instrument

            self._traced = instrument(client, self.lambda_config.tracer_provider)
        return self._traced

    # -- init ------------------------------------------------------------------------------------
    def pre_register_models(self, *models: type[Model]) -> None:
        """Resolve specs, validators and table names now, during the init phase.

        Lambda runs init code at full CPU before the first invocation is billed against its
        timeout; anything left for the first request slows the first invocation instead. A
        model that cannot be stored (no ``__table__``, an unset table-name variable) fails here.
        """
        for model in models:
            if not model.__pydantic_complete__:
                model.model_rebuild()  # built now rather than on the first request
        self.register(*models)
        known = set(self.registered_models)
        self.registered_models += tuple(m for m in dict.fromkeys(models) if m not in known)

    def is_warm_start(self) -> bool:
        """Whether this container served an invocation before the current one.

        ``False`` during the init phase and the container's first invocation, ``True`` after.
        Invocations are counted by :func:`lambda_handler` and by :meth:`with_lambda_timeout`
        (per ``aws_request_id``).
        """
        return invocation_count() > 1

    # -- deadlines -------------------------------------------------------------------------------
    def with_lambda_timeout(self, context: LambdaContextLike | None) -> LambdaDB:
        """A view of this DB whose every call ends before the invocation's time runs out.

        deadline = now + ``context.get_remaining_time_in_millis()`` − ``timeout_buffer``. Inside
        :func:`lambda_handler` the runner cancels the handler only after this deadline (halfway
        to Lambda's timeout), so the handler's ``except LambdaTimeoutError`` can answer. Calls
        through the view (retries, batch chunks, pages, transactions included) raise
        :class:`LambdaTimeoutError` at the deadline, with the request in flight cancelled; a
        call started after it raises at once without sending anything. The view shares this
        DB's client and caches and costs nothing to create; closing it closes nothing.

        Args:
            context: Lambda's context object; ``None`` (local runs) applies no deadline.
        """
        if context is None:
            return self
        request_id = getattr(context, "aws_request_id", None)
        if isinstance(request_id, str) and request_id:
            begin_invocation(request_id)
        remaining = int(context.get_remaining_time_in_millis()) / 1000
        deadline = _loop_now() + remaining - self.timeout_buffer
        note_db_deadline(deadline)  # the handler runner never cancels the handler before it
        return _DeadlineView.of(self, deadline)

    @property
    def deadline(self) -> float | None:
        """The deadline (``loop.time()`` clock) of this view, ``None`` for an unbounded DB."""
        return None

    # -- SnapStart -------------------------------------------------------------------------------
    def add_snapshot_hooks(
        self,
        *,
        before_snapshot: SnapshotHook | None = None,
        after_restore: SnapshotHook | None = None,
    ) -> None:
        """Run callables (plain or ``async``) around a SnapStart snapshot with this DB's own steps.

        ``before_snapshot`` callables run newest first, before the DB closes its connections;
        ``after_restore`` ones run oldest first, once the DB is usable again. Use them for state
        built on this DB (caches of secrets, other connections).
        """
        self._snapshot_hooks.add(before_snapshot=before_snapshot, after_restore=after_restore)

    async def before_snapshot(self) -> None:
        """Get ready to be snapshotted: nothing secret or connected may be copied.

        Runs the :meth:`add_snapshot_hooks` callables, wipes and drops the cached KMS data keys
        of ``Encrypted`` fields and closes the KMS client, then closes the client this DB built
        (its pooled connections; the lean transport also drops its cached credentials). The DB
        stays usable: the next call (or :meth:`after_restore`) builds a new client. A transport
        passed to the constructor is the caller's and is left alone. Registered with the runtime
        by :func:`new_lambda_optimized` when SnapStart's ``snapshot_restore_py`` is present.
        """
        await self._snapshot_hooks.run_before()
        # Loaded lazily on a cold start (a GetItem needs neither); in the snapshot, a restored
        # copy's first write or query does not pay for importing them.
        importlib.import_module("asyncdynamo._expr")
        importlib.import_module("asyncdynamo._update")
        for model in self.registered_models:  # built on first use otherwise
            build_projection_validators(spec_of(model))
        if self._crypto_state:  # KMS data keys (wiped) and the KMS client: rebuilt on next use
            from ._encryption._hooks import close_encryption

            await close_encryption(self._crypto_state)
        if not self._owns_transport:
            return
        client, transport = self._client, self._transport
        self._client = self._transport = self._traced = None
        if client is not None:
            await client.aclose()
        elif transport is not None:
            await transport.aclose()

    async def after_restore(self) -> None:
        """Become a distinct execution environment after a SnapStart restore.

        Draws the per-process random values again (write tokens of copies never collide),
        forgets the invocations seen during init (the first invocation after a restore is not a
        warm start), re-reads the Lambda environment, builds the client and fetches
        credentials (so the first request does not), then runs the ``after_restore`` callables
        of :meth:`add_snapshot_hooks`. A credential lookup that fails here is logged and left to
        the first request, which raises the error.
        """
        renew_uniqueness()
        forget_invocations()
        if self.lambda_config.environment is None:
            self.environment = reread_lambda_environment()
        if not self._closed:
            transport = self.client.transport
            prefetch = getattr(transport, "prefetch_credentials", None)
            if prefetch is not None:
                try:
                    await prefetch()
                except Exception as exc:  # the first request reports it, with its context
                    _log.warning("no credentials after the SnapStart restore yet: %s", exc)
        await self._snapshot_hooks.run_after()

    def _run_snapshot_step(self, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        # The runtime calls hooks synchronously between init and the first invocation, when the
        # container's loop (the one the connections belong to) is not running.
        loop = self._loop
        if loop is None or loop.is_closed():
            asyncio.run(step())
        else:
            loop.run_until_complete(step())

    def _snapshot_now(self) -> None:
        self._run_snapshot_step(self.before_snapshot)

    def _restored_now(self) -> None:
        self._run_snapshot_step(self.after_restore)

    # -- the process-wide instance ---------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the client and its pooled connections (usually never: the container's life)."""
        if LambdaDB._process_instance is self:
            LambdaDB._process_instance = None
        await super().aclose()

    @classmethod
    async def reset_process_instance(cls) -> None:
        """Close and forget the process-wide instance and the invocations seen (for tests).

        The instance is closed only when it belongs to the running loop; one left on a loop that
        is gone is dropped.
        """
        instance, LambdaDB._process_instance = LambdaDB._process_instance, None
        if instance is not None and instance._loop is asyncio.get_running_loop():
            await instance.aclose()
        forget_invocations()


def _loop_now() -> float:
    # The Client compares deadlines with loop.time(); asyncio's default loop uses the
    # monotonic clock, which is also the fallback when called outside a running loop.
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


class _DeadlineView(LambdaDB):
    """A LambdaDB sharing another's state, with every call bounded by one deadline."""

    _parent: LambdaDB
    _deadline: float

    @classmethod
    def of(cls, parent: LambdaDB, deadline: float) -> _DeadlineView:
        # Not __init__: the view shares the parent's state (config, table-name cache, client)
        # instead of building its own, so creating one per invocation costs a dict copy.
        if isinstance(parent, _DeadlineView):
            # A view of a view keeps the earlier deadline, for whole methods (waits between
            # requests) and for `deadline`, not only for each request.
            deadline = min(deadline, parent._deadline)
            parent = parent._parent
        view = cls.__new__(cls)
        view.__dict__.update(parent.__dict__)
        view._parent = parent
        view._deadline = deadline
        view.__dict__.pop("schema", None)  # built lazily for the view: its calls use the deadline
        return view

    @property
    def client(self) -> Client:
        """The parent's client, bound to this view's deadline."""
        return DeadlineClient(self._parent.client, self._deadline)

    @property
    def deadline(self) -> float | None:
        return self._deadline

    def pre_register_models(self, *models: type[Model]) -> None:
        self._parent.pre_register_models(*models)

    def add_snapshot_hooks(
        self,
        *,
        before_snapshot: SnapshotHook | None = None,
        after_restore: SnapshotHook | None = None,
    ) -> None:
        self._parent.add_snapshot_hooks(
            before_snapshot=before_snapshot, after_restore=after_restore
        )

    async def before_snapshot(self) -> None:
        await self._parent.before_snapshot()

    async def after_restore(self) -> None:
        await self._parent.after_restore()

    async def aclose(self) -> None:
        """Nothing to close: the view borrows its parent's client."""


def _bounded_method(
    name: str, method: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(method)
    async def bounded(self: _DeadlineView, /, *args: Any, **kwargs: Any) -> Any:
        return await run_until_deadline(name, self._deadline, lambda: method(self, *args, **kwargs))

    return bounded


def _bind_coroutine_methods(view: type[_DeadlineView]) -> None:
    # Every public coroutine method DB (or LambdaDB) has when this module is imported, including
    # ones added to DB after this was written, runs whole under the view's deadline.
    seen = set(vars(view))
    for klass in LambdaDB.__mro__:  # what inspect.getattr_static finds, without a lookup per name
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if inspect.iscoroutinefunction(member):  # plain methods only, not class/static ones
                setattr(view, name, _bounded_method(name, member))


_bind_coroutine_methods(_DeadlineView)


async def new_lambda_optimized(config: LambdaConfig | None = None) -> LambdaDB:
    """The process-wide :class:`LambdaDB`: created by the first call, returned by later ones.

    Call it at init (``run_in_lambda_loop(new_lambda_optimized(...))``) or at the top of the
    handler; either way every invocation of the container shares one client and its pooled
    connections. The client is built here, so the first request does not pay for it. When the
    runtime has SnapStart's ``snapshot_restore_py`` module, the instance's
    :meth:`LambdaDB.before_snapshot` and :meth:`LambdaDB.after_restore` are registered with it.

    Args:
        config: the settings; later calls may omit it, or must pass an equal one.

    Raises:
        ConfigurationError: a later call passed different settings, or the instance belongs to
            an event loop that is no longer running: ``asyncio.run()`` per invocation closes
            the loop and the pooled connections with it; use :func:`lambda_handler`.
    """
    loop = asyncio.get_running_loop()
    db = LambdaDB._process_instance
    if db is not None:
        if config is not None and config != db.lambda_config:
            raise ConfigurationError(
                "new_lambda_optimized() was already called with different settings; the "
                "process has one LambdaDB: pass the same LambdaConfig (or none)"
            )
        if db._loop is not loop:
            raise ConfigurationError(
                "the process-wide LambdaDB belongs to another event loop. asyncio.run() per "
                "invocation closes the loop and the pooled connections; decorate the handler "
                "with asyncdynamo.lambda_handler to keep one loop for the container's life"
            )
        return db
    db = LambdaDB(config)
    db._loop = loop
    db.client  # noqa: B018  (built now, in the init phase, not on the first request)
    LambdaDB._process_instance = db
    register_with_runtime(db._snapshot_now, db._restored_now)  # SnapStart, when present
    return db
