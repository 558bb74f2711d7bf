"""OTLP/HTTP trace export bodies (protobuf or JSON) → plain span records.

Decoding is the CPU-heavy first step of ingestion, so it produces the simplest structure the
mapping needs: ids as lowercase hex, times as integer nanoseconds, attributes as plain dicts.
Any structural problem raises :class:`OtlpError` naming the span and the field, and the whole
export is rejected (the client gets a 400 it can act on instead of silently lost spans).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

STATUS_ERROR = 2
_EMPTY_PB_RESPONSE = ExportTraceServiceResponse().SerializeToString()


class OtlpError(ValueError):
    """The body is not a valid OTLP trace export; the message says what is wrong."""


@dataclass(slots=True)
class Resource:
    attributes: dict[str, Any]
    service_name: str | None
    derived: dict[str, Any] = field(default_factory=dict)  # mapping's per-resource facts, computed once


@dataclass(slots=True)
class Scope:
    name: str
    version: str
    attributes: dict[str, Any]


@dataclass(slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[SpanEvent]
    status_code: int
    status_message: str
    resource: Resource
    scope: Scope


def response_body(protobuf: bool) -> bytes:
    return _EMPTY_PB_RESPONSE if protobuf else b"{}"


# --- protobuf -----------------------------------------------------------------------------------

_PB_SCALARS = frozenset({"string_value", "bool_value", "int_value", "double_value"})


def _pb_value(value: Any) -> Any:
    # Most values are non-empty strings: reading string_value first skips the WhichOneof call (it
    # is "" when another kind is set, and an empty string is still resolved below).
    return value.string_value or _pb_kind_value(value)


def _pb_kind_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind in _PB_SCALARS:
        return getattr(value, kind)
    if kind == "array_value":
        return [_pb_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _pb_attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def _pb_attributes(items: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kv in items:
        value = kv.value  # each access builds a wrapper object: read it once
        result[kv.key] = value.string_value or _pb_kind_value(value)
    return result


def decode_protobuf(body: bytes) -> list[Span]:
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise OtlpError(f"body is not a protobuf ExportTraceServiceRequest: {exc}") from None
    spans: list[Span] = []
    index = 0
    for resource_spans in request.resource_spans:
        resource_attrs = _pb_attributes(resource_spans.resource.attributes)
        resource = Resource(resource_attrs, _service_name(resource_attrs))
        for scope_spans in resource_spans.scope_spans:
            pb_scope = scope_spans.scope
            scope = Scope(pb_scope.name, pb_scope.version, _pb_attributes(pb_scope.attributes))
            for pb in scope_spans.spans:
                trace_id = pb.trace_id
                span_id = pb.span_id
                parent = pb.parent_span_id
                if len(trace_id) != 16 or trace_id == b"\0" * 16:
                    raise OtlpError(_id_problem(index, "traceId", 16, len(trace_id)))
                if len(span_id) != 8 or span_id == b"\0" * 8:
                    raise OtlpError(_id_problem(index, "spanId", 8, len(span_id)))
                if parent and len(parent) != 8:
                    raise OtlpError(f"span {index}: parentSpanId must be 8 bytes or empty, got {len(parent)}")
                status = pb.status
                spans.append(
                    Span(
                        trace_id.hex(),
                        span_id.hex(),
                        parent.hex() if parent and parent != b"\0" * 8 else None,  # as _json_parent
                        pb.name,
                        pb.start_time_unix_nano,
                        pb.end_time_unix_nano,
                        _pb_attributes(pb.attributes),
                        [SpanEvent(e.name, e.time_unix_nano, _pb_attributes(e.attributes)) for e in pb.events],
                        status.code,
                        status.message,
                        resource,
                        scope,
                    )
                )
                index += 1
    return spans


def _id_problem(index: int, field: str, size: int, got: int) -> str:
    hint = " (is this an OTLP logs or metrics export? send it to the logs/metrics endpoint)" if got == 0 else ""
    return f"span {index}: {field} must be {size} non-zero bytes, got {got}{hint}"


def _service_name(attrs: dict[str, Any]) -> str | None:
    name = attrs.get("service.name")
    return str(name) if name is not None else None


# --- JSON ---------------------------------------------------------------------------------------

_OTHER_SIGNALS = {"resourceLogs": "logs", "resource_logs": "logs", "resourceMetrics": "metrics"}


def decode_json(body: bytes) -> list[Span]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpError(f"body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise OtlpError("body must be a JSON object with resourceSpans")
    for key, signal in _OTHER_SIGNALS.items():
        if key in document:
            raise OtlpError(f"body is an OTLP {signal} export ({key}); this endpoint accepts traces only")
    resource_spans_list = _list(document.get("resourceSpans", document.get("resource_spans")), "resourceSpans")
    spans: list[Span] = []
    for rs_index, resource_spans in enumerate(resource_spans_list):
        where = f"resourceSpans[{rs_index}]"
        resource_spans = _obj(resource_spans, where)
        resource_obj = _obj(resource_spans.get("resource") or {}, where + ".resource")
        resource_attrs = _json_attributes(resource_obj.get("attributes"), where + ".resource.attributes")
        resource = Resource(resource_attrs, _service_name(resource_attrs))
        scope_list = _list(resource_spans.get("scopeSpans", resource_spans.get("scope_spans")), where + ".scopeSpans")
        for ss_index, scope_spans in enumerate(scope_list):
            swhere = f"{where}.scopeSpans[{ss_index}]"
            scope_spans = _obj(scope_spans, swhere)
            scope_obj = _obj(scope_spans.get("scope") or {}, swhere + ".scope")
            scope = Scope(
                str(scope_obj.get("name") or ""),
                str(scope_obj.get("version") or ""),
                _json_attributes(scope_obj.get("attributes"), swhere + ".scope.attributes"),
            )
            for item in _list(scope_spans.get("spans"), swhere + ".spans"):
                spans.append(_json_span(item, len(spans), resource, scope))
    return spans


def _json_span(item: Any, index: int, resource: Resource, scope: Scope) -> Span:
    where = f"span {index}"
    span = _obj(item, where)
    trace_id = _json_id(span.get("traceId", span.get("trace_id")), 16, where, "traceId")
    span_id = _json_id(span.get("spanId", span.get("span_id")), 8, where, "spanId")
    raw_parent = span.get("parentSpanId", span.get("parent_span_id"))
    parent = _json_parent(raw_parent, where) if raw_parent else None
    events = []
    for e_index, raw_event in enumerate(_list(span.get("events"), where + ".events")):
        event = _obj(raw_event, f"{where}.events[{e_index}]")
        events.append(
            SpanEvent(
                str(event.get("name") or ""),
                _json_int(event.get("timeUnixNano"), where + ".events.timeUnixNano"),
                _json_attributes(event.get("attributes"), f"{where}.events[{e_index}].attributes"),
            )
        )
    status = _obj(span.get("status") or {}, where + ".status")
    return Span(
        trace_id,
        span_id,
        parent,
        str(span.get("name") or ""),
        _json_int(span.get("startTimeUnixNano"), where + ".startTimeUnixNano"),
        _json_int(span.get("endTimeUnixNano"), where + ".endTimeUnixNano"),
        _json_attributes(span.get("attributes"), where + ".attributes"),
        events,
        _status_code(status.get("code")),
        str(status.get("message") or ""),
        resource,
        scope,
    )


def _json_id(value: Any, size: int, where: str, field: str) -> str:
    """A trace or span id: ``size`` bytes, not all zeros (OTLP's invalid id), as lowercase hex."""
    raw = _json_id_bytes(value, size, where, field)
    if raw == b"\0" * size:
        raise OtlpError(f"{where}: {field} must be {size} non-zero bytes as hex, got {value[:80]!r}")
    return raw.hex()


def _json_parent(value: Any, where: str) -> str | None:
    """A parent span id, as protobuf's: empty or all zeros (OTLP's invalid span id) is no parent."""
    raw = _json_id_bytes(value, 8, where, "parentSpanId")
    return None if raw == b"\0" * 8 else raw.hex()


def _json_id_bytes(value: Any, size: int, where: str, field: str) -> bytes:
    """OTLP/JSON ids are hex; base64 (protobuf's JSON mapping, used by some exporters) is tolerated."""
    if not isinstance(value, str) or not value:
        raise OtlpError(f"{where}: {field} is missing (is this an OTLP trace export?)")
    if len(value) == size * 2:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != size:
        raise OtlpError(f"{where}: {field} must be {size} bytes as hex, got {value[:80]!r}")
    return raw


def _json_int(value: Any, where: str, *, signed: bool = False) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise OtlpError(f"{where}: expected an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise OtlpError(f"{where}: expected an integer, got {str(value)[:80]!r}") from None
    low, high = (-(2**63), 2**63) if signed else (0, 2**64)  # OTLP's int64 / fixed64
    if not low <= number < high:
        raise OtlpError(f"{where}: {str(value)[:80]} is out of range")
    return number


def _status_code(value: Any) -> int:
    if isinstance(value, str):
        return {"STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}.get(value, 0)
    return value if isinstance(value, int) else 0


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OtlpError(f"{where} must be an array")
    return value


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OtlpError(f"{where} must be an object")
    return value


def _json_attributes(value: Any, where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in _list(value, where):
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str):
            raise OtlpError(f"{where}: each attribute must be an object with a string key")
        raw = item.get("value")
        if isinstance(raw, dict) and "stringValue" in raw:  # the common case, without a call
            result[key] = raw["stringValue"]
        else:
            result[key] = _json_value(raw, where)
    return result


def _json_value(value: Any, where: str) -> Any:
    if not isinstance(value, dict) or not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return _json_int(value["intValue"], where, signed=True)
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "doubleValue" in value:
        raw = value["doubleValue"]
        if not isinstance(raw, (int, float, str)) or isinstance(raw, bool):
            return None
        try:
            return float(raw)  # also "NaN" and "Infinity", as the OTLP/JSON mapping writes them
        except ValueError:
            raise OtlpError(f"{where}: doubleValue must be a number, got {str(raw)[:40]!r}") from None
    if "arrayValue" in value:
        inner = _obj(value["arrayValue"] or {}, where + " arrayValue")
        return [_json_value(v, where) for v in _list(inner.get("values"), where)]
    if "kvlistValue" in value:
        inner = _obj(value["kvlistValue"] or {}, where + " kvlistValue")
        return _json_attributes(inner.get("values"), where)
    if "bytesValue" in value:
        return value["bytesValue"]
    return None
