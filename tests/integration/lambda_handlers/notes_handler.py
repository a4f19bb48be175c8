"""A Lambda handler module for the harness tests: reads and writes notes through LambdaDB.

Configured by environment variables the tests set (the endpoint, table prefix and transport),
as a deployed function would be by its deployment.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from asyncdynamo import (
    Config,
    Credentials,
    LambdaConfig,
    TransportKind,
    lambda_handler,
    new_lambda_optimized,
)
from tests.models import Note


class NoteHandlerError(Exception):
    """Raised on purpose by the ``fail`` action."""


LAST_ERROR: list[NoteHandlerError] = []


def _config() -> LambdaConfig:
    return LambdaConfig(
        base_config=Config(
            region="us-east-1",
            endpoint_url=os.environ["NOTES_ENDPOINT"],
            credentials=Credentials("testing", "testing"),
            table_prefix=os.environ["NOTES_TABLE_PREFIX"],
            transport=TransportKind(os.environ["NOTES_TRANSPORT"]),
        ),
        timeout_buffer=0.2,
    )


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    db = await new_lambda_optimized(_config())
    db.pre_register_models(Note)
    ldb = db.with_lambda_timeout(context)
    if event["action"] == "fail":
        error = NoteHandlerError(event["message"])
        LAST_ERROR.append(error)
        raise error
    if event["action"] == "put":
        await ldb.put(Note(note_id=event["note_id"], text=event["text"]), overwrite=True)
    note = await ldb.get(Note, event["note_id"], consistent=True)
    return {
        "text": note.text if note is not None else None,
        "warm": db.is_warm_start(),
        "db": id(db),
        "client": id(db.client),
        "loop": id(asyncio.get_running_loop()),
    }
