"""A refreshing credential source for one partner's assumed role.

:class:`PartnerCredentials` is a :data:`~asyncdynamo.CredentialsProvider`: transports await it
before signing each request, so its fast path is one clock read and two comparisons. It assumes
the role on first use and again before the credentials expire:

```
issued ─────────────── advisory ──────────── mandatory ─────── expiration
        use cached      try to refresh;        refresh must
                        on failure keep        succeed, or the
                        the cached ones        request fails
```

Both windows scale with the session's lifetime (a 900 s session refreshes after 675 s, not at
once as fixed 15-minute windows would), so credentials are never used within ``mandatory``
seconds of their expiration, let alone after it. Concurrent callers share one AssumeRole call
(single flight): one task per refresh, awaited by everyone who needs it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ._client import Client, current_deadline
from ._config import Credentials
from ._errors import (
    AssumeRoleFailedError,
    AssumeRoleUnavailableError,
    AsyncDynamoError,
    ConfigurationError,
    DeadlineExceededError,
    PartnerAccountMismatchError,
)
from ._partner_config import PartnerConfig

__all__ = ["Clock", "PartnerCredentials", "RefreshWindows", "assume_role"]

_log = logging.getLogger("asyncdynamo.partners")

# arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>
_ASSUMED_ROLE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:sts::(?P<account>\d{12}):assumed-role/[^/\s]+/[^\s]+", re.ASCII
)

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime (injectable so tests can move time)."""

# botocore's windows for temporary credentials; used as they are for sessions of an hour or more.
ADVISORY_MAX = 15 * 60.0
MANDATORY_MAX = 10 * 60.0
# For shorter sessions the windows are these fractions of the lifetime (900 s: 225 s and 150 s).
ADVISORY_FRACTION = 0.25
MANDATORY_FRACTION = 1 / 6
# After a failed advisory refresh, wait this long before asking STS again (not past mandatory).
ADVISORY_RETRY_SECONDS = 10.0
# Credentials without an expiration are re-assumed after this long (STS's shortest session).
MIN_LIFETIME_WITHOUT_EXPIRY = 900.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RefreshWindows:
    """How long before expiration a refresh is tried (advisory) and required (mandatory).

    Attributes:
        advisory: seconds before expiration from which a refresh is attempted; a failure then is
            logged and the cached credentials are kept.
        mandatory: seconds before expiration from which the cached credentials are no longer
            used: the refresh must succeed or the request fails.
    """

    advisory: float
    mandatory: float

    def __post_init__(self) -> None:
        if not 0 < self.mandatory <= self.advisory:
            raise ValueError("RefreshWindows needs 0 < mandatory <= advisory")

    @classmethod
    def for_lifetime(cls, lifetime: float) -> RefreshWindows:
        """Windows for credentials valid ``lifetime`` seconds from when they were received."""
        lifetime = max(lifetime, 1.0)
        return cls(
            advisory=min(ADVISORY_MAX, lifetime * ADVISORY_FRACTION),
            mandatory=min(MANDATORY_MAX, lifetime * MANDATORY_FRACTION),
        )


class PartnerCredentials:
    """Credentials for one assumed role, refreshed before they expire with single flight.

    Args:
        assume: performs one AssumeRole and returns the credentials (with ``expiration``). It
            raises asyncdynamo errors only (``AssumeRoleFailedError``...).
        clock: the current aware UTC time.
        name: what to call the source in log messages (the partner id).
        windows: the refresh windows for a credential lifetime in seconds.
    """

    def __init__(
        self,
        assume: Callable[[], Awaitable[Credentials]],
        *,
        clock: Clock = _utc_now,
        name: str = "",
        windows: Callable[[float], RefreshWindows] = RefreshWindows.for_lifetime,
    ) -> None:
        self._assume = assume
        self._clock = clock
        self._name = name
        self._windows = windows
        self._current: Credentials | None = None
        # Both are "never" until credentials arrive: the first call must assume the role.
        self._advisory_at = datetime.min.replace(tzinfo=UTC)
        self._mandatory_at = datetime.min.replace(tzinfo=UTC)
        self._retry_at = datetime.min.replace(tzinfo=UTC)
        self._inflight: asyncio.Task[Credentials] | None = None
        # Every refresh not finished yet, the in-flight one and any an invalidation detached.
        self._tasks: set[asyncio.Task[Credentials]] = set()
        self._closed = False
        # Bumped by invalidate(): a refresh that started before it must not bring back what it
        # replaced.
        self._generation = 0
        self.refreshes = 0
        """How many AssumeRole calls completed successfully (for metrics and tests)."""

    @property
    def current(self) -> Credentials | None:
        """The cached credentials, if any (possibly inside a refresh window)."""
        return self._current

    @property
    def refresh_due_at(self) -> datetime | None:
        """When the advisory window of the cached credentials opens (``None`` before any)."""
        return self._advisory_at if self._current is not None else None

    async def __call__(self) -> Credentials:
        """Credentials that are safe to sign with now.

        Raises:
            AssumeRoleFailedError: STS refused (or could not be reached) and no cached
                credentials are usable any more.
            DeadlineExceededError: the caller's deadline passed while waiting for STS. (A shared
                refresh cut short by the deadline of the caller that started it is tried again
                for a waiter with time left.)
            ConfigurationError: the source was closed, also while this caller waited.
        """
        current = self._current
        if current is not None:
            now = self._clock()
            if now < self._advisory_at:
                return current
            if now < self._mandatory_at:
                return await self._advisory_refresh(current, now)
        return await self._shared_refresh()

    async def _advisory_refresh(self, current: Credentials, now: datetime) -> Credentials:
        # Someone is already refreshing, or STS failed a moment ago: the cached credentials are
        # still good for at least the mandatory window, so this request does not wait.
        if self._inflight is not None or now < self._retry_at:
            return current
        try:
            return await self._shared_refresh()
        except DeadlineExceededError:
            raise  # the caller is out of time; its request would fail anyway
        except AsyncDynamoError as exc:
            self._retry_at = min(
                now + timedelta(seconds=ADVISORY_RETRY_SECONDS), self._mandatory_at
            )
            _log.warning(
                "refreshing credentials for %s failed in the advisory window; the cached ones "
                "stay in use until %s: %s",
                self._name or "a partner",
                self._mandatory_at.isoformat(),
                exc,
            )
            return current

    async def _shared_refresh(self) -> Credentials:
        while True:
            if self._closed:
                raise ConfigurationError(f"the credential source of {self._name!r} is closed")
            task = self._inflight
            mine = task is None
            if task is None:
                # The task copies this caller's context, so the AssumeRole call runs under this
                # caller's deadline (the Client reads it from a contextvar).
                task = asyncio.create_task(self._refresh(), name=f"assume-role:{self._name}")
                task.add_done_callback(self._finished)
                self._inflight = task
                self._tasks.add(task)
            deadline = current_deadline()
            try:
                return await self._wait(task, deadline)
            except DeadlineExceededError as exc:
                # The refresh ran under the deadline of the caller that started it; a waiter that
                # joined it with time left asks again under its own deadline instead.
                refresh_cut_short = task.done() and task.exception() is exc
                loop = asyncio.get_running_loop()
                if mine or not refresh_cut_short:
                    raise
                if deadline is not None and deadline <= loop.time():
                    raise
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not task.cancelled() or (current is not None and current.cancelling()):
                    raise  # this caller was cancelled: propagate
                # The shared refresh was cancelled (aclose), not this caller.
                if self._closed:
                    raise ConfigurationError(
                        f"the credential source of {self._name!r} was closed while assuming "
                        "the role"
                    ) from None
                raise AssumeRoleUnavailableError(
                    f"assuming the role of {self._name or 'the partner'} was cancelled",
                    partner_id=self._name,
                ) from None

    async def _wait(self, task: asyncio.Task[Credentials], deadline: float | None) -> Credentials:
        # shield: a waiter that gives up (its own deadline, cancellation) does not cancel the
        # refresh the other waiters are sharing.
        if deadline is None:
            return await asyncio.shield(task)
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(task)
        except TimeoutError as exc:
            if isinstance(exc, AsyncDynamoError):
                raise
            raise DeadlineExceededError(
                f"gave up waiting for AssumeRole ({self._name}) at the deadline",
                operation="AssumeRole",
                remaining=0.0,
            ) from exc

    def _finished(self, task: asyncio.Task[Credentials]) -> None:
        self._tasks.discard(task)
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled():
            task.exception()  # retrieved: every waiter already got it (or none was left)

    async def _refresh(self) -> Credentials:
        generation = self._generation
        credentials = await self._assume()
        received = self._clock()
        expiration = credentials.expiration
        if expiration is None:  # STS always sends one; treat a missing one as "ask again soon"
            expiration = received + timedelta(seconds=MIN_LIFETIME_WITHOUT_EXPIRY)
            credentials = Credentials(
                credentials.access_key_id,
                credentials.secret_access_key,
                credentials.session_token,
                expiration,
            )
        windows = self._windows((expiration - received).total_seconds())
        mandatory_at = expiration - timedelta(seconds=windows.mandatory)
        if received >= mandatory_at:
            # Using them would sign with (nearly) expired credentials; asking again at once
            # would loop. A clock far off from STS's is the usual reason.
            raise AssumeRoleFailedError(
                f"STS gave {self._name or 'the partner'} credentials expiring at "
                f"{expiration.isoformat()}, too soon to use at {received.isoformat()} "
                "(is the clock right?)",
                partner_id=self._name,
            )
        self.refreshes += 1
        if generation == self._generation:
            self._current = credentials
            self._advisory_at = expiration - timedelta(seconds=windows.advisory)
            self._mandatory_at = mandatory_at
            self._retry_at = datetime.min.replace(tzinfo=UTC)
        return credentials

    def invalidate(self) -> None:
        """Forget the cached credentials: the next call assumes the role again."""
        self._generation += 1
        self._current = None
        self._advisory_at = self._mandatory_at = datetime.min.replace(tzinfo=UTC)
        # A refresh in flight started before the invalidation: its waiters keep it, but later
        # callers start a new one rather than receive credentials from before.
        self._inflight = None

    async def aclose(self) -> None:
        """Cancel a refresh in flight and forget the credentials."""
        self._closed = True
        self.invalidate()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def assume_role(sts: Client, partner: PartnerConfig) -> Credentials:
    """One AssumeRole call for ``partner`` through ``sts`` (retries, the context's deadline).

    Raises:
        AssumeRoleFailedError: STS refused, or answered with unusable credentials or with a
            session in another account. :class:`AssumeRoleUnavailableError` when retrying may
            succeed (throttled, 5xx, unreachable).
        DeadlineExceededError: the context's deadline passed.
    """
    params = {
        "RoleArn": partner.role_arn,
        "RoleSessionName": partner.role_session_name,
        "ExternalId": partner.external_id,
        "DurationSeconds": partner.session_seconds,
    }
    try:
        response = await sts.call("AssumeRole", params)
    except DeadlineExceededError:
        raise  # the caller ran out of time; STS did nothing wrong
    except AsyncDynamoError as exc:
        error_type = AssumeRoleUnavailableError if exc.retryable else AssumeRoleFailedError
        raise error_type(
            f"assuming {partner.role_arn} for partner {partner.partner_id!r} failed: {exc}",
            partner_id=partner.partner_id,
            role_arn=partner.role_arn,
            cause=exc,
        ) from exc
    return _credentials_from(partner, response)


def _credentials_from(partner: PartnerConfig, response: Mapping[str, Any]) -> Credentials:
    """The credentials of an AssumeRole answer, checked to belong to the partner's account."""
    try:
        raw = response["Credentials"]
        expiration = raw["Expiration"]
        if isinstance(expiration, str):
            expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        if not isinstance(expiration, datetime):
            raise TypeError(f"Expiration is {expiration!r}")
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=UTC)
        credentials = Credentials(
            str(raw["AccessKeyId"]),
            str(raw["SecretAccessKey"]),
            str(raw["SessionToken"]),
            expiration,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AssumeRoleFailedError(
            f"STS answered AssumeRole for partner {partner.partner_id!r} without usable "
            f"credentials: {exc!r}",
            partner_id=partner.partner_id,
            role_arn=partner.role_arn,
            cause=exc,
        ) from exc
    # Money moves on these credentials: use them only when STS says, in a form we can read,
    # that they are the partner's account. A missing or unreadable ARN proves nothing.
    user = response.get("AssumedRoleUser")
    assumed = user.get("Arn") if isinstance(user, Mapping) else None
    assumed = assumed if isinstance(assumed, str) else ""
    match = _ASSUMED_ROLE_ARN.fullmatch(assumed)
    if match is None or match["account"] != partner.account_id:
        found = (
            f"a session in account {match['account']}"
            if match is not None
            else f"an unreadable assumed-role ARN {assumed[:200]!r}"
            if assumed
            else "no assumed-role ARN"
        )
        raise PartnerAccountMismatchError(
            f"AssumeRole for partner {partner.partner_id!r} returned {found}, not a session in "
            f"its account {partner.account_id}; the credentials are not used",
            partner_id=partner.partner_id,
            role_arn=partner.role_arn,
            expected_account=partner.account_id,
            assumed_arn=assumed,
        )
    return credentials
