"""Settings for the payment processor, and how they reach the DB's configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from asyncdynamo import Config, ConfigurationError, LambdaConfig

from ._cost import Prices

__all__ = ["PaymentConfig", "PaymentsLambdaConfig"]


@dataclass(frozen=True, slots=True)
class PaymentConfig:
    """How the processor behaves.

    Attributes:
        idempotency_ttl: how long a completed idempotency key replays its result; after that
            the key may be used again (enforced in the claim's condition, not only by TTL).
        in_progress_lease: the longest a claim blocks other calls with the same key; never
            longer than the Lambda invocation's remaining time (``asyncdynamo.current_deadline``).
        audit_table_name: the audit table's physical name; ``None`` uses the model's
            ``"audit"`` with the DB's table prefix.
        kms_key_id: the KMS key that encrypts card numbers in the card vault. ``None`` stores
            no card number at all (only the processor's token, last four and brand).
        max_amount: the largest amount accepted, in major units of the payment's currency.
        prices: request-unit prices for cost estimates.
        merchant_cache: how long a merchant read from the merchants table is reused.
        wait_poll: the first pause when waiting for another call's result (doubles, capped).
    """

    idempotency_ttl: timedelta = timedelta(hours=24)
    in_progress_lease: timedelta = timedelta(seconds=30)
    audit_table_name: str | None = None
    kms_key_id: str | None = None
    max_amount: Decimal = Decimal("100000")
    prices: Prices = field(default_factory=Prices)
    merchant_cache: timedelta = timedelta(seconds=60)
    wait_poll: timedelta = timedelta(milliseconds=20)

    def __post_init__(self) -> None:
        if self.idempotency_ttl <= timedelta(0) or self.in_progress_lease <= timedelta(0):
            raise ConfigurationError("PaymentConfig: TTL and lease must be positive")
        if self.in_progress_lease > self.idempotency_ttl:
            raise ConfigurationError("PaymentConfig: the lease cannot outlive idempotency_ttl")
        if self.max_amount <= 0:
            raise ConfigurationError("PaymentConfig.max_amount must be positive")

    def db_config(self, base: Config) -> Config:
        """``base`` with the audit table name and KMS key this config names.

        The card vault's ``Encrypted`` PAN is sealed with ``kms_key_id`` (asyncdynamo's field
        encryption); without one, asyncdynamo refuses to write it (fail closed).
        """
        changes: dict[str, object] = {}
        if self.audit_table_name is not None:
            changes["table_names"] = {**base.table_names, "audit": self.audit_table_name}
        if self.kms_key_id is not None:
            changes["kms_key_id"] = self.kms_key_id
        return replace(base, **changes) if changes else base  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class PaymentsLambdaConfig:
    """The payments settings and the Lambda DB settings, from one place.

    ```python
    settings = PaymentsLambdaConfig.from_environment(os.environ)   # once, at init
    db = await new_lambda_optimized(settings.lambda_config())
    processor = Processor(db, config=settings.payments, gateway=gateway)
    ```
    """

    payments: PaymentConfig = field(default_factory=PaymentConfig)
    lambda_: LambdaConfig = field(default_factory=LambdaConfig)

    def lambda_config(self) -> LambdaConfig:
        """The :class:`LambdaConfig` whose DB config carries the payments settings."""
        base, _, _ = self.lambda_.resolve()
        return replace(self.lambda_, base_config=self.payments.db_config(base))

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], lambda_config: LambdaConfig | None = None
    ) -> PaymentsLambdaConfig:
        """Read ``PAYMENTS_AUDIT_TABLE``, ``PAYMENTS_KMS_KEY_ID``, ``PAYMENTS_IDEMPOTENCY_TTL``
        (seconds), ``PAYMENTS_LEASE`` (seconds) and ``PAYMENTS_MAX_AMOUNT`` (major units).

        Raises:
            ConfigurationError: a value is not a number.
        """

        def seconds(name: str, default: timedelta) -> timedelta:
            raw = environ.get(name)
            if not raw:
                return default
            try:
                return timedelta(seconds=float(raw))
            except ValueError as exc:
                raise ConfigurationError(f"{name}={raw!r} is not a number of seconds") from exc

        defaults = PaymentConfig()
        raw_max = environ.get("PAYMENTS_MAX_AMOUNT")
        try:
            max_amount = Decimal(raw_max) if raw_max else defaults.max_amount
        except ArithmeticError as exc:
            raise ConfigurationError(f"PAYMENTS_MAX_AMOUNT={raw_max!r} is not a number") from exc
        payments = PaymentConfig(
            idempotency_ttl=seconds("PAYMENTS_IDEMPOTENCY_TTL", defaults.idempotency_ttl),
            in_progress_lease=seconds("PAYMENTS_LEASE", defaults.in_progress_lease),
            audit_table_name=environ.get("PAYMENTS_AUDIT_TABLE") or None,
            kms_key_id=environ.get("PAYMENTS_KMS_KEY_ID") or None,
            max_amount=max_amount,
        )
        return cls(payments=payments, lambda_=lambda_config or LambdaConfig())
