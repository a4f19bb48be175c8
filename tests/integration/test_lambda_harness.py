"""A handler module run as Lambda runs it: cold in a fresh process, warm in this one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from asyncdynamo import Config, LambdaConfig, LambdaDB, LambdaEnvironment, new_lambda_optimized
from asyncdynamo.lambda_testing import LambdaContext, LocalLambda, reset_lambda_process, run_cold
from tests.integration.lambda_handlers import notes_handler
from tests.models import Note

pytestmark = pytest.mark.integration

HANDLER = "tests.integration.lambda_handlers.notes_handler:handler"
REPO_ROOT = Path(__file__).resolve().parents[2]


def handler_env(config: Config) -> dict[str, str]:
    assert config.endpoint_url is not None
    return {
        "NOTES_ENDPOINT": config.endpoint_url,
        "NOTES_TABLE_PREFIX": config.table_prefix,
        "NOTES_TRANSPORT": str(config.transport),
    }


@pytest.fixture
def notes_env(dynamo_config: Config, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = handler_env(dynamo_config)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_lambda_process()
    yield env
    reset_lambda_process()


@pytest.fixture
async def notes_table(make_tables: Callable[..., Awaitable[list[str]]]) -> None:
    await make_tables(Note)


@pytest.mark.usefixtures("notes_table")
def test_warm_invocations_reuse_the_loop_and_the_client(notes_env: dict[str, str]) -> None:
    function = LocalLambda(HANDLER, timeout=10)
    first = function.invoke({"action": "put", "note_id": "n1", "text": "first"})
    second = function.invoke({"action": "get", "note_id": "n1"})
    assert first["text"] == second["text"] == "first"
    assert (first["warm"], second["warm"]) == (False, True)
    assert (first["loop"], first["client"], first["db"]) == (
        second["loop"],
        second["client"],
        second["db"],
    )


@pytest.mark.usefixtures("notes_table")
def test_handler_exceptions_reach_lambda_unchanged(notes_env: dict[str, str]) -> None:
    function = LocalLambda(HANDLER, timeout=10)
    with pytest.raises(notes_handler.NoteHandlerError) as raised:
        function.invoke({"action": "fail", "message": "declined"})
    assert raised.value is notes_handler.LAST_ERROR[-1]
    # the container keeps working after a failed invocation
    assert function.invoke({"action": "get", "note_id": "missing"})["text"] is None


@pytest.mark.usefixtures("notes_table")
def test_a_fresh_process_starts_cold_then_stays_warm(dynamo_config: Config) -> None:
    results = run_cold(
        HANDLER,
        [
            {"action": "put", "note_id": "n1", "text": "cold"},
            {"action": "get", "note_id": "n1"},
            {"action": "fail", "message": "declined"},
        ],
        timeout=10,
        env=handler_env(dynamo_config),
        cwd=str(REPO_ROOT),
    )
    cold, warm, failed = results
    assert cold.ok and warm.ok, (cold.traceback, warm.traceback)
    assert (cold.value["text"], warm.value["text"]) == ("cold", "cold")
    assert (cold.value["warm"], warm.value["warm"]) == (False, True)
    assert cold.value["client"] == warm.value["client"]
    assert cold.value["loop"] == warm.value["loop"]
    assert failed.error_type == "NoteHandlerError"
    assert failed.error_message == "declined"


@pytest.mark.usefixtures("notes_table")
async def test_new_lambda_optimized_serves_reads_and_writes(dynamo_config: Config) -> None:
    await LambdaDB.reset_process_instance()
    config = LambdaConfig(base_config=dynamo_config, environment=LambdaEnvironment())
    try:
        db = await new_lambda_optimized(config)
        db.pre_register_models(Note)
        ldb = db.with_lambda_timeout(LambdaContext(timeout=10))
        stored = await ldb.put(Note(note_id="n1", text="hello"))
        assert await ldb.get(Note, "n1", consistent=True) == stored
        assert await new_lambda_optimized(config) is db
    finally:
        await LambdaDB.reset_process_instance()
