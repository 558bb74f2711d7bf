"""End to end: an application instrumented with the SDK, the real server, the public API.

Every "Property of a Trace" in the product spec (spec/traces.txt) is read back through
``/api/public`` with its expected value, on SQLite and on PostgreSQL: the spans travel through
the real OTLP/HTTP exporter into a server subprocess, exactly as in production.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_server import LiveServer, live_server

SEED = "support-ticket-4711"
QUESTION = "What is the capital of France?"
ANSWER = "Paris is the capital of France."


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path, database_url=database_url) as running:
        yield running


def _app(server: LiveServer) -> dict[str, Any]:
    """A small RAG-style application; returns what it knows about the trace it produced."""
    from interactiveai import InteractiveAI, observe, propagate_attributes

    client = InteractiveAI(
        public_key=server.public_key,
        secret_key=server.secret_key,
        host=server.url,
        environment="staging",
        release="release-2026.01",
        flush_interval=0.2,
    )

    @observe(name="retrieve", as_type="retriever")
    def retrieve(query: str) -> list[str]:
        client.update_current_span(level="DEBUG")
        return ["doc-1", "doc-2"]

    @observe(name="draft", as_type="generation")
    def draft(prompt: str) -> str:
        # Usage and cost given by the client: the cost must be taken as provided.
        client.update_current_generation(
            model="gpt-4o-mini",
            usage_details={"input": 100, "output": 20},
            cost_details={"input": 0.001, "output": 0.002},
        )
        time.sleep(0.05)
        return "Paris."

    @observe(name="polish", as_type="generation")
    def polish(text: str) -> str:
        # Usage only: the server prices it from its model catalog.
        client.update_current_generation(model="gpt-4o-mini", usage_details={"input": 50, "output": 10})
        return ANSWER

    @observe(name="check-policy", as_type="guardrail")
    def check(text: str) -> bool:
        client.update_current_span(level="WARNING", status_message="borderline wording")
        return True

    @observe(name="answer-question")
    def answer(question: str) -> str:
        with propagate_attributes(
            user_id="user-7",
            session_id="session-9",
            tags=["prod", "rag"],
            metadata={"run_name": "nightly"},
            version="v3",
        ):
            client.update_current_trace(input={"question": question})
            docs = retrieve(question)
            text = polish(draft(f"{question} {docs}"))
            check(text)
            event = client.create_event(name="cache-miss", level="ERROR", status_message="cache unavailable")
            event.end()
            client.update_current_trace(output={"answer": text})
            client.score_current_trace(name="helpfulness", value=0.9, comment="clear answer")
            return text

    trace_id = client.create_trace_id(seed=SEED)
    started = time.time()
    result = answer(QUESTION, interactiveai_trace_id=trace_id)
    finished = time.time()
    client.create_score(trace_id=trace_id, name="correct", value=True)
    assert client.flush(timeout=30)
    info = {
        "trace_id": trace_id,
        "started": started,
        "finished": finished,
        "result": result,
        "url": client.get_trace_url(trace_id=trace_id),
        "auth_ok": client.auth_check(),
    }
    client.shutdown(timeout=10)
    return info


def _poll(fetch: Callable[[], Any], ready: Callable[[Any], bool], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if ready(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _iso_seconds(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_every_property_of_a_trace(server: LiveServer) -> None:
    info = _app(server)
    trace_id = info["trace_id"]
    api = httpx.Client(base_url=server.url + "/api/public", headers=server.auth_header, timeout=10)

    def fetch() -> Any:
        response = api.get(f"/traces/{trace_id}")
        return response.json() if response.status_code == 200 else None

    trace = _poll(fetch, lambda t: t is not None and t["observationCount"] == 6 and len(t["scores"]) == 2)
    assert trace is not None, "the trace never became readable"
    observations = {o["name"]: o for o in trace["observations"]}

    # Id: the deterministic id is the first 16 bytes of SHA-256 of the seed.
    assert trace_id == hashlib.sha256(SEED.encode()).digest()[:16].hex()
    assert trace["id"] == trace_id
    # Trace name: the root observation's name.
    assert trace["name"] == "answer-question"
    # Timestamp: the start of the trace (its root observation), within the wall-clock call.
    root = observations["answer-question"]
    assert trace["timestamp"] == root["startTime"]
    assert info["started"] - 1 <= _iso_seconds(trace["timestamp"]) <= info["finished"] + 1
    # Input/Output: JSON payloads, as values.
    assert trace["input"] == {"question": QUESTION}
    assert trace["output"] == {"answer": ANSWER}
    # Observation levels: the per-level counts of the nested observations.
    assert trace["levelCounts"] == {"DEBUG": 1, "DEFAULT": 3, "WARNING": 1, "ERROR": 1}
    # Level: the worst level.
    assert trace["level"] == "ERROR"
    # Observations: the total number.
    assert trace["observationCount"] == 6 and len(trace["observations"]) == 6
    assert {o["type"] for o in trace["observations"]} == {"SPAN", "RETRIEVER", "GENERATION", "GUARDRAIL", "EVENT"}
    # Latency: first start to last end, in seconds.
    first_start = min(_iso_seconds(o["startTime"]) for o in trace["observations"])
    last_end = max(_iso_seconds(o["endTime"] or o["startTime"]) for o in trace["observations"])
    assert trace["latency"] == pytest.approx(last_end - first_start, abs=0.002)
    assert 0.05 <= trace["latency"] <= info["finished"] - info["started"] + 0.01
    # Tokens: input, output and total across all observations.
    assert trace["inputTokens"] == 150
    assert trace["outputTokens"] == 30
    assert trace["totalTokens"] == 180
    # Model cost and input/output cost: the provided cost as given, the other from the catalog.
    draft = observations["draft"]
    assert draft["inputCost"] == pytest.approx(0.001) and draft["outputCost"] == pytest.approx(0.002)
    polish = observations["polish"]
    assert polish["totalCost"] is not None and polish["totalCost"] > 0
    assert polish["inputCost"] > 0 and polish["outputCost"] > 0
    generations = (draft, polish)
    assert trace["inputCost"] == pytest.approx(sum(o["inputCost"] for o in generations))
    assert trace["outputCost"] == pytest.approx(sum(o["outputCost"] for o in generations))
    assert trace["totalCost"] == pytest.approx(sum(o["totalCost"] for o in generations))
    assert trace["totalCost"] == pytest.approx(trace["inputCost"] + trace["outputCost"])
    # Environment, release, version.
    assert trace["environment"] == "staging"
    assert trace["release"] == "release-2026.01"
    assert trace["version"] == "v3"
    # Tags and metadata.
    assert sorted(trace["tags"]) == ["prod", "rag"]
    assert trace["metadata"]["run_name"] == "nightly"
    # User and session.
    assert trace["userId"] == "user-7"
    assert trace["sessionId"] == "session-9"
    # Scores attached to the trace.
    scores = {s["name"]: s for s in trace["scores"]}
    assert scores["helpfulness"]["value"] == 0.9 and scores["helpfulness"]["dataType"] == "NUMERIC"
    assert scores["helpfulness"]["comment"] == "clear answer"
    assert scores["correct"]["value"] == 1.0 and scores["correct"]["dataType"] == "BOOLEAN"
    assert all(s["traceId"] == trace_id for s in trace["scores"])

    # The same trace through the list endpoint and its filters.
    listed = api.get("/traces", params={"userId": "user-7", "tags": "prod,rag", "environment": "staging"}).json()
    assert [t["id"] for t in listed["data"]] == [trace_id]
    summary = listed["data"][0]
    for key in ("name", "timestamp", "latency", "totalCost", "inputTokens", "outputTokens", "totalTokens", "level"):
        assert summary[key] == trace[key], key
    assert sorted(summary["observations"]) == sorted(o["id"] for o in trace["observations"])
    assert sorted(summary["scores"]) == sorted(s["id"] for s in trace["scores"])
    # Session: the trace is in its session, with the session's user.
    session = api.get("/sessions/session-9").json()
    assert [t["id"] for t in session["traces"]] == [trace_id] and session["userIds"] == ["user-7"]
    # Observations list by trace.
    assert api.get("/observations", params={"traceId": trace_id}).json()["meta"]["totalItems"] == 6

    # get_trace_url and auth_check work against the server.
    assert info["url"] == f"{server.url}/project/{server.project_id}/traces/{trace_id}"
    assert trace["htmlPath"] == f"/project/{server.project_id}/traces/{trace_id}"
    assert info["auth_ok"] is True
    assert info["result"] == ANSWER


def test_auth_check_rejects_a_wrong_secret(server: LiveServer) -> None:
    from interactiveai import InteractiveAI

    client = InteractiveAI(public_key=server.public_key, secret_key="sk-wrong", host=server.url)
    try:
        assert client.auth_check() is False
    finally:
        client.shutdown(timeout=5)
