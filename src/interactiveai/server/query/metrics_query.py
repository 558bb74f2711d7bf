"""The metrics query model of ``GET /api/public/metrics?query=<JSON>``: parse, validate, run.

A query names a view (``traces`` or ``observations``), dimensions to group by, measures with an
aggregation, filters, an optional time dimension and a REQUIRED window. Every name is checked
against the tables below, so a typo is a 400 that lists the valid names, and no user text ever
reaches SQL except as a bound parameter.

Rows come back as ``{dimension: value, "time_dimension": iso, "<aggregation>_<measure>": value}``.
Latencies and time to first token are in milliseconds; costs in USD.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select

from interactiveai.server.query import metrics_query_rollups
from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.metrics_base import (
    GRANULARITIES,
    PERCENTILES,
    Granularity,
    MetricsFilter,
    bucket_expr,
    check_granularity,
    percentiles,
)
from interactiveai.server.query.pagination import bindable
from interactiveai.server.storage.schema import observations, trace_has_tag, traces

MAX_ROW_LIMIT = 1000
_o, _t = observations.c, traces.c

DIMENSIONS: dict[str, dict[str, Any]] = {
    "traces": {
        "name": _t.name,
        "environment": _t.environment,
        "userId": _t.user_id,
        "sessionId": _t.session_id,
        "release": _t.release,
        "version": _t.version,
        "level": _t.level,
    },
    "observations": {
        "name": _o.name,
        "environment": _o.environment,
        "type": _o.type,
        "model": _o.model,
        "providedModelName": _o.model,
        "level": _o.level,
        "version": _o.version,
    },
}

# measure → (value expression, scale applied to the result); None means "rows" (the count measure).
MEASURES: dict[str, dict[str, tuple[Any, float]]] = {
    "traces": {
        "count": (None, 1.0),
        "latency": (_t.latency_us, 0.001),
        "observationsCount": (_t.observation_count, 1.0),
        "inputTokens": (_t.input_tokens, 1.0),
        "outputTokens": (_t.output_tokens, 1.0),
        "totalTokens": (_t.total_tokens, 1.0),
        "inputCost": (_t.input_cost, 1.0),
        "outputCost": (_t.output_cost, 1.0),
        "totalCost": (_t.total_cost, 1.0),
    },
    "observations": {
        "count": (None, 1.0),
        "latency": (_o.end_time_us - _o.start_time_us, 0.001),
        "timeToFirstToken": (_o.completion_start_time_us - _o.start_time_us, 0.001),
        "inputTokens": (_o.input_tokens, 1.0),
        "outputTokens": (_o.output_tokens, 1.0),
        "totalTokens": (_o.total_tokens, 1.0),
        "inputCost": (_o.input_cost, 1.0),
        "outputCost": (_o.output_cost, 1.0),
        "totalCost": (_o.total_cost, 1.0),
    },
}
_INTEGER_MEASURES = {"count", "observationsCount", "inputTokens", "outputTokens", "totalTokens"}
_AGGREGATIONS: dict[str, Callable[[Any], Any]] = {
    "sum": func.sum,
    "avg": func.avg,
    "count": func.count,
    "min": func.min,
    "max": func.max,
}
AGGREGATIONS = [*_AGGREGATIONS, *PERCENTILES]
_UNBINDABLE = "numbers must be finite and fit in 64 bits, and text must not contain NUL characters"
_OPERATORS = ("=", "!=", "any of", "none of", ">", ">=", "<", "<=", "all of")


@dataclass(frozen=True, slots=True)
class Metric:
    measure: str
    aggregation: str

    @property
    def key(self) -> str:
        return f"{self.aggregation}_{self.measure}"


@dataclass(frozen=True, slots=True)
class Filter:
    column: str
    operator: str
    value: Any


@dataclass(frozen=True, slots=True)
class MetricsQuery:
    view: str
    dimensions: list[str]
    metrics: list[Metric]
    filters: list[Filter]
    granularity: Granularity | None
    window: MetricsFilter
    order_by: list[tuple[str, bool]]  # (field, descending)
    row_limit: int


def parse_query(body: Any, parse_time: Callable[[Any, str], int]) -> MetricsQuery:
    """Validate a decoded query object; ``ValueError`` with a message naming the bad field."""
    if not isinstance(body, Mapping):
        raise ValueError("query must be a JSON object")
    view = body.get("view")
    if not isinstance(view, str) or view not in DIMENSIONS:
        raise ValueError(f"unknown view {view!r}; use one of {', '.join(DIMENSIONS)}")
    for required in ("fromTimestamp", "toTimestamp"):
        if not body.get(required):
            raise ValueError(f"{required} is required: metrics are always computed over a bounded window")
    window = MetricsFilter(
        parse_time(body["fromTimestamp"], "fromTimestamp"), parse_time(body["toTimestamp"], "toTimestamp")
    )
    dimensions = [_name(d, "dimensions", DIMENSIONS[view]) for d in _list(body, "dimensions")]
    metrics = [_metric(m, view) for m in _list(body, "metrics")] or [Metric("count", "count")]
    filters = [_filter(item, view) for item in _list(body, "filters")]
    time_dimension = body.get("timeDimension")
    granularity = None
    if time_dimension is not None:
        if not isinstance(time_dimension, Mapping):
            raise ValueError('timeDimension must be an object like {"granularity": "day"}')
        wanted = time_dimension.get("granularity") or "auto"
        if not isinstance(wanted, str):
            raise ValueError(f"unknown granularity {wanted!r}; use one of auto, {', '.join(GRANULARITIES)}")
        granularity = check_granularity(window, wanted)
    fields = {*dimensions, *(m.key for m in metrics), *(["time_dimension"] if granularity else [])}
    order_by = [_order(item, fields) for item in _list(body, "orderBy")]
    config = body.get("config") or {}
    row_limit = config.get("row_limit", 100) if isinstance(config, Mapping) else 100
    if not isinstance(row_limit, int) or isinstance(row_limit, bool) or not 1 <= row_limit <= MAX_ROW_LIMIT:
        raise ValueError(f"config.row_limit must be an integer from 1 to {MAX_ROW_LIMIT}")
    return MetricsQuery(view, dimensions, metrics, filters, granularity, window, order_by, row_limit)


def _list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list")
    return value


def _known(value: Any, names: Collection[str]) -> bool:
    """Whether ``value`` is one of ``names`` (a list or an object, which cannot be looked up, is not)."""
    return isinstance(value, str) and value in names


def _name(item: Any, where: str, allowed: Mapping[str, Any]) -> str:
    name = item.get("field") if isinstance(item, Mapping) else None
    if not _known(name, allowed):
        raise ValueError(f"unknown field {name!r} in {where}; use one of {', '.join(allowed)}")
    return str(name)


def _metric(item: Any, view: str) -> Metric:
    if not isinstance(item, Mapping):
        raise ValueError('each metric must be an object like {"measure": "count", "aggregation": "count"}')
    measure, aggregation = item.get("measure"), item.get("aggregation")
    if not _known(measure, MEASURES[view]):
        raise ValueError(f"unknown measure {measure!r} for view {view}; use one of {', '.join(MEASURES[view])}")
    if not _known(aggregation, AGGREGATIONS):
        raise ValueError(f"unknown aggregation {aggregation!r}; use one of {', '.join(AGGREGATIONS)}")
    if measure == "count" and aggregation != "count":
        raise ValueError("the count measure takes the count aggregation")
    return Metric(str(measure), str(aggregation))


def _filter(item: Any, view: str) -> Filter:
    if not isinstance(item, Mapping):
        raise ValueError(
            'each filter must be an object like {"column": "environment", "operator": "=", "value": "prod"}'
        )
    column, operator, value = item.get("column"), item.get("operator"), item.get("value")
    columns = [*DIMENSIONS[view], *(m for m in MEASURES[view] if m != "count"), *(["tags"] if view == "traces" else [])]
    if not _known(column, columns):
        raise ValueError(f"unknown filter column {column!r} for view {view}; use one of {', '.join(columns)}")
    if not _known(operator, _OPERATORS):
        raise ValueError(f"unknown filter operator {operator!r}; use one of {', '.join(_OPERATORS)}")
    if operator in ("any of", "none of", "all of"):
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            raise ValueError(f"filter {column!r} {operator!r} needs a list of values")
        if not all(bindable(v) for v in value):
            raise ValueError(f"filter {column!r}: {_UNBINDABLE}")
    elif not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"filter {column!r} needs a string or number value")
    elif not bindable(value):
        raise ValueError(f"filter {column!r}: {_UNBINDABLE}")
    if column == "tags" and operator not in ("any of", "all of", "none of"):
        raise ValueError("the tags filter takes any of, all of or none of")
    if operator == "all of" and column != "tags":
        raise ValueError("all of applies to tags only")
    if column in MEASURES[view]:  # a number column: compared with numbers only
        if any(isinstance(v, str) for v in (value if isinstance(value, list) else [value])):
            raise ValueError(f"filter {column!r} compares numbers: give a number (or a list of numbers)")
    elif column in DIMENSIONS[view]:  # a text column: a number is compared as its text, as SQLite would
        value = [_as_text(v) for v in value] if isinstance(value, list) else _as_text(value)
    return Filter(str(column), str(operator), value)


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) else value


def _order(item: Any, fields: set[str]) -> tuple[str, bool]:
    name = item.get("field") if isinstance(item, Mapping) else None
    if not _known(name, fields):
        raise ValueError(f"cannot order by {name!r}; use a selected dimension or metric: {', '.join(sorted(fields))}")
    direction = str(item.get("direction", "desc")).lower()
    if direction not in ("asc", "desc"):
        raise ValueError("orderBy direction must be asc or desc")
    return str(name), direction == "desc"


def _conditions(project_id: str, q: MetricsQuery) -> list[ColumnElement[bool]]:
    w = q.window
    if q.view == "traces":
        cond = [_t.project_id == project_id, _t.timestamp_us >= w.from_us, _t.timestamp_us < w.to_us]
    else:
        cond = [_o.project_id == project_id, _o.start_time_us >= w.from_us, _o.start_time_us < w.to_us]
    for f in q.filters:
        if f.column == "tags":
            cond.append(_tags_condition(project_id, f))
            continue
        column = DIMENSIONS[q.view].get(f.column)
        if column is None:
            expr, scale = MEASURES[q.view][f.column]
            column, value = expr, (f.value / scale if isinstance(f.value, int | float) else f.value)
        else:
            value = f.value
        cond.append(_compare(column, f.operator, value))
    return cond


def _compare(column: Any, operator: str, value: Any) -> ColumnElement[bool]:
    if operator == "any of":
        return column.in_(list(value))  # type: ignore[no-any-return]
    if operator == "none of":
        return column.is_(None) | column.not_in(list(value))  # type: ignore[no-any-return]
    ops: dict[str, Callable[[], ColumnElement[bool]]] = {
        "=": lambda: column == value,
        "!=": lambda: column.is_(None) | (column != value),
        ">": lambda: column > value,
        ">=": lambda: column >= value,
        "<": lambda: column < value,
        "<=": lambda: column <= value,
    }
    return ops[operator]()


def _tags_condition(project_id: str, f: Filter) -> ColumnElement[bool]:
    conds = [trace_has_tag(project_id, str(v)) for v in f.value]
    if not conds:  # an empty list matches everything for all of / none of, nothing for any of
        return _t.id.is_not(None) if f.operator != "any of" else _t.id.is_(None)
    if f.operator == "all of":
        return and_(*conds)
    return or_(*conds) if f.operator == "any of" else not_(or_(*conds))


def run_query(db: Db, project_id: str, q: MetricsQuery) -> list[dict[str, Any]]:
    """The rows of a parsed query, in the asked order (default: time, then first metric descending).

    What the roll-ups can answer is read from them (``metrics_query_rollups``); the rest is scanned.
    """
    order = q.order_by or ([("time_dimension", False)] if q.granularity else []) + [(q.metrics[0].key, True)]
    if metrics_query_rollups.answerable(q):
        output = []
        for key, figures in metrics_query_rollups.run(db, project_id, q, _compare):
            item: dict[str, Any] = {d: key[i] for i, d in enumerate(q.dimensions)}
            if q.granularity is not None:
                item["time_dimension"] = _iso(int(key[-1]))
            item.update((m.key, _convert(q.view, m, raw)) for m, raw in zip(q.metrics, figures, strict=True))
            output.append(item)
        return _ordered(output, order, q.row_limit)
    return run_exact_query(db, project_id, q)


def run_exact_query(db: Db, project_id: str, q: MetricsQuery) -> list[dict[str, Any]]:
    """``run_query`` by scanning the window's rows."""
    groups: list[Any] = [DIMENSIONS[q.view][d].label(d) for d in q.dimensions]
    time_column = _t.timestamp_us if q.view == "traces" else _o.start_time_us
    if q.granularity is not None:
        groups.append(bucket_expr(time_column, q.granularity))
    cond = _conditions(project_id, q)
    plain = [m for m in q.metrics if m.aggregation not in PERCENTILES]
    ranked = [m for m in q.metrics if m.aggregation in PERCENTILES]
    order = q.order_by or ([("time_dimension", False)] if q.granularity else []) + [(q.metrics[0].key, True)]
    in_sql = all(name not in {m.key for m in ranked} for name, _ in order)

    columns = [_aggregate(q.view, m).label(m.key) for m in plain]
    # Percentiles are read apart: with no other metric, a count keeps the query an aggregate
    # (one row, or one per group; without it there is nothing to select), and is dropped below.
    hidden = [] if columns else [func.count().label("_rows")]
    query = select(*groups, *columns, *hidden).where(*cond)
    if groups:
        query = query.group_by(*groups)
    if in_sql:
        by_label = {**{g.name: g for g in groups}, **{c.name: c for c in columns}}
        if q.granularity is not None:
            by_label["time_dimension"] = groups[-1]
        # NULLS LAST spelled out: the engines disagree on the default.
        query = query.order_by(*((by_label[n].desc() if desc else by_label[n].asc()).nulls_last() for n, desc in order))
        query = query.limit(q.row_limit)
    width = len(groups)
    with connect(db) as conn:
        rows = [(tuple(r[:width]), list(r[width : width + len(columns)])) for r in conn.execute(query)]
        for metric in ranked:
            value, scale = MEASURES[q.view][metric.measure]
            if value is None:
                raise ValueError("the count measure takes the count aggregation")
            found = percentiles(conn, value, groups, cond, [PERCENTILES[metric.aggregation]])
            for key, values in rows:
                result = found.get(key, [None])[0]
                values.append(None if result is None else result * scale)
    keys = [m.key for m in plain] + [m.key for m in ranked]
    output = []
    for key, values in rows:
        item: dict[str, Any] = {d: key[i] for i, d in enumerate(q.dimensions)}
        if q.granularity is not None:
            item["time_dimension"] = _iso(int(key[-1]))
        for metric, name, raw in zip([*plain, *ranked], keys, values, strict=True):
            item[name] = _convert(q.view, metric, raw)
        output.append(item)
    return output if in_sql else _ordered(output, order, q.row_limit)


def _ordered(output: list[dict[str, Any]], order: list[tuple[str, bool]], limit: int) -> list[dict[str, Any]]:
    for name, desc in reversed(order):  # stable sorts, last key first; missing values last
        present = sorted((r for r in output if r[name] is not None), key=lambda r: r[name], reverse=desc)
        output = present + [r for r in output if r[name] is None]
    return output[:limit]


def _aggregate(view: str, metric: Metric) -> Any:
    value, _scale = MEASURES[view][metric.measure]
    if value is None:
        return func.count()
    return _AGGREGATIONS[metric.aggregation](value)


def _convert(view: str, metric: Metric, raw: Any) -> Any:
    if raw is None:
        return None
    if metric.aggregation in PERCENTILES:
        return float(raw)
    _value, scale = MEASURES[view][metric.measure]
    if metric.aggregation == "count" or (metric.measure in _INTEGER_MEASURES and metric.aggregation != "avg"):
        return int(raw)
    return float(raw) * scale


def _iso(us: int) -> str:
    from interactiveai.server.clock import us_to_iso

    return us_to_iso(us) or ""
