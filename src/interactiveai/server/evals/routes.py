"""REST routes of LLM-as-a-judge: ``/api/public/llm-connections``, ``/evaluators``, ``/evaluator-jobs``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    LimitParam,
    PageParam,
    client_errors,
    json_body,
    model_body,
    or_404,
    paged,
    text_params,
)
from interactiveai.server.api.schemas import enum_query
from interactiveai.server.evals import store
from interactiveai.server.evals.crypto import SecretBox
from interactiveai.server.evals.models import (
    JOB_STATUSES,
    Connection,
    ConnectionCreate,
    Connections,
    ConnectionUpdate,
    Evaluator,
    EvaluatorCreate,
    EvaluatorJobs,
    Evaluators,
    EvaluatorUpdate,
    body_schema,
)

router = APIRouter(prefix="/api/public", tags=["evaluators"], dependencies=[Depends(text_params)])


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


Box = Annotated[SecretBox, Depends(_box)]


@contextmanager
def _conflicts() -> Iterator[None]:
    try:
        yield
    except store.ConflictError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None


# --- connections --------------------------------------------------------------------------------


@router.post(
    "/llm-connections",
    response_model=Connection,
    summary="Create a model connection (the API key is stored encrypted, never returned)",
    description=ConnectionCreate.__doc__,
    openapi_extra=json_body(body_schema(ConnectionCreate)),
)
def post_connection(key: AuthKey, engine: DbEngine, box: Box, payload: JsonBody) -> JSON:
    body = model_body(ConnectionCreate, payload)
    with _conflicts(), client_errors():
        row = store.create_connection(engine, box, key.project_id, body)
    return JSON(store.connection_json(row))


@router.get("/llm-connections", response_model=Connections, summary="List model connections, newest first")
def get_connections(key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50) -> JSON:
    return JSON(paged(store.list_connections(engine, key.project_id, page=page, limit=limit), store.connection_json))


@router.get("/llm-connections/{connectionId}", response_model=Connection, summary="One model connection")
def get_one_connection(connectionId: str, key: AuthKey, engine: DbEngine) -> JSON:
    row = or_404(store.get_connection(engine, key.project_id, connectionId), "Connection", connectionId)
    return JSON(store.connection_json(row))


@router.patch(
    "/llm-connections/{connectionId}",
    response_model=Connection,
    summary="Update a model connection (`apiKey: null` removes the key)",
    description=ConnectionUpdate.__doc__,
    openapi_extra=json_body(body_schema(ConnectionUpdate)),
)
def patch_connection(connectionId: str, key: AuthKey, engine: DbEngine, box: Box, payload: JsonBody) -> JSON:
    body = model_body(ConnectionUpdate, payload)
    with _conflicts(), client_errors():
        row = store.update_connection(engine, box, key.project_id, connectionId, body)
    return JSON(store.connection_json(or_404(row, "Connection", connectionId)))


@router.delete(
    "/llm-connections/{connectionId}",
    summary="Delete a model connection (409 while an evaluator uses it)",
)
def delete_connection(connectionId: str, key: AuthKey, engine: DbEngine) -> JSON:
    with _conflicts():
        deleted = store.delete_connection(engine, key.project_id, connectionId)
    or_404(deleted or None, "Connection", connectionId)
    return JSON({"message": "Connection deleted"})


# --- evaluators ---------------------------------------------------------------------------------


@router.post(
    "/evaluators",
    response_model=Evaluator,
    summary="Create an evaluator (LLM-as-a-judge on new traces)",
    description=EvaluatorCreate.__doc__,
    openapi_extra=json_body(body_schema(EvaluatorCreate)),
)
def post_evaluator(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    body = model_body(EvaluatorCreate, payload)
    with _conflicts(), client_errors():
        row = store.create_evaluator(engine, key.project_id, body)
    return JSON(store.evaluator_json(row))


@router.get("/evaluators", response_model=Evaluators, summary="List evaluators, newest first")
def get_evaluators(key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50) -> JSON:
    return JSON(paged(store.list_evaluators(engine, key.project_id, page=page, limit=limit), store.evaluator_json))


@router.get("/evaluators/{evaluatorId}", response_model=Evaluator, summary="One evaluator")
def get_one_evaluator(evaluatorId: str, key: AuthKey, engine: DbEngine) -> JSON:
    row = or_404(store.get_evaluator(engine, key.project_id, evaluatorId), "Evaluator", evaluatorId)
    return JSON(store.evaluator_json(row))


@router.patch(
    "/evaluators/{evaluatorId}",
    response_model=Evaluator,
    summary="Update an evaluator (enable, disable, change its prompt, score, sampling, filter, delay)",
    description=EvaluatorUpdate.__doc__,
    openapi_extra=json_body(body_schema(EvaluatorUpdate)),
)
def patch_evaluator(evaluatorId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    body = model_body(EvaluatorUpdate, payload)
    with _conflicts(), client_errors():
        row = store.update_evaluator(engine, key.project_id, evaluatorId, body)
    return JSON(store.evaluator_json(or_404(row, "Evaluator", evaluatorId)))


@router.delete("/evaluators/{evaluatorId}", summary="Delete an evaluator and its jobs (its scores stay)")
def delete_evaluator(evaluatorId: str, key: AuthKey, engine: DbEngine) -> JSON:
    or_404(store.delete_evaluator(engine, key.project_id, evaluatorId) or None, "Evaluator", evaluatorId)
    return JSON({"message": "Evaluator deleted"})


# --- jobs ---------------------------------------------------------------------------------------


@router.get(
    "/evaluator-jobs",
    response_model=EvaluatorJobs,
    summary="Evaluations, newest first: status, attempts, error, latency, tokens, cost and the score written",
)
def get_jobs(
    key: AuthKey,
    engine: DbEngine,
    evaluatorId: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, enum_query(JOB_STATUSES, "Only jobs in this status.")] = None,
    traceId: Annotated[str | None, Query(max_length=64, description="Only the evaluations of this trace.")] = None,
    page: PageParam = 1,
    limit: LimitParam = 50,
) -> JSON:
    if status is not None and status not in JOB_STATUSES:
        raise HTTPException(status_code=400, detail=f"status must be one of {', '.join(JOB_STATUSES)}")
    result = store.list_jobs(
        engine, key.project_id, evaluator_id=evaluatorId, status=status, page=page, limit=limit, trace_id=traceId
    )
    return JSON(paged(result, store.job_json))
