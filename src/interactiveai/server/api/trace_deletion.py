"""``DELETE /traces/{traceId}`` and ``DELETE /traces``: real deletion of traces and all attached.

The rows are gone when the call returns (observations, scores and tags with them), unlike
systems that queue deletes for hours; deletes run in small batches so ingestion is not stalled.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    client_errors,
    json_body,
    model_body,
    not_found,
)
from interactiveai.server.api.models import Message
from interactiveai.server.retention import delete_traces
from interactiveai.server.writes.errors import MAX_ID, checked_key

router = APIRouter(tags=["traces"])


class DeleteTracesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    traceIds: list[Annotated[str, WithJsonSchema({"type": "string", "maxLength": MAX_ID})]] = Field(
        min_length=1,
        max_length=1000,
        description=f"Ids of the traces to delete (1-1000), each at most {MAX_ID} characters, no NUL.",
    )


class DeletedTraces(BaseModel):
    message: str
    deletedCount: int


@router.delete("/traces/{traceId}", response_model=Message, summary="Delete a trace with its observations and scores")
def delete_trace(traceId: str, key: AuthKey, engine: DbEngine) -> JSON:
    if delete_traces(engine, key.project_id, [traceId]) == 0:
        raise not_found("trace", traceId)
    return JSON({"message": "Trace deleted successfully"})


@router.delete(
    "/traces",
    response_model=DeletedTraces,
    summary="Delete several traces",
    openapi_extra=json_body(DeleteTracesBody.model_json_schema()),
)
def delete_many_traces(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    body = model_body(DeleteTracesBody, payload)
    with client_errors():  # ids reach SQL: text both engines can compare (PostgreSQL refuses NUL)
        for index, trace_id in enumerate(body.traceIds):
            checked_key(trace_id, f"traceIds[{index}]", MAX_ID)
    deleted = delete_traces(engine, key.project_id, body.traceIds)
    return JSON({"message": "Traces deleted successfully", "deletedCount": deleted})
