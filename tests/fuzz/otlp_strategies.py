"""Hypothesis strategies for hostile OTLP trace exports: the values and the export model.

An export is drawn as a small model (resources → scopes → spans, attributes as key/value pairs
that may repeat); ``otlp_exports`` encodes it (protobuf or JSON) and puts it on the wire. What is
hostile here:

- attribute keys: every key the mapping recognises (ingest/keys.py: slots, prefixed families, the
  Vercel AI SDK's), plus empty, huge and odd unicode keys, repeated keys;
- values: every AnyValue kind, arrays and kvlists nested a little or very deep, empty AnyValues,
  strings empty, huge (up to a few 100 KB, some incompressible, often on indexed fields), with
  NUL, odd unicode, JSON text (nested deep, numbers beyond 2^64, NaN), ints at the ±2^63 edges,
  floats inf/nan/subnormal, bytes;
- times 0, 1, now, 2^63-1, 2^63, 2^64-1, end before start; ids of every wrong length, all-zero,
  parent ids that point nowhere or at the span itself; kind and status codes out of their enums;
  events and links; scope names of every convention (``ai`` is the Vercel AI SDK's).

One export in three is "breaking": it may also hold what a decoder must refuse (ids of the wrong
length, invalid UTF-8, nesting past the decoder's limit), so the whole export gets a 400. The
others must decode, which lets the hostile values reach mapping, storage and the read-back sweep.
Trace ids come mostly from a small pool, so spans pile up in a few traces (and merge into them).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st
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
