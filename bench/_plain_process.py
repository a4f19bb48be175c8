"""The ``process`` handler's create route written on plain aiobotocore (the cold-start baseline).

What a team would write without asyncdynamo: one event loop kept at module level, a client
built at import, hand-written AttributeValues, the same requests as the asyncdynamo handler
(merchant read, conditional claim of the idempotency key, the card processor, the phase
update, one TransactWriteItems with the payment, ledger entry, audit record and completion).
Configured by ``PAYMENTS_ENDPOINT_URL`` and ``PAYMENTS_TABLE_PREFIX``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiobotocore.session
from botocore.exceptions import ClientError

__all__ = ["handler"]

PREFIX = os.environ.get("PAYMENTS_TABLE_PREFIX", "")
_loop = asyncio.new_event_loop()
_session = aiobotocore.session.get_session()
_client: Any = _loop.run_until_complete(
    _session.create_client(
        "dynamodb",
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        endpoint_url=os.environ.get("PAYMENTS_ENDPOINT_URL"),
    ).__aenter__()
)
_charges: dict[str, str] = {}


def _luhn(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    return (
        sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10
        == 0
    )


def _response(status: int, body: Any, **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **headers},
        "body": json.dumps(body),
    }


async def _authorize(key: str) -> str:
    return _charges.setdefault(key, "gw_" + hashlib.sha256(key.encode()).hexdigest()[:20])


async def _process(event: dict[str, Any]) -> dict[str, Any]:
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    merchant_id = claims.get("merchant_id")
    key = event["headers"].get("idempotency-key")
    body = json.loads(event.get("body") or "{}")
    amount, currency, card = body.get("amount"), body.get("currency"), body.get("card") or {}
    number = str(card.get("number", ""))
    if not isinstance(amount, int) or amount <= 0 or not key:
        return _response(400, {"field": "amount"})
    if not number.isdigit() or not _luhn(number):
        return _response(400, {"field": "card.number"})
    merchant = await _client.get_item(
        TableName=f"{PREFIX}merchants", Key={"merchant_id": {"S": merchant_id}}
    )
    if "Item" not in merchant:
        return _response(403, {"error": "InvalidMerchant"})
    canonical = json.dumps(
        {"amount": amount, "currency": currency, "last4": number[-4:], "m": merchant_id},
        sort_keys=True,
    )
    request_hash = hashlib.sha256(canonical.encode()).hexdigest()
    scope_key = f"{merchant_id}#authorize#{key}"
    owner = uuid.uuid4().hex
    now_ms = int(time.time() * 1000)
    payment_id = "pay_" + uuid.uuid4().hex
    try:
        await _client.put_item(
            TableName=f"{PREFIX}idempotency",
            Item={
                "scope_key": {"S": scope_key},
                "request_hash": {"S": request_hash},
                "state": {"S": "in_progress"},
                "phase": {"S": "claimed"},
                "owner": {"S": owner},
                "lease_until_ms": {"N": str(now_ms + 30_000)},
                "expires_at": {"N": str(now_ms // 1000 + 86_400)},
                "resource_id": {"S": payment_id},
            },
            ConditionExpression="attribute_not_exists(scope_key) OR expires_at <= :now",
            ExpressionAttributeValues={":now": {"N": str(now_ms // 1000)}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        found = (
            await _client.get_item(
                TableName=f"{PREFIX}idempotency",
                Key={"scope_key": {"S": scope_key}},
                ConsistentRead=True,
            )
        )["Item"]
        if found["request_hash"]["S"] != request_hash:
            return _response(422, {"error": "DuplicatePayment"})
        if found["state"]["S"] == "completed":
            return _response(
                200, json.loads(found["response"]["S"]), **{"Idempotent-Replayed": "true"}
            )
        return _response(409, {"error": "InProgress"}, **{"Retry-After": "1"})
    reference = await _authorize(scope_key)
    await _client.update_item(
        TableName=f"{PREFIX}idempotency",
        Key={"scope_key": {"S": scope_key}},
        UpdateExpression="SET phase = :p",
        ConditionExpression="#o = :me",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":p": {"S": "gateway_called"}, ":me": {"S": owner}},
    )
    created = datetime.now(UTC).isoformat()
    payment = {
        "payment_id": payment_id,
        "merchant_id": merchant_id,
        "status": "authorized",
        "amount": amount,
        "currency": currency,
        "card_last4": number[-4:],
        "gateway_reference": reference,
        "created_at": created,
    }
    item = {k: ({"N": str(v)} if isinstance(v, int) else {"S": str(v)}) for k, v in payment.items()}
    await _client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": f"{PREFIX}payments",
                    "Item": {**item, "version": {"N": "1"}},
                    "ConditionExpression": "attribute_not_exists(payment_id)",
                }
            },
            {
                "Put": {
                    "TableName": f"{PREFIX}ledger",
                    "Item": {
                        "payment_id": {"S": payment_id},
                        "seq": {"N": "1"},
                        "kind": {"S": "authorization"},
                        "amount": {"N": str(amount)},
                        "created_at": {"S": created},
                    },
                }
            },
            {
                "Put": {
                    "TableName": f"{PREFIX}audit",
                    "Item": {
                        "payment_id": {"S": payment_id},
                        "seq": {"N": "1"},
                        "merchant_id": {"S": merchant_id},
                        "at": {"S": created},
                        "event": {"S": "payment.authorized"},
                    },
                    "ConditionExpression": "attribute_not_exists(payment_id)",
                }
            },
            {
                "Update": {
                    "TableName": f"{PREFIX}idempotency",
                    "Key": {"scope_key": {"S": scope_key}},
                    "UpdateExpression": "SET #s = :done, phase = :rec, #r = :resp",
                    "ConditionExpression": "#o = :me",
                    "ExpressionAttributeNames": {"#s": "state", "#r": "response", "#o": "owner"},
                    "ExpressionAttributeValues": {
                        ":done": {"S": "completed"},
                        ":rec": {"S": "recorded"},
                        ":resp": {"S": json.dumps({"payment": payment})},
                        ":me": {"S": owner},
                    },
                }
            },
        ]
    )
    return _response(201, {"payment": payment})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    return _loop.run_until_complete(_process(event))
