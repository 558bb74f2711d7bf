"""Batch events and OTLP spans for the same traces at once, on a live server with two processes.

The batch API's writes (legacy_writes.py) lock a trace's row as the OTLP writer does, so every
observation is stored once and every roll-up counts it once, whichever process, request and
transaction brought it, on both engines.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import live_database_url
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf, span_id
from tests.support.live_server import live_server

TRACES = [f"{i:032x}" for i in range(1, 7)]
ROUNDS = 40


@pytest.mark.slow
def test_batch_events_and_otlp_spans_for_the_same_traces_at_once(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    expected: dict[str, set[str]] = {t: set() for t in TRACES}
    tokens: dict[str, int] = dict.fromkeys(TRACES, 0)
    lock = threading.Lock()
    problems: list[str] = []
    rng = random.Random(7)
    plans = [[rng.sample(TRACES, 3) for _ in range(ROUNDS)] for _ in range(4)]

    def otlp(http: httpx.Client, plan: list[list[str]]) -> None:
        for traces in plan:
            spans = [SpanSpec(t, span_id(), "otlp") for t in traces]
            with lock:
                for span in spans:
                    expected[span.trace_id].add(span.span_id)
            body = encode_protobuf([ResourceSpec(spans, {"service.name": "live"})])
            response = http.post(
                "/api/public/otel/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"}
            )
            if response.status_code != 200:
                problems.append(f"otlp {response.status_code}: {response.text[:200]}")

    def batch(http: httpx.Client, plan: list[list[str]], worker: int) -> None:
        for n, traces in enumerate(plan):
            events: list[dict[str, Any]] = []
            for t in traces:
                oid = f"g{worker}-{n}-{t[-2:]}"
                with lock:
                    expected[t].add(oid)
                    tokens[t] += 11
                events += [
                    _event(f"{oid}-c", "generation-create", {"id": oid, "traceId": t, "model": "gpt-4o-mini"}),
                    _event(
                        f"{oid}-u", "generation-update", {"id": oid, "traceId": t, "usage": {"input": 10, "output": 1}}
                    ),
                    _event(
                        f"{oid}-t", "trace-create", {"id": t, "tags": [f"w{worker}"], "metadata": {f"w{worker}": n}}
                    ),
                ]
            response = http.post("/api/public/ingestion", json={"batch": events})
            if response.status_code != 207 or response.json()["errors"]:
                problems.append(f"batch {response.status_code}: {response.text[:200]}")

    env = {"INTERACTIVEAI_WORKERS": "2"}
    with live_server(tmp_path, live_database_url(dialect, request), extra_env=env) as server:
        clients = [httpx.Client(base_url=server.url, headers=server.auth_header, timeout=60) for _ in plans]
        threads = [
            threading.Thread(target=otlp, args=(clients[0], plans[0])),
            threading.Thread(target=otlp, args=(clients[1], plans[1])),
            threading.Thread(target=batch, args=(clients[2], plans[2], 1)),
            threading.Thread(target=batch, args=(clients[3], plans[3], 2)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not problems, problems[:5]
        for t in TRACES:
            trace = clients[0].get(f"/api/public/traces/{t}").json()
            assert {o["id"] for o in trace["observations"]} == expected[t]
            assert trace["observationCount"] == len(expected[t])
            assert trace["totalTokens"] == tokens[t] and trace["tags"] == ["w1", "w2"]
        for http in clients:
            http.close()


def _event(event_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "timestamp": "2026-01-31T12:00:00Z", "body": body}
