"""Tables from models: create, ensure (idempotent, reports drift), describe, delete."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ._client import current_deadline
from ._errors import (
    ConfigurationError,
    DeadlineExceededError,
    ResourceInUseError,
    ResourceNotFoundError,
)
from ._markers import Projection
from ._model import Model, spec_of
from ._spec import FieldSpec, IndexKind, IndexSpec, TableSpec

if TYPE_CHECKING:
    from ._db import DB

__all__ = ["BillingMode", "Schema", "SchemaReport", "StreamView", "TableDefinition"]


class BillingMode(StrEnum):
    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


class StreamView(StrEnum):
    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True, slots=True)
class TableDefinition:
    """What one physical table needs, merged from every model stored in it."""

    name: str
    key: tuple[FieldSpec, ...]
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None

    def create_params(
        self,
        billing: BillingMode,
        stream: StreamView | None,
        throughput: tuple[int, int],
    ) -> dict[str, Any]:
        attributes: dict[str, str] = {}

        def schema(partition: FieldSpec, sort: FieldSpec | None) -> list[dict[str, str]]:
            out = []
            for spec, role in ((partition, "HASH"), (sort, "RANGE")):
                if spec is None:
                    continue
                attributes[spec.attribute] = spec.key_type
                out.append({"AttributeName": spec.attribute, "KeyType": role})
            return out

        params: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": schema(self.key[0], self.key[1] if len(self.key) > 1 else None),
            "BillingMode": billing.value,
        }
        provisioned = {"ReadCapacityUnits": throughput[0], "WriteCapacityUnits": throughput[1]}
        if billing is BillingMode.PROVISIONED:
            params["ProvisionedThroughput"] = provisioned
        gsis, lsis = [], []
        for index in self.indexes:
            entry: dict[str, Any] = {
                "IndexName": index.name,
                "KeySchema": schema(index.partition, index.sort),
                "Projection": _projection(index),
            }
            if index.kind is IndexKind.GLOBAL:
                if billing is BillingMode.PROVISIONED:
                    entry["ProvisionedThroughput"] = provisioned
                gsis.append(entry)
            else:
                lsis.append(entry)
        if gsis:
            params["GlobalSecondaryIndexes"] = gsis
        if lsis:
            params["LocalSecondaryIndexes"] = lsis
        params["AttributeDefinitions"] = [
            {"AttributeName": n, "AttributeType": t} for n, t in sorted(attributes.items())
        ]
        if stream is not None:
            params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream.value}
        return params


def _projection(index: IndexSpec) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection.value}
    if index.projection is Projection.INCLUDE:
        projection["NonKeyAttributes"] = list(index.include)
    return projection


def definition_for(name: str, specs: Sequence[TableSpec]) -> TableDefinition:
    """Merge the specs of models sharing table ``name``; disagreements raise ConfigurationError."""
    first = specs[0]
    key = first.key_fields
    indexes: dict[str, IndexSpec] = {}
    ttl = first.ttl.attribute if first.ttl else None
    for spec in specs:
        shape = [(f.attribute, f.key_type) for f in spec.key_fields]
        if shape != [(f.attribute, f.key_type) for f in key]:
            raise ConfigurationError(
                f"{spec.model.__name__} and {first.model.__name__} share table {name!r} "
                "but declare different keys; use the same key attribute names and types"
            )
        spec_ttl = spec.ttl.attribute if spec.ttl else None
        if spec_ttl is not None and ttl is not None and spec_ttl != ttl:
            raise ConfigurationError(f"models in table {name!r} declare different TTL attributes")
        ttl = ttl or spec_ttl
        for index in spec.indexes:
            known = indexes.get(index.name)
            if known is not None and _index_shape(known) != _index_shape(index):
                raise ConfigurationError(
                    f"index {index.name!r} of table {name!r} is declared differently by two models"
                )
            indexes.setdefault(index.name, index)
    return TableDefinition(name=name, key=key, indexes=tuple(indexes.values()), ttl_attribute=ttl)


def _index_shape(index: IndexSpec) -> tuple[Any, ...]:
    sort = (index.sort.attribute, index.sort.key_type) if index.sort else None
    return (
        index.kind,
        (index.partition.attribute, index.partition.key_type),
        sort,
        index.projection,
        tuple(sorted(index.include)),
    )


@dataclass(slots=True)
class SchemaReport:
    """What :meth:`Schema.ensure` did, and what differs that it cannot change."""

    created_tables: list[str] = field(default_factory=list)
    created_indexes: list[str] = field(default_factory=list)
    ttl_enabled: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.drift


class Schema:
    """Table management for a DB's models (reach it as ``db.schema``)."""

    def __init__(self, db: DB, *, poll_interval: float = 0.2, max_polls: int = 600) -> None:
        self._db = db
        self._poll = poll_interval
        self._max_polls = max_polls

    def definitions(self, models: Sequence[type[Model]]) -> list[TableDefinition]:
        grouped: dict[str, list[TableSpec]] = {}
        for model in models:
            grouped.setdefault(self._db.table_name(model), []).append(spec_of(model))
        return [definition_for(name, specs) for name, specs in grouped.items()]

    async def create(
        self,
        *models: type[Model],
        billing: BillingMode = BillingMode.PAY_PER_REQUEST,
        stream: StreamView | None = None,
        throughput: tuple[int, int] = (5, 5),
        wait: bool = True,
    ) -> list[str]:
        """Create the tables of ``models`` (with keys, indexes, TTL, streams); return their names."""
        names = []
        for definition in self.definitions(models):
            params = definition.create_params(billing, stream, throughput)
            await self._db.client.call("CreateTable", params)
            if wait:
                await self.wait_active(definition.name)
            if definition.ttl_attribute is not None:
                await self._enable_ttl(definition)
            names.append(definition.name)
        return names

    async def _enable_ttl(self, definition: TableDefinition) -> None:
        await self._db.client.call(
            "UpdateTimeToLive",
            {
                "TableName": definition.name,
                "TimeToLiveSpecification": {
                    "Enabled": True,
                    "AttributeName": definition.ttl_attribute,
                },
            },
        )

    async def describe(self, model: type[Model]) -> dict[str, Any]:
        """DynamoDB's description of the model's table."""
        response = await self._db.client.call(
            "DescribeTable", {"TableName": self._db.table_name(model)}
        )
        table: dict[str, Any] = response["Table"]
        return table

    async def wait_active(self, table: str) -> None:
        """Poll (bounded) until the table and all its indexes are ACTIVE."""
        for _ in range(self._max_polls):
            try:
                response = await self._db.client.call("DescribeTable", {"TableName": table})
            except ResourceNotFoundError:
                response = {}
            description = response.get("Table", {})
            statuses = [description.get("TableStatus")]
            statuses += [
                i.get("IndexStatus") for i in description.get("GlobalSecondaryIndexes", [])
            ]
            if statuses[0] is not None and all(s == "ACTIVE" for s in statuses):
                return
            await self._before_next_poll(table, "is not ACTIVE yet")
        raise ConfigurationError(f"table {table!r} did not become ACTIVE in time")

    async def wait_deleted(self, table: str) -> None:
        """Poll (bounded) until DescribeTable no longer finds the table."""
        for _ in range(self._max_polls):
            try:
                await self._db.client.call("DescribeTable", {"TableName": table})
            except ResourceNotFoundError:
                return
            await self._before_next_poll(table, "is still being deleted")
        raise ConfigurationError(f"table {table!r} was not deleted in time")

    async def _before_next_poll(self, table: str, state: str) -> None:
        """Sleep one poll interval, unless that would end past the caller's deadline."""
        deadline = current_deadline()
        loop = asyncio.get_running_loop()
        if deadline is not None and loop.time() + self._poll >= deadline:
            raise DeadlineExceededError(
                f"table {table!r} {state} and the deadline is too close to poll again",
                operation="DescribeTable",
                remaining=deadline - loop.time(),
            )
        await asyncio.sleep(self._poll)

    async def delete(
        self, *models: type[Model], missing_ok: bool = True, wait: bool = True
    ) -> None:
        """Delete the tables of ``models``.

        Args:
            missing_ok: a table that does not exist is not an error.
            wait: return only once each table is gone (DynamoDB keeps a table ``DELETING`` for
                a while, and creating it again meanwhile fails); ``False`` returns at once.
        """
        for name in dict.fromkeys(self._db.table_name(m) for m in models):
            try:
                await self._db.client.call("DeleteTable", {"TableName": name})
            except ResourceNotFoundError:
                if not missing_ok:
                    raise
                continue
            if wait:
                await self.wait_deleted(name)

    async def ensure(
        self,
        *models: type[Model],
        billing: BillingMode = BillingMode.PAY_PER_REQUEST,
        stream: StreamView | None = None,
        throughput: tuple[int, int] = (5, 5),
    ) -> SchemaReport:
        """Create missing tables, global indexes and TTL; report differences it cannot fix."""
        report = SchemaReport()
        for definition in self.definitions(models):
            try:
                response = await self._db.client.call(
                    "DescribeTable", {"TableName": definition.name}
                )
            except ResourceNotFoundError:
                try:
                    params = definition.create_params(billing, stream, throughput)
                    await self._db.client.call("CreateTable", params)
                    report.created_tables.append(definition.name)
                except ResourceInUseError:
                    pass  # created concurrently by another process
                await self.wait_active(definition.name)
                if definition.ttl_attribute is not None:
                    await self._enable_ttl(definition)
                    report.ttl_enabled.append(definition.name)
                continue
            await self._reconcile(definition, response["Table"], billing, throughput, report)
        return report

    async def _reconcile(
        self,
        definition: TableDefinition,
        table: dict[str, Any],
        billing: BillingMode,
        throughput: tuple[int, int],
        report: SchemaReport,
    ) -> None:
        name = definition.name
        wanted = definition.create_params(billing, None, throughput)
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        if _keys(table["KeySchema"]) != _keys(wanted["KeySchema"]):
            report.drift.append(f"{name}: key schema {table['KeySchema']} != {wanted['KeySchema']}")
        for attribute in wanted["AttributeDefinitions"]:
            actual = types.get(attribute["AttributeName"])
            if actual is not None and actual != attribute["AttributeType"]:
                report.drift.append(
                    f"{name}: attribute {attribute['AttributeName']} is {actual}, "
                    f"model says {attribute['AttributeType']}"
                )
        existing = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        existing_local = {i["IndexName"]: i for i in table.get("LocalSecondaryIndexes", [])}
        for index in wanted.get("LocalSecondaryIndexes", []):
            found = existing_local.get(index["IndexName"])
            if found is None:
                report.drift.append(
                    f"{name}: local index {index['IndexName']} is missing "
                    "(local indexes can only be created with the table)"
                )
            elif _keys(found["KeySchema"]) != _keys(index["KeySchema"]):
                report.drift.append(f"{name}: local index {index['IndexName']} has other keys")
        for index in wanted.get("GlobalSecondaryIndexes", []):
            found = existing.get(index["IndexName"])
            if found is None:
                await self._create_index(name, index, wanted["AttributeDefinitions"])
                report.created_indexes.append(f"{name}.{index['IndexName']}")
            elif _keys(found["KeySchema"]) != _keys(index["KeySchema"]):
                report.drift.append(f"{name}: global index {index['IndexName']} has other keys")
        declared = {i["IndexName"] for i in wanted.get("GlobalSecondaryIndexes", [])}
        declared |= {i["IndexName"] for i in wanted.get("LocalSecondaryIndexes", [])}
        for extra in (set(existing) | set(existing_local)) - declared:
            report.drift.append(f"{name}: index {extra} exists but no model declares it")
        if definition.ttl_attribute is not None:
            ttl = await self._db.client.call("DescribeTimeToLive", {"TableName": name})
            status = ttl.get("TimeToLiveDescription", {})
            if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                await self._enable_ttl(definition)
                report.ttl_enabled.append(name)
            elif status.get("AttributeName") != definition.ttl_attribute:
                report.drift.append(
                    f"{name}: TTL is on {status.get('AttributeName')}, "
                    f"model says {definition.ttl_attribute}"
                )

    async def _create_index(
        self, table: str, index: dict[str, Any], attributes: list[dict[str, str]]
    ) -> None:
        # DynamoDB creates one global index per UpdateTable call.
        await self._db.client.call(
            "UpdateTable",
            {
                "TableName": table,
                "AttributeDefinitions": attributes,
                "GlobalSecondaryIndexUpdates": [{"Create": index}],
            },
        )
        await self.wait_active(table)


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((k["AttributeName"], k["KeyType"]) for k in schema)
