"""The batch ingestion API's JSON (``POST /api/public/ingestion``): request document and 207 answer.

The envelope is what the server checks as a whole (an object with a ``batch`` list; anything else
is a 400). Each event is checked on its own and answered in the 207 body, so the document states
the events' fields without constraining them: a malformed event is a valid request that gets its
own 400 entry in ``errors``, never a refused batch.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.ingest.legacy_events import EVENT_TYPES


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestionSuccess(_Out):
    id: str = Field(description="The event's id.")
    status: int = Field(description="201: stored (an sdk-log: received).")


class IngestionError(_Out):
    id: str = Field(description="The event's id ('' when it has none).")
    status: int = Field(description="400: the event breaks a rule and was not stored.")
    message: str = Field(description="`Invalid request data`.")
    error: str = Field(description="Which rule, for a person.")


class IngestionResult(_Out):
    successes: list[IngestionSuccess]
    errors: list[IngestionError]


_BODY_FIELDS = (
    "The entity. `trace-create` (also an update: later values win): `id`, `timestamp`, `name`, `userId`, "
    "`sessionId`, `release`, `version`, `environment`, `tags` (strings), `metadata`, `input`, `output`, "
    "`public`. Observations (`span-`, `generation-` `-create`/`-update`, `event-create`, `agent-`, `tool-`, "
    "`chain-`, `retriever-`, `evaluator-`, `embedding-`, `guardrail-create`, `observation-create`/`-update` "
    "with `type` GENERATION, SPAN or EVENT): `id` (required), `traceId`, `parentObservationId`, `name`, "
    "`startTime`, `endTime`, `level`, `statusMessage`, `version`, `environment`, `metadata`, `input`, "
    "`output`; generation-like types also `completionStartTime`, `model`, `modelParameters`, `usage`, "
    "`usageDetails`, `costDetails`, `promptName`, `promptVersion`. `score-create`: the body of "
    "`POST /api/public/scores` (`id` defaults to the event's id, `timestamp` to the event's). "
    "`sdk-log`: `log`."
)
_EVENT: dict[str, Any] = {
    "description": (
        "One event: `{id, type, timestamp, body}`. Checked on its own: a malformed event gets a 400 "
        "entry in `errors`, the others are stored."
    ),
    "properties": {
        "id": {"description": "The event's id (text, unique per event); answered back in the 207 body."},
        "type": {"description": "One of " + ", ".join(f"`{kind}`" for kind in EVENT_TYPES) + "."},
        "timestamp": {"description": "When the SDK made the event (RFC 3339); a score's timestamp by default."},
        "body": {"description": _BODY_FIELDS},
    },
}
_EXAMPLE = {
    "batch": [
        {
            "id": "event-1",
            "type": "trace-create",
            "timestamp": "2026-01-31T12:00:00Z",
            "body": {"id": "trace-1", "name": "chat", "userId": "user-1", "tags": ["prod"]},
        },
        {
            "id": "event-2",
            "type": "generation-create",
            "timestamp": "2026-01-31T12:00:00.100Z",
            "body": {
                "id": "generation-1",
                "traceId": "trace-1",
                "name": "llm",
                "model": "gpt-4o-mini",
                "startTime": "2026-01-31T12:00:00.100Z",
                "input": [{"role": "user", "content": "hello"}],
            },
        },
        {
            "id": "event-3",
            "type": "generation-update",
            "timestamp": "2026-01-31T12:00:01Z",
            "body": {
                "id": "generation-1",
                "traceId": "trace-1",
                "endTime": "2026-01-31T12:00:01Z",
                "output": "hi",
                "usageDetails": {"input": 10, "output": 2},
            },
        },
        {
            "id": "event-4",
            "type": "score-create",
            "timestamp": "2026-01-31T12:00:02Z",
            "body": {"id": "score-1", "traceId": "trace-1", "name": "helpful", "value": 1, "dataType": "BOOLEAN"},
        },
    ],
    "metadata": {"sdk_name": "python", "sdk_version": "2.60.10", "batch_size": 4},
}
BATCH_SCHEMA: dict[str, Any] = {
    "title": "IngestionBatch",
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "items": _EVENT, "description": "The events, in any order."},
        "metadata": {"description": "What the SDK says about itself (name, version, batch size); not stored."},
    },
    "examples": [_EXAMPLE],
}
