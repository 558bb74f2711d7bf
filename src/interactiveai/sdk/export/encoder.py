"""Ended OTel spans to an OTLP/JSON ``ExportTraceServiceRequest`` body.

OTLP/JSON (the protobuf JSON mapping with OTLP's two deviations: trace and span ids are lowercase
hex, enums are integers) is standard OTLP that every receiver accepts, and here it is the cheapest
encoding to produce from Python: building plain dicts and handing them to orjson (C) costs a few
microseconds per span, where a pure-Python protobuf writer spends that on varints and byte
concatenation alone. ``docs/benchmarks.md`` has the measurements behind the choice.

Per protojson, 64-bit integers (timestamps, ``intValue``) are JSON strings so no JSON parser loses
precision; NaN and infinities are the strings protojson uses, not ``null``.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

__all__ = ["encode_any_value", "encode_attributes", "encode_spans", "spans_to_request"]

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

JsonObject = dict[str, Any]


def _double(value: float) -> float | str:
    # orjson writes NaN/inf as null, which a receiver would read as "no value"; protojson spells them out.
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def encode_any_value(value: object) -> JsonObject:
    """One attribute value as an OTLP ``AnyValue`` JSON object.

    Ints outside int64 (OTel accepts any Python int, OTLP cannot carry it) become their decimal
    string rather than an invalid request that would lose the whole batch.
    """
    kind = type(value)
    if kind is str:
        return {"stringValue": value}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        number: int = value  # type: ignore[assignment]
        if _INT64_MIN <= number <= _INT64_MAX:
            return {"intValue": str(number)}
        return {"stringValue": str(number)}
    if kind is float:
        return {"doubleValue": _double(value)}  # type: ignore[arg-type]
    # Subclasses and rarer shapes take the slow path; the common scalars returned above.
    if isinstance(value, str):
        return {"stringValue": str(value)}
    if isinstance(value, bool):
        return {"boolValue": bool(value)}
    if isinstance(value, int):
        return encode_any_value(int(value))
    if isinstance(value, float):
        return {"doubleValue": _double(float(value))}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytesValue": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": encode_attributes(value)}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [encode_any_value(item) for item in value]}}
    if value is None:
        return {}
    return {"stringValue": str(value)}


def encode_attributes(attributes: Mapping[str, object] | None) -> list[JsonObject]:
    """Attributes as a list of OTLP ``KeyValue`` objects (the hot loop of the encoder)."""
    if not attributes:
        return []
    out: list[JsonObject] = []
    append = out.append
    for key, value in attributes.items():
        # Inline the two most common types: this loop runs ~10 times per span.
        kind = type(value)
        if kind is str:
            append({"key": key, "value": {"stringValue": value}})
        elif kind is int and _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            append({"key": key, "value": {"intValue": str(value)}})
        else:
            append({"key": key, "value": encode_any_value(value)})
    return out


def _encode_resource(resource: Resource) -> JsonObject:
    encoded: JsonObject = {"attributes": encode_attributes(resource.attributes)}
    return encoded


def _encode_scope(scope: InstrumentationScope | None) -> JsonObject:
    if scope is None:
        return {"name": ""}
    encoded: JsonObject = {"name": scope.name}
    if scope.version:
        encoded["version"] = scope.version
    if scope.attributes:
        encoded["attributes"] = encode_attributes(scope.attributes)
    return encoded


def _encode_span(span: ReadableSpan) -> JsonObject:
    context = span.context
    encoded: JsonObject = {
        "traceId": format(context.trace_id, "032x"),
        "spanId": format(context.span_id, "016x"),
        "name": span.name,
        # The Python SpanKind starts at INTERNAL=0; the OTLP enum reserves 0 for UNSPECIFIED.
        "kind": span.kind.value + 1,
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": encode_attributes(span.attributes),
    }
    trace_state = context.trace_state
    if trace_state:
        encoded["traceState"] = trace_state.to_header()
    parent = span.parent
    # Bits 8-9 of flags say whether the parent is remote, as the stock exporter sends them.
    flags = int(context.trace_flags) | 0x100
    if parent is not None:
        encoded["parentSpanId"] = format(parent.span_id, "016x")
        if parent.is_remote:
            flags |= 0x200
    encoded["flags"] = flags
    dropped = span.dropped_attributes
    if dropped:
        encoded["droppedAttributesCount"] = dropped
    events = span.events
    if events:
        encoded["events"] = [_encode_event(event) for event in events]
    dropped = span.dropped_events
    if dropped:
        encoded["droppedEventsCount"] = dropped
    links = span.links
    if links:
        encoded["links"] = [_encode_link(link) for link in links]
    dropped = span.dropped_links
    if dropped:
        encoded["droppedLinksCount"] = dropped
    status = span.status
    code = status.status_code.value
    if code or status.description:
        status_json: JsonObject = {"code": code}
        if status.description:
            status_json["message"] = status.description
        encoded["status"] = status_json
    else:
        encoded["status"] = {}
    return encoded


def _encode_event(event: Any) -> JsonObject:
    encoded: JsonObject = {
        "timeUnixNano": str(event.timestamp),
        "name": event.name,
        "attributes": encode_attributes(event.attributes),
    }
    dropped = getattr(event, "dropped_attributes", 0)
    if dropped:
        encoded["droppedAttributesCount"] = dropped
    return encoded


def _encode_link(link: Any) -> JsonObject:
    context = link.context
    encoded: JsonObject = {
        "traceId": format(context.trace_id, "032x"),
        "spanId": format(context.span_id, "016x"),
        "attributes": encode_attributes(link.attributes),
        "flags": int(context.trace_flags) | (0x300 if context.is_remote else 0x100),
    }
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    dropped = getattr(link, "dropped_attributes", 0)
    if dropped:
        encoded["droppedAttributesCount"] = dropped
    return encoded


def spans_to_request(spans: Sequence[ReadableSpan]) -> JsonObject:
    """Group spans by resource, then scope, as OTLP requires, and encode them."""
    # Group by object identity: a provider shares one Resource and one scope object per tracer, and
    # hashing a Resource (its attributes) per span would cost more than encoding the span.
    resources: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None, list[JsonObject]]]]] = {}
    for span in spans:
        resource = span.resource
        group = resources.get(id(resource))
        if group is None:
            group = resources[id(resource)] = (resource, {})
        scope = span.instrumentation_scope
        scope_group = group[1].get(id(scope))
        if scope_group is None:
            scope_group = group[1][id(scope)] = (scope, [])
        scope_group[1].append(_encode_span(span))
    resource_spans: list[JsonObject] = []
    for resource, scopes in resources.values():
        scope_spans: list[JsonObject] = []
        for scope, encoded_spans in scopes.values():
            entry: JsonObject = {"scope": _encode_scope(scope), "spans": encoded_spans}
            if scope is not None and scope.schema_url:
                entry["schemaUrl"] = scope.schema_url
            scope_spans.append(entry)
        resource_entry: JsonObject = {"resource": _encode_resource(resource), "scopeSpans": scope_spans}
        if resource.schema_url:
            resource_entry["schemaUrl"] = resource.schema_url
        resource_spans.append(resource_entry)
    return {"resourceSpans": resource_spans}


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """The OTLP/JSON request body (UTF-8 bytes) for ``spans``."""
    return orjson.dumps(spans_to_request(spans))
