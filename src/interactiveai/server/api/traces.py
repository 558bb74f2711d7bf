"""``GET /traces`` (filtered, sorted, paged list) and ``GET /traces/{traceId}`` (with its tree)."""

from __future__ import annotations

from typing import Annotated, Any

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
    or_404,
)
from interactiveai.server.api.filter_param import filter_parameter
from interactiveai.server.api.schemas import pattern_query, time_query
from interactiveai.server.api.shapes import TRACE_FIELD_GROUPS, observation_json, score_json, trace_json
from interactiveai.server.api.traces_models import Traces, TraceWithDetails
from interactiveai.server.query.filter_conditions import filtered_columns, parse_filter
from interactiveai.server.query.filters import TRACE_SORT_COLUMNS, TraceFilter, TraceOrder
from interactiveai.server.query.traces import (
    get_trace_detail,
    list_traces,
    observation_ids_for_traces,
    score_ids_for_traces,
)

router = APIRouter(tags=["traces"])

_ORDER_HELP = (
    "`column.asc|desc` (direction in any case; a bare column sorts descending), column one of: "
    + ", ".join(TRACE_SORT_COLUMNS)
    + ". Default timestamp.desc."
)
_ORDER_PATTERN = "^((" + "|".join(TRACE_SORT_COLUMNS) + r")(\.([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])?)?)?$"  # TraceOrder.parse
_FIELD_GROUP = "(" + "|".join(TRACE_FIELD_GROUPS) + ")"
_FIELDS_PATTERN = f"^ *({_FIELD_GROUP} *)?(, *({_FIELD_GROUP} *)?)*$"  # _fields: a comma list of groups


@router.get(
    "/traces", response_model=Traces, summary="List traces", openapi_extra={"parameters": [filter_parameter("traces")]}
)
def get_traces(
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    userId: str | None = None,
    name: str | None = None,
    sessionId: str | None = None,
    tags: Annotated[list[str] | None, Query(description="All of these tags; repeat or comma-separate.")] = None,
    environment: Annotated[list[str] | None, Query(description="Any of these environments.")] = None,
    version: str | None = None,
    release: str | None = None,
    fromTimestamp: Annotated[str | None, time_query("ISO 8601; timestamp >= this.")] = None,
    toTimestamp: Annotated[str | None, time_query("ISO 8601; timestamp < this.")] = None,
    orderBy: Annotated[str | None, pattern_query(_ORDER_PATTERN, _ORDER_HELP)] = None,
    fields: Annotated[
        str | None,
        pattern_query(_FIELDS_PATTERN, "Comma list of core, io, scores, observations, metrics (default: all)."),
    ] = None,
    filter: Annotated[str | None, Query(include_in_schema=False)] = None,  # documented by filter_parameter
) -> JSON:
    groups = _fields(fields)
    with client_errors():
        conditions = parse_filter(filter, "traces")
    # as the reference: a condition on a column replaces the simple parameter on it
    covered = filtered_columns(conditions)

    def simple(column: str, value: Any) -> Any:
        return None if column in covered else value

    filters = TraceFilter(
        user_id=simple("userId", userId),
        name=simple("name", name),
        session_id=simple("sessionId", sessionId),
        tags=simple("tags", list_param(tags)) or (),
        environments=simple("environment", list_param(environment)) or (),
        version=simple("version", version),
        release=simple("release", release),
        from_us=simple("timestamp", iso_param(fromTimestamp, "fromTimestamp")),
        to_us=simple("timestamp", iso_param(toTimestamp, "toTimestamp")),
        conditions=conditions,
    )
    with client_errors():
        order = TraceOrder.parse(orderBy)
    with engine.connect() as conn:
        with client_errors():
            result = list_traces(conn, key.project_id, filters, order, page=page, limit=limit, with_io="io" in groups)
        ids = [t.id for t in result.items]
        obs = observation_ids_for_traces(conn, key.project_id, ids) if "observations" in groups else {}
        scores = score_ids_for_traces(conn, key.project_id, ids) if "scores" in groups else {}
    data = [trace_json(t, observations=obs.get(t.id), scores=scores.get(t.id), fields=groups) for t in result.items]
    return JSON({"data": data, "meta": meta(result)})


@router.get("/traces/{traceId}", response_model=TraceWithDetails, summary="One trace with observations and scores")
def get_trace(traceId: str, key: AuthKey, engine: DbEngine) -> JSON:
    detail = or_404(get_trace_detail(engine, key.project_id, traceId), "Trace", traceId)
    return JSON(
        trace_json(
            detail.trace,
            observations=[observation_json(o) for o in detail.observations],
            scores=[score_json(s) for s in detail.scores],
        )
    )


def _fields(raw: str | None) -> set[str]:
    if raw is None or not raw.strip():
        return set(TRACE_FIELD_GROUPS)
    groups = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = groups - set(TRACE_FIELD_GROUPS)
    if unknown:
        raise bad_request(f"unknown fields {', '.join(sorted(unknown))}; use {', '.join(TRACE_FIELD_GROUPS)}")
    return groups | {"core"}
