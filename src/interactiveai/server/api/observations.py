"""``GET /observations`` (filtered, paged, newest first) and ``GET /observations/{id}``."""

from __future__ import annotations

from typing import Annotated

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
from interactiveai.server.api.schemas import time_query
from interactiveai.server.api.shapes import observation_json
from interactiveai.server.api.traces_models import Observation, Observations
from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.observations import get_observation, list_observations

router = APIRouter(tags=["observations"])


@router.get("/observations", response_model=Observations, summary="List observations")
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
) -> JSON:
    filters = ObservationFilter(
        trace_id=traceId,
        name=name,
        user_id=userId,
        types=list_param([type] if type else None),
        levels=list_param([level] if level else None),
        parent_observation_id=parentObservationId,
        environments=list_param(environment),
        version=version,
        from_us=iso_param(fromStartTime, "fromStartTime"),
        to_us=iso_param(toStartTime, "toStartTime"),
    )
    with client_errors():
        result = list_observations(engine, key.project_id, filters, page=page, limit=limit)
    return JSON(paged(result, observation_json))


@router.get("/observations/{observationId}", response_model=Observation, summary="One observation")
def get_one_observation(observationId: str, key: AuthKey, engine: DbEngine) -> JSON:
    obs = or_404(get_observation(engine, key.project_id, observationId), "Observation", observationId)
    return JSON(observation_json(obs))
