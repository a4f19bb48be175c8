"""The query builder and automatic index selection.

```python
recent = db.query(Order).where(attr("customer_id") == "c1", attr("placed_at") >= since)
async for order in recent.descending():       # pages fetched lazily
    ...
page = await recent.page(size=20)              # Page[Order] with an opaque cursor
print(recent.explain())                        # which table/index, and why
```

Index selection: ``where(...)`` names attributes; every candidate (the table, then each index)
whose partition key has an ``=`` condition can serve the query. Among them the one whose sort
key also takes a condition wins (so the range is read from the key, not filtered), then the one
with the fewest leftover conditions, then a full projection, then table before local before
global index. Leftover ``where`` conditions become part of the filter (``explain`` lists them).
``.index(name)`` overrides the choice; when nothing can serve the query,
:class:`NoIndexForQueryError` says why for each candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import ExpressionError, InvalidKeyError, NoIndexForQueryError, UsageError
from ._expr import (
    And,
    Between,
    Compare,
    Condition,
    FunctionCondition,
    Not,
    Or,
    Path,
    Placeholders,
    Size,
    all_of,
    render_condition,
)
from ._pages import (
    Decoder,
    Reader,
    ReadState,
    ResultShape,
    Target,
    TargetKind,
    dict_decoder,
    finish_read_params,
    model_decoder,
    result_shape,
)
from ._spec import TableSpec

if TYPE_CHECKING:
    from ._db import DB

__all__ = ["Query", "QueryPlan", "check_filter", "condition_paths", "select_target"]

T = TypeVar("T")

_SORT_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
_KIND_RANK = {TargetKind.TABLE: 2, TargetKind.LOCAL_INDEX: 1, TargetKind.GLOBAL_INDEX: 0}


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """How a query will run (``Query.explain()``), computed without sending anything.

    Attributes:
        table: the physical table name.
        index: the index queried, or ``None`` for the table itself.
        target: table, global or local index.
        partition_key: the field the ``=`` key condition is on.
        sort_key: the field of the sort-key condition, when one is used as a key condition.
        filtered: ``where`` fields that no key could take, applied as a filter instead.
        result: full models, or dicts of the projected fields.
        considered: every candidate looked at, in order (``"table"`` or an index name).
        rejected: why each candidate that was not chosen could not serve (or lost).
        params: the request parameters (without cursor and limit).
    """

    table: str
    index: str | None
    target: TargetKind
    partition_key: str
    sort_key: str | None
    filtered: tuple[str, ...]
    result: ResultShape
    considered: tuple[str, ...]
    rejected: Mapping[str, str]
    params: Mapping[str, Any]


def _key_field(condition: Condition) -> tuple[str, bool]:
    """The top-level field a key condition is on, and whether it is an equality."""
    if isinstance(condition, Compare):
        left, right, op = condition.left, condition.right, condition.op
        if op in _SORT_OPERATORS and isinstance(left, Path) and not isinstance(right, Path | Size):
            return _single(left), op == "="
    elif isinstance(condition, Between):
        operand = condition.operand
        if isinstance(operand, Path) and not any(
            isinstance(v, Path | Size) for v in (condition.low, condition.high)
        ):
            return _single(operand), False
    elif (
        isinstance(condition, FunctionCondition)
        and condition.function == "begins_with"
        and not any(isinstance(a, Path) for a in condition.args)
    ):
        return _single(condition.path), False
    raise ExpressionError(
        "where() takes key conditions: field = value, <, <=, >, >=, between or begins_with, "
        "combined with &; use filter() for anything else"
    )


def _single(path: Path) -> str:
    if len(path.elements) != 1:
        raise ExpressionError(f"key conditions name top-level fields, not {path}")
    return path.top


def _flatten(conditions: Sequence[Condition]) -> list[Condition]:
    out: list[Condition] = []
    for condition in conditions:
        if isinstance(condition, And):
            out.extend(_flatten(condition.conditions))
        else:
            out.append(condition)
    return out


def key_conditions(spec: TableSpec, conditions: Sequence[Condition]) -> dict[str, Condition]:
    """``{field: condition}`` for ``where`` conditions (one per field)."""
    by_field: dict[str, Condition] = {}
    for condition in _flatten(conditions):
        name, _ = _key_field(condition)
        if name not in spec.fields:
            known = ", ".join(sorted(spec.fields))
            raise ExpressionError(f"{spec.model.__name__} has no field {name!r} (fields: {known})")
        if name in by_field:
            raise ExpressionError(
                f"where() has two conditions on {name}; write a range as "
                f"attr({name!r}).between(low, high)"
            )
        by_field[name] = condition
    if not by_field:
        raise UsageError("a query needs where(attr(<partition key>) == value)")
    return by_field


@dataclass(frozen=True, slots=True)
class Selection:
    """The target chosen for a query and how its conditions are used."""

    target: Target
    partition: str
    sort: str | None
    residual: tuple[str, ...]
    considered: tuple[str, ...]
    rejected: Mapping[str, str] = field(default_factory=dict)


def select_target(
    spec: TableSpec,
    conditions: Mapping[str, Condition],
    *,
    index: str | None,
    consistent: bool,
    projection: Sequence[str] | None,
) -> Selection:
    """Choose the table or index that serves ``conditions`` (see the module docstring).

    Raises:
        NoIndexForQueryError: no candidate (or not the explicit ``index``) can serve them.
    """
    targets = [Target(spec, None), *(Target(spec, i) for i in spec.indexes)]
    if index is not None:
        spec.index(index)  # a clear error for an undeclared name
        targets = [t for t in targets if t.name == index]
    rejected: dict[str, str] = {}
    ranked: list[tuple[tuple[int, int, int, int, int], Selection]] = []
    for order, target in enumerate(targets):
        partition = (target.index.partition if target.index else spec.partition).name
        sort_spec = target.index.sort if target.index else spec.sort
        condition = conditions.get(partition)
        if condition is None:
            rejected[target.name] = f"no = condition on its partition key {partition}"
            continue
        if not _key_field(condition)[1]:
            rejected[target.name] = f"its partition key {partition} needs =, not a range"
            continue
        if consistent and target.kind is TargetKind.GLOBAL_INDEX:
            rejected[target.name] = "a global index cannot be read with consistent()"
            continue
        sort = sort_spec.name if sort_spec is not None and sort_spec.name in conditions else None
        residual = tuple(n for n in conditions if n not in (partition, sort))
        covers = projection is not None or not target.missing_fields()
        score = (
            sort is not None,
            -len(residual),
            covers,
            _KIND_RANK[target.kind],
            -order,
        )
        ranked.append((score, Selection(target, partition, sort, residual, considered=())))
    considered = tuple(t.name for t in targets)
    if not ranked:
        detail = "; ".join(f"{name}: {why}" for name, why in rejected.items())
        raise NoIndexForQueryError(
            f"no table key or index of {spec.model.__name__} can serve a query on "
            f"{', '.join(conditions)} ({detail})",
            considered=considered,
        )
    ranked.sort(key=lambda entry: entry[0], reverse=True)
    best = ranked[0][1]
    for _, other in ranked[1:]:
        rejected[other.target.name] = f"serves the query, but {best.target.name} serves it better"
    return replace(best, considered=considered, rejected=rejected)


def condition_paths(condition: Condition) -> list[Path]:
    """Every document path a condition reads (for checks such as "no key attributes")."""
    if isinstance(condition, And | Or):
        return [p for c in condition.conditions for p in condition_paths(c)]
    if isinstance(condition, Not):
        return condition_paths(condition.condition)
    if isinstance(condition, FunctionCondition):
        return [condition.path, *(a for a in condition.args if isinstance(a, Path))]
    operands: tuple[Any, ...]
    if isinstance(condition, Compare):
        operands = (condition.left, condition.right)
    elif isinstance(condition, Between):
        operands = (condition.operand, condition.low, condition.high)
    else:
        operands = (condition.path, *condition.values)
    found: list[Path] = []
    for operand in operands:
        if isinstance(operand, Path):
            found.append(operand)
        elif isinstance(operand, Size):
            found.append(operand.path)
    return found


def check_filter(spec: TableSpec, target: Target, condition: Condition | None) -> None:
    """DynamoDB rejects filters on the key attributes being queried: say so before sending."""
    if condition is None:
        return
    keys = target.key_attributes()
    for path in condition_paths(condition):
        field_spec = spec.fields.get(path.top)
        if field_spec is not None and field_spec.attribute in keys:
            raise ExpressionError(
                f"{path.top} is a key of {target.name}; a filter cannot use it, put the "
                "condition in where() instead"
            )


@dataclass(frozen=True, slots=True)
class _QueryState(ReadState):
    where: tuple[Condition, ...] = ()
    descending: bool = False


class Query(Reader[T]):
    """A query on one model's table or indexes; immutable (every method returns a new one).

    Iterate it (``async for``) for every result, fetched lazily page by page, or call
    :meth:`page`, :meth:`all`, :meth:`first`, :meth:`count` or :meth:`explain`.
    """

    _operation = "Query"
    _state: _QueryState

    def __init__(self, db: DB, state: _QueryState, decoder: Decoder = model_decoder) -> None:
        super().__init__(db, state, decoder)
        self._plan: QueryPlan | None = None

    # -- building ----------------------------------------------------------------------------
    def where(self, *conditions: Condition) -> Query[T]:
        """Key conditions: ``==`` on a partition key, and optionally one of ``==``, ``<``, ``<=``,
        ``>``, ``>=``, ``between`` or ``begins_with`` on a sort key (they pick the index)."""
        return self._with(where=(*self._state.where, *conditions))

    def project(self, *fields: str) -> Query[dict[str, Any]]:
        """Read only these fields; results become ``{field: value}`` dicts."""
        state = self._projected(fields)
        assert isinstance(state, _QueryState)
        return Query(self._db, state, dict_decoder)

    def descending(self) -> Query[T]:
        """Return items in descending sort-key order."""
        return self._with(descending=True)

    def consistent(self) -> Query[T]:
        """Strongly consistent reads (not available on global indexes)."""
        return self._with(consistent=True)

    def index(self, name: str) -> Query[T]:
        """Query this index instead of letting the query choose."""
        return self._with(index=name)

    # -- planning ----------------------------------------------------------------------------
    def explain(self) -> QueryPlan:
        """The plan this query runs with, without sending anything.

        Raises:
            NoIndexForQueryError: nothing can serve the key conditions.
            ExpressionError, UsageError: the query cannot be valid.
        """
        if self._plan is None:
            self._plan = self._build(count=False)
        return self._plan

    def _request(self, *, count: bool) -> dict[str, Any]:
        plan = self._build(count=True) if count else self.explain()
        return dict(plan.params)

    def _build(self, *, count: bool) -> QueryPlan:
        state = self._state
        spec = state.spec
        conditions = key_conditions(spec, state.where)
        selection = select_target(
            spec,
            conditions,
            index=state.index,
            consistent=state.consistent,
            projection=state.projection,
        )
        target = selection.target
        shape = result_shape(target, state.projection)
        check_filter(spec, target, state.filter)
        ph = Placeholders(spec=spec)
        keys = [conditions[selection.partition]]
        if selection.sort is not None:
            keys.append(conditions[selection.sort])
        params: dict[str, Any] = {
            "TableName": state.table,
            "KeyConditionExpression": " AND ".join(render_condition(c, ph) for c in keys),
        }
        _check_key_values(ph)
        if target.index is not None:
            params["IndexName"] = target.index.name
        residual = [conditions[name] for name in selection.residual]
        if state.descending:
            params["ScanIndexForward"] = False
        combined = all_of([*residual, state.filter])
        finish_read_params(params, ph, state, combined, count=count)
        return QueryPlan(
            table=state.table,
            index=target.index.name if target.index is not None else None,
            target=target.kind,
            partition_key=selection.partition,
            sort_key=selection.sort,
            filtered=selection.residual,
            result=shape,
            considered=selection.considered,
            rejected=selection.rejected,
            params=params,
        )


def _check_key_values(ph: Placeholders) -> None:
    # Only key conditions are rendered so far: DynamoDB rejects an empty string or binary
    # as a key value, so such a query could never match (and would be refused when sent).
    for encoded in ph.values.values():
        ((tag, raw),) = encoded.items()
        if tag in ("S", "B") and not raw:
            raise InvalidKeyError(
                "a key condition compares a key with an empty value; DynamoDB key values "
                "are never empty"
            )


def new_query(db: DB, spec: TableSpec, table: str) -> Query[Any]:
    """A query with no conditions yet (``DB.query`` types it)."""
    return Query(db, _QueryState(spec=spec, table=table))
