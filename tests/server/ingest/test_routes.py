"""The OTLP endpoints: formats, encodings, answers, and every kind of bad input (the server keeps serving)."""

from __future__ import annotations

import base64
import gzip
import zlib
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.server.ingest.conftest import JSON, PROTOBUF, Ingest
from tests.server.ingest.otlp_builders import (
    ResourceSpec,
    SpanSpec,
    encode_json,
    encode_protobuf,
    realistic_trace,
    span_id,
    trace_id,
)

PATHS = ["/api/public/otel/v1/traces", "/v1/traces"]


def _one_span() -> tuple[str, str, list[ResourceSpec]]:
    tid, sid = trace_id(), span_id()
    return tid, sid, [ResourceSpec([SpanSpec(tid, sid, "hello")])]


def _still_serving(ingest: Ingest) -> None:
    spans = realistic_trace()
    ingest.ok(spans)
    trace = ingest.trace(spans[0].trace_id)
    assert trace is not None and trace["observation_count"] == len(spans)


@pytest.mark.parametrize("path", PATHS)
def test_protobuf_answers_protobuf(ingest: Ingest, path: str) -> None:
    tid, sid, resources = _one_span()
    response = ingest.client.post(
        path, content=encode_protobuf(resources), headers={**ingest.project.headers, **PROTOBUF}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse.FromString(response.content)  # a valid (empty) response message
    assert ingest.observation(tid, sid)["name"] == "hello"


@pytest.mark.parametrize("path", PATHS)
def test_json_answers_json(ingest: Ingest, path: str) -> None:
    tid, sid, resources = _one_span()
    headers = {**ingest.project.headers, "Content-Type": "application/json; charset=utf-8"}
    response = ingest.client.post(path, content=encode_json(resources), headers=headers)
    assert response.status_code == 200 and response.json() == {}
    assert ingest.observation(tid, sid)["name"] == "hello"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies(ingest: Ingest, encoding: str) -> None:
    tid, sid, resources = _one_span()
    raw = encode_protobuf(resources)
    body = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    headers = {**ingest.project.headers, **PROTOBUF, "Content-Encoding": encoding}
    assert ingest.client.post(PATHS[0], content=body, headers=headers).status_code == 200
    assert sid in ingest.observations(tid)


def test_json_tolerates_base64_ids(ingest: Ingest) -> None:
    tid, sid, resources = _one_span()
    document = json_document(resources)
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["traceId"] = base64.b64encode(bytes.fromhex(tid)).decode()
    span["spanId"] = base64.b64encode(bytes.fromhex(sid)).decode()
    response = ingest.client.post(PATHS[0], content=orjson.dumps(document), headers={**ingest.project.headers, **JSON})
    assert response.status_code == 200, response.text
    assert sid in ingest.observations(tid)


def json_document(resources: list[ResourceSpec]) -> dict[str, Any]:
    return orjson.loads(encode_json(resources))  # type: ignore[no-any-return]


def test_empty_exports_are_accepted(ingest: Ingest) -> None:
    headers = ingest.project.headers
    assert ingest.client.post(PATHS[0], content=b"", headers={**headers, **PROTOBUF}).status_code == 200
    assert ingest.client.post(PATHS[0], content=b"{}", headers={**headers, **JSON}).status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "multipart/form-data"])
def test_unsupported_content_type_is_415(ingest: Ingest, content_type: str | None) -> None:
    _, _, resources = _one_span()
    headers = dict(ingest.project.headers)
    if content_type:
        headers["Content-Type"] = content_type
    response = ingest.client.post(PATHS[0], content=encode_protobuf(resources), headers=headers)
    assert response.status_code == 415
    assert "Content-Type" in response.json()["message"]
    _still_serving(ingest)


def test_unsupported_encoding_is_415(ingest: Ingest) -> None:
    _, _, resources = _one_span()
    headers = {**ingest.project.headers, **PROTOBUF, "Content-Encoding": "br"}
    assert ingest.client.post(PATHS[0], content=encode_protobuf(resources), headers=headers).status_code == 415


def _bad_request(ingest: Ingest, body: bytes, headers: dict[str, str]) -> str:
    response = ingest.client.post(PATHS[0], content=body, headers={**ingest.project.headers, **headers})
    assert response.status_code == 400, response.text
    message: str = response.json()["message"]
    return message


def test_bad_trace_id_names_the_span(ingest: Ingest) -> None:
    spans = [SpanSpec(trace_id(), span_id(), "ok"), SpanSpec(trace_id(), span_id(), "ok")]
    request = encode_protobuf([ResourceSpec(spans)])
    from tests.server.ingest.otlp_builders import to_request

    pb = to_request([ResourceSpec(spans)])
    pb.resource_spans[0].scope_spans[0].spans[1].trace_id = b"\x01\x02\x03"
    message = _bad_request(ingest, pb.SerializeToString(), PROTOBUF)
    assert "span 1" in message and "traceId must be 16" in message
    assert request  # the valid variant is still fine afterwards
    _still_serving(ingest)


def test_json_bad_ids_and_shapes(ingest: Ingest) -> None:
    _, _, resources = _one_span()
    document = json_document(resources)
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "xyz"
    assert "spanId" in _bad_request(ingest, orjson.dumps(document), JSON)
    document = json_document(resources)
    document["resourceSpans"][0]["scopeSpans"][0]["spans"] = {"not": "a list"}
    assert "must be an array" in _bad_request(ingest, orjson.dumps(document), JSON)
    document = json_document(resources)
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = "soon"
    assert "startTimeUnixNano" in _bad_request(ingest, orjson.dumps(document), JSON)
    assert "JSON" in _bad_request(ingest, b"{not json", JSON)
    assert "object" in _bad_request(ingest, b"[1, 2]", JSON)
    _still_serving(ingest)


@pytest.mark.parametrize(
    "value",
    [
        {"arrayValue": "x"},
        {"arrayValue": {"values": "x"}},
        {"arrayValue": {"values": [{"kvlistValue": 3}]}},
        {"kvlistValue": 3},
        {"kvlistValue": {"values": [1, 2]}},
        {"doubleValue": "abc"},
        {"intValue": {"x": 1}},
        {"intValue": "12abc"},
    ],
)
def test_json_attribute_values_of_the_wrong_shape_are_400(ingest: Ingest, value: dict[str, Any]) -> None:
    """OTLP/JSON is attacker-controlled: a value of the wrong shape is a 400 that says where, not a 500."""
    _, _, resources = _one_span()
    document = json_document(resources)
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [{"key": "k", "value": value}]
    assert "span 0" in _bad_request(ingest, orjson.dumps(document), JSON)
    _still_serving(ingest)


def test_garbage_protobuf_is_400(ingest: Ingest) -> None:
    assert "protobuf" in _bad_request(ingest, b"\xff\xff\xff\xff garbage \x00\x01", PROTOBUF)
    _still_serving(ingest)


def test_logs_export_on_traces_path_is_400(ingest: Ingest) -> None:
    logs = ExportLogsServiceRequest()
    record = logs.resource_logs.add().scope_logs.add().log_records.add()
    record.time_unix_nano = 1_750_000_000_000_000_000
    record.body.string_value = "a log line"
    record.trace_id = b"\x01" * 16
    record.span_id = b"\x02" * 8
    _bad_request(ingest, logs.SerializeToString(), PROTOBUF)
    json_logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]}
    assert "logs" in _bad_request(ingest, orjson.dumps(json_logs), JSON)
    json_metrics = {"resourceMetrics": []}
    assert "metrics" in _bad_request(ingest, orjson.dumps(json_metrics), JSON)
    _still_serving(ingest)


def test_corrupt_gzip_is_400(ingest: Ingest) -> None:
    message = _bad_request(ingest, b"\x1f\x8b\x08\x00garbage", {**PROTOBUF, "Content-Encoding": "gzip"})
    assert "gzip" in message
    truncated = gzip.compress(b"x" * 10_000)[:-20]
    assert "gzip" in _bad_request(ingest, truncated, {**PROTOBUF, "Content-Encoding": "gzip"})


def _small_limit(app: Any, limit: int) -> None:
    from dataclasses import replace

    service = app.state.ingest
    service.settings = replace(service.settings, max_body_bytes=limit)


def test_too_large_bodies_are_413(app: Any, ingest: Ingest) -> None:
    _small_limit(app, 10_000)
    headers = {**ingest.project.headers, **PROTOBUF}
    spans = [SpanSpec(trace_id(), span_id(), "x" * 1000) for _ in range(30)]
    body = encode_protobuf([ResourceSpec(spans)])
    assert len(body) > 10_000
    response = ingest.client.post(PATHS[0], content=body, headers=headers)
    assert response.status_code == 413 and "limit" in response.json()["message"]

    # chunked upload without Content-Length: counted while reading
    def chunks() -> Any:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    assert ingest.client.post(PATHS[0], content=chunks(), headers=headers).status_code == 413
    _still_serving(ingest)


def test_gzip_bomb_is_413(app: Any, ingest: Ingest) -> None:
    _small_limit(app, 1_000_000)
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    headers = {**ingest.project.headers, **PROTOBUF, "Content-Encoding": "gzip"}
    response = ingest.client.post(PATHS[0], content=bomb, headers=headers)
    assert response.status_code == 413 and "decompressed" in response.json()["message"]
    _still_serving(ingest)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"pk-proj-a:wrong").decode()],
)
def test_bad_keys_are_401(ingest: Ingest, authorization: str | None) -> None:
    tid, _, resources = _one_span()
    headers = dict(PROTOBUF)
    if authorization:
        headers["Authorization"] = authorization
    response = ingest.client.post(PATHS[0], content=encode_protobuf(resources), headers=headers)
    assert response.status_code == 401
    assert ingest.trace(tid) is None


def test_key_decides_the_project(ingest: Ingest, other_project: Any) -> None:
    tid, sid, resources = _one_span()
    headers = {**other_project.headers, **PROTOBUF}
    assert ingest.client.post(PATHS[0], content=encode_protobuf(resources), headers=headers).status_code == 200
    assert ingest.trace(tid) is None  # stored under the other project, invisible to this one


def test_full_queue_is_429_with_retry_after(app: Any, ingest: Ingest) -> None:
    writer = app.state.ingest.writer
    writer._pending_spans = writer._queue_spans  # as if that many spans were waiting for commit
    try:
        tid, _, resources = _one_span()
        headers = {**ingest.project.headers, **PROTOBUF}
        response = ingest.client.post(PATHS[0], content=encode_protobuf(resources), headers=headers)
        assert response.status_code == 429 and response.headers["retry-after"]
        assert ingest.trace(tid) is None
    finally:
        writer._pending_spans = 0
    _still_serving(ingest)


def test_nul_characters_are_stored_or_rejected_cleanly(ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    spans = [SpanSpec(tid, sid, "name\x00with nul", attributes={"user.id": "u\x00", "x": "a\x00b"})]
    response = ingest.post(spans, scope="third.party")
    assert response.status_code == 200, response.text
    assert ingest.observation(tid, sid)["name"].startswith("name")
    _still_serving(ingest)


def test_too_many_bodies_in_flight_is_429(app: Any, ingest: Ingest) -> None:
    budget = app.state.body_limits.budget
    budget.held = budget.limit  # as if other requests held the whole body budget
    try:
        tid, _, resources = _one_span()
        headers = {**ingest.project.headers, **PROTOBUF}
        response = ingest.client.post(PATHS[0], content=encode_protobuf(resources), headers=headers)
        assert response.status_code == 429 and response.headers["retry-after"] == "1"
        assert "request bodies" in response.json()["message"]
        assert ingest.trace(tid) is None
        assert budget.held == budget.limit  # what the refused request had taken is given back
    finally:
        budget.held = 0
    _still_serving(ingest)
    assert budget.held == 0
