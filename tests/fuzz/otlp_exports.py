"""OTLP/HTTP bodies from the export model (``otlp_strategies``): protobuf, JSON, and the wire.

- JSON only: ids, ints and times of the wrong type or form, enum names, NaN/Infinity, unknown and
  snake_case fields, wrong container types, lone surrogates; values of any JSON type where the
  decoder passes them on (``stringValue``: 7);
- the wire: gzip, truncation, a flipped byte, trailing garbage, invalid UTF-8 in strings, the
  other encoding's content type.

Each body comes as an ``Export``: path, headers and body, which is all a repro needs.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.fuzz.otlp_strategies import (
    BAD_UTF8,
    BAD_UTF8_BYTES,
    PATHS,
    Deep,
    Empty,
    KvList,
    ResourceModel,
    SpanModel,
    exports,
)

# --- protobuf -----------------------------------------------------------------------------------


def _pb_value(target: AnyValue, value: Any, max_depth: int) -> None:
    if isinstance(value, Empty):
        return
    if isinstance(value, Deep):
        target.CopyFrom(Deep(min(value.depth, max_depth), value.kind).protobuf())
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, KvList):
        kvlist = target.kvlist_value
        kvlist.SetInParent()
        for key, item in value:
            kv = kvlist.values.add()
            kv.key = key
            _pb_value(kv.value, item, max_depth)
    elif isinstance(value, list):
        array = target.array_value
        array.SetInParent()
        for item in value:
            _pb_value(array.values.add(), item, max_depth)
    else:
        raise TypeError(type(value))


def _pb_attributes(target: Any, attrs: list[tuple[str, Any]], max_depth: int) -> None:
    for key, value in attrs:
        kv = target.add()
        kv.key = key
        _pb_value(kv.value, value, max_depth)


def to_protobuf(resources: list[ResourceModel], breaking: bool) -> bytes:
    """Clean exports nest values at most 30 deep (upb's limit); breaking ones up to 200 (more cannot be written)."""
    max_depth = 200 if breaking else 30
    request = ExportTraceServiceRequest()
    for resource in resources:
        rs = request.resource_spans.add()
        _pb_attributes(rs.resource.attributes, resource.attributes, max_depth)
        for scope in resource.scopes:
            ss = rs.scope_spans.add()
            ss.scope.name = scope.name
            ss.scope.version = scope.version
            _pb_attributes(ss.scope.attributes, scope.attributes, max_depth)
            for span in scope.spans:
                pb = ss.spans.add()
                pb.trace_id, pb.span_id, pb.parent_span_id = span.trace_id, span.span_id, span.parent_id
                pb.name, pb.kind, pb.trace_state, pb.flags = span.name, span.kind, span.trace_state, span.flags
                pb.start_time_unix_nano, pb.end_time_unix_nano = span.start, span.end
                _pb_attributes(pb.attributes, span.attributes, max_depth)
                for name, time_ns, attrs in span.events:
                    event = pb.events.add()
                    event.name, event.time_unix_nano = name, time_ns
                    _pb_attributes(event.attributes, attrs, max_depth)
                for trace_id, span_id, state, attrs in span.links:
                    link = pb.links.add()
                    link.trace_id, link.span_id, link.trace_state = trace_id, span_id, state
                    _pb_attributes(link.attributes, attrs, max_depth)
                pb.status.code, pb.status.message = span.status_code, span.status_message
    return request.SerializeToString().replace(BAD_UTF8.encode(), BAD_UTF8_BYTES)


# --- JSON ---------------------------------------------------------------------------------------

RAW = "@@RAW@@"  # "@@RAW@@<json text>@@" becomes that JSON text, unquoted


def raw(text: str) -> str:
    return f"{RAW}{text}@@"


def pick(draw: Any, clean: list[Any], breaking: list[Any], allow_breaking: bool) -> Any:
    """One of ``clean`` (the decoder must take it), or of ``breaking`` too (it may refuse the export)."""
    return draw(st.sampled_from(clean + breaking if allow_breaking else clean))


@st.composite
def json_id(draw: Any, value: bytes, size: int, breaking: bool) -> Any:
    garbage = ["", "zz" * size, "0" * (2 * size), "0x" + "1" * (2 * size - 2), " " + "a" * (2 * size - 1)]
    garbage += [None, 0, 12345, [], {}, True]
    return pick(
        draw, [value.hex(), value.hex(), value.hex().upper(), base64.b64encode(value).decode()], garbage, breaking
    )


@st.composite
def json_int(draw: Any, value: int, signed: bool, breaking: bool) -> Any:
    clean = [str(value), str(value), value, raw(str(value)), " " + str(value)]
    if 0 <= value < 2**53:
        clean += [float(value), raw(f"{value}.0")]
    out_of_range = [str(2**64), str(-(2**63) - 1), str(2**63) if signed else "-1", raw("18446744073709551616")]
    garbage = ["1.5", "1e3", "x", "9" * 5000, raw("1e400"), True, [], {}]
    return pick(draw, clean + [None, "", raw("-0")], out_of_range + garbage, breaking)


@st.composite
def json_value(draw: Any, value: Any, breaking: bool) -> Any:
    if isinstance(value, Empty):
        return pick(draw, [{}, None, {"unknownValue": 1}, [], "x"], [], breaking)
    if isinstance(value, Deep):
        if not breaking:  # orjson parses 1,024 levels: 3 per array level, 4 per kvlist level, and the envelope
            value = Deep(min(value.depth, 320 if value.kind == "array" else 240), value.kind)
        return raw(value.json())
    if isinstance(value, bool):
        return {"boolValue": pick(draw, [value, value, "true", 1, None], [], breaking)}
    if isinstance(value, int):
        return {"intValue": draw(json_int(value, True, breaking))}
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
            return {"doubleValue": pick(draw, [text], [raw(text), raw("1e999")], breaking)}
        return {"doubleValue": pick(draw, [value, str(value), None, [value]], ["abc"], breaking)}
    if isinstance(value, str):
        # the decoder passes a stringValue on as it is, whatever its JSON type
        clean = [value, value, 7, 2**70, 1.5, None, True, [value], {"s": value}]
        return {"stringValue": pick(draw, clean, [value + "\\ud800"], breaking)}
    if isinstance(value, bytes):
        return {"bytesValue": pick(draw, [base64.b64encode(value).decode(), value.hex(), "!!", 3, None], [], breaking)}
    if isinstance(value, KvList):
        items = [{"key": k, "value": draw(json_value(v, breaking))} for k, v in value]
        return {
            "kvlistValue": pick(draw, [{"values": items}, {"values": items}, None, {}], [{"values": {}}, []], breaking)
        }
    if isinstance(value, list):
        items = [draw(json_value(v, breaking)) for v in value]
        return {
            "arrayValue": pick(draw, [{"values": items}, {"values": items}, None, {}], [{"values": "x"}, 5], breaking)
        }
    raise TypeError(type(value))


@st.composite
def json_attributes(draw: Any, attrs: list[tuple[str, Any]], breaking: bool) -> Any:
    items = [{"key": k, "value": draw(json_value(v, breaking))} for k, v in attrs]
    return pick(draw, [items, items, None], [{"k": "v"}, [{"value": {"stringValue": "keyless"}}], [1]], breaking)


@st.composite
def to_json_document(draw: Any, resources: list[ResourceModel], breaking: bool) -> Any:
    snake = draw(st.booleans())

    def key(camel: str, snake_case: str) -> str:
        return snake_case if snake else camel

    def attrs(values: list[tuple[str, Any]]) -> Any:
        return draw(json_attributes(values, breaking))

    def span_json(span: SpanModel) -> dict[str, Any]:
        doc: dict[str, Any] = {
            key("traceId", "trace_id"): draw(json_id(span.trace_id, 16, breaking)),
            key("spanId", "span_id"): draw(json_id(span.span_id, 8, breaking)),
            "name": pick(draw, [span.name, span.name, 42, None, {"n": 1}, [span.name]], [], breaking),
            "kind": pick(draw, [span.kind, "SPAN_KIND_SERVER", "nope", 2**70, None], [], breaking),
            "startTimeUnixNano": draw(json_int(span.start, False, breaking)),
            "endTimeUnixNano": draw(json_int(span.end, False, breaking)),
            "attributes": attrs(span.attributes),
            "events": [
                {"name": n, "timeUnixNano": draw(json_int(t, False, breaking)), "attributes": attrs(a)}
                for n, t, a in span.events
            ],
            "links": [
                {"traceId": t.hex(), "spanId": s.hex(), "traceState": ts, "attributes": attrs(a)}
                for t, s, ts, a in span.links
            ],
            "status": pick(
                draw,
                [
                    {"code": span.status_code, "message": span.status_message},
                    {"code": "STATUS_CODE_ERROR", "message": span.status_message},
                    {"code": 2**80, "message": 5},
                    {"code": -(2**80), "message": None},
                    {"code": "2", "message": [span.status_message]},
                    {"code": 1.5},
                    None,
                ],
                ["ERROR", [2]],
                breaking,
            ),
        }
        if span.parent_id:  # all zeros too: "no parent" in both encodings
            doc[key("parentSpanId", "parent_span_id")] = draw(json_id(span.parent_id, 8, breaking))
        if draw(st.integers(0, 9)) == 0:
            doc["unknownField"] = {"nested": [1, 2, 3]}
        return doc

    return {
        key("resourceSpans", "resource_spans"): [
            {
                "resource": {"attributes": attrs(r.attributes)},
                key("scopeSpans", "scope_spans"): [
                    {
                        "scope": {"name": s.name, "version": s.version, "attributes": attrs(s.attributes)},
                        "spans": pick(draw, [[span_json(x) for x in s.spans]], [{}, "spans"], breaking),
                    }
                    for s in r.scopes
                ],
            }
            for r in resources
        ]
    }


def dump_json(document: Any) -> bytes:
    text = json.dumps(document, allow_nan=True, ensure_ascii=False)
    text = re.sub(r'"' + RAW + r'(.*?)@@"', lambda m: json.loads('"' + m.group(1) + '"'), text)
    text = text.replace("\\\\ud800", "\\ud800")  # a lone surrogate, escaped as JSON allows
    return text.encode("utf-8", "surrogatepass").replace(BAD_UTF8.encode(), BAD_UTF8_BYTES)


# --- the wire -----------------------------------------------------------------------------------


@dataclass
class Export:
    """One POST: what would reproduce it (``path``, ``headers``, ``body``) and the model it came from."""

    path: str
    headers: dict[str, str]
    body: bytes
    wire: str
    model: Any

    def __repr__(self) -> str:
        shown = self.body if len(self.body) <= 3000 else self.body[:3000] + b"..."
        return (
            f"Export(path={self.path!r}, headers={self.headers!r}, wire={self.wire!r}, "
            f"body[{len(self.body)}]={shown!r}, model={_short(self.model)})"
        )

    def curl(self, base_url: str = "http://127.0.0.1:3000") -> str:
        headers = " ".join(f"-H '{k}: {v}'" for k, v in self.headers.items())
        return (
            f"printf '%b' '{_printf(self.body[:5000])}' | curl -X POST {headers} --data-binary @- {base_url}{self.path}"
        )


def _short(model: Any) -> str:
    text = repr(model)
    return text if len(text) <= 3000 else text[:3000] + "..."


def _printf(body: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b not in (39, 92) else f"\\x{b:02x}" for b in body)


@st.composite
def on_the_wire(draw: Any, body: bytes, content_type: str, model: Any, breaking: bool) -> Export:
    wire = pick(draw, ["plain", "plain", "gzip"], ["truncated", "flipped", "trailing", "other type"], breaking)
    headers = {"Content-Type": content_type}
    if wire == "gzip":
        body = gzip.compress(body, compresslevel=1)
        headers["Content-Encoding"] = "gzip"
    elif wire == "truncated" and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif wire == "flipped" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1 :]
    elif wire == "trailing":
        body += draw(st.binary(min_size=1, max_size=16))
    elif wire == "other type":
        headers["Content-Type"] = "application/json" if "protobuf" in content_type else "application/x-protobuf"
    return Export(draw(st.sampled_from(PATHS)), headers, body, wire, model)


def breaking_exports() -> st.SearchStrategy[bool]:
    """One export in three may hold what the decoder must refuse; the others must decode (values stay hostile)."""
    return st.sampled_from([False, False, True])


@st.composite
def protobuf_exports(draw: Any) -> Export:
    breaking = draw(breaking_exports())
    model = draw(exports(breaking))
    content_type = draw(st.sampled_from(["application/x-protobuf", "application/protobuf"]))
    return draw(on_the_wire(to_protobuf(model, breaking), content_type, model, breaking))


@st.composite
def json_exports(draw: Any) -> Export:
    breaking = draw(breaking_exports())
    model = draw(exports(breaking))
    document = draw(to_json_document(model, breaking))
    content_type = draw(st.sampled_from(["application/json", "application/json; charset=utf-8"]))
    return draw(on_the_wire(dump_json(document), content_type, model, breaking))
