"""Partner-account errors (MultiAccountDB); imported on first use, off the cold path."""

from __future__ import annotations

from ._base import AsyncDynamoError, ConfigurationError, UsageError


class PartnerConfigurationError(ConfigurationError):
    """A partner's settings cannot work (no ExternalId, a malformed role ARN...).

    Attributes:
        partner_id: the partner whose settings are wrong (``""`` when the document as a whole is).
    """

    def __init__(self, message: str, *, partner_id: str) -> None:
        super().__init__(message)
        self.partner_id = partner_id


class PartnerNotFoundError(UsageError, LookupError):
    """No partner is configured under ``partner_id``; nothing was sent.

    Attributes:
        partner_id: the id that was asked for.
    """

    def __init__(self, message: str, *, partner_id: str) -> None:
        super().__init__(message)
        self.partner_id = partner_id


class AssumeRoleFailedError(AsyncDynamoError):
    """STS would not give credentials for a partner's role (access denied, wrong ExternalId...).

    The STS error is the ``__cause__`` (and ``cause``).

    Attributes:
        partner_id: the partner whose role could not be assumed.
        role_arn: the role that was asked for.
        cause: the error STS (or the transport) raised, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        partner_id: str,
        role_arn: str = "",
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.partner_id = partner_id
        self.role_arn = role_arn
        self.cause = cause


class AssumeRoleUnavailableError(AssumeRoleFailedError):
    """STS throttled the AssumeRole call, failed (5xx) or could not be reached; retrying may work."""

    retryable = True


class PartnerAccountMismatchError(AssumeRoleFailedError):
    """STS answered with a session that is not provably in the partner's account.

    The assumed-role ARN was missing, unparsable, or named another account: the credentials
    are not used (money would move in an account nobody configured).

    Attributes:
        expected_account: the partner's account (from its role ARN).
        assumed_arn: the ``AssumedRoleUser.Arn`` STS sent (``""`` when it sent none).
    """

    def __init__(
        self,
        message: str,
        *,
        partner_id: str,
        role_arn: str,
        expected_account: str,
        assumed_arn: str,
    ) -> None:
        super().__init__(message, partner_id=partner_id, role_arn=role_arn)
        self.expected_account = expected_account
        self.assumed_arn = assumed_arn
