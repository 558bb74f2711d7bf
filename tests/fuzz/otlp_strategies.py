"""Hypothesis strategies for hostile OTLP/HTTP trace exports, protobuf and JSON.

An export is drawn as a small model (resources → scopes → spans, attributes as key/value pairs
that may repeat), then encoded. What is hostile:

- attribute keys: every key the mapping recognises (ingest/keys.py: slots, prefixed families, the
  Vercel AI SDK's), plus empty, huge and odd unicode keys, repeated keys;
- values: every AnyValue kind, arrays and kvlists nested a little or very deep, empty AnyValues,
  strings empty, huge (up to a few 100 KB), with NUL, odd unicode, JSON text (nested deep, numbers
  beyond 2^64, NaN), ints at the ±2^63 edges, floats inf/nan/subnormal, bytes;
- times 0, 1, now, 2^63-1, 2^63, 2^64-1, end before start; ids of every wrong length, all-zero,
  parent ids that point nowhere or at the span itself; kind and status codes out of their enums;
  events and links; scope names of every convention (``ai`` is the Vercel AI SDK's);
- JSON only: ids, ints and times of the wrong type or form, enum names, NaN/Infinity, unknown and
  snake_case fields, wrong container types, lone surrogates;
- the wire: gzip, truncation, a flipped byte, trailing garbage, invalid UTF-8 in strings, the
  other encoding's content type.

Trace ids come mostly from a small pool, so spans pile up in a few traces (and merge into them),
which keeps the read-back sweep short.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from interactiveai.server.ingest.keys import FAMILIES, KEYS, TELEMETRY_PREFIX

BASE_NS = 1_750_000_000_000_000_000  # 2025-06-15
U64 = 2**64 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
PATHS = ("/api/public/otel/v1/traces", "/v1/traces")
POOL = [hashlib.sha256(f"fuzz-trace-{i}".encode()).digest()[:16] for i in range(6)]
BAD_UTF8 = "@@BADUTF8@@"  # replaced on the wire by as many invalid UTF-8 bytes (11)
BAD_UTF8_BYTES = b"\xed\xa0\x80\xff\xfe\xc0\xaf\x80\x80\x80\x80"  # lone surrogate, 0xff/0xfe, overlong, stray
assert len(BAD_UTF8) == len(BAD_UTF8_BYTES)

RECOGNISED = sorted(
    {
        *KEYS,
        *(p + s for p in (*FAMILIES, TELEMETRY_PREFIX) for s in ("0.content", "0.role", "total_tokens", "x", "")),
        "service.name",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cost",
    }
)


class KvList(list):  # type: ignore[type-arg]
    """A kvlist AnyValue: (key, value) pairs, keys may repeat (a dict could not say that)."""


class Empty:
    """An AnyValue with no value set."""

    def __repr__(self) -> str:
        return "Empty()"


# --- scalars ------------------------------------------------------------------------------------

INT_EDGES = [0, 1, -1, I64_MAX, I64_MIN, I64_MAX - 1, I64_MIN + 1, 2**53, 2**53 + 1, -(2**53) - 1, 2**31, 2**32]
FLOAT_EDGES = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 5e-324, 1.7976931348623157e308, 1e-300, 0.1]
TIME_EDGES = [0, 1, 999, BASE_NS, BASE_NS + 1, 2**53, I64_MAX, 2**63, U64, U64 - 1, 10**18]


@cache
def texts(max_size: int = 40) -> st.SearchStrategy[str]:
    """Unicode text (NUL, controls, astral planes; no surrogates: protobuf strings are UTF-8)."""
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)


def incompressible(seed: int, size: int) -> str:
    """``size`` characters no compressor shrinks much (PostgreSQL compresses long index entries)."""
    out, block = [], hashlib.sha256(seed.to_bytes(8, "big")).digest()
    while len(out) * 44 < size:
        block = hashlib.sha256(block).digest()
        out.append(base64.b64encode(block).decode())
    return "".join(out)[:size]


SPECIAL_STRINGS = [
    "\x00",
    "a\x00b",
    "\x00" * 10,
    "\ufeff",
    "\u202e",
    "𝕏😀",
    "\r\n",
    " ",
    "null",
    "-",
    "NaN",
    "%00",
    "../",
]
INDEXED_KEYS = [
    "user.id",
    "langfuse.user.id",
    "session.id",
    "gen_ai.conversation.id",
    "interactiveai.trace.name",
    "interactiveai.environment",
    "interactiveai.release",
    "interactiveai.version",
    "interactiveai.observation.model.name",
    "interactiveai.trace.tags",
]


@cache
def big_text() -> st.SearchStrategy[str]:
    """Large values: at most one per span (``spans``), so bodies stay around a few 100 KB at most."""
    return st.one_of(
        st.builds(incompressible, st.integers(0, 2**32), st.sampled_from([2_000, 2_800, 10_000, 100_000])),
        st.builds(
            lambda unit, n: unit * n,
            st.sampled_from(["x", "é", "😀", "\x00", "[", "{", "<script>", "\u202e", " "]),
            st.sampled_from([5_000, 65_536, 300_000]),
        ),
        st.sampled_from([100_000, 300_000]).map(lambda d: "[" * d + "]" * d),
    )


@cache
def json_texts() -> st.SearchStrategy[str]:
    """Text that the mapping may decode as JSON: nested, with huge numbers, NaN, deep brackets."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        texts(20),
    )
    documents = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts(10), inner, max_size=4),
        max_leaves=12,
    )
    return st.one_of(
        documents.map(lambda d: json.dumps(d, allow_nan=True)),
        st.integers(1, 3).map(lambda n: f'{{"input": {10 ** (100 * n)}, "output": -{2**64}, "total": 1e999}}'),
        st.sampled_from([10, 1000, 5000]).map(lambda d: "[" * d + "]" * d),
        st.sampled_from([10, 1000, 5000]).map(lambda d: '{"a":' * d + "1" + "}" * d),
        st.sampled_from(["null", "[", '{"a": ', "NaN", "-Infinity", '"\\ud800"', '{"role": "user"}', "{}", "[]"]),
    )


@cache
def hostile_strings(breaking: bool) -> st.SearchStrategy[str]:
    """``breaking``: also strings whose bytes are not UTF-8 (a protobuf decode error: the whole export is a 400)."""
    special = st.sampled_from(SPECIAL_STRINGS)
    if breaking:
        return st.one_of(texts(), special, texts().map(lambda t: t + BAD_UTF8), json_texts())
    return st.one_of(texts(), texts(), special, json_texts())


@cache
def scalars(breaking: bool) -> st.SearchStrategy[Any]:
    return st.one_of(
        hostile_strings(breaking),
        st.sampled_from(INT_EDGES),
        st.integers(min_value=I64_MIN, max_value=I64_MAX),
        st.sampled_from(FLOAT_EDGES),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.binary(max_size=40),
        st.just(Empty()),
    )


@dataclass(frozen=True)
class Deep:
    """Arrays (or kvlists) nested ``depth`` deep around one string: built without recursion."""

    depth: int
    kind: str  # "array" | "kvlist"

    def protobuf(self) -> AnyValue:
        value = AnyValue(string_value="leaf")
        for _ in range(self.depth):
            outer = AnyValue()
            if self.kind == "array":
                outer.array_value.values.add().CopyFrom(value)
            else:
                kv = outer.kvlist_value.values.add()
                kv.key = "k"
                kv.value.CopyFrom(value)
            value = outer
        return value

    def json(self) -> str:
        if self.kind == "array":
            return '{"arrayValue":{"values":[' * self.depth + '{"stringValue":"leaf"}' + "]}}" * self.depth
        return (
            '{"kvlistValue":{"values":[{"key":"k","value":' * self.depth
            + '{"stringValue":"leaf"}'
            + "}]}}" * self.depth
        )


@cache
def keys() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(RECOGNISED),
        st.sampled_from(RECOGNISED),
        texts(20),
        st.sampled_from(["", " ", "\x00", "a" * 10_000, "ünïcödé.ключ", "x.y.z", "metadata.__proto__"]),
    )


@cache
def any_values(breaking: bool) -> st.SearchStrategy[Any]:
    """Deep nesting: clean exports nest up to 30 in protobuf (``to_protobuf`` clamps) and up to 320 in JSON
    (``json_value`` clamps; Python values deeper than 255 are more than orjson writes); breaking ones
    past where the decoders give up.

    upb decodes at most 100 nested messages: a value here sits 6 deep, plus 2 per array level and 3
    per kvlist level, so arrays fail past 47 and kvlists past 31.
    """
    if breaking:
        depths = st.one_of(st.integers(28, 50), st.sampled_from([200, 400, 1000, 5000]))
    else:
        depths = st.one_of(st.integers(1, 30), st.sampled_from([100, 240, 254, 255, 256, 320]))
    return st.one_of(
        st.recursive(
            scalars(breaking),
            lambda inner: st.lists(inner, max_size=4) | st.lists(st.tuples(keys(), inner), max_size=4).map(KvList),
            max_leaves=10,
        ),
        st.builds(Deep, depths, st.sampled_from(["array", "kvlist"])),
    )


@cache
def attributes(max_size: int, breaking: bool) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(st.tuples(keys(), any_values(breaking)), max_size=max_size)


# Built once: Hypothesis validates a strategy when it is first drawn from, and rebuilding them per draw
# made generation some 20x slower.
TEXT = texts()
TEXT_10 = texts(10)
HOSTILE = {b: hostile_strings(b) for b in (False, True)}
BIG = big_text()
ATTRS = {(n, b): attributes(n, b) for n in (2, 3, 4, 8) for b in (False, True)}


# --- the model ----------------------------------------------------------------------------------


@dataclass
class SpanModel:
    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    kind: int
    start: int
    end: int
    attributes: list[tuple[str, Any]]
    events: list[tuple[str, int, list[tuple[str, Any]]]]
    links: list[tuple[bytes, bytes, str, list[tuple[str, Any]]]]
    status_code: int
    status_message: str
    trace_state: str
    flags: int


@dataclass
class ScopeModel:
    name: str
    version: str
    attributes: list[tuple[str, Any]]
    spans: list[SpanModel]


@dataclass
class ResourceModel:
    attributes: list[tuple[str, Any]]
    scopes: list[ScopeModel]


@cache
def id_bytes(size: int) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(min_size=size, max_size=size),
        st.binary(min_size=size, max_size=size),
        st.just(b"\0" * size),
        st.just(b"\xff" * size),
        st.binary(max_size=2 * size + 1),
    )


@cache
def times() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(TIME_EDGES), st.integers(0, U64), st.integers(BASE_NS, BASE_NS + 10**12))


@st.composite
def spans(draw: Any, siblings: list[bytes], breaking: bool) -> SpanModel:
    """``breaking``: ids of any length and undecodable values (any makes the whole export a 400); else valid ones."""
    if breaking:
        trace_id = draw(st.one_of(st.sampled_from(POOL), id_bytes(16)))
        span_id = draw(id_bytes(8))
        parent = draw(st.one_of(st.just(b""), st.sampled_from(siblings or [b""]), st.just(span_id), id_bytes(8)))
    else:
        trace_id = draw(st.one_of(st.sampled_from(POOL), st.sampled_from(POOL), st.binary(min_size=16, max_size=16)))
        span_id = draw(st.binary(min_size=8, max_size=8).filter(lambda b: b != b"\0" * 8))
        parent = draw(st.one_of(st.just(b""), st.sampled_from(siblings or [b""]), st.just(span_id), st.just(b"\0" * 8)))
        if trace_id == b"\0" * 16:
            trace_id = POOL[0]
    siblings.append(span_id)
    attrs = draw(ATTRS[8, breaking])
    if draw(st.integers(0, 7)) == 0:  # a large value on a recognised key, now and then; often an indexed one
        attrs.append((draw(st.one_of(st.sampled_from(INDEXED_KEYS), st.sampled_from(RECOGNISED))), draw(BIG)))
    name = draw(st.one_of(TEXT, HOSTILE[breaking]))
    if draw(st.integers(0, 15)) == 0:  # span names become observation and trace names: indexed
        name = draw(BIG)
    start = draw(times())
    end = draw(st.one_of(st.just(start), times(), st.integers(0, 10**10).map(lambda d: min(start + d, U64))))
    return SpanModel(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent,
        name=name,
        kind=draw(st.one_of(st.integers(0, 5), st.sampled_from([-1, 6, 99, 2**31 - 1, -(2**31)]))),
        start=start,
        end=end,
        attributes=attrs,
        events=draw(st.lists(st.tuples(TEXT, times(), ATTRS[3, breaking]), max_size=3)),
        links=draw(st.lists(st.tuples(id_bytes(16), id_bytes(8), TEXT, ATTRS[2, breaking]), max_size=2)),
        status_code=draw(st.one_of(st.integers(0, 2), st.sampled_from([3, -1, 99, 2**31 - 1]))),
        status_message=draw(HOSTILE[breaking]),
        trace_state=draw(st.one_of(st.just(""), TEXT)),
        flags=draw(st.one_of(st.just(0), st.integers(0, 2**32 - 1))),
    )


SCOPE_NAMES = ["interactiveai", "ai", "langfuse-sdk", "openinference.instrumentation.openai", "opentelemetry.genai", ""]


@st.composite
def exports(draw: Any, breaking: bool) -> list[ResourceModel]:
    """``breaking``: this export may hold what the decoder must refuse (see ``spans``)."""
    siblings: list[bytes] = []
    resources = []
    for _ in range(draw(st.integers(0, 2))):
        scopes = []
        for _ in range(draw(st.integers(0, 2))):
            scope_spans = draw(st.lists(spans(siblings, breaking), max_size=4))
            scopes.append(
                ScopeModel(
                    name=draw(st.one_of(st.sampled_from(SCOPE_NAMES), TEXT)),
                    version=draw(TEXT_10),
                    attributes=draw(ATTRS[2, breaking]),
                    spans=scope_spans,
                )
            )
        resource_attrs = draw(
            st.one_of(st.just([("service.name", "fuzz")]), ATTRS[4, breaking], st.just([("service.name", Empty())]))
        )
        resources.append(ResourceModel(resource_attrs, scopes))
    return resources


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
        if span.parent_id == b"\0" * 8 and not breaking:
            # protobuf takes an all-zero parent for "none"; the JSON decoder refuses the export (400)
            doc[key("parentSpanId", "parent_span_id")] = ""
        elif span.parent_id:
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
