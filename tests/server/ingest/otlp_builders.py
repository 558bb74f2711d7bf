"""Build OTLP trace exports for tests and benchmarks: one description, protobuf or JSON encoding."""

from __future__ import annotations

import base64
import gzip
import os
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

BASE_NS = 1_750_000_000_000_000_000  # 2025-06-15, a fixed time so tests are deterministic


def trace_id() -> str:
    return os.urandom(16).hex()


def span_id() -> str:
    return os.urandom(8).hex()


@dataclass
class SpanSpec:
    trace_id: str
    span_id: str
    name: str = "span"
    parent_id: str | None = None
    start_ns: int = BASE_NS
    end_ns: int = BASE_NS + 1_000_000
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    status_code: int = 0
    status_message: str = ""


@dataclass
class ResourceSpec:
    spans: list[SpanSpec]
    attributes: dict[str, Any] = field(default_factory=lambda: {"service.name": "test-service"})
    scope_name: str = "interactiveai"
    scope_version: str = "0.1.0"


def _set_value(target: AnyValue, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, (list, tuple)):
        array = target.array_value
        for item in value:
            _set_value(array.values.add(), item)
    elif isinstance(value, dict):
        kvlist = target.kvlist_value
        for key, item in value.items():
            kv = kvlist.values.add()
            kv.key = key
            _set_value(kv.value, item)
    else:
        raise TypeError(type(value))


def _set_attributes(target: Any, attributes: dict[str, Any]) -> None:
    for key, value in attributes.items():
        kv = target.add()
        kv.key = key
        _set_value(kv.value, value)


def to_request(resources: list[ResourceSpec]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for resource in resources:
        rs = request.resource_spans.add()
        _set_attributes(rs.resource.attributes, resource.attributes)
        ss = rs.scope_spans.add()
        ss.scope.name = resource.scope_name
        ss.scope.version = resource.scope_version
        for spec in resource.spans:
            pb = ss.spans.add()
            pb.trace_id = bytes.fromhex(spec.trace_id)
            pb.span_id = bytes.fromhex(spec.span_id)
            if spec.parent_id:
                pb.parent_span_id = bytes.fromhex(spec.parent_id)
            pb.name = spec.name
            pb.kind = 1
            pb.start_time_unix_nano = spec.start_ns
            pb.end_time_unix_nano = spec.end_ns
            _set_attributes(pb.attributes, spec.attributes)
            for name, time_ns, attrs in spec.events:
                event = pb.events.add()
                event.name = name
                event.time_unix_nano = time_ns
                _set_attributes(event.attributes, attrs)
            pb.status.code = spec.status_code
            pb.status.message = spec.status_message
    return request


def encode_protobuf(resources: list[ResourceSpec]) -> bytes:
    return to_request(resources).SerializeToString()


def _json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _json_attributes(value)}}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    raise TypeError(type(value))


def _json_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _json_value(v)} for k, v in attributes.items()]


def to_json_document(resources: list[ResourceSpec]) -> dict[str, Any]:
    """OTLP/JSON: hex ids, int64 as strings, camelCase field names."""
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _json_attributes(r.attributes)},
                "scopeSpans": [
                    {
                        "scope": {"name": r.scope_name, "version": r.scope_version},
                        "spans": [
                            {
                                "traceId": s.trace_id,
                                "spanId": s.span_id,
                                **({"parentSpanId": s.parent_id} if s.parent_id else {}),
                                "name": s.name,
                                "kind": 1,
                                "startTimeUnixNano": str(s.start_ns),
                                "endTimeUnixNano": str(s.end_ns),
                                "attributes": _json_attributes(s.attributes),
                                "events": [
                                    {"name": n, "timeUnixNano": str(t), "attributes": _json_attributes(a)}
                                    for n, t, a in s.events
                                ],
                                "status": {"code": s.status_code, "message": s.status_message},
                            }
                            for s in r.spans
                        ],
                    }
                ],
            }
            for r in resources
        ]
    }


def encode_json(resources: list[ResourceSpec]) -> bytes:
    return orjson.dumps(to_json_document(resources))


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=1)


def realistic_trace(
    tid: str | None = None, *, generations: int = 2, tools: int = 2, start_ns: int | None = None
) -> list[SpanSpec]:
    """A request as the SDK sends it: a root span, generations with usage and cost, tool calls."""
    tid = tid or trace_id()
    start = start_ns if start_ns is not None else time.time_ns()
    root = SpanSpec(
        tid,
        span_id(),
        "handle-request",
        start_ns=start,
        end_ns=start + 2_000_000_000,
        attributes={
            "interactiveai.observation.type": "agent",
            "interactiveai.observation.input": '{"question": "What is the weather in Paris?"}',
            "interactiveai.observation.output": '{"answer": "Sunny, 24 degrees."}',
            "interactiveai.trace.name": "weather-agent",
            "interactiveai.trace.tags": ["prod", "weather"],
            "interactiveai.trace.metadata.tenant": '"acme"',
            "user.id": "user-42",
            "session.id": "session-7",
            "interactiveai.environment": "production",
            "interactiveai.release": "v1.2.3",
        },
    )
    spans = [root]
    offset = 10_000_000
    for index in range(generations):
        spans.append(
            SpanSpec(
                tid,
                span_id(),
                f"llm-call-{index}",
                parent_id=root.span_id,
                start_ns=start + offset,
                end_ns=start + offset + 500_000_000,
                attributes={
                    "interactiveai.observation.type": "generation",
                    "interactiveai.observation.model.name": "gpt-4o-mini",
                    "interactiveai.observation.model.parameters": '{"temperature": 0.2, "max_tokens": 512}',
                    "interactiveai.observation.input": orjson.dumps(
                        [
                            {"role": "system", "content": "You are a helpful weather assistant."},
                            {"role": "user", "content": "What is the weather in Paris today?"},
                        ]
                    ).decode(),
                    "interactiveai.observation.output": '{"role": "assistant", "content": "Let me check the weather."}',
                    "interactiveai.observation.usage_details": '{"input": 120, "output": 30, "total": 150}',
                    "interactiveai.observation.cost_details": '{"input": 0.00018, "output": 0.00018}',
                    "interactiveai.observation.metadata.attempt": "1",
                    "interactiveai.environment": "production",
                },
            )
        )
        offset += 510_000_000
    for index in range(tools):
        spans.append(
            SpanSpec(
                tid,
                span_id(),
                f"get_weather-{index}",
                parent_id=root.span_id,
                start_ns=start + offset,
                end_ns=start + offset + 50_000_000,
                attributes={
                    "interactiveai.observation.type": "tool",
                    "interactiveai.observation.input": '{"city": "Paris"}',
                    "interactiveai.observation.output": '{"temperature": 24, "sky": "sunny"}',
                    "interactiveai.environment": "production",
                },
            )
        )
        offset += 60_000_000
    return spans
