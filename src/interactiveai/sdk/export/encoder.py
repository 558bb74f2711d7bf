"""Ended OTel spans to an OTLP/JSON ``ExportTraceServiceRequest`` body, written as text directly.

OTLP/JSON is standard OTLP that every receiver accepts, and it is the cheapest encoding to produce
from Python. Measured in the export thread (``docs/benchmarks.md``): the stock protobuf encoder
costs ~15 µs per small span; dicts + orjson ~4 µs; writing the JSON text with f-strings and the
C string escaper ~2 µs. Text also creates no dicts or lists per attribute, so the encoder does
not trigger the garbage collections that would otherwise land on whichever thread allocates next
(often the application's).

The output is exactly what ``otlp_objects`` builds as dicts (a test holds them equal); a span or
value this module does not handle is encoded by ``otlp_objects`` instead, and a span that cannot
be encoded at all is skipped and counted rather than failing its whole batch.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, StatusCode

from interactiveai.sdk.export.otlp_objects import attribute_items, encode_any_value, encode_span

__all__ = [
    "MAX_REQUEST_BYTES",
    "EncodedBatch",
    "encode_batch",
    "encode_fragments",
    "encode_spans",
    "encode_spans_text",
    "request_body",
]

logger = logging.getLogger("interactiveai.sdk.export")

_escape: Callable[[str], str] = json.encoder.encode_basestring
"""JSON string literal (quotes included), C-accelerated; non-ASCII stays as is (UTF-8 on the wire)."""

_LONG_STRING = 100
"""From this length on, strings are escaped by orjson: its SIMD scan costs ~0.4 µs for 10 KB of
plain text where the stdlib escaper costs ~18 µs (at 2-3x less for text with many escapes or
non-ASCII). Inputs and outputs (LLM prompts and answers) are the long strings of a span."""


def _escape_long(value: str) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # lone surrogates: orjson refuses them, the stdlib escaper does not
        return _escape(value)


_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_KIND = {SpanKind.INTERNAL: 1, SpanKind.SERVER: 2, SpanKind.CLIENT: 3, SpanKind.PRODUCER: 4, SpanKind.CONSUMER: 5}
# Enum member lookups on the class cost ~100 ns each on Python 3.11; module constants cost ~7.
_INTERNAL = SpanKind.INTERNAL
_UNSET = StatusCode.UNSET

_key_prefixes: dict[str, str] = {}
"""'{"key":"<escaped>","value":' per attribute key: keys repeat across spans, escaping them once pays."""
_KEY_CACHE_LIMIT = 4096


def _key_prefix(key: str) -> str:
    prefix = f'{{"key":{_escape(key)},"value":'
    if len(_key_prefixes) < _KEY_CACHE_LIMIT:  # bounded: keys built from user data must not leak memory
        _key_prefixes[key] = prefix
    return prefix


def _value_json(value: object) -> str:
    """The slow path: anything but str, bool, int64 and finite float, via the reference encoder."""
    return json.dumps(encode_any_value(value), ensure_ascii=False, separators=(",", ":"))


def _attributes_json(attributes: Mapping[str, object] | None) -> str:
    """The comma-separated ``KeyValue`` objects (without brackets)."""
    if not attributes:
        return ""
    parts: list[str] = []
    append = parts.append
    prefixes = _key_prefixes
    for key, value in attribute_items(attributes):
        prefix = prefixes.get(key) or _key_prefix(key)
        kind = type(value)
        if kind is str:
            text = _escape(value) if len(value) < _LONG_STRING else _escape_long(value)  # type: ignore[arg-type]
            append(f'{prefix}{{"stringValue":{text}}}}}')
        elif kind is bool:
            append(prefix + ('{"boolValue":true}}' if value else '{"boolValue":false}}'))
        elif kind is int and _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            append(f'{prefix}{{"intValue":"{value}"}}}}')
        elif kind is float and math.isfinite(value):  # type: ignore[arg-type]
            append(f'{prefix}{{"doubleValue":{value!r}}}}}')  # repr of a finite float is valid JSON
        else:
            append(f"{prefix}{_value_json(value)}}}")
    return ",".join(parts)


def _status_json(status: Any) -> str:
    code = status.status_code
    description = status.description
    if code is _UNSET and not description:
        return "{}"
    if description:
        return f'{{"code":{code.value},"message":{_escape(description)}}}'
    return f'{{"code":{code.value}}}'


def _event_json(event: Any) -> str:
    dropped = getattr(event.attributes, "dropped", 0)
    tail = f',"droppedAttributesCount":{dropped}' if dropped else ""
    return (
        f'{{"timeUnixNano":"{event.timestamp}","name":{_escape(event.name)},'
        f'"attributes":[{_attributes_json(event.attributes)}]{tail}}}'
    )


def _link_json(link: Any) -> str:
    context = link.context
    flags = context.trace_flags | (0x300 if context.is_remote else 0x100)
    tail = f',"traceState":{_escape(context.trace_state.to_header())}' if context.trace_state else ""
    dropped = getattr(link.attributes, "dropped", 0)
    if dropped:
        tail += f',"droppedAttributesCount":{dropped}'
    return (
        f'{{"traceId":"{context.trace_id.to_bytes(16, "big").hex()}",'
        f'"spanId":"{context.span_id.to_bytes(8, "big").hex()}",'
        f'"attributes":[{_attributes_json(link.attributes)}],"flags":{flags}{tail}}}'
    )


def _span_json(span: ReadableSpan) -> str:
    # This function is most of the export thread's CPU, so it reads the fields the SDK's
    # ReadableSpan.__init__ sets instead of the public properties, which copy on every access
    # (attributes into a MappingProxyType, events and links into tuples), and unpacks SpanContext,
    # a 6-tuple, instead of calling one property per field. Anything unexpected raises and the
    # span takes the reference encoder; a test holds the two encoders equal.
    trace_id, span_id, _, trace_flags, trace_state, _ = span._context  # type: ignore[misc]
    parent = span._parent
    attributes = span._attributes
    events = getattr(span._events, "_dq", span._events)  # BoundedList's deque: no Python-level len()
    links = getattr(span._links, "_dq", span._links)
    kind = span._kind
    flags = trace_flags | 0x100  # bit 8: "parent remoteness is known"; bits 0-7: W3C trace flags
    status = span._status
    # Unset and no message (almost every span): skip the two Status properties.
    status_json = "{}" if status._status_code is _UNSET and not status._description else _status_json(status)
    head = f'{{"traceId":"{trace_id.to_bytes(16, "big").hex()}","spanId":"{span_id.to_bytes(8, "big").hex()}"'
    if parent is not None:
        head += f',"parentSpanId":"{parent[1].to_bytes(8, "big").hex()}"'
        if parent[2]:  # is_remote
            flags |= 0x200
    tail = ""
    if trace_state:
        tail += f',"traceState":{_escape(trace_state.to_header())}'
    dropped = getattr(attributes, "dropped", 0)
    if dropped:
        tail += f',"droppedAttributesCount":{dropped}'
    if events:
        tail += f',"events":[{",".join(_event_json(event) for event in events)}]'
    dropped = getattr(span._events, "dropped", 0)
    if dropped:
        tail += f',"droppedEventsCount":{dropped}'
    if links:
        tail += f',"links":[{",".join(_link_json(link) for link in links)}]'
    dropped = getattr(span._links, "dropped", 0)
    if dropped:
        tail += f',"droppedLinksCount":{dropped}'
    return (
        f'{head},"name":{_escape(span._name)},"kind":{1 if kind is _INTERNAL else _KIND.get(kind, 0)},'
        f'"startTimeUnixNano":"{span._start_time or 0}","endTimeUnixNano":"{span._end_time or 0}",'
        f'"attributes":[{_attributes_json(attributes)}],"flags":{flags}{tail},"status":{status_json}}}'
    )


def _span_bytes(span: ReadableSpan) -> bytes | None:
    """One span's OTLP/JSON as UTF-8: the text path, else the reference path (public API + orjson)."""
    try:
        return _to_bytes(_span_json(span))
    except Exception:
        pass
    try:
        reference = encode_span(span)
    except Exception:
        logger.exception("interactiveai: span %r cannot be encoded as OTLP; it is skipped", getattr(span, "name", "?"))
        return None
    try:
        return orjson.dumps(reference)
    except orjson.JSONEncodeError:  # lone surrogates (or an exotic value): the stdlib and replacement
        return _to_bytes(json.dumps(reference, ensure_ascii=False, separators=(",", ":"), default=str))


def _resource_json(resource: Resource) -> str:
    return f'{{"attributes":[{_attributes_json(resource.attributes)}]}}'


def _scope_json(scope: InstrumentationScope | None) -> str:
    if scope is None:
        return '{"name":""}'
    text = f'{{"name":{_escape(scope.name)}'
    if scope.version:
        text += f',"version":{_escape(scope.version)}'
    if scope.attributes:
        text += f',"attributes":[{_attributes_json(scope.attributes)}]'
    return text + "}"


MAX_REQUEST_BYTES = 8 * 1024 * 1024
"""Most span bytes in one request (before gzip): well below the 20 MiB the server accepts, and below
what proxies in between commonly refuse. A batch with big inputs/outputs is split into several
requests instead of being refused whole (HTTP 413)."""


@dataclass
class EncodedBatch:
    """The requests (or fragments, see ``encode_fragments``) for one batch of spans, and what could
    not be put in any."""

    bodies: list[bytes] = field(default_factory=list)
    """OTLP/JSON request bodies (UTF-8), or fragments of one, each at most ``MAX_REQUEST_BYTES`` of spans."""
    span_counts: list[int] = field(default_factory=list)
    """Spans in each body."""
    skipped: int = 0
    """Spans that could not be encoded, or that alone exceed the request limit."""


def _to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate in some string (possible in Python, invalid in UTF-8): replace it rather
        # than lose the span.
        return text.encode("utf-8", "replace")


_REQUEST_HEAD = b'{"resourceSpans":['
_REQUEST_TAIL = b"]}"


def request_body(fragments: Sequence[bytes]) -> bytes:
    """One ``ExportTraceServiceRequest`` holding every ``ResourceSpans`` of ``fragments`` (one copy).

    A resource may then appear in several ``ResourceSpans`` entries: OTLP allows it (the field is
    repeated and receivers take each entry on its own), and it costs a few bytes per fragment.
    """
    return b"".join((_REQUEST_HEAD, b",".join(fragments), _REQUEST_TAIL))


def _assemble(entries: list[tuple[ReadableSpan, bytes]]) -> bytes:
    return b"".join((_REQUEST_HEAD, _fragment(entries), _REQUEST_TAIL))


def _fragment(entries: list[tuple[ReadableSpan, bytes]]) -> bytes:
    """The comma-separated ``ResourceSpans`` objects of ``entries``, grouped by resource then scope."""
    # Group by object identity: a provider shares one Resource and one scope object per tracer, and
    # hashing a Resource (its attributes) per span would cost more than encoding the span.
    groups: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None, list[bytes]]]]] = {}
    for span, body in entries:
        resource = span.resource  # properties, but no copies: these two just return the field
        group = groups.get(id(resource))
        if group is None:
            group = groups[id(resource)] = (resource, {})
        scope = span.instrumentation_scope
        scope_group = group[1].get(id(scope))
        if scope_group is None:
            scope_group = group[1][id(scope)] = (scope, [])
        scope_group[1].append(body)
    # One flat list and one join: the spans are copied once, however big they are.
    parts: list[bytes] = []
    for r, (resource, scopes) in enumerate(groups.values()):
        head = f'{{"resource":{_resource_json(resource)},"scopeSpans":['
        parts.append(_to_bytes(head if r == 0 else "," + head))
        for i, (scope, bodies) in enumerate(scopes.values()):
            head = f'{{"scope":{_scope_json(scope)},"spans":['
            parts.append(_to_bytes(head if i == 0 else "," + head))
            parts.append(bodies[0])
            for body in bodies[1:]:
                parts += (b",", body)
            schema = f',"schemaUrl":{_escape(scope.schema_url)}' if scope is not None and scope.schema_url else ""
            parts.append(_to_bytes(f"]{schema}}}"))
        schema = f',"schemaUrl":{_escape(resource.schema_url)}' if resource.schema_url else ""
        parts.append(_to_bytes(f"]{schema}}}"))
    return b"".join(parts)


def encode_batch(spans: Sequence[ReadableSpan], max_request_bytes: int = MAX_REQUEST_BYTES) -> EncodedBatch:
    """Encode ``spans`` into as few requests as the size limit allows, in span order."""
    return _encode(spans, max_request_bytes, _assemble)


def encode_fragments(spans: Sequence[ReadableSpan], max_request_bytes: int = MAX_REQUEST_BYTES) -> EncodedBatch:
    """``encode_batch``, but each body is a fragment for ``request_body``: fragments of several
    batches can go out in one request (the sender merges what waits while a request is in flight)."""
    return _encode(spans, max_request_bytes, _fragment)


def _encode(
    spans: Sequence[ReadableSpan], max_request_bytes: int, assemble: Callable[[list[tuple[ReadableSpan, bytes]]], bytes]
) -> EncodedBatch:
    result = EncodedBatch()
    chunk: list[tuple[ReadableSpan, bytes]] = []
    chunk_bytes = 0
    for span in spans:
        body = _span_bytes(span)
        if body is None:
            result.skipped += 1
            continue
        size = len(body)
        if size > max_request_bytes:
            logger.warning(
                "interactiveai: span %r is %d bytes of OTLP/JSON, over the %d a request may carry; "
                "it is dropped (cap the size of its inputs/outputs)",
                span.name,
                size,
                max_request_bytes,
            )
            result.skipped += 1
            continue
        if chunk and chunk_bytes + size > max_request_bytes:
            result.bodies.append(assemble(chunk))
            result.span_counts.append(len(chunk))
            chunk, chunk_bytes = [], 0
        chunk.append((span, body))
        chunk_bytes += size
    if chunk:
        result.bodies.append(assemble(chunk))
        result.span_counts.append(len(chunk))
    return result


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """One OTLP/JSON request body (UTF-8) for all of ``spans`` (no size limit)."""
    return _assemble([(span, body) for span in spans if (body := _span_bytes(span)) is not None])


def encode_spans_text(spans: Sequence[ReadableSpan]) -> tuple[str, int]:
    """``encode_spans`` as text, and how many spans it holds (for tests and debugging)."""
    entries = [(span, body) for span in spans if (body := _span_bytes(span)) is not None]
    return _assemble(entries).decode("utf-8"), len(entries)
