"""``GET /observations`` (filtered, paged, newest first) and ``GET /observations/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    LimitParam,
    PageParam,
    client_errors,
    iso_param,
    list_param,
    or_404,
    paged,
)
from interactiveai.server.api.filter_param import filter_parameter
from interactiveai.server.api.schemas import time_query
from interactiveai.server.api.shapes import observation_json
from interactiveai.server.api.traces_models import Observation, Observations
from interactiveai.server.query.filter_conditions import filtered_columns, parse_filter
from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.observations import get_observation, list_observations

router = APIRouter(tags=["observations"])


@router.get(
    "/observations",
    response_model=Observations,
    summary="List observations",
    openapi_extra={"parameters": [filter_parameter("observations")]},
)
def get_observations(
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    name: str | None = None,
    userId: str | None = None,
    type: Annotated[
        str | None, Query(description="SPAN, GENERATION, EVENT, AGENT, TOOL, … (any of, comma list).")
    ] = None,
    traceId: str | None = None,
    level: Annotated[str | None, Query(description="DEBUG, DEFAULT, WARNING or ERROR (any of, comma list).")] = None,
    parentObservationId: str | None = None,
    environment: Annotated[list[str] | None, Query(description="Any of these environments.")] = None,
    fromStartTime: Annotated[str | None, time_query("ISO 8601; startTime >= this.")] = None,
    toStartTime: Annotated[str | None, time_query("ISO 8601; startTime < this.")] = None,
    version: str | None = None,
    filter: Annotated[str | None, Query(include_in_schema=False)] = None,  # documented by filter_parameter
) -> JSON:
    with client_errors():
        conditions = parse_filter(filter, "observations")
    covered = filtered_columns(conditions)  # a condition on a column replaces the simple parameter

    def simple(column: str, value: Any) -> Any:
        return None if column in covered else value

    filters = ObservationFilter(
        trace_id=simple("traceId", traceId),
        name=simple("name", name),
        user_id=simple("userId", userId),
        types=simple("type", list_param([type] if type else None)) or (),
        levels=simple("level", list_param([level] if level else None)) or (),
        parent_observation_id=simple("parentObservationId", parentObservationId),
        environments=simple("environment", list_param(environment)) or (),
        version=simple("version", version),
        from_us=simple("startTime", iso_param(fromStartTime, "fromStartTime")),
        to_us=simple("startTime", iso_param(toStartTime, "toStartTime")),
        conditions=conditions,
    )
    with client_errors():
        result = list_observations(engine, key.project_id, filters, page=page, limit=limit)
    return JSON(paged(result, observation_json))


@router.get("/observations/{observationId}", response_model=Observation, summary="One observation")
def get_one_observation(observationId: str, key: AuthKey, engine: DbEngine) -> JSON:
    obs = or_404(get_observation(engine, key.project_id, observationId), "Observation", observationId)
    return JSON(observation_json(obs))
