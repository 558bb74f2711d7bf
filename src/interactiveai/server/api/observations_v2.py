"""``GET /v2/observations``: the reference API's v2 list, which its SDK's 4.x and 5.x releases read.

Cursor pages (``query/cursors.py``) of up to 1,000 observations, newest first, with the fields of
the groups asked for (``fields``; ``core`` always, ``core,basic`` when not given). As the reference
answers: input and output are the raw text that was sent (a JSON document as text, a string as
itself), the trace's user, session, name, tags and release come with the observation.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, client_errors, iso_param, list_param
from interactiveai.server.api.filter_param import filter_parameter
from interactiveai.server.api.schemas import time_query
from interactiveai.server.api.shapes import model_parameters_json
from interactiveai.server.clock import us_to_iso
from interactiveai.server.query.cursor_lists import observations_page, trace_facts
from interactiveai.server.query.cursors import decode_cursor
from interactiveai.server.query.filter_conditions import filtered_columns, parse_filter
from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.records import Observation

router = APIRouter(tags=["observations"])

MAX_LIMIT = 1000
GROUPS = ("core", "basic", "time", "io", "metadata", "model", "usage", "prompt", "metrics", "trace_context")
GROUPS_PATTERN = rf"^\s*({'|'.join(GROUPS)})\s*(,\s*({'|'.join(GROUPS)})\s*)*$"


class ObservationV2(BaseModel):
    """Core fields always; the others only when their group is asked for."""

    model_config = ConfigDict(extra="allow")
    id: str
    traceId: str
    startTime: str
    endTime: str | None
    projectId: str
    parentObservationId: str | None
    type: str


class CursorMeta(BaseModel):
    cursor: str | None = Field(None, description="The next page's cursor; absent on the last page.")


class ObservationsV2(BaseModel):
    data: list[ObservationV2]
    meta: CursorMeta


@router.get(
    "/v2/observations",
    response_model=ObservationsV2,
    summary="List observations (v2: cursor pages, field groups)",
    description=(
        "Newest first. `fields` names the groups to include (core is always included; default "
        "`core,basic`). Input and output are the raw text sent. A `cursor` this server did not "
        "hand out is a 400. `filter` takes the conditions of `GET /observations`; a condition on a "
        "column replaces the simple parameter on it."
    ),
    openapi_extra={"parameters": [filter_parameter("observations")]},
)
def get_observations_v2(
    key: AuthKey,
    engine: DbEngine,
    fields: Annotated[
        str | None, Query(pattern=GROUPS_PATTERN, description=f"Comma list of {', '.join(GROUPS)}.")
    ] = None,
    expandMetadata: Annotated[str | None, Query(description="Accepted; metadata is never truncated.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1-{MAX_LIMIT}.")] = 50,
    cursor: Annotated[str | None, Query(max_length=2048, description="From the previous page's meta.")] = None,
    name: str | None = None,
    userId: str | None = None,
    sessionId: str | None = None,
    type: Annotated[str | None, Query(description="SPAN, GENERATION, EVENT, … (any of, comma list).")] = None,
    traceId: str | None = None,
    level: Annotated[str | None, Query(description="DEBUG, DEFAULT, WARNING or ERROR (any of, comma list).")] = None,
    parentObservationId: str | None = None,
    isRootObservation: bool | None = None,
    environment: Annotated[list[str] | None, Query(description="Any of these environments.")] = None,
    fromStartTime: Annotated[str | None, time_query("ISO 8601; startTime >= this.")] = None,
    toStartTime: Annotated[str | None, time_query("ISO 8601; startTime < this.")] = None,
    version: str | None = None,
    filter: Annotated[str | None, Query(include_in_schema=False)] = None,  # documented by filter_parameter
) -> JSON:
    groups = {"core", *list_param([fields] if fields else ["basic"])}
    with client_errors():
        conditions = parse_filter(filter, "observations")
    covered = filtered_columns(conditions)  # as GET /observations: a condition replaces the parameter
    one_trace = next((c for c in conditions if (c.column, c.type, c.operator) == ("traceId", "string", "=")), None)
    if one_trace is not None:  # read through the trace's key, like the traceId parameter
        conditions = [c for c in conditions if c is not one_trace]
        traceId = one_trace.value

    def simple(column: str, value: Any) -> Any:
        return None if column in covered else value

    filters = ObservationFilter(
        trace_id=traceId if one_trace else simple("traceId", traceId),
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
        page = observations_page(
            engine,
            key.project_id,
            filters,
            session_id=sessionId,
            is_root=isRootObservation,
            cursor=decode_cursor(cursor),
            limit=limit,
        )
        facts = trace_facts(engine, key.project_id, {o.trace_id for o in page.items})
    data = [_observation_v2(o, groups, facts.get(o.trace_id, {})) for o in page.items]
    return JSON({"data": data, "meta": {"cursor": page.next.encode()} if page.next else {}})


def _raw(value: Any) -> str | None:
    """Input or output as the text that was sent."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return []
    return [str(tag) for tag in value] if isinstance(value, list) else []


def _observation_v2(o: Observation, groups: set[str], trace: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": o.id,
        "traceId": o.trace_id,
        "startTime": us_to_iso(o.start_time_us),
        "endTime": us_to_iso(o.end_time_us),
        "projectId": o.project_id,
        "parentObservationId": o.parent_observation_id,
        "type": o.type,
    }
    if "basic" in groups:
        out.update(
            name=o.name,
            level=o.level,
            statusMessage=o.status_message,
            version=o.version,
            environment=o.environment,
            bookmarked=False,
            public=False,
            userId=trace.get("user_id"),
            sessionId=trace.get("session_id"),
            isRootObservation=o.parent_observation_id is None,
        )
    if "time" in groups:
        created = us_to_iso(o.created_at_us)
        out.update(completionStartTime=us_to_iso(o.completion_start_time_us), createdAt=created, updatedAt=created)
    if "io" in groups:
        out.update(input=_raw(o.input), output=_raw(o.output))
    if "metadata" in groups:
        out["metadata"] = o.metadata
    if "model" in groups:
        out.update(
            model=o.model,
            providedModelName=o.model,
            internalModelId=o.matched_model_id,
            modelParameters=model_parameters_json(o.model_parameters),
        )
    if "usage" in groups:
        out.update(
            usageDetails=o.usage_details,
            costDetails=o.cost_details,
            totalCost=o.total_cost,
            usagePricingTierName=None,
        )
    if "prompt" in groups:
        out.update(promptId=None, promptName=None, promptVersion=None)
    if "metrics" in groups:
        out.update(latency=o.latency_seconds, timeToFirstToken=o.time_to_first_token_seconds)
    if "trace_context" in groups:
        out.update(tags=_tags(trace.get("tags")), release=trace.get("release"), traceName=trace.get("name"))
    return out
