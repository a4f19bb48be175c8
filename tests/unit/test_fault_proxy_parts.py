"""The fault proxy's pure parts: HTTP/1.1 framing, made-up replies, batch cutting, rules."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import pytest

from asyncdynamo._testing._faults import Rule
from asyncdynamo._testing._proxy import operation_name
from asyncdynamo._testing._replies import cancellation_reply, cut_batch, error_reply
from asyncdynamo._testing._wire import Message, WireError, read_message
from asyncdynamo.testing import ErrorReply, Stall, TransactionConflict, Unprocessed


def stream(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_requests_are_read_one_after_another_on_a_keep_alive_connection() -> None:
    reader = stream(
        b"POST / HTTP/1.1\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\nContent-Length: 2\r\n\r\n{}"
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
    )
    first = await read_message(reader)
    second = await read_message(reader)
    assert first is not None and second is not None
    assert (first.header("x-amz-target"), first.body, first.keep_alive) == (
        "DynamoDB_20120810.GetItem",
        b"{}",
        True,
    )
    assert second.body == b"abcde"
    assert await read_message(reader) is None


async def test_a_message_is_written_back_framed_by_content_length() -> None:
    reader = stream(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
    )
    message = await read_message(reader)
    assert message is not None
    assert message.to_bytes() == b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"


async def test_a_response_without_length_ends_with_the_connection() -> None:
    reply = await read_message(stream(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nall of it"), response=True)
    assert reply is not None
    assert (reply.status, reply.body, reply.keep_alive) == (200, b"all of it", False)


async def test_a_head_reply_and_a_204_have_no_body() -> None:
    head = await read_message(
        stream(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"), response=True, head_only=True
    )
    empty = await read_message(stream(b"HTTP/1.1 204 No Content\r\n\r\n"), response=True)
    assert head is not None and empty is not None
    assert (head.body, empty.body) == (b"", b"")


async def test_http_1_0_closes_unless_asked_to_keep_alive() -> None:
    closing = Message("GET / HTTP/1.0")
    kept = Message("GET / HTTP/1.0", [("Connection", "Keep-Alive")])
    assert (closing.keep_alive, kept.keep_alive) == (False, True)
    assert not Message("GET / HTTP/1.1", [("Connection", "close")]).keep_alive


@pytest.mark.parametrize(
    "data",
    [
        b"POST / HTTP/1.1\r\nno colon\r\n\r\n",
        b"POST /\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
async def test_malformed_requests_are_refused(data: bytes) -> None:
    with pytest.raises(WireError):
        await read_message(stream(data))


async def test_a_bad_status_line_is_refused() -> None:
    with pytest.raises(WireError):
        await read_message(stream(b"HTTX 200 OK\r\n\r\n"), response=True)


async def test_a_message_cut_short_is_an_incomplete_read() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        await read_message(stream(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"))


def test_a_new_body_gets_a_new_crc32() -> None:
    message = Message("HTTP/1.1 200 OK", [("x-amz-crc32", "1"), ("Content-Encoding", "identity")])
    message.replace_body(b'{"a":1}')
    assert message.header("x-amz-crc32") == str(zlib.crc32(b'{"a":1}'))
    assert message.header("content-encoding") is None


def test_error_replies_are_dynamodb_json_errors() -> None:
    reply = error_reply(ErrorReply.throughput_exceeded(), keep_alive=True)
    body = json.loads(reply.body)
    assert reply.status == 400
    assert (
        body["__type"] == "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    )
    assert reply.header("x-amz-crc32") == str(zlib.crc32(reply.body))
    assert reply.header("content-type") == "application/x-amz-json-1.0"
    assert error_reply(ErrorReply.unavailable(), keep_alive=True).status == 503


def test_a_cancellation_names_the_conflicting_action() -> None:
    request = Message("POST / HTTP/1.1", body=json.dumps({"TransactItems": [{}, {}, {}]}).encode())
    reply = cancellation_reply(TransactionConflict(index=7), request, keep_alive=True)
    body = json.loads(reply.body)
    assert body["__type"].endswith("#TransactionCanceledException")
    assert [reason["Code"] for reason in body["CancellationReasons"]] == [
        "None",
        "None",
        "TransactionConflict",
    ]


def batch_write(tables: dict[str, int]) -> Message:
    items = {
        t: [{"PutRequest": {"Item": {"k": {"S": f"{t}{i}"}}}} for i in range(n)]
        for t, n in tables.items()
    }
    return Message("POST / HTTP/1.1", body=json.dumps({"RequestItems": items}).encode())


def names(requests: dict[str, Any]) -> list[str]:
    return [entry["PutRequest"]["Item"]["k"]["S"] for part in requests.values() for entry in part]


def test_a_cut_batch_keeps_the_first_part_across_tables() -> None:
    cut = cut_batch(Unprocessed(0.5), "BatchWriteItem", batch_write({"a": 3, "b": 2}))
    assert cut is not None and cut.forward is not None
    assert names(cut.forward["RequestItems"]) == ["a0", "a1"]
    assert names(cut.unprocessed) == ["a2", "b0", "b1"]


def test_a_wholly_cut_batch_forwards_nothing() -> None:
    cut = cut_batch(Unprocessed(1.0), "BatchWriteItem", batch_write({"a": 2}))
    assert cut is not None and cut.forward is None
    reply = cut.reply_without_forwarding(keep_alive=True)
    assert names(json.loads(reply.body)["UnprocessedItems"]) == ["a0", "a1"]


def test_the_cut_part_joins_what_the_server_left_unprocessed() -> None:
    cut = cut_batch(Unprocessed(0.5), "BatchWriteItem", batch_write({"a": 4}))
    assert cut is not None
    server_left = {"UnprocessedItems": {"a": [{"PutRequest": {"Item": {"k": {"S": "a1"}}}}]}}
    reply = Message("HTTP/1.1 200 OK", [("x-amz-crc32", "0")], json.dumps(server_left).encode())
    cut.merge_into(reply)
    assert names(json.loads(reply.body)["UnprocessedItems"]) == ["a1", "a2", "a3"]
    failed = Message("HTTP/1.1 400 Bad Request", body=b'{"__type": "x"}')
    cut.merge_into(failed)
    assert failed.body == b'{"__type": "x"}'


def test_rules_count_by_nth_or_first_and_only_where_the_fault_applies() -> None:
    with pytest.raises(ValueError, match="not both"):
        Rule(Stall(), [], nth=1, first=1, wake=lambda: None)
    with pytest.raises(ValueError, match="fraction"):
        Unprocessed(0)
    rule = Rule(
        Unprocessed(),
        ["DynamoDB_20120810.BatchWriteItem", "PutItem"],
        nth=None,
        first=2,
        wake=lambda: None,
    )
    assert (rule.matches("BatchWriteItem"), rule.matches("PutItem"), rule.matches("GetItem")) == (
        True,
        False,
        False,
    )
    fired = []
    for _ in range(3):
        rule.matched += 1
        fired.append(rule.fires(lambda: 0.0))
    assert fired == [True, True, False]


def test_a_rule_with_a_probability_fires_when_the_draw_is_below_it() -> None:
    rule = Rule(Stall(), [], nth=None, first=None, probability=0.2, wake=lambda: None)
    draws = iter([0.1, 0.2, 0.9])
    assert [rule.fires(lambda: next(draws)) for _ in range(3)] == [True, False, False]
    with pytest.raises(ValueError, match="probability"):
        Rule(Stall(), [], nth=None, first=None, probability=0, wake=lambda: None)


def test_operations_are_named_by_target_or_query_action() -> None:
    dynamodb = Message("POST / HTTP/1.1", [("X-Amz-Target", "DynamoDB_20120810.UpdateItem")])
    sts = Message(
        "POST / HTTP/1.1",
        [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
        b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn",
    )
    assert (
        operation_name(dynamodb),
        operation_name(sts),
        operation_name(Message("GET / HTTP/1.1")),
    ) == (
        "UpdateItem",
        "AssumeRole",
        "",
    )
