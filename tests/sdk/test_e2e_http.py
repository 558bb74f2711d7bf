"""End to end over real loopback HTTP: the SDK's real exporter to an OTLP receiver.

These check that what the SDK writes survives the wire: attribute types (string arrays, booleans,
JSON strings), parentage, status, scores next to spans, and sampling."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from interactiveai import InteractiveAI, observe, propagate_attributes
from interactiveai.sdk.attributes import Attr
from tests.support.otlp_receiver import OtlpReceiver, decode_json_request

from .conftest import RecordingServer

TYPES = ["span", "generation", "agent", "tool", "chain", "retriever", "embedding", "evaluator", "guardrail"]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


@pytest.fixture
def live(receiver: OtlpReceiver) -> Iterator[InteractiveAI]:
    provider = TracerProvider(shutdown_on_exit=False)
    client = InteractiveAI(
        public_key="pk-e2e", secret_key="sk-e2e", host=receiver.base_url, tracer_provider=provider, flush_interval=0.05
    )
    yield client
    client.shutdown(timeout=2)
    provider.shutdown()


def _by_name(receiver: OtlpReceiver, n: int) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in receiver.wait_for_spans(n, timeout=10)}


def test_every_type_and_attribute_encoding(live: InteractiveAI, receiver: OtlpReceiver) -> None:
    with propagate_attributes(user_id="u-1", session_id="s-1", tags=["prod", "rag"], metadata={"team": "search"}):
        with live.start_as_current_span(name="root", input={"q": "hello"}, metadata={"n": 1}) as root:
            root.update_trace(name="qa", public=True, version="2")
            for as_type in TYPES:
                live.start_observation(name=f"obs-{as_type}", as_type=as_type).end()  # type: ignore[call-overload]
            live.create_event(name="obs-event", level="WARNING")
            with live.start_as_current_generation(name="llm", model="gpt-x", usage_details={"input": 3}):
                pass
    assert live.flush(timeout=5)
    spans = _by_name(receiver, 12)
    root_attrs = spans["root"]["attributes"]
    assert json.loads(root_attrs[Attr.OBSERVATION_INPUT]) == {"q": "hello"}
    assert root_attrs[Attr.OBSERVATION_METADATA_PREFIX + "n"] == "1"
    assert root_attrs[Attr.TRACE_TAGS] == ["prod", "rag"]
    assert root_attrs[Attr.TRACE_PUBLIC] is True
    assert root_attrs[Attr.TRACE_NAME] == "qa"
    assert root_attrs[Attr.TRACE_METADATA_PREFIX + "team"] == '"search"'
    for as_type in [*TYPES, "event"]:
        span = spans[f"obs-{as_type}"]
        assert span["attributes"][Attr.OBSERVATION_TYPE] == as_type
        assert span["parent_span_id"] == spans["root"]["span_id"]
        assert span["attributes"][Attr.TRACE_USER_ID] == "u-1"
        assert span["scope_name"] == "interactiveai-sdk" and span["scope_attributes"] == {"public_key": "pk-e2e"}
    assert spans["obs-event"]["start_time_unix_nano"] == spans["obs-event"]["end_time_unix_nano"]
    assert spans["obs-event"]["attributes"][Attr.OBSERVATION_LEVEL] == "WARNING"
    assert json.loads(spans["llm"]["attributes"][Attr.OBSERVATION_USAGE_DETAILS]) == {"input": 3}


def test_decorator_errors_and_generators_over_http(live: InteractiveAI, receiver: OtlpReceiver) -> None:
    @observe
    def chunks() -> Iterator[str]:
        yield "a"
        yield "b"

    @observe(name="failing")
    def fail() -> None:
        raise RuntimeError("kaput")

    @observe
    def entry() -> str:
        try:
            fail()
        except RuntimeError:
            pass
        return "".join(chunks())

    assert entry() == "ab"
    assert live.flush(timeout=5)
    spans = _by_name(receiver, 3)
    assert spans["failing"]["status_code"] == 2 and spans["failing"]["status_message"] == "kaput"
    assert spans["failing"]["attributes"][Attr.OBSERVATION_LEVEL] == "ERROR"
    assert spans["chunks"]["attributes"][Attr.OBSERVATION_OUTPUT] == '"ab"'
    assert spans["chunks"]["parent_span_id"] == spans["entry"]["span_id"]


def test_spans_and_scores_of_one_trace(http_server: RecordingServer) -> None:
    # One server for both paths, as in production: OTLP spans and REST scores.
    provider = TracerProvider(shutdown_on_exit=False)
    client = InteractiveAI(public_key="pk-s", secret_key="sk", host=http_server.url, tracer_provider=provider)
    with client.start_as_current_span(name="scored") as span:
        span.score(name="relevance", value=0.5)
    assert client.flush(timeout=5)
    otlp = http_server.to("/api/public/otel/v1/traces")
    spans = [s for r in otlp for s in decode_json_request(gzip.decompress(r.body))]
    scores = [s for r in http_server.to("/api/public/scores") for s in r.json()]
    assert [s["name"] for s in spans] == ["scored"]
    assert scores[0]["traceId"] == spans[0]["trace_id"] and scores[0]["observationId"] == spans[0]["span_id"]
    client.shutdown(timeout=2)
    provider.shutdown()


def test_concurrent_threads_and_tasks_keep_their_trees(live: InteractiveAI, receiver: OtlpReceiver) -> None:
    import asyncio

    from interactiveai import ContextPreservingExecutor

    @observe
    def leaf(i: int) -> int:
        return i

    @observe
    async def aleaf(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @observe
    def request(n: int) -> int:
        async def fan_out() -> list[int]:
            return list(await asyncio.gather(*(aleaf(i) for i in range(3))))

        with ContextPreservingExecutor(max_workers=3) as pool:
            total = sum(pool.map(leaf, range(3)))
        return total + sum(asyncio.run(fan_out()))

    with ContextPreservingExecutor(max_workers=4) as outer:
        results = list(outer.map(request, range(8)))
    assert results == [6] * 8
    assert live.flush(timeout=10)
    spans = receiver.wait_for_spans(8 * 7, timeout=10)
    roots = [s for s in spans if s["name"] == "request"]
    assert len(roots) == 8 and len({r["trace_id"] for r in roots}) == 8
    for root in roots:
        children = [s for s in spans if s["parent_span_id"] == root["span_id"]]
        assert sorted(c["name"] for c in children) == ["aleaf"] * 3 + ["leaf"] * 3
        assert all(c["trace_id"] == root["trace_id"] for c in children)
