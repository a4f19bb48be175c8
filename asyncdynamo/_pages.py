"""What Query and Scan share: pages, cursors, lazy iteration, counting and result decoding.

Results are full models when every model attribute can be in the items read. Items read from a
``KEYS_ONLY`` / ``INCLUDE`` index that does not hold every field of the model cannot validate as
that model: rather than fill the gaps with defaults (silently wrong models) such a read is
refused unless it asks for specific fields with ``.project(...)``, and projected reads return
``{field: value}`` dicts.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from ._codec import AttributeValue
from ._cursor import request_binding
from ._errors import UsageError
from ._expr import Condition, Placeholders, all_of, render_condition
from ._item import from_item
from ._markers import Projection
from ._ops import decode_projection, projection_expression
from ._spec import IndexKind, IndexSpec, TableSpec

if TYPE_CHECKING:
    from ._db import DB

__all__ = [
    "Page",
    "PageCursors",
    "ReadState",
    "Reader",
    "ResultShape",
    "Target",
    "TargetKind",
    "first_error",
    "model_decoder",
    "result_shape",
]

T = TypeVar("T")
Decoder = Callable[[TableSpec, Mapping[str, AttributeValue]], Any]


def model_decoder(spec: TableSpec, item: Mapping[str, AttributeValue]) -> Any:
    return from_item(spec, item)


def dict_decoder(spec: TableSpec, item: Mapping[str, AttributeValue]) -> Any:
    return decode_projection(spec, item)


class TargetKind(StrEnum):
    """What a read runs against."""

    TABLE = "TABLE"
    GLOBAL_INDEX = "GLOBAL_INDEX"
    LOCAL_INDEX = "LOCAL_INDEX"


class ResultShape(StrEnum):
    """What a read yields."""

    MODELS = "MODELS"
    DICTS = "DICTS"


@dataclass(frozen=True, slots=True)
class Target:
    """The table or one of its indexes, with the attributes its items hold."""

    spec: TableSpec
    index: IndexSpec | None

    @property
    def name(self) -> str:
        return self.index.name if self.index is not None else "table"

    @property
    def kind(self) -> TargetKind:
        if self.index is None:
            return TargetKind.TABLE
        return (
            TargetKind.GLOBAL_INDEX
            if self.index.kind is IndexKind.GLOBAL
            else TargetKind.LOCAL_INDEX
        )

    @property
    def projection(self) -> Projection:
        return Projection.ALL if self.index is None else self.index.projection

    def key_attributes(self) -> frozenset[str]:
        if self.index is None:
            return frozenset(f.attribute for f in self.spec.key_fields)
        names = {self.index.partition.attribute}
        if self.index.sort is not None:
            names.add(self.index.sort.attribute)
        return frozenset(names)

    def held_attributes(self) -> frozenset[str] | None:
        """Attributes every item read here holds (``None``: all of them)."""
        if self.index is None or self.index.projection is Projection.ALL:
            return None
        held = set(self.key_attributes())
        held.update(f.attribute for f in self.spec.key_fields)
        held.update(self.index.include)
        return frozenset(held)

    def missing_fields(self) -> list[str]:
        """Model fields that items read here lack (so they cannot be full models)."""
        held = self.held_attributes()
        if held is None:
            return []
        return [f.name for f in self.spec.fields.values() if f.attribute not in held]


def result_shape(target: Target, projection: Sequence[str] | None) -> ResultShape:
    """Check the read can produce what it promises; raise a UsageError saying what to change."""
    spec = target.spec
    if projection is not None:
        held = target.held_attributes()
        if held is not None and target.kind is TargetKind.GLOBAL_INDEX:
            for name in projection:
                top = spec.field(name.split(".")[0].split("[")[0])
                if top.attribute not in held:
                    raise UsageError(
                        f"index {target.name!r} ({target.projection.value}) does not hold "
                        f"{top.name}; project only {sorted(held)} or read the table"
                    )
        return ResultShape.DICTS
    missing = target.missing_fields()
    if missing:
        raise UsageError(
            f"index {target.name!r} projects {target.projection.value}: its items lack "
            f"{', '.join(missing)} of {spec.model.__name__}, so they cannot be full models; "
            "add .project(...) with the fields you need (results are then dicts)"
        )
    return ResultShape.MODELS


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results.

    Attributes:
        items: the items of this page (possibly fewer than asked, when a filter dropped some).
        cursor: pass it to ``page(cursor=...)`` for the next page; ``None`` at the end. A page
            can be followed by an empty last page when the read stopped exactly at the end.
    """

    items: tuple[T, ...]
    cursor: str | None

    def __len__(self) -> int:
        return len(self.items)


class PageCursors(Protocol):
    """Another cursor format for :meth:`Reader.page` (the default is the DB's signed one).

    Both methods get the request the page is read with and the model's spec, so a format can
    record or check what it needs (index, direction, key attributes).
    """

    def encode(
        self, key: Mapping[str, AttributeValue], params: Mapping[str, Any], spec: TableSpec
    ) -> str: ...

    def decode(
        self, cursor: str, params: Mapping[str, Any], spec: TableSpec
    ) -> dict[str, AttributeValue]: ...


@dataclass(frozen=True, slots=True)
class ReadState:
    """What a query or scan was built with (builders copy it, never change it)."""

    spec: TableSpec
    table: str
    filter: Condition | None = None
    projection: tuple[str, ...] | None = None
    max_items: int | None = None
    page_size: int | None = None
    consistent: bool = False
    index: str | None = None
    cursors: PageCursors | None = None


class Reader(Generic[T]):
    """Common behaviour of :class:`Query` and :class:`Scan` (subclasses build the request)."""

    _operation = ""

    def __init__(self, db: DB, state: ReadState, decoder: Decoder = model_decoder) -> None:
        self._db = db
        self._state = state
        self._decoder = decoder

    def _request(self, *, count: bool) -> dict[str, Any]:
        raise NotImplementedError  # subclasses build their request

    def _max_items(self) -> int | None:
        return self._state.max_items

    def _page_size(self) -> int | None:
        return self._state.page_size

    @property
    def _spec(self) -> TableSpec:
        return self._state.spec

    # -- building (every method returns a new reader) ------------------------------------------
    def _with(self, **changes: Any) -> Self:
        return type(self)(self._db, replace(self._state, **changes), self._decoder)

    def _projected(self, fields: tuple[str, ...]) -> ReadState:
        if not fields:
            raise UsageError("project() needs at least one field")
        return replace(self._state, projection=fields)

    def filter(self, *conditions: Condition) -> Self:
        """Drop items that do not match every condition (after reading them: filters do not
        save capacity)."""
        return self._with(filter=all_of([self._state.filter, *conditions]))

    def limit(self, count: int) -> Self:
        """Yield at most ``count`` items when iterating (``all``, ``async for``)."""
        if count < 1:
            raise UsageError(f"limit must be at least 1, got {count}")
        return self._with(max_items=count)

    def page_size(self, size: int) -> Self:
        """Ask DynamoDB for at most ``size`` items per request while iterating."""
        if size < 1:
            raise UsageError(f"page size must be at least 1, got {size}")
        return self._with(page_size=size)

    def consistent(self) -> Self:
        """Strongly consistent reads (not available on global indexes)."""
        return self._with(consistent=True)

    def cursor_format(self, cursors: PageCursors) -> Self:
        """Read and write :meth:`page` cursors in another format than the DB's signed one.

        An explicit opt-in, e.g. ``asyncdynamo.dms.DYNAMORM_CURSORS`` to hand pages to and from
        DynamORM services. Such cursors are not signed: check what a client may page through.
        """
        return self._with(cursors=cursors)

    # -- reading -------------------------------------------------------------------------------
    async def _call(self, params: Mapping[str, Any]) -> dict[str, Any]:
        spec = self._spec
        crypto = self._db._crypto(spec, params["TableName"]) if spec.encrypted else None
        response = await self._db.client.call(self._operation, params)
        if crypto is not None and response.get("Items"):
            # Every item of the page is opened together: one KMS call per distinct data key.
            response = {**response, "Items": await crypto.open_items(response["Items"])}
        return response

    def _decode(self, raw: Mapping[str, AttributeValue]) -> T:
        item: T = self._decoder(self._spec, raw)
        return item

    async def page(self, cursor: str | None = None, size: int = 50) -> Page[T]:
        """Read up to ``size`` items, starting after ``cursor`` (from a previous page).

        Requests continue (each asking only for the items still missing) until ``size`` items
        were found or the results end, so a filter never returns a needlessly short page.

        Raises:
            CursorError: ``cursor`` was altered or belongs to another query.
        """
        if size < 1:
            raise UsageError(f"a page size must be at least 1, got {size}")
        params = self._request(count=False)
        custom = self._state.cursors
        encode: Callable[[Mapping[str, AttributeValue]], str]
        decode: Callable[[str], dict[str, AttributeValue]]
        if custom is None:
            binding = request_binding(params)
            codec = self._db._cursor_codec()
            encode = partial(codec.encode, binding=binding)
            decode = partial(codec.decode, binding=binding)
        else:
            encode = partial(custom.encode, params=params, spec=self._spec)
            decode = partial(custom.decode, params=params, spec=self._spec)
        start = decode(cursor) if cursor is not None else None
        items: list[T] = []
        while True:
            request = {**params, "Limit": size - len(items)}
            if start is not None:
                request["ExclusiveStartKey"] = start
            response = await self._call(request)
            items.extend(self._decode(raw) for raw in response.get("Items", ()))
            start = response.get("LastEvaluatedKey") or None
            if start is None or len(items) >= size:
                break
        return Page(tuple(items), encode(start) if start is not None else None)

    async def pages(self, size: int = 50, cursor: str | None = None) -> AsyncIterator[Page[T]]:
        """Every non-empty page of ``size`` items, from ``cursor`` (or the start) to the end."""
        while True:
            page = await self.page(cursor, size)
            if page.items:
                yield page
            if page.cursor is None:
                return
            cursor = page.cursor

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate(self._max_items())

    async def _iterate(self, remaining: int | None) -> AsyncGenerator[T, None]:
        params = self._request(count=False)
        page_size = self._page_size()
        # Limit counts items *evaluated*; clamping it to what is still wanted saves reads, but
        # with a filter it would turn one request into many, so then only the page size applies.
        clamp = remaining is not None and "FilterExpression" not in params
        start: dict[str, AttributeValue] | None = None
        while True:
            request = dict(params)
            limit = page_size
            if clamp and remaining is not None:
                limit = remaining if limit is None else min(limit, remaining)
            if limit is not None:
                request["Limit"] = limit
            if start is not None:
                request["ExclusiveStartKey"] = start
            response = await self._call(request)
            for raw in response.get("Items", ()):
                yield self._decode(raw)
                if remaining is not None:
                    remaining -= 1
                    if remaining <= 0:
                        return
            start = response.get("LastEvaluatedKey") or None
            if start is None:
                return

    async def all(self) -> list[T]:
        """Every result (up to ``limit``), fetched page by page."""
        return [item async for item in self]

    async def first(self) -> T | None:
        """The first result, or ``None`` when there is none."""
        async with aclosing(self._iterate(1)) as items:
            async for item in items:
                return item
        return None

    async def count(self) -> int:
        """How many items match (``Select=COUNT`` over every page; no items are transferred)."""
        params = self._request(count=True)
        total = 0
        start: dict[str, AttributeValue] | None = None
        while True:
            request = dict(params) if start is None else {**params, "ExclusiveStartKey": start}
            response = await self._call(request)
            total += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey") or None
            if start is None:
                return total


def first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first leaf of a task group's failure, noting the others on it (none is swallowed)."""
    leaves: list[BaseException] = []

    def collect(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                collect(inner)
        else:
            leaves.append(error)

    collect(group)
    first = leaves[0]
    for other in leaves[1:]:
        first.add_note(f"a concurrent task also failed: {type(other).__name__}: {other}")
    return first


def finish_read_params(
    params: dict[str, Any],
    ph: Placeholders,
    state: ReadState,
    filter_condition: Condition | None,
    *,
    count: bool,
) -> dict[str, Any]:
    """Add what Query and Scan requests share: filter, select/projection, consistency, names."""
    if filter_condition is not None:
        params["FilterExpression"] = render_condition(filter_condition, ph)
    if count:
        params["Select"] = "COUNT"
    elif state.projection is not None:
        params["ProjectionExpression"] = projection_expression(state.projection, ph)
    if state.consistent:
        params["ConsistentRead"] = True
    if ph.names:
        params["ExpressionAttributeNames"] = ph.names
    if ph.values:
        params["ExpressionAttributeValues"] = ph.values
    return params
