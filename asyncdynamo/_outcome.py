"""Single-item writes whose answer was lost: applied exactly once, or reported as unknown.

The client raises :class:`WriteOutcomeUnknownError` at once for a ``PutItem``, ``UpdateItem``
or ``DeleteItem`` that failed after its bytes left (a read timeout, a reset, a 5xx): retrying it
blindly could apply it twice, or turn our own applied write into a conflict. This module decides
instead, and only says "applied" when it can prove it.

Every single-item put and update writes a unique *write token* into the item
(:data:`WRITE_TOKEN_ATTRIBUTE`). Tokens are never reused, so a stored item carrying our token
proves that our write was applied (and, since every write through ``DB.put``/``DB.update``
replaces the token, that no such write came after it). After a lost answer:

- a *guarded* write, whose own condition lets it apply at most once (a version check, or a
  create-only put), is sent again unchanged. Success means the first attempt was not applied;
  a failed condition whose returned item (``ReturnValuesOnConditionCheckFailure=ALL_OLD``)
  carries our token means it was, and the call succeeds with that item. Any other failed
  condition cannot tell "a concurrent writer won" from "ours landed and someone wrote after it":
  :class:`WriteOutcomeUnknownError`, never a conflict.
- an *unguarded* put or update (an overwrite of an unversioned item, a ``skip_version_check``
  update, an ``ADD``/list append) is not sent again, since a second application could change
  the result; one consistent read tells whether our token is stored (applied: success with the
  item) or not (:class:`WriteOutcomeUnknownError`).
- a delete leaves no item to carry a token: it is sent again, and succeeds only if that resend
  deleted an item; finding nothing (or a failed condition) is :class:`WriteOutcomeUnknownError`.

A model may store no token (``__write_token__ = False``, the default for ``Compat.DYNAMORM``
models, whose items must hold exactly what a DynamORM writer stores). Its lost answers resolve
by what is left: a guarded write is sent again and succeeds only if that resend applies (a failed
condition cannot be told from our own earlier write); an unguarded one is
:class:`WriteOutcomeUnknownError` at once, since no read could prove it was ours.

Why not a one-action ``TransactWriteItems`` with a ``ClientRequestToken``: it costs twice the
write capacity on every write (not only on the rare lost answer), returns no ``ReturnValues``
(``update`` could no longer return the item it wrote without a second, racy read), and its
deduplication window is ten minutes. Why not compare the stored attributes with what we wrote:
two writers applying the same change from the same version store identical items (a debit of
100 from a balance of 500 stores 400 either way), so content cannot prove whose write it was.
"""

from __future__ import annotations

import itertools
import os
from base64 import urlsafe_b64encode
from typing import Any

from ._client import Client
from ._errors import AsyncDynamoError, ConditionalCheckFailedError, WriteOutcomeUnknownError
from ._ops import PreparedWrite, WriteKind
from ._spec import WRITE_TOKEN_ATTRIBUTE

__all__ = ["WRITE_TOKEN_ATTRIBUTE", "new_token", "new_token_prefix", "send_write"]


_NAME = "#adw"
_VALUE = ":adw"

# A token is a random per-process prefix and a counter: unique without a system call per write.
_counter = itertools.count()
_prefix = ""


def new_token_prefix() -> None:
    """Draw a new per-process token prefix (after a fork, and after a SnapStart restore: copies
    of one snapshot share the prefix and the counter, so their tokens would collide)."""
    global _prefix
    _prefix = urlsafe_b64encode(os.urandom(12)).decode()


os.register_at_fork(after_in_child=new_token_prefix)  # a forked child must not repeat the parent's


def new_token() -> str:
    """A write token no other write (in any process) uses."""
    if not _prefix:
        new_token_prefix()
    return f"{_prefix}{next(_counter):x}"


def _with_token(write: PreparedWrite, params: dict[str, Any], token: str) -> dict[str, Any]:
    value = {"S": token}
    if write.kind is WriteKind.PUT:
        return {**params, "Item": {**params["Item"], WRITE_TOKEN_ATTRIBUTE: value}}
    if write.kind is WriteKind.UPDATE:
        expression = str(params["UpdateExpression"])
        # Clause keywords appear once each and every name/value is a placeholder, so the SET
        # clause is found by its keyword.
        if expression.startswith("SET "):
            expression = f"SET {_NAME} = {_VALUE}, {expression[4:]}"
        else:
            expression = f"SET {_NAME} = {_VALUE} {expression}"
        return {
            **params,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {
                **params.get("ExpressionAttributeNames", {}),
                _NAME: WRITE_TOKEN_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {
                **params.get("ExpressionAttributeValues", {}),
                _VALUE: value,
            },
        }
    return params


def _unknown(
    write: PreparedWrite,
    first: WriteOutcomeUnknownError,
    why: str,
    *,
    item: dict[str, Any] | None = None,
) -> WriteOutcomeUnknownError:
    return WriteOutcomeUnknownError(
        f"{write.operation} on {write.table}: the answer was lost ({first.cause}) and {why}; "
        "read the item to decide whether to apply the change",
        operation=write.operation,
        table=write.table,
        key=write.key,
        cause=first.cause,
        item=item,
    )


async def send_write(
    client: Client, write: PreparedWrite, params: dict[str, Any]
) -> dict[str, Any]:
    """Send one single-item write; after a lost answer, resolve whether it was applied.

    Returns:
        The write's response; after a proven earlier application, ``{"Attributes": item}`` with
        the item as stored (for an update) or ``{}`` (for a put).

    Raises:
        WriteOutcomeUnknownError: whether the write was applied cannot be proven either way.
        ConditionalCheckFailedError: the condition failed on the first answer received.
    """
    token: str | None = None
    if write.spec.marks_writes:
        token = new_token()
        params = _with_token(write, params, token)
    try:
        return await client.call(write.operation, params)
    except WriteOutcomeUnknownError as first:
        try:
            if write.kind is WriteKind.DELETE:
                return await _resend_delete(client, write, params, first)
            if write.expected_version is not None or write.must_not_exist:
                return await _resend_guarded(client, write, params, token, first)
            if token is None:
                raise _unknown(
                    write,
                    first,
                    "the model stores no write token, so no read can prove the write was ours "
                    "(sending it again could apply it twice)",
                ) from first
            return await _read_back(client, write, token, first)
        except WriteOutcomeUnknownError:
            raise
        except AsyncDynamoError as exc:
            raise _unknown(write, first, f"resolving it failed: {exc}") from exc


def _own_write(
    write: PreparedWrite, item: dict[str, Any] | None, token: str | None
) -> dict[str, Any] | None:
    """The write's response, rebuilt from ``item`` if the stored item carries our token."""
    if token is None or not item or item.get(WRITE_TOKEN_ATTRIBUTE) != {"S": token}:
        return None
    return {"Attributes": item} if write.kind is WriteKind.UPDATE else {}


async def _resend(
    client: Client, write: PreparedWrite, params: dict[str, Any], first: WriteOutcomeUnknownError
) -> dict[str, Any]:
    """Send ``params`` again (with the client's backoff) until an answer arrives."""
    attempt = 0
    while True:
        delay = client.backoff_delay(attempt)
        if delay is None:
            raise _unknown(write, first, "every resend lost its answer too")
        await client.sleep(delay)
        attempt += 1
        try:
            return await client.call(write.operation, params)
        except WriteOutcomeUnknownError:
            continue


async def _resend_guarded(
    client: Client,
    write: PreparedWrite,
    params: dict[str, Any],
    token: str | None,
    first: WriteOutcomeUnknownError,
) -> dict[str, Any]:
    # The write's own condition (version, or create-only) lets it apply at most once.
    try:
        return await _resend(client, write, params, first)
    except ConditionalCheckFailedError as exc:
        own = _own_write(write, exc.raw_item, token)
        if own is not None:
            return own
        why = (
            "its resend's condition failed on an item our write did not leave: a concurrent "
            "writer won, or ours was applied and then overwritten"
            if token is not None
            else "its resend's condition failed, and the model stores no write token to tell "
            "our own earlier write from a concurrent writer's"
        )
        raise _unknown(write, first, why, item=exc.raw_item) from exc


async def _read_back(
    client: Client, write: PreparedWrite, token: str, first: WriteOutcomeUnknownError
) -> dict[str, Any]:
    # Sending an unguarded write again could apply it twice (ADD) or undo a later writer.
    response = await client.call(
        "GetItem", {"TableName": write.table, "Key": write.key, "ConsistentRead": True}
    )
    item = response.get("Item") or None
    own = _own_write(write, item, token)
    if own is not None:
        return own
    raise _unknown(
        write,
        first,
        "the stored item does not carry our write: it was not applied, or another write "
        "replaced it (sending it again could apply it twice)",
        item=item,
    )


async def _resend_delete(
    client: Client, write: PreparedWrite, params: dict[str, Any], first: WriteOutcomeUnknownError
) -> dict[str, Any]:
    try:
        response = await _resend(client, write, params, first)
    except ConditionalCheckFailedError as exc:
        raise _unknown(
            write,
            first,
            "its resend's condition failed (ours may have deleted it)",
            item=exc.raw_item,
        ) from exc
    if not response.get("Attributes"):
        raise _unknown(write, first, "its resend found nothing to delete (ours may have)")
    return response
