"""Two real server processes on one PostgreSQL: interleaved, concurrent ingestion stays exact.

Spans of the same traces are posted to both replicas at the same moment, some of them twice (an
SDK retry), so the replicas race on the same trace rows. Every span must be stored once and every
roll-up must be exact when read through the API of either replica.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.support.live_server import LiveServer, live_server
from tests.support.postgres import create_database

TRACES = 40
SPANS_PER_TRACE = 25
BASE_NS = 1_750_000_000_000_000_000


def _attr(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def _span(trace_index: int, span_index: int) -> Span:
    trace_id = (trace_index + 1).to_bytes(16, "big")
    span_id = (trace_index * 1000 + span_index + 1).to_bytes(8, "big")
    parent = b"" if span_index == 0 else (trace_index * 1000 + 1).to_bytes(8, "big")
    start = BASE_NS + trace_index * 1_000_000_000 + span_index * 1_000_000
    attributes = [_attr("interactiveai.observation.type", "generation" if span_index % 5 == 1 else "span")]
    if span_index % 5 == 1:
        attributes += [
            _attr("interactiveai.observation.model.name", "my-model"),
            _attr("interactiveai.observation.usage_details", '{"input": 10, "output": 3}'),
        ]
    if span_index == SPANS_PER_TRACE - 1:
        attributes.append(_attr("interactiveai.observation.level", "ERROR"))
    if span_index == 0:
        attributes += [_attr("user.id", f"user-{trace_index % 3}"), _attr("session.id", f"s-{trace_index % 4}")]
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=f"step-{span_index}",
        start_time_unix_nano=start,
        end_time_unix_nano=start + 5_000_000,
        attributes=attributes,
    )


def _body(spans: list[Span]) -> bytes:
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    return request.SerializeToString()


@pytest.fixture
def two_replicas(postgres_server_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database(postgres_server_url)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with live_server(tmp_path / "a", database_url) as first, live_server(tmp_path / "b", database_url) as second:
        yield first, second


@pytest.mark.postgres
@pytest.mark.slow
def test_two_replicas_keep_every_span_and_exact_rollups(two_replicas: tuple[LiveServer, LiveServer]) -> None:
    replicas = two_replicas
    rng = random.Random(1)
    spans = [(t, s) for t in range(TRACES) for s in range(SPANS_PER_TRACE)]
    rng.shuffle(spans)
    # Each batch mixes traces; about a fifth of the spans are sent twice, to both replicas.
    batches: list[tuple[int, list[Span]]] = []
    for start in range(0, len(spans), 20):
        chunk = [_span(t, s) for t, s in spans[start : start + 20]]
        batches.append((start // 20 % 2, chunk))
        retried = [span for span in chunk if rng.random() < 0.2]
        if retried:
            batches.append((1 - start // 20 % 2, retried))
    rng.shuffle(batches)

    barrier = threading.Barrier(8)

    def post(index_and_batch: tuple[int, tuple[int, list[Span]]]) -> int:
        index, (replica, chunk) = index_and_batch
        if index < 8:
            barrier.wait()  # start the first posts together to maximise contention
        server = replicas[replica]
        response = httpx.post(
            server.url + "/api/public/otel/v1/traces",
            content=_body(chunk),
            headers={**server.auth_header, "Content-Type": "application/x-protobuf"},
            timeout=60,
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, enumerate(batches)))
    assert set(statuses) == {200}

    for server in replicas:
        _check_everything(server)


def _check_everything(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.auth_header, timeout=30) as api:
        deadline = time.monotonic() + 30
        while True:
            listed = api.get("/api/public/traces", params={"limit": 100}).json()
            if listed["meta"]["totalItems"] == TRACES or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert listed["meta"]["totalItems"] == TRACES
        for trace_index in range(TRACES):
            trace_id = (trace_index + 1).to_bytes(16, "big").hex()
            trace: dict[str, Any] = api.get(f"/api/public/traces/{trace_id}").json()
            generations = len([s for s in range(SPANS_PER_TRACE) if s % 5 == 1])
            assert trace["observationCount"] == SPANS_PER_TRACE
            assert len(trace["observations"]) == SPANS_PER_TRACE
            assert len({o["id"] for o in trace["observations"]}) == SPANS_PER_TRACE
            assert trace["inputTokens"] == 10 * generations
            assert trace["outputTokens"] == 3 * generations
            assert trace["totalTokens"] == 13 * generations
            assert trace["level"] == "ERROR"
            assert trace["levelCounts"]["ERROR"] == 1
            assert trace["levelCounts"]["DEFAULT"] == SPANS_PER_TRACE - 1
            assert trace["name"] == "step-0"
            assert trace["userId"] == f"user-{trace_index % 3}"
            assert trace["sessionId"] == f"s-{trace_index % 4}"
            expected_latency = ((SPANS_PER_TRACE - 1) * 1_000_000 + 5_000_000) / 1e9
            assert trace["latency"] == pytest.approx(expected_latency, abs=0.002)
