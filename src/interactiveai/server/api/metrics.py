"""``GET /metrics/daily`` (per-day usage) and ``GET /metrics?query=<JSON>`` (the metrics query model).

Both are bounded by the key's project and a time window: the reference platform's dashboards
timed out on unbounded scans (reference §7.1). ``/metrics`` requires the window; ``/metrics/daily``
defaults to the last 90 days before ``toTimestamp`` (or now). Either window is at most a year.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    LimitParam,
    PageParam,
    bad_request,
    client_errors,
    iso_param,
    list_param,
    meta,
)
from interactiveai.server.api.metrics_models import DailyMetrics, MetricsResult, metrics_query_schema
from interactiveai.server.api.schemas import time_query
from interactiveai.server.clock import now_us, us_to_iso
from interactiveai.server.json_values import bound_key, bound_tag
from interactiveai.server.query.metrics_base import MAX_BUCKETS, MetricsFilter
from interactiveai.server.query.metrics_daily import DailyMetric, daily_metrics
from interactiveai.server.query.metrics_query import (
    AGGREGATIONS,
    DIMENSIONS,
    MEASURES,
    Filter,
    MetricsQuery,
    parse_query,
    run_query,
)

router = APIRouter(tags=["metrics"])

DAY_US = 86_400_000_000
DEFAULT_DAILY_DAYS = 90
MAX_WINDOW_DAYS = 366

_QUERY_HELP = (
    'JSON: {"view": "traces"|"observations", "dimensions": [{"field": …}], "metrics": [{"measure": …, '
    '"aggregation": …}], "filters": [{"column": …, "operator": …, "value": …}], "timeDimension": {"granularity": '
    '"auto"|"minute"|"hour"|"day"|"week"}, "fromTimestamp": ISO (required), "toTimestamp": ISO (required), '
    '"orderBy": [{"field": …, "direction": "asc"|"desc"}], "config": {"row_limit": 1-1000}}. '
    f"Dimensions: traces {', '.join(DIMENSIONS['traces'])}; observations {', '.join(DIMENSIONS['observations'])}. "
    f"Measures: traces {', '.join(MEASURES['traces'])}; observations {', '.join(MEASURES['observations'])}. "
    f"Aggregations: {', '.join(AGGREGATIONS)}."
)


def _window(from_us: int, to_us: int) -> MetricsFilter:
    if to_us <= from_us:
        raise bad_request("toTimestamp must be after fromTimestamp")
    if to_us - from_us > MAX_WINDOW_DAYS * DAY_US:
        raise bad_request(f"the time window is at most {MAX_WINDOW_DAYS} days; narrow fromTimestamp/toTimestamp")
    return MetricsFilter(from_us, to_us)


@router.get(
    "/metrics/daily",
    response_model=DailyMetrics,
    summary="Traces, observations, cost and usage per day",
    description=(
        f"The window ends at `toTimestamp` (default now) and starts at `fromTimestamp` (default {DEFAULT_DAILY_DAYS} "
        f"days earlier); it must end after it starts and span at most {MAX_WINDOW_DAYS} days (a 400 otherwise)."
    ),
)
def get_daily_metrics(
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    traceName: str | None = None,
    userId: str | None = None,
    tags: Annotated[list[str] | None, Query(description="All of these tags; repeat or comma-separate.")] = None,
    environment: Annotated[list[str] | None, Query(description="Any of these environments.")] = None,
    fromTimestamp: Annotated[
        str | None, time_query(f"ISO 8601; default {DEFAULT_DAILY_DAYS} days before toTimestamp.")
    ] = None,
    toTimestamp: Annotated[str | None, time_query("ISO 8601, exclusive; default now.")] = None,
) -> JSON:
    to_us = iso_param(toTimestamp, "toTimestamp") or now_us()
    from_us = iso_param(fromTimestamp, "fromTimestamp")
    window = _window(to_us - DEFAULT_DAILY_DAYS * DAY_US if from_us is None else from_us, to_us)
    filters = MetricsFilter(
        window.from_us,
        window.to_us,
        environments=list_param(environment),
        trace_names=[bound_key(traceName)] if traceName else [],  # as ingestion stores them (json_values)
        user_ids=[bound_key(userId)] if userId else [],
        tags=[bound_tag(tag) for tag in list_param(tags)],
    )
    with client_errors():
        result = daily_metrics(engine, key.project_id, filters, page=page, limit=limit)
    return JSON({"data": [_daily_json(d) for d in result.items], "meta": meta(result)})


def _daily_json(day: DailyMetric) -> dict[str, Any]:
    return {
        "date": (us_to_iso(day.day_us) or "")[:10],
        "countTraces": day.traces,
        "countObservations": day.observations,
        "totalCost": day.total_cost,
        "usage": [
            {
                "model": u.model,
                "inputUsage": u.input_usage,
                "outputUsage": u.output_usage,
                "totalUsage": u.total_usage,
                "countObservations": u.observations,
                "countTraces": u.traces,
                "totalCost": u.total_cost,
            }
            for u in day.usage
        ],
    }


_QUERY_PARAMETER = {
    "name": "query",
    "in": "query",
    "required": True,
    "description": _QUERY_HELP,
    # a JSON document in the parameter: OpenAPI's `content` describes it, where `schema` cannot
    "content": {"application/json": {"schema": metrics_query_schema()}},
}


@router.get(
    "/metrics",
    response_model=MetricsResult,
    summary="Aggregate traces or observations (metrics query)",
    description=(
        "`query` is a JSON object (its schema below). Rules its schema cannot state, each a 400 naming "
        f"it: `toTimestamp` is after `fromTimestamp` and at most {MAX_WINDOW_DAYS} days later; a "
        f"`timeDimension` gives at most {MAX_BUCKETS:,} buckets in that window; `orderBy` names a selected "
        "dimension, a selected metric as `<aggregation>_<measure>`, or `time_dimension`."
    ),
    openapi_extra={"parameters": [_QUERY_PARAMETER]},
)
def get_metrics(
    key: AuthKey, engine: DbEngine, query: Annotated[str | None, Query(include_in_schema=False)] = None
) -> JSON:
    if not query:
        raise bad_request('query is required: a JSON object such as {"view": "traces", "fromTimestamp": …, …}')
    try:
        body = orjson.loads(query)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"query is not valid JSON: {exc}") from None

    def parse_time(value: Any, name: str) -> int:
        us = iso_param(value if isinstance(value, str) else None, name)
        if us is None:
            raise bad_request(f"{name} must be an ISO 8601 date-time string")
        return us

    with client_errors():
        parsed = _bounded_filters(parse_query(body, parse_time))
    _window(parsed.window.from_us, parsed.window.to_us)
    with client_errors():
        rows = run_query(engine, key.project_id, parsed)
    return JSON({"data": rows})


_KEY_COLUMNS = frozenset({"name", "userId", "sessionId", "release", "version", "model", "providedModelName"})
_EQUALITIES = frozenset({"=", "!=", "any of", "none of", "all of"})


def _bounded_filters(parsed: MetricsQuery) -> MetricsQuery:
    """Equality filters on an indexed identifier or name (or on tags), their values bounded as
    ingestion stores them (``json_values.bound_key``), so the original long value finds them."""
    filters = []
    for f in parsed.filters:
        bound = bound_tag if f.column == "tags" else bound_key if f.column in _KEY_COLUMNS else None
        if bound is not None and f.operator in _EQUALITIES:
            value = [bound(v) if isinstance(v, str) else v for v in f.value] if isinstance(f.value, list) else f.value
            f = Filter(f.column, f.operator, bound(value) if isinstance(value, str) else value)
        filters.append(f)
    return replace(parsed, filters=filters)
