"""What every handler of a container shares: settings, the LambdaDB, partners, the processor.

Built once per container. In Lambda it is built while the handler module is imported (the
init phase, at full CPU and not billed against the first invocation's timeout), on the event
loop asyncdynamo's handler runner keeps for the container's life; elsewhere (tests, local runs)
on the first invocation. Settings come from the environment, read once
(:meth:`HandlerSettings.from_environment`), or from :func:`configure`.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from asyncdynamo import (
    Config,
    ConfigurationError,
    LambdaConfig,
    LambdaDB,
    Model,
    TransportKind,
    is_lambda,
    new_lambda_optimized,
    run_in_lambda_loop,
)

from .._config import PaymentsLambdaConfig
from .._gateway import Gateway
from .._processor import PROCESSOR_MODELS, Processor

if TYPE_CHECKING:
    from asyncdynamo import MultiAccountDB, PartnerConfig

    from .._reconcile import SettlementSource

__all__ = ["HandlerSettings", "Invocation", "Runtime", "configure", "current", "reset"]


def _load(spec: str, variable: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"{variable}={spec!r}: expected 'package.module:factory'")
    return getattr(importlib.import_module(module_name), attribute)()


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """Everything the handlers are configured with.

    Attributes:
        payments: the processor's settings and the Lambda DB settings.
        partners: partner accounts (``MultiAccountDB``); empty: the base account only.
        merchant_claim: the JWT claim naming the caller's merchant.
        concurrency: partners handled at once by fan-out handlers.
        gateway: ``"package.module:factory"`` building the card processor client.
        settlements: ``"package.module:factory"`` building the settlement report source
            (only the ``reconcile`` handler needs it).
        log_level: the level of the ``payments`` loggers (each invocation logs at INFO).
    """

    payments: PaymentsLambdaConfig
    partners: tuple[PartnerConfig, ...] = ()
    merchant_claim: str = "merchant_id"
    concurrency: int = 8
    gateway: str | None = None
    settlements: str | None = None
    log_level: str = "INFO"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HandlerSettings:
        """Read the settings the template sets (see docs/deploying.md).

        ``PAYMENTS_TABLE_PREFIX``, ``PAYMENTS_CURSOR_SECRET`` (16+ bytes; signs query cursors),
        ``PAYMENTS_PARTNERS`` (JSON, :func:`asyncdynamo.load_partners`), ``PAYMENTS_GATEWAY``,
        ``PAYMENTS_SETTLEMENTS``, ``PAYMENTS_MERCHANT_CLAIM``, ``PAYMENTS_CONCURRENCY``,
        ``PAYMENTS_TRACING`` (``1``: a span per DynamoDB call), ``PAYMENTS_TRANSPORT``,
        ``PAYMENTS_ENDPOINT_URL`` (local runs), ``PAYMENTS_LOG_LEVEL``, plus :meth:`PaymentsLambdaConfig.from_environment`'s.

        Raises:
            ConfigurationError: a value is malformed.
        """
        env = os.environ if environ is None else environ
        secret = env.get("PAYMENTS_CURSOR_SECRET", "")
        endpoint = env.get("PAYMENTS_ENDPOINT_URL") or None
        config = Config(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            endpoint_url=endpoint,
            kms_endpoint_url=endpoint,
            transport=TransportKind(env.get("PAYMENTS_TRANSPORT") or "lean"),
            table_prefix=env.get("PAYMENTS_TABLE_PREFIX", ""),
            cursor_secret=secret.encode() if secret else None,
        )
        lambda_config = LambdaConfig(
            base_config=config, enable_xray=env.get("PAYMENTS_TRACING", "") in ("1", "true")
        )
        partners: tuple[PartnerConfig, ...] = ()
        if env.get("PAYMENTS_PARTNERS"):
            from asyncdynamo import load_partners

            partners = tuple(load_partners(env["PAYMENTS_PARTNERS"]))
        try:
            concurrency = int(env.get("PAYMENTS_CONCURRENCY") or 8)
        except ValueError as exc:
            raise ConfigurationError("PAYMENTS_CONCURRENCY must be a whole number") from exc
        return cls(
            payments=PaymentsLambdaConfig.from_environment(env, lambda_config),
            partners=partners,
            merchant_claim=env.get("PAYMENTS_MERCHANT_CLAIM") or "merchant_id",
            concurrency=concurrency,
            gateway=env.get("PAYMENTS_GATEWAY") or None,
            settlements=env.get("PAYMENTS_SETTLEMENTS") or None,
            log_level=env.get("PAYMENTS_LOG_LEVEL") or "INFO",
        )

    def models(self) -> tuple[type[Model], ...]:
        """The models every handler uses (a handler module adds its own at import)."""
        if not self.payments.payments.kms_key_id:
            return PROCESSOR_MODELS
        from .._vault import Card  # the card vault: only with a KMS key

        return (*PROCESSOR_MODELS, Card)


class Invocation(NamedTuple):  # a NamedTuple is built ~10x faster than a dataclass
    """One invocation's views: every call through them ends before the invocation does.

    Attributes:
        db: the base account's DB (a ``with_lambda_timeout`` view).
        multi: the partners' view under the same deadline (``None`` without partners).
        processor: a processor on those views, sharing the container's merchant cache.
    """

    db: LambdaDB
    multi: MultiAccountDB | None
    processor: Processor

    @property
    def deadline(self) -> float | None:
        """The invocation's deadline (``loop.time()`` clock), ``None`` when unbounded."""
        return self.db.deadline


class Runtime:
    """The container's DB, partners, card processor and settlement source.

    Attributes:
        settings: what the runtime was built from.
        db: the base account's DB, for the container's life.
        multi: the partner accounts (``None`` without partners).
        gateway: the card processor.
        settlements: the settlement report source (``None`` unless configured).
        merchants: the merchant cache every invocation's processor shares.
    """

    # A plain class: a dataclass's generated code would cost every cold start ~0.4 ms.
    __slots__ = ("db", "gateway", "merchants", "multi", "settings", "settlements")

    def __init__(
        self,
        settings: HandlerSettings,
        db: LambdaDB,
        multi: MultiAccountDB | None,
        gateway: Gateway,
        settlements: SettlementSource | None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.multi = multi
        self.gateway = gateway
        self.settlements = settlements
        self.merchants: dict[str, Any] = {}

    def invocation(self, context: Any) -> Invocation:
        """Deadline views for one invocation (``context=None``: no deadline)."""
        db = self.db.with_lambda_timeout(context)
        target: LambdaDB | MultiAccountDB = db
        multi = None
        if self.multi is not None:
            multi = self.multi.with_lambda_timeout(context)  # its base is bounded too
            target = multi
        processor = Processor(
            target, gateway=self.gateway, config=self.settings.payments.payments, actor="api"
        )
        # One merchant cache for the container (Processor keeps it per instance, and an
        # instance per invocation is what binds it to that invocation's deadline views).
        processor._merchants = self.merchants
        return Invocation(db, multi, processor)


class _Overrides:
    __slots__ = ("gateway", "settings", "settlements")

    def __init__(self) -> None:
        self.settings: HandlerSettings | None = None
        self.gateway: Gateway | None = None
        self.settlements: SettlementSource | None = None


_OVERRIDES = _Overrides()
_RUNTIME: Runtime | None = None


def configure(
    settings: HandlerSettings | None = None,
    *,
    gateway: Gateway | None = None,
    settlements: SettlementSource | None = None,
) -> None:
    """Set what the next runtime is built from, instead of the environment (tests, local runs).

    Takes effect for the runtime built after the next :func:`reset` (or the first one).
    """
    _OVERRIDES.settings = settings
    _OVERRIDES.gateway = gateway
    _OVERRIDES.settlements = settlements


async def _build() -> Runtime:
    settings = _OVERRIDES.settings or HandlerSettings.from_environment()
    gateway = _OVERRIDES.gateway
    if gateway is None:
        if settings.gateway is None:
            raise ConfigurationError(
                "no card processor: set PAYMENTS_GATEWAY to 'package.module:factory'"
            )
        gateway = _load(settings.gateway, "PAYMENTS_GATEWAY")
    settlements = _OVERRIDES.settlements
    if settlements is None and settings.settlements is not None:
        settlements = _load(settings.settlements, "PAYMENTS_SETTLEMENTS")
    logging.getLogger("payments").setLevel(settings.log_level)
    db = await new_lambda_optimized(settings.payments.lambda_config())
    db.pre_register_models(*settings.models())
    multi = None
    if settings.partners:
        from asyncdynamo import MultiAccountDB

        multi = MultiAccountDB(db, list(settings.partners))
    return Runtime(settings, db, multi, gateway, settlements)


_EXTRA_MODELS: dict[type[Model], None] = {}


async def current() -> Runtime:
    """The container's runtime (built on first use, on the handler runner's loop)."""
    global _RUNTIME
    if _RUNTIME is None:
        runtime = await _build()
        runtime.db.pre_register_models(*_EXTRA_MODELS)
        _RUNTIME = runtime
    return _RUNTIME


def init_at_import(*models: type[Model]) -> None:
    """Note the models a handler module uses besides the processor's, and build the runtime
    now when running in Lambda (its init phase); elsewhere it is built on first use."""
    _EXTRA_MODELS.update(dict.fromkeys(models))
    if _RUNTIME is not None:
        _RUNTIME.db.pre_register_models(*models)
    elif is_lambda():
        run_in_lambda_loop(current())


def reset() -> None:
    """Forget the runtime and asyncdynamo's process-wide Lambda state (between tests)."""
    global _RUNTIME
    from asyncdynamo.lambda_testing import reset_lambda_process

    runtime, _RUNTIME = _RUNTIME, None
    if runtime is not None and runtime.multi is not None:
        run_in_lambda_loop(runtime.multi.aclose())  # partner clients live on the runner's loop
    reset_lambda_process()
