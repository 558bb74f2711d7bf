"""``GET /sessions`` (sessions with aggregates) and ``GET /sessions/{id}`` (with its traces)."""

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
from interactiveai.server.api.shapes import score_json, session_json, trace_json
from interactiveai.server.api.traces_models import Sessions, SessionWithTraces
from interactiveai.server.query.filters import SessionFilter
from interactiveai.server.query.sessions import get_session, list_sessions
from interactiveai.server.query.traces import observation_ids_for_traces, score_ids_for_traces

router = APIRouter(tags=["sessions"])


@router.get("/sessions", response_model=Sessions, summary="List sessions, most recently started first")
def get_sessions(
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    fromTimestamp: Annotated[str | None, time_query("ISO 8601; sessions with a trace at or after this.")] = None,
    toTimestamp: Annotated[str | None, time_query("ISO 8601; sessions with a trace before this.")] = None,
    environment: Annotated[list[str] | None, Query(description="Any of these environments.")] = None,
) -> JSON:
    filters = SessionFilter(
        from_us=iso_param(fromTimestamp, "fromTimestamp"),
        to_us=iso_param(toTimestamp, "toTimestamp"),
        environments=list_param(environment),
    )
    with client_errors():
        result = list_sessions(engine, key.project_id, filters, page=page, limit=limit)
    return JSON(paged(result, session_json))


@router.get("/sessions/{sessionId:path}", response_model=SessionWithTraces, summary="One session with its traces")
def get_one_session(sessionId: str, key: AuthKey, engine: DbEngine) -> JSON:
    with engine.connect() as conn:
        detail = or_404(get_session(conn, key.project_id, sessionId), "Session", sessionId)
        ids = [t.id for t in detail.traces]
        obs = observation_ids_for_traces(conn, key.project_id, ids)
        scores = score_ids_for_traces(conn, key.project_id, ids)
    body = session_json(detail.session)
    body["traces"] = [trace_json(t, observations=obs.get(t.id), scores=scores.get(t.id)) for t in detail.traces]
    body["scores"] = [score_json(s) for s in detail.scores]
    return JSON(body)
