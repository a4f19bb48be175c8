"""``PartnerConfig``: how to reach one partner's account, validated before any request is sent.

Partners come from code (``PartnerConfig(...)``), or from a document (a mapping or JSON text, e.g.
read from a parameter store by the caller) through :func:`load_partners`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ._errors import PartnerConfigurationError

__all__ = ["PartnerConfig", "load_partners"]

# arn:<partition>:iam::<account>:role/<optional/path/>name (IAM's own character rules).
_ROLE_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}",
    re.ASCII,
)
# STS rules for RoleSessionName and ExternalId (ASCII: \w would admit any Unicode letter).
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SESSION_CHAR = re.compile(r"[^\w+=,.@-]", re.ASCII)

MIN_SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 43200
_SESSION_PREFIX = "asyncdynamo-"


def default_session_name(partner_id: str) -> str:
    """A valid RoleSessionName, unique per partner id, readable in the partner's CloudTrail."""
    cleaned = _SESSION_CHAR.sub("-", partner_id)
    name = f"{_SESSION_PREFIX}{cleaned}"
    if cleaned == partner_id and len(name) <= 64:
        return name
    # Cleaning or cutting could make two ids collide: a digest of the real id keeps them apart.
    digest = hashlib.sha256(partner_id.encode()).hexdigest()[:10]
    return f"{_SESSION_PREFIX}{cleaned[:41]}-{digest}"


@dataclass(frozen=True, slots=True)
class PartnerConfig:
    """One partner account reached by assuming a role there.

    Attributes:
        partner_id: the id callers use (``mdb.partner("acme")``).
        role_arn: the role to assume, ``arn:aws:iam::<12-digit account>:role/<name>`` (also the
            ``aws-cn`` and ``aws-us-gov`` partitions).
        external_id: the ExternalId the partner's trust policy requires. Mandatory: without it
            anyone who learns the role ARN could make this platform act on it (the
            confused-deputy problem).
        region: the region of the partner's tables; ``None`` uses the base DB's region.
        session_name: the RoleSessionName, seen in the partner's CloudTrail; defaults to one
            unique per partner (``asyncdynamo-<partner_id>``). 2–64 characters of
            ``[A-Za-z0-9_+=,.@-]``.
        session_seconds: the assumed session's lifetime, 900–43200 seconds (the role's maximum
            session duration must allow it).
        endpoint_url: the partner's DynamoDB endpoint, when not the region's default (tests,
            VPC endpoints); ``None`` uses the base DB's endpoint setting.
        kms_key_id: the KMS key sealing ``Encrypted`` fields in the partner's tables; ``None``
            uses the base config's ``kms_key_id`` (an alias then names the partner account's own
            key, since KMS is called with the partner's credentials).

    Raises:
        PartnerConfigurationError: a field is missing or invalid (on construction).
    """

    partner_id: str
    role_arn: str
    external_id: str = field(repr=False)
    region: str | None = None
    session_name: str | None = None
    session_seconds: int = 3600
    endpoint_url: str | None = None
    kms_key_id: str | None = None

    def __post_init__(self) -> None:
        partner = self.partner_id
        if not isinstance(partner, str) or not partner.strip():
            raise PartnerConfigurationError(
                f"a partner id must be a non-empty string, got {partner!r}", partner_id=str(partner)
            )
        if not isinstance(self.role_arn, str) or not _ROLE_ARN.fullmatch(self.role_arn):
            raise PartnerConfigurationError(
                f"partner {partner!r}: role_arn {self.role_arn!r} is not an IAM role ARN "
                "(arn:aws:iam::<12-digit account>:role/<name>)",
                partner_id=partner,
            )
        external = self.external_id
        if not external:
            raise PartnerConfigurationError(
                f"partner {partner!r} has no external_id: every partner role must require the "
                "ExternalId agreed with the partner (it prevents the confused-deputy problem)",
                partner_id=partner,
            )
        if not isinstance(external, str) or not _EXTERNAL_ID.fullmatch(external):
            raise PartnerConfigurationError(
                f"partner {partner!r}: external_id must be 2–1224 characters of "
                "[A-Za-z0-9_+=,.@:/-]",
                partner_id=partner,
            )
        if self.session_name is None:
            object.__setattr__(self, "session_name", default_session_name(partner))
        elif not isinstance(self.session_name, str) or not _SESSION_NAME.fullmatch(
            self.session_name
        ):
            raise PartnerConfigurationError(
                f"partner {partner!r}: session_name {self.session_name!r} must be 2–64 "
                "characters of [A-Za-z0-9_+=,.@-]",
                partner_id=partner,
            )
        seconds = self.session_seconds
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not MIN_SESSION_SECONDS <= seconds <= MAX_SESSION_SECONDS
        ):
            raise PartnerConfigurationError(
                f"partner {partner!r}: session_seconds must be a whole number of seconds from "
                f"{MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS}, got {seconds!r}",
                partner_id=partner,
            )
        for name in ("region", "endpoint_url", "kms_key_id"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise PartnerConfigurationError(
                    f"partner {partner!r}: {name} must be a non-empty string or None",
                    partner_id=partner,
                )

    @property
    def account_id(self) -> str:
        """The partner's 12-digit AWS account id (from the role ARN)."""
        match = _ROLE_ARN.fullmatch(self.role_arn)
        assert match is not None  # checked in __post_init__
        return match["account"]

    @property
    def role_session_name(self) -> str:
        """The RoleSessionName sent to STS."""
        assert self.session_name is not None  # filled in by __post_init__
        return self.session_name

    @classmethod
    def from_mapping(cls, partner_id: str, values: Mapping[str, Any]) -> PartnerConfig:
        """Build one partner from a document's entry (the field names above, minus the id).

        Raises:
            PartnerConfigurationError: an unknown or missing field, or an invalid value.
        """
        if not isinstance(values, Mapping):
            raise PartnerConfigurationError(
                f"partner {partner_id!r}: expected an object of settings, got "
                f"{type(values).__name__}",
                partner_id=str(partner_id),
            )
        known = {f.name for f in fields(cls)} - {"partner_id"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise PartnerConfigurationError(
                f"partner {partner_id!r}: unknown setting(s) {', '.join(unknown)}; "
                f"expected {', '.join(sorted(known))}",
                partner_id=str(partner_id),
            )
        for required in ("role_arn", "external_id"):
            if required not in values:
                raise PartnerConfigurationError(
                    f"partner {partner_id!r} has no {required}", partner_id=str(partner_id)
                )
        return cls(partner_id=partner_id, **dict(values))


def load_partners(
    document: str | bytes | Mapping[str, Any] | Iterable[Mapping[str, Any]],
) -> list[PartnerConfig]:
    """Partners from a JSON document or its parsed form.

    Two shapes are accepted: an object keyed by partner id, and a list of objects that each
    carry a ``partner_id``:

    ```json
    {"acme": {"role_arn": "arn:aws:iam::111111111111:role/payments",
              "external_id": "acme-7f3a", "region": "eu-west-1", "session_seconds": 900}}
    ```

    Raises:
        PartnerConfigurationError: the document is not valid JSON, has the wrong shape, repeats
            a partner id, or describes an invalid partner.
    """
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise PartnerConfigurationError(
                f"the partners document is not valid JSON: {exc}", partner_id=""
            ) from exc
    partners: list[PartnerConfig] = []
    if isinstance(document, Mapping):
        partners = [PartnerConfig.from_mapping(str(key), value) for key, value in document.items()]
    elif isinstance(document, Iterable):
        for entry in document:
            if not isinstance(entry, Mapping) or "partner_id" not in entry:
                # Named by its keys, never shown: an entry holds the ExternalId.
                got = (
                    f"an entry with {', '.join(sorted(map(str, entry))) or 'no settings'}"
                    if isinstance(entry, Mapping)
                    else type(entry).__name__
                )
                raise PartnerConfigurationError(
                    f"each partner in a list needs a partner_id, got {got}", partner_id=""
                )
            values = {k: v for k, v in entry.items() if k != "partner_id"}
            partners.append(PartnerConfig.from_mapping(str(entry["partner_id"]), values))
    else:
        raise PartnerConfigurationError(
            "the partners document must be an object keyed by partner id or a list of partners",
            partner_id="",
        )
    seen: set[str] = set()
    for partner in partners:
        if partner.partner_id in seen:
            raise PartnerConfigurationError(
                f"partner {partner.partner_id!r} is configured twice", partner_id=partner.partner_id
            )
        seen.add(partner.partner_id)
    return partners
