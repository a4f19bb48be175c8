"""``MultiAccountDB``: partners' tables in other AWS accounts, reached through STS AssumeRole.

One partner, end to end::

    partner("acme") ─► cached? ──yes──► its LambdaDB (a deadline view inside with_lambda_timeout)
                          │no
                          ▼
    PartnerCredentials (single flight) ─► STS client (base credentials) ─► AssumeRole
                          │
                          ▼
    LambdaDB(Config(credentials_provider=<that source>, same table names, same session))

Every request a partner DB sends awaits its credential source first, which refreshes the
credentials before they expire (see :mod:`asyncdynamo._partner_credentials`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from ._client import Client
from ._config import Config, Credentials, TransportKind
from ._db import DB, create_transport
from ._errors import (
    ConfigurationError,
    PartnerConfigurationError,
    PartnerNotFoundError,
)
from ._fan_out import PartnerResult, fan_out
from ._lambda import LambdaConfig, LambdaDB, _DeadlineView
from ._lambda_client import run_until_deadline
from ._model import Model
from ._partner_config import PartnerConfig, load_partners
from ._partner_credentials import Clock, PartnerCredentials, assume_role
from ._runner import LambdaContextLike
from ._transport import Transport

__all__ = ["MultiAccountDB"]

T = TypeVar("T")

PartnersSource = Iterable[PartnerConfig] | Mapping[str, Mapping[str, Any]] | str | bytes
"""Partner configs, or a document :func:`load_partners` reads (a mapping or JSON text)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Partner:
    config: PartnerConfig
    credentials: PartnerCredentials
    db: LambdaDB
    ready: bool = False


@dataclass(slots=True)
class _State:
    """Everything a MultiAccountDB and its deadline views share."""

    clock: Clock
    sts_transport: Transport | None
    configs: dict[str, PartnerConfig] = field(default_factory=dict)
    partners: dict[str, _Partner] = field(default_factory=dict)
    retired: list[_Partner] = field(default_factory=list)
    sts: Client | None = None
    session: Any = None
    closed: bool = False


class MultiAccountDB:
    """Partners' DynamoDB tables in their own AWS accounts, through roles they let us assume.

    ```python
    mdb = MultiAccountDB(db, partners=[
        PartnerConfig(partner_id="acme", role_arn="arn:aws:iam::111111111111:role/payments",
                      external_id="acme-7f3a", region="eu-west-1"),
    ])
    acme = await mdb.partner("acme")          # a LambdaDB signed as acme's role
    await acme.put(settlement)
    results = await mdb.fan_out(mdb.list_partners(), reconcile, concurrency=8)
    ```

    The first :meth:`partner` call for an id assumes the role (signed with the base DB's
    credentials, through the same kind of transport) and builds a partner :class:`LambdaDB` that
    shares the base DB's table naming and registered models, and (aiobotocore) one loaded
    session. Later calls return that DB. Its credentials refresh before they expire; concurrent
    callers share one AssumeRole call.

    Args:
        base: the DB of this platform's own account. It is not closed by :meth:`aclose`.
        partners: partner configs, or a document for :func:`load_partners`.
        sts: a ready STS transport (tests, a custom endpoint); built from the base config
            otherwise. Closed by :meth:`aclose`.
        clock: the current aware UTC time, for credential expiry (tests move it).

    Raises:
        PartnerConfigurationError: a partner is invalid or configured twice.
    """

    def __init__(
        self,
        base: DB,
        partners: PartnersSource = (),
        *,
        sts: Transport | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.base = base
        """The DB of this platform's own account."""
        self._state = _State(clock=clock, sts_transport=sts)
        self._deadline: float | None = None
        configs = (
            load_partners(partners)
            if isinstance(partners, str | bytes | Mapping)
            else list(partners)
        )
        for config in configs:
            if not isinstance(config, PartnerConfig):
                raise PartnerConfigurationError(
                    "expected PartnerConfig objects or a partners document, got "
                    f"{type(config).__name__}",  # never the value: it may hold an ExternalId
                    partner_id="",
                )
            self.add_partner(config)
        if isinstance(base, LambdaDB):
            # Partners' assumed-role credentials and connections stay out of a SnapStart snapshot.
            base.add_snapshot_hooks(before_snapshot=self._before_snapshot)

    # -- partners --------------------------------------------------------------------------------
    def list_partners(self) -> list[str]:
        """The ids of the configured partners, in the order they were added."""
        return list(self._state.configs)

    def partner_config(self, partner_id: str) -> PartnerConfig:
        """The configuration of one partner.

        Raises:
            PartnerNotFoundError: no partner has this id.
        """
        config = self._state.configs.get(partner_id)
        if config is None:
            raise PartnerNotFoundError(
                f"no partner {partner_id!r} is configured (known: "
                f"{', '.join(map(repr, self._state.configs)) or 'none'})",
                partner_id=partner_id,
            )
        return config

    def add_partner(self, config: PartnerConfig, *, replace: bool = False) -> None:
        """Configure a partner at run time.

        Adding an identical config again does nothing.

        Args:
            config: the partner.
            replace: allow a different config for an existing id; the old one's cached
                credentials and DB are dropped as by :meth:`invalidate_partner`.

        Raises:
            PartnerConfigurationError: the id is taken by a different config and not ``replace``.
        """
        existing = self._state.configs.get(config.partner_id)
        if existing is not None and existing != config:
            if not replace:
                raise PartnerConfigurationError(
                    f"partner {config.partner_id!r} is already configured differently; pass "
                    "replace=True to change it",
                    partner_id=config.partner_id,
                )
            self.invalidate_partner(config.partner_id)
        self._state.configs[config.partner_id] = config

    def invalidate_partner(self, partner_id: str) -> None:
        """Drop a partner's cached credentials and DB; the next :meth:`partner` assumes again.

        DBs already handed out keep working (they assume the role again when next used) and are
        closed with this MultiAccountDB.

        Raises:
            PartnerNotFoundError: no partner has this id.
        """
        self.partner_config(partner_id)
        entry = self._state.partners.pop(partner_id, None)
        if entry is not None:
            entry.credentials.invalidate()
            self._state.retired.append(entry)

    async def partner(self, partner_id: str) -> LambdaDB:
        """The DB of one partner's account (assuming its role on first use).

        Inside :meth:`with_lambda_timeout` it is a deadline-bound view of that DB.

        Raises:
            PartnerNotFoundError: no partner has this id.
            AssumeRoleFailedError: STS refused the role (``.partner_id``; the STS error is the
                cause). :class:`AssumeRoleUnavailableError` when retrying may succeed.
            DeadlineExceededError: the caller's deadline passed first.
        """
        entry = self._state.partners.get(partner_id)
        if entry is None:
            entry = self._open(partner_id)
        if not entry.ready:
            if self._deadline is None:
                await entry.credentials()
            else:
                await run_until_deadline("AssumeRole", self._deadline, entry.credentials)
            entry.ready = True
        if self._deadline is None:
            return entry.db
        return _DeadlineView.of(entry.db, self._deadline)

    def _open(self, partner_id: str) -> _Partner:
        config = self.partner_config(partner_id)
        if self._state.closed:
            raise ConfigurationError("this MultiAccountDB is closed")
        credentials = PartnerCredentials(
            functools.partial(self._assume_role, config), clock=self._state.clock, name=partner_id
        )
        entry = _Partner(config, credentials, self._partner_db(config, credentials))
        # Cached before any await: concurrent first callers find it and share its single flight.
        self._state.partners[partner_id] = entry
        return entry

    def _session(self) -> Any:
        """The aiobotocore session STS and every partner client are built from (one, shared)."""
        config = self.base.config
        if config.transport is not TransportKind.AIOBOTOCORE:
            return config.session
        if config.session is not None:
            return config.session
        if self._state.session is None:
            from ._aiobotocore import new_session

            self._state.session = new_session()
        return self._state.session

    def _partner_db(self, partner: PartnerConfig, credentials: PartnerCredentials) -> LambdaDB:
        base = self.base
        config: Config = replace(
            base.config,
            region=partner.region or base.config.region,
            endpoint_url=partner.endpoint_url or base.config.endpoint_url,
            credentials=None,  # never the base account's keys in a partner's config
            credentials_provider=credentials,
            session=self._session(),
            # KMS, too, is called with the partner's credentials, by the partner DB's own client
            # and data-key cache (never shared across accounts).
            kms_key_id=partner.kms_key_id or base.config.kms_key_id,
        )
        if isinstance(base, LambdaDB):
            lambda_config = replace(
                base.lambda_config,
                base_config=config,
                warm_pool_size=config.max_pool_connections,
                timeout_buffer=base.timeout_buffer,
                environment=base.environment,
            )
        else:
            lambda_config = LambdaConfig(
                base_config=config, warm_pool_size=config.max_pool_connections
            )
        db = LambdaDB(lambda_config, clock=base.now)
        # The same models, resolved now (same table prefix/names: same physical table names).
        # DB._tables is the base's cache of models it has used, registered or not.
        models: dict[type[Model], None] = dict.fromkeys(getattr(base, "registered_models", ()))
        models.update(dict.fromkeys(base._tables))
        db.pre_register_models(*models)
        return db

    # -- STS -------------------------------------------------------------------------------------
    @property
    def sts_client(self) -> Client:
        """The client AssumeRole calls go through (retries, deadline; add observers for metrics)."""
        state = self._state
        if state.sts is None:
            if state.closed:
                raise ConfigurationError("this MultiAccountDB is closed")
            config = replace(self.base.config, session=self._session())
            transport = state.sts_transport or create_transport(config, service="sts")
            state.sts = Client(transport, config.retry)
        return state.sts

    async def _assume_role(self, partner: PartnerConfig) -> Credentials:
        return await assume_role(self.sts_client, partner)

    # -- deadlines and fan-out -------------------------------------------------------------------
    def with_lambda_timeout(self, context: LambdaContextLike | None) -> MultiAccountDB:
        """A view whose base DB, partner DBs, AssumeRole calls and fan-outs end before the invocation does.

        The deadline is the base DB's (:meth:`LambdaDB.with_lambda_timeout`): remaining time
        minus its cleanup buffer. The view shares this object's partners and caches; closing it
        closes nothing.

        Args:
            context: Lambda's context object; ``None`` applies no deadline.
        """
        if context is None:
            return self
        base = self.base
        if isinstance(base, LambdaDB):
            # The base account's calls through the view end with the invocation too (a view of a
            # view: the base is already bounded, and its earlier deadline wins).
            base = base.with_lambda_timeout(context)
            deadline = base.deadline
        else:
            remaining = int(context.get_remaining_time_in_millis()) / 1000
            deadline = asyncio.get_running_loop().time() + remaining
        if self._deadline is not None and (deadline is None or self._deadline < deadline):
            deadline = self._deadline  # a view of a view keeps the earlier deadline
        view = MultiAccountDB.__new__(MultiAccountDB)
        view.base = base
        view._state = self._state
        view._deadline = deadline
        return view

    @property
    def deadline(self) -> float | None:
        """This view's deadline (``loop.time()`` clock); ``None`` outside a view."""
        return self._deadline

    async def fan_out(
        self,
        partner_ids: Iterable[str],
        operation: Callable[[str, LambdaDB], Awaitable[T]],
        *,
        concurrency: int = 8,
        per_partner_timeout: float | None = None,
    ) -> dict[str, PartnerResult[T]]:
        """Run ``operation(partner_id, partner_db)`` for many partners at once.

        At most ``concurrency`` partners run at a time (a semaphore inside one task group), all
        under the caller's deadline (this view's, or the context's :func:`deadline_scope`).
        Every partner gets its own result: one that fails (unknown id, STS refusal, its own
        error, its timeout) never hides another's. Cancelling the caller cancels every
        partner's task and propagates; no task outlives the call.

        ```python
        async def balance(partner_id: str, pdb: LambdaDB) -> int:
            return (await pdb.get(Ledger, "total", required=True)).amount

        results = await mdb.fan_out(mdb.list_partners(), balance, concurrency=8)
        failed = {pid: r.error for pid, r in results.items() if not r.ok}
        ```

        Args:
            partner_ids: the partners (duplicates run once).
            operation: the per-partner coroutine function.
            concurrency: how many partners run at the same time.
            per_partner_timeout: seconds each partner may take (its AssumeRole included),
                within the deadline.

        Returns:
            Per partner id, in the order given, its :class:`PartnerResult`.

        Raises:
            ConfigurationError: ``concurrency`` below 1, or a timeout that is not positive.
        """

        async def run(partner_id: str) -> T:
            return await operation(partner_id, await self.partner(partner_id))

        return await fan_out(
            partner_ids,
            run,
            concurrency=concurrency,
            per_partner_timeout=per_partner_timeout,
            lambda_deadline=self._deadline,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    async def _before_snapshot(self) -> None:
        # Every partner keeps working: it assumes its role again and reconnects when next used.
        state = self._state
        steps: list[Awaitable[None]] = []
        for entry in [*state.partners.values(), *state.retired]:
            entry.credentials.invalidate()
            entry.ready = False
            steps.append(entry.db.before_snapshot())
        if state.sts is not None and state.sts_transport is None:  # ours to rebuild
            steps.append(state.sts.aclose())
            state.sts = None
        await asyncio.gather(*steps)

    async def aclose(self) -> None:
        """Close every partner DB (retired ones too) and the STS client; not the base DB.

        A view closes nothing.
        """
        state = self._state
        if self._deadline is not None or state.closed:
            return
        state.closed = True
        entries = [*state.partners.values(), *state.retired]
        state.partners.clear()
        state.retired.clear()
        closers: list[Awaitable[None]] = []
        for entry in entries:
            closers += [entry.credentials.aclose(), entry.db.aclose()]
        if state.sts is not None:
            closers.append(state.sts.aclose())
        elif state.sts_transport is not None:
            closers.append(state.sts_transport.aclose())
        state.sts = None
        outcomes = await asyncio.gather(*closers, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
