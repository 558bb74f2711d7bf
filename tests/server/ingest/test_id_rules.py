"""One rule for span ids, whichever OTLP encoding carries them (protobuf bytes, JSON hex or
base64): a trace or span id must be its size and not all zeros (else a 400 naming the span);
a parent id that is absent, empty or all zeros means no parent (OTLP's "invalid span id")."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from interactiveai.server.ingest.otlp import OtlpError, decode_json, decode_protobuf
from tests.server.ingest.conftest import JSON, PROTOBUF, Ingest
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_json, span_id, to_request, trace_id

TID, SID, PARENT = bytes.fromhex(trace_id()), bytes.fromhex(span_id()), bytes.fromhex(span_id())
SIZES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
PB_FIELDS = {"traceId": "trace_id", "spanId": "span_id", "parentSpanId": "parent_span_id"}


def _variants(size: int) -> dict[str, bytes]:
    return {"empty": b"", "zeros": b"\0" * size, "short": b"\1\2\3", "long": b"\1" * (size + 1), "valid": b"\7" * size}


def _protobuf(field: str, raw: bytes) -> bytes:
    request = to_request([ResourceSpec([SpanSpec(TID.hex(), SID.hex(), "s", parent_id=PARENT.hex())])])
    setattr(request.resource_spans[0].scope_spans[0].spans[0], PB_FIELDS[field], raw)
    return request.SerializeToString()


def _json(field: str, text: Any) -> bytes:
    document = orjson.loads(encode_json([ResourceSpec([SpanSpec(TID.hex(), SID.hex(), "s", parent_id=PARENT.hex())])]))
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    if text is None:
        del span[field]
    else:
        span[field] = text
    return orjson.dumps(document)


def _outcome(decode: Any, body: bytes) -> Any:
    try:
        (span,) = decode(body)
    except OtlpError as exc:
        return "400" if "span 0" in str(exc) else f"400 without the span: {exc}"
    return (span.trace_id, span.span_id, span.parent_id)


@pytest.mark.parametrize("field", list(SIZES))
def test_protobuf_and_json_agree_on_every_id(field: str) -> None:
    problems = []
    for name, raw in _variants(SIZES[field]).items():
        expected = _outcome(decode_protobuf, _protobuf(field, raw))
        encodings = {"hex": raw.hex(), "base64": base64.b64encode(raw).decode()}
        if not raw:
            encodings["absent"] = None
        for encoding, text in encodings.items():
            got = _outcome(decode_json, _json(field, text))
            if got != expected:
                problems.append(f"{field} {name} as {encoding}: JSON {got}, protobuf {expected}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("field", list(SIZES))
def test_the_rule(field: str) -> None:
    outcomes = {name: _outcome(decode_protobuf, _protobuf(field, raw)) for name, raw in _variants(SIZES[field]).items()}
    if field == "parentSpanId":
        assert outcomes["empty"] == outcomes["zeros"] == (TID.hex(), SID.hex(), None)
        assert outcomes["short"] == outcomes["long"] == "400"
    else:
        assert outcomes["empty"] == outcomes["zeros"] == outcomes["short"] == outcomes["long"] == "400"
    assert outcomes["valid"] != "400"


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_an_all_zero_parent_is_a_root_span(ingest: Ingest, fmt: str) -> None:
    tid, sid = trace_id(), span_id()
    resources = [ResourceSpec([SpanSpec(tid, sid, "root", parent_id="0" * 16)])]
    body = to_request(resources).SerializeToString() if fmt == "protobuf" else encode_json(resources)
    headers = {**ingest.project.headers, **(PROTOBUF if fmt == "protobuf" else JSON)}
    response = ingest.client.post("/api/public/otel/v1/traces", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert ingest.observation(tid, sid)["parent_observation_id"] is None
    trace = ingest.trace(tid)
    assert trace is not None and trace["root_observation_id"] == sid
