"""OTLP/JSON as Python objects: the readable reference encoding, and the fallback of the fast one.

``encoder.py`` writes the same JSON text directly, which is ~2x cheaper in the export thread; this
module builds the ``ExportTraceServiceRequest`` as dicts and lists. Tests check that the two
agree, and the fast encoder falls back to this one for a span or value it does not handle.

OTLP/JSON is the protobuf JSON mapping with OTLP's deviations: trace and span ids are lowercase
hex and enums are integers. Per protojson, 64-bit integers (timestamps, ``intValue``) are JSON
strings so no JSON parser loses precision; NaN and infinities are the strings protojson uses.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, Status, StatusCode

__all__ = ["attribute_items", "encode_any_value", "encode_attributes", "encode_span", "spans_to_request"]

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


def attribute_items(attributes: Mapping[str, object]) -> Iterable[tuple[str, object]]:
    """Iterate attributes; fast for OTel's BoundedAttributes."""
    # OTel's BoundedAttributes is a MutableMapping over a private dict: iterating it through the
    # Mapping ABC costs ~7x iterating the dict (one Python-level __getitem__ per key). Read the
    # dict when it is there, else take the public path; the round-trip tests pin this.
    inner = getattr(attributes, "_dict", None)
    if type(inner) is dict:
        return inner.items()
    return attributes.items()


def encode_attributes(attributes: Mapping[str, object] | None) -> list[JsonObject]:
    """Attributes as a list of OTLP ``KeyValue`` objects (the hot loop of the encoder)."""
    if not attributes:
        return []
    out: list[JsonObject] = []
    append = out.append
    for key, value in attribute_items(attributes):
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


_KIND = {SpanKind.INTERNAL: 1, SpanKind.SERVER: 2, SpanKind.CLIENT: 3, SpanKind.PRODUCER: 4, SpanKind.CONSUMER: 5}
"""Python SpanKind -> OTLP enum (which reserves 0 for UNSPECIFIED)."""


def _hex_trace_id(trace_id: int) -> str:
    return trace_id.to_bytes(16, "big").hex()  # ~2x faster than format(x, "032x")


def _hex_span_id(span_id: int) -> str:
    return span_id.to_bytes(8, "big").hex()


def _encode_status(status: Status) -> JsonObject:
    code = status.status_code
    description = status.description
    if code is StatusCode.UNSET and not description:
        return {}
    encoded: JsonObject = {"code": code.value}
    if description:
        encoded["message"] = description
    return encoded


def encode_span(span: ReadableSpan) -> JsonObject:
    """One span as an OTLP ``Span`` JSON object, through the public ReadableSpan API only."""
    context = span.context
    if context is None:
        raise ValueError(f"span {span.name!r} has no span context")
    encoded: JsonObject = {
        "traceId": _hex_trace_id(context.trace_id),
        "spanId": _hex_span_id(context.span_id),
        "name": span.name,
        "kind": _KIND.get(span.kind, 0),
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": encode_attributes(span.attributes),
    }
    flags = context.trace_flags | 0x100
    parent = span.parent
    if parent is not None:
        encoded["parentSpanId"] = _hex_span_id(parent.span_id)
        if parent.is_remote:
            flags |= 0x200
    encoded["flags"] = flags
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    for key, count in (
        ("droppedAttributesCount", span.dropped_attributes),
        ("droppedEventsCount", span.dropped_events),
        ("droppedLinksCount", span.dropped_links),
    ):
        if count:
            encoded[key] = count
    if span.events:
        encoded["events"] = [_encode_event(event) for event in span.events]
    if span.links:
        encoded["links"] = [_encode_link(link) for link in span.links]
    encoded["status"] = _encode_status(span.status)
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
        "traceId": _hex_trace_id(context.trace_id),
        "spanId": _hex_span_id(context.span_id),
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
        scope_group[1].append(encode_span(span))
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
