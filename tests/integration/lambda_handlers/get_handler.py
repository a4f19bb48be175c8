"""The smallest realistic handler: init at module level, one GetItem per invocation.

Used by the cold-path import test; configured by the environment variables it sets.
"""

from __future__ import annotations

import os
from typing import Any

from asyncdynamo import (
    Config,
    Credentials,
    LambdaConfig,
    TransportKind,
    lambda_handler,
    new_lambda_optimized,
    run_in_lambda_loop,
)
from tests.integration.lambda_handlers.cold_models import Payment

db = run_in_lambda_loop(
    new_lambda_optimized(
        LambdaConfig(
            base_config=Config(
                region="us-east-1",
                endpoint_url=os.environ["COLD_ENDPOINT"],
                credentials=Credentials("testing", "testing"),
                table_prefix=os.environ["COLD_TABLE_PREFIX"],
                transport=TransportKind.LEAN,
            )
        )
    )
)
db.pre_register_models(Payment)


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    payment = await db.with_lambda_timeout(context).get(Payment, event["payment_id"])
    return {"amount": payment.amount if payment is not None else None}
