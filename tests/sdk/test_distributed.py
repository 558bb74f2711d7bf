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
        check=True,
    )
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_two_processes_share_one_trace() -> None:
    upstream = _run("upstream")
    headers = next(r["headers"] for r in upstream if "headers" in r)
    up_spans = {r["span"]["name"]: r["span"] for r in upstream if "span" in r}
    downstream = _run("downstream", json.dumps(headers))
    down_spans = {r["span"]["name"]: r["span"] for r in downstream if "span" in r}

    trace_ids = {s["trace_id"] for s in (*up_spans.values(), *down_spans.values())}
    assert len(trace_ids) == 1
    # The downstream root hangs off the upstream span that made the call.
    assert down_spans["handle"]["parent_id"] == up_spans["call-downstream"]["span_id"]
    assert down_spans["lookup"]["parent_id"] == down_spans["handle"]["span_id"]
    for span in down_spans.values():
        attrs = span["attributes"]
        assert attrs[Attr.TRACE_USER_ID] == "user-42"
        assert attrs[Attr.TRACE_SESSION_ID] == "sess-9"
        assert attrs[Attr.TRACE_TAGS] == ["edge"]
    assert up_spans["call-downstream"]["attributes"][Attr.TRACE_USER_ID] == "user-42"
