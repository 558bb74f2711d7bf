"""Native OTLP values (arrays and key-value lists) nested deeper than orjson writes (254 levels),
in every place a span's payload is stored: the span is stored, the deep part kept as text, and
every read answers. Only OTLP/JSON reaches such depths (protobuf's decoder stops at about 48
levels with a 400 for the export); the bodies are written by hand, since orjson cannot write them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api.routes_table import API
from tests.server.ingest.conftest import JSON, Ingest
from tests.server.ingest.otlp_builders import span_id, trace_id

ARRAYS = 300  # three JSON levels each: 900, within what orjson reads (1,024)
KVLISTS = 250  # four JSON levels each: 1,000


def deep_array(levels: int) -> str:
    return '{"arrayValue":{"values":[' * levels + '{"stringValue":"bottom"}' + "]}}" * levels


def deep_kvlist(levels: int) -> str:
    return '{"kvlistValue":{"values":[{"key":"k","value":' * levels + '{"intValue":"1"}' + "}]}}" * levels


KEYS = [
    "interactiveai.observation.metadata.m",
    "interactiveai.observation.model.parameters",
    "interactiveai.observation.usage_details",
    "interactiveai.observation.cost_details",
    "interactiveai.observation.input",
    "interactiveai.observation.model.name",
    "interactiveai.observation.status_message",
    "interactiveai.trace.metadata.m",
    "interactiveai.trace.name",
    "interactiveai.trace.tags",
    "interactiveai.trace.input",
    "interactiveai.version",
    "interactiveai.release",
    "user.id",
    "session.id",
    "langfuse.observation.metadata",
    "gen_ai.request.temperature",
    "gen_ai.request.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.tool.name",
    "ai.response.providerMetadata",
    "ai.settings.maxRetries",
    "ai.prompt.toolChoice",
    "ai.telemetry.metadata.m",
    "ai.toolCall.name",
    "ai.model.id",
    "third.party.attribute",
]
SCOPES = ["interactiveai", "third.party", "ai"]


def _body(tid: str, sid: str, scope: str, key: str, value: str, resource_value: str | None = None) -> bytes:
    resource = '{"key":"service.name","value":{"stringValue":"svc"}}'
    if resource_value is not None:
        resource += ',{"key":"interactiveai.trace.metadata.r","value":' + resource_value + "}"
        resource += ',{"key":"deep.resource","value":' + resource_value + "}"
    span = (
        f'{{"traceId":"{tid}","spanId":"{sid}","name":"deep","startTimeUnixNano":"1750000000000000000",'
        f'"endTimeUnixNano":"1750000001000000000","attributes":[{{"key":"{key}","value":{value}}}],'
        f'"events":[{{"name":"gen_ai.user.message","timeUnixNano":"1750000000000000000",'
        f'"attributes":[{{"key":"content","value":{value}}}]}}]}}'
    )
    return (
        f'{{"resourceSpans":[{{"resource":{{"attributes":[{resource}]}},'
        f'"scopeSpans":[{{"scope":{{"name":"{scope}"}},"spans":[{span}]}}]}}]}}'
    ).encode()


def _post(ingest: Ingest, body: bytes) -> Any:
    return ingest.client.post("/api/public/otel/v1/traces", content=body, headers={**ingest.project.headers, **JSON})


def _reads_answer(ingest: Ingest, tid: str, sid: str) -> None:
    headers = ingest.project.headers
    for path in ["/traces", "/observations", f"/traces/{tid}", f"/observations/{sid}", "/sessions"]:
        response = ingest.client.get(API + path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text[:300]}"


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("key", KEYS)
def test_a_deep_native_value_is_stored_as_text(ingest: Ingest, key: str, scope: str) -> None:
    problems = []
    for value in (deep_array(ARRAYS), deep_kvlist(KVLISTS)):
        tid, sid = trace_id(), span_id()
        response = _post(ingest, _body(tid, sid, scope, key, value))
        if response.status_code != 200:
            problems.append(f"{value[:20]}: {response.status_code} {response.text[:200]}")
            continue
        assert sid in ingest.observations(tid)
        _reads_answer(ingest, tid, sid)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scope", SCOPES)
def test_a_deep_resource_attribute_is_stored_as_text(ingest: Ingest, scope: str) -> None:
    tid, sid = trace_id(), span_id()
    response = _post(ingest, _body(tid, sid, scope, "plain", '{"stringValue":"x"}', deep_kvlist(KVLISTS)))
    assert response.status_code == 200, response.text[:300]
    assert sid in ingest.observations(tid)
    _reads_answer(ingest, tid, sid)


def test_the_deep_part_reads_back_as_its_text(ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    response = _post(ingest, _body(tid, sid, "third.party", "interactiveai.observation.metadata.m", deep_array(ARRAYS)))
    assert response.status_code == 200, response.text[:300]
    obs = ingest.client.get(f"{API}/observations/{sid}", headers=ingest.project.headers).json()
    deep = obs["metadata"]["m"]
    assert isinstance(deep, str) and deep.startswith("[[[") and "bottom" in deep
    assert obs["metadata"]["attributes"] == {}  # consumed: the key is ours, not a third party's
