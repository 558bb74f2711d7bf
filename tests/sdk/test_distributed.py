"""Distributed tracing: header injection/extraction, continue_trace, and two real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from opentelemetry import baggage

from interactiveai import (
    InteractiveAI,
    continue_trace,
    extract_trace_context,
    inject_trace_headers,
    observe,
    propagate_attributes,
)
from interactiveai.sdk.attributes import Attr
from tests.support.otlp_receiver import OtlpReceiver

from .conftest import Memory

ROOT = Path(__file__).resolve().parents[2]
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_inject_outside_any_span_gives_no_traceparent() -> None:
    assert "traceparent" not in inject_trace_headers()


def test_inject_inside_span(client: InteractiveAI) -> None:
    with client.start_as_current_span(name="s") as span:
        headers: dict[str, str] = {"accept": "json"}
        out = inject_trace_headers(headers)
    assert out["traceparent"].startswith(f"00-{span.trace_id}-{span.id}-")
    assert headers["traceparent"] == out["traceparent"] and headers["accept"] == "json"


def test_inject_includes_baggage(client: InteractiveAI) -> None:
    with client.start_as_current_span(name="s"):
        with propagate_attributes(user_id="u 1", as_baggage=True):
            out = inject_trace_headers()
    assert "interactiveai_user_id=" in out["baggage"]
    assert baggage.get_baggage("interactiveai_user_id", extract_trace_context(out)) == "u 1"


def test_continue_trace_parents_spans_on_the_caller(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def handler() -> None:
        return None

    with continue_trace({"Traceparent": TRACEPARENT, "baggage": "interactiveai_session_id=abc"}):
        handler()
    span = memory.span("handler")
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None and format(span.parent.span_id, "016x") == "b7ad6b7169203331"
    assert dict(span.attributes or {})[Attr.TRACE_SESSION_ID] == "abc"
    assert baggage.get_all() == {}


def test_extract_ignores_garbage(client: InteractiveAI, memory: Memory) -> None:
    ctx = extract_trace_context({"traceparent": "garbage", "baggage": "%%%"})
    client.start_span(name="s").end()
    assert memory.span("s").parent is None
    assert ctx is not None


def _run(*args: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.sdk.distributed_worker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_two_processes_share_one_trace() -> None:
    with OtlpReceiver() as receiver:
        upstream = _run("upstream", receiver.base_url)
        headers = next(r["headers"] for r in upstream if "headers" in r)
        _run("downstream", receiver.base_url, json.dumps(headers))
        received = receiver.wait_for_spans(4, timeout=10)
    spans = {s["name"]: s for s in received}
    assert sorted(spans) == ["call-downstream", "gateway", "handle", "lookup"]
    assert len({s["trace_id"] for s in received}) == 1
    # The downstream root hangs off the upstream span that made the call.
    assert spans["handle"]["parent_span_id"] == spans["call-downstream"]["span_id"]
    assert spans["lookup"]["parent_span_id"] == spans["handle"]["span_id"]
    assert spans["call-downstream"]["parent_span_id"] == spans["gateway"]["span_id"]
    assert {s["scope_attributes"]["public_key"] for s in received} == {"pk-upstream", "pk-downstream"}
    for name in ("call-downstream", "handle", "lookup"):
        attrs = spans[name]["attributes"]
        assert attrs[Attr.TRACE_USER_ID] == "user-42", name
        assert attrs[Attr.TRACE_SESSION_ID] == "sess-9"
        assert attrs[Attr.TRACE_TAGS] == ["edge"]
    assert spans["handle"]["attributes"][Attr.OBSERVATION_TYPE] == "agent"
