"""OTLP/JSON encoding, checked end to end: our exporter -> real HTTP -> receiver's decoder."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from interactiveai.sdk.export import OtlpHttpExporter
from interactiveai.sdk.export.encoder import encode_spans, encode_spans_text
from interactiveai.sdk.export.otlp_objects import encode_any_value, spans_to_request
from tests.support.otlp_receiver import OtlpReceiver

ATTRIBUTES: dict[str, Any] = {
    "str": "plain",
    "unicode": '日本語 ✓ émoji 🎉 \u0000 nul and "quotes" \\ back',
    "empty": "",
    "true": True,
    "false": False,
    "int": 42,
    "negative": -7,
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "float": 3.25,
    "tiny": 5e-324,
    "str_list": ["a", "b", "ü"],
    "int_list": [1, 2**62, -3],
    "float_list": [0.5, -1.5],
    "bool_list": [True, False],
    "empty_list": [],
    # Long strings take the orjson escaper: plain, quote-heavy JSON, non-ASCII and control characters.
    "long_plain": "the model answered " * 50,
    "long_json": json.dumps({"messages": [{"role": "user", "content": 'say "hi"\n\ttab ' * 20}]}),
    "long_unicode": "日本語 ✓ émoji 🎉 \u0000\u001f\u007f " * 20,
}


def _record_spans(limits: SpanLimits | None = None) -> list[ReadableSpan]:
    """Spans exercising every field, captured in memory so both exporters send the same objects."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "enc", "host.cores": 2, "ratio": 0.5}),
        span_limits=limits,
        shutdown_on_exit=False,
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("interactiveai-sdk", "9.9.9", attributes={"public_key": "pk", "n": 1})
    other = provider.get_tracer("openinference.instrumentation.openai", "0.1")
    with tracer.start_as_current_span("root ✓", kind=SpanKind.SERVER, attributes=ATTRIBUTES) as root:
        root.add_event("no-attrs")
        root.add_event("started", {"step": 1, "label": "ß"}, timestamp=1_700_000_000_123_456_789)
        with tracer.start_as_current_span(
            "child", kind=SpanKind.CLIENT, links=[Link(root.get_span_context(), {"why": "x"})]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "it failed: ✗"))
        with other.start_as_current_span("llm call", kind=SpanKind.PRODUCER) as llm:
            llm.set_status(Status(StatusCode.OK))
            llm.set_attribute("gen_ai.usage.input_tokens", 12)
    provider.shutdown()
    return list(memory.get_finished_spans())


def _send(exporter: Any, spans: list[ReadableSpan], receiver: OtlpReceiver) -> dict[str, dict[str, Any]]:
    receiver.clear()
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    return {span["name"]: span for span in receiver.wait_for_spans(len(spans), timeout=5)}


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_every_field_round_trips(compression: str) -> None:
    spans = _record_spans()
    with OtlpReceiver() as receiver:
        got = _send(
            OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5, compression=compression), spans, receiver
        )
        request = receiver.requests[-1]
    assert request.headers["content-type"] == "application/json"
    assert request.headers.get("content-encoding") == ("gzip" if compression == "gzip" else None)
    by_name = {span.name: span for span in spans}
    root, child, llm = got["root ✓"], got["child"], got["llm call"]
    assert root["attributes"] == ATTRIBUTES
    assert root["trace_id"] == format(by_name["root ✓"].context.trace_id, "032x")
    assert root["span_id"] == format(by_name["root ✓"].context.span_id, "016x")
    assert root["parent_span_id"] is None
    assert child["parent_span_id"] == root["span_id"]
    assert (root["kind"], child["kind"], llm["kind"]) == (2, 3, 4)
    assert root["start_time_unix_nano"] == by_name["root ✓"].start_time
    assert root["end_time_unix_nano"] == by_name["root ✓"].end_time
    assert root["events"][1] == {
        "name": "started",
        "time_unix_nano": 1_700_000_000_123_456_789,
        "attributes": {"step": 1, "label": "ß"},
        "dropped_attributes_count": 0,
    }
    assert root["events"][0]["name"] == "no-attrs" and root["events"][0]["attributes"] == {}
    assert child["links"] == [
        {
            "trace_id": root["trace_id"],
            "span_id": root["span_id"],
            "trace_state": "",
            "attributes": {"why": "x"},
            "dropped_attributes_count": 0,
        }
    ]
    assert (child["status_code"], child["status_message"]) == (2, "it failed: ✗")
    assert (llm["status_code"], root["status_code"]) == (1, 0)
    assert root["resource_attributes"]["service.name"] == "enc"
    assert root["resource_attributes"]["host.cores"] == 2
    assert root["resource_attributes"]["ratio"] == 0.5
    assert (root["scope_name"], root["scope_version"], root["scope_attributes"]) == (
        "interactiveai-sdk",
        "9.9.9",
        {"public_key": "pk", "n": 1},
    )
    assert (llm["scope_name"], llm["scope_version"]) == ("openinference.instrumentation.openai", "0.1")


def test_same_decoded_spans_as_the_stock_protobuf_exporter() -> None:
    """The stock exporter is the reference encoding: ours must decode to the same span dicts."""
    spans = _record_spans()
    with OtlpReceiver() as receiver:
        ours = _send(OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5), spans, receiver)
        stock = _send(OTLPSpanExporter(endpoint=receiver.endpoint, timeout=5), spans, receiver)
    for name in stock:
        # flags: the stock exporter omits the W3C trace-flags bits; OTLP says bits 0-7 carry them.
        ours[name].pop("flags"), stock[name].pop("flags")
        assert ours[name] == stock[name], name


def test_dropped_counts_are_reported() -> None:
    limits = SpanLimits(max_span_attributes=3, max_events=1, max_links=0, max_event_attributes=1)
    spans = _record_spans(limits)
    with OtlpReceiver() as receiver:
        got = _send(OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5), spans, receiver)
    root = got["root ✓"]
    assert len(root["attributes"]) == 3
    assert root["dropped_attributes_count"] == len(ATTRIBUTES) - 3
    assert root["dropped_events_count"] == 1
    assert root["events"][0]["dropped_attributes_count"] == 1
    assert got["child"]["dropped_links_count"] == 1


def test_resource_and_scope_grouping() -> None:
    spans = _record_spans()
    request = spans_to_request(spans)
    assert len(request["resourceSpans"]) == 1
    scopes = [entry["scope"]["name"] for entry in request["resourceSpans"][0]["scopeSpans"]]
    assert sorted(scopes) == ["interactiveai-sdk", "openinference.instrumentation.openai"]


def test_protojson_scalar_rules() -> None:
    assert encode_any_value(2**63) == {"stringValue": str(2**63)}  # beyond int64: kept as text, not lost
    assert encode_any_value(-(2**63)) == {"intValue": str(-(2**63))}
    assert encode_any_value(math.nan) == {"doubleValue": "NaN"}
    assert encode_any_value(-math.inf) == {"doubleValue": "-Infinity"}
    assert encode_any_value(b"\x00\xff") == {"bytesValue": "AP8="}
    assert encode_any_value({"k": 1}) == {"kvlistValue": {"values": [{"key": "k", "value": {"intValue": "1"}}]}}
    assert orjson.loads(orjson.dumps(encode_any_value(math.inf))) == {"doubleValue": "Infinity"}


def test_non_finite_floats_survive_the_wire() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("t").start_as_current_span("nan", attributes={"nan": math.nan, "inf": math.inf}):
        pass
    with OtlpReceiver() as receiver:
        got = _send(
            OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5), list(memory.get_finished_spans()), receiver
        )
    assert math.isnan(got["nan"]["attributes"]["nan"])
    assert got["nan"]["attributes"]["inf"] == math.inf


def test_headers_are_sent_and_override_ours() -> None:
    with OtlpReceiver() as receiver:
        exporter = OtlpHttpExporter(
            receiver.endpoint, headers={"Authorization": "Basic abc", "User-Agent": "custom/1"}, timeout=5
        )
        _send(exporter, _record_spans(), receiver)
    headers = receiver.requests[-1].headers
    assert headers["authorization"] == "Basic abc"
    assert headers["user-agent"] == "custom/1"


def test_bad_configuration_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        OtlpHttpExporter("localhost:3000", headers={}, timeout=1)
    with pytest.raises(ValueError):
        OtlpHttpExporter("http://localhost:3000/v1/traces", headers={}, timeout=1, compression="brotli")


def test_text_encoder_writes_exactly_the_reference_objects() -> None:
    """encoder.py writes JSON text by hand, reading SDK span internals; otlp_objects builds the same
    request as dicts through the public API. They must agree field for field."""
    for limits in (None, SpanLimits(max_span_attributes=3, max_events=1, max_links=0, max_event_attributes=1)):
        spans = _record_spans(limits)
        text, count = encode_spans_text(spans)
        assert count == len(spans)
        assert json.loads(text) == json.loads(json.dumps(spans_to_request(spans)))


def test_lone_surrogates_do_not_lose_the_batch() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    attributes = {"k": "x\udfffy", "long": "z" * 150 + "\ud800"}
    with tracer.start_as_current_span("bad \ud800 name", attributes=attributes):
        pass
    with tracer.start_as_current_span("fine"):
        pass
    body = encode_spans(list(memory.get_finished_spans()))
    spans = json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert [span["name"] for span in spans] == ["bad ? name", "fine"]
    assert spans[0]["attributes"][0]["value"] == {"stringValue": "x?y"}
    assert spans[0]["attributes"][1]["value"] == {"stringValue": "z" * 150 + "?"}


def test_an_unencodable_span_is_skipped_not_the_batch() -> None:
    spans = _record_spans()

    class Broken(ReadableSpan):
        def __init__(self) -> None:  # no super().__init__: neither encoder can read it
            pass

    text, count = encode_spans_text([spans[0], Broken(), spans[1]])  # type: ignore[list-item]
    assert count == 2
    scope_spans = json.loads(text)["resourceSpans"][0]["scopeSpans"]
    assert sum(len(entry["spans"]) for entry in scope_spans) == 2


def test_spans_with_huge_values_round_trip() -> None:
    huge = 'a "prompt" with naïve café 日本 \n\t\\ ' * 200
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("interactiveai-sdk", "1", attributes={"public_key": "pk"})
    with tracer.start_as_current_span("huge", attributes={"input": huge, "n": 1, "nan": math.nan}) as span:
        span.add_event("chunk", {"text": huge})
    with tracer.start_as_current_span("surrogate", attributes={"input": "\ud800" + "x" * 2000}):
        pass
    with tracer.start_as_current_span("small", attributes={"input": "short"}):
        pass
    spans = list(memory.get_finished_spans())
    text, count = encode_spans_text(spans)
    assert count == 3
    decoded = {span["name"]: span for span in json.loads(text)["resourceSpans"][0]["scopeSpans"][0]["spans"]}
    reference = {span["name"]: span for span in spans_to_request(spans)["resourceSpans"][0]["scopeSpans"][0]["spans"]}
    assert decoded["huge"] == json.loads(json.dumps(reference["huge"]))
    assert decoded["small"] == json.loads(json.dumps(reference["small"]))
    assert decoded["surrogate"]["attributes"][0]["value"]["stringValue"] == "?" + "x" * 2000
    with OtlpReceiver() as receiver:
        got = _send(OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5), spans, receiver)
    assert got["huge"]["attributes"]["input"] == huge
    assert math.isnan(got["huge"]["attributes"]["nan"])
    assert got["huge"]["events"][0]["attributes"] == {"text": huge}


def test_encoder_agrees_with_the_reference_on_the_sdks_own_spans() -> None:
    """@observe creates lean span objects (sdk/spans.py); the encoder reads span internals, so it
    must read these exactly as the public API does."""
    from interactiveai import InteractiveAI, observe

    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    client = InteractiveAI(
        public_key="pk-enc", secret_key="sk", host="http://127.0.0.1:9", tracer_provider=provider, span_exporter=memory
    )

    @observe(as_type="generation")
    def inner(prompt: str) -> dict[str, Any]:
        return {"answer": prompt.upper(), "n": 3}

    @observe
    def outer(question: str) -> dict[str, Any]:
        return inner(question * 80)

    outer("what is OTLP? ✓ ")
    assert client.flush()
    spans = list(memory.get_finished_spans())
    assert len(spans) == 2
    text, count = encode_spans_text(spans)
    assert count == 2
    assert json.loads(text) == json.loads(json.dumps(spans_to_request(spans)))
    client.shutdown()


def test_fragments_of_several_batches_make_one_valid_request() -> None:
    """The sending thread merges what several encoding rounds produced into one request."""
    from interactiveai.sdk.export.encoder import encode_fragments, request_body
    from tests.support.otlp_receiver import decode_json_request

    batches = []
    for service in ("a", "b"):
        memory = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": service}), shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(memory))
        for name in ("x", "y"):
            with provider.get_tracer(f"scope-{name}").start_as_current_span(f"{service}-{name}"):
                pass
        batches.append(list(memory.get_finished_spans()))
    fragments = []
    for batch in batches:
        encoded = encode_fragments(batch)
        assert encoded.span_counts == [2] and encoded.skipped == 0
        fragments += encoded.bodies
    body = request_body(fragments)
    decoded = decode_json_request(body)
    assert sorted((span["resource_attributes"]["service.name"], span["name"]) for span in decoded) == [
        ("a", "a-x"),
        ("a", "a-y"),
        ("b", "b-x"),
        ("b", "b-y"),
    ]
    # One fragment alone is the request encode_batch would have built.
    assert json.loads(request_body(fragments[:1])) == json.loads(encode_spans(batches[0]))
