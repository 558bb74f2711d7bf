"""A declared usage object that is exactly one of OpenAI's (what the peer SDK's OpenAI drop-in sends
as ``langfuse.observation.usage_details``) is stored as the peer stores it: input and output
without their detail parts, each detail as ``input_<k>``/``output_<k>``, and the total. Any other
map keeps its keys as sent (plus the total). Before: the OpenAI object came back flattened
(``prompt_tokens_details.cached_tokens``), unlike the same object sent through POST /ingestion."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id

CHAT = {
    "prompt_tokens": 42,
    "completion_tokens": 17,
    "total_tokens": 59,
    "prompt_tokens_details": {"cached_tokens": 10, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 5, "audio_tokens": 0},
}
CHAT_STORED = {
    "input": 32,
    "output": 12,
    "total": 59,
    "input_cached_tokens": 10,
    "input_audio_tokens": 0,
    "output_reasoning_tokens": 5,
    "output_audio_tokens": 0,
}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (CHAT, CHAT_STORED),
        ({"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40}, {"input": 30, "output": 10, "total": 40}),
        (
            {"input_tokens": 20, "output_tokens": 8, "total_tokens": 28, "input_tokens_details": {"cached_tokens": 4}},
            {"input": 16, "output": 8, "total": 28, "input_cached_tokens": 4},
        ),
        # not an OpenAI object: kept as sent, with the total
        ({"prompt_tokens": 30, "completion_tokens": 10}, {"prompt_tokens": 30, "completion_tokens": 10, "total": 40}),
        (
            {"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40, "requests": 1},
            {"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40, "requests": 1, "total": 40},
        ),
    ],
)
def test_a_declared_openai_usage_object_is_stored_as_the_peer_stores_it(
    ingest: Ingest, sent: dict[str, Any], stored: dict[str, Any]
) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.usage_details": json.dumps(sent),
    }
    ingest.ok([SpanSpec(tid, sid, "chat", attributes=attributes)])
    assert ingest.observation(tid, sid)["usage_details"] == stored


def test_the_batch_api_stores_the_same_object_the_same_way(client: Any, project: Any, ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    event = {
        "id": "e1",
        "type": "generation-create",
        "timestamp": "2026-01-01T00:00:00Z",
        "body": {"id": sid, "traceId": tid, "name": "chat", "model": "gpt-4o-mini", "usageDetails": CHAT},
    }
    response = client.post("/api/public/ingestion", json={"batch": [event]}, headers=project.headers)
    assert response.status_code == 207 and not response.json()["errors"], response.text
    assert ingest.observation(tid, sid)["usage_details"] == CHAT_STORED
