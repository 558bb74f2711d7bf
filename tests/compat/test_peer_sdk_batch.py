"""The existing SDK's batch ingestion (``POST /api/public/ingestion``) against a real server of ours.

Its 2.x release sends everything through that endpoint; 3.x (and 4.x) send every score through
it. Each scenario of tests/compat/peer_sdk/batch_*.py runs in a venv holding only that release
(built from the package index, lower bounds pinned), sends to a live server on each engine, and
records every request it made (status, and the events a 207 refused). Here: no request refused,
no event refused, and everything it sent read back through our REST API.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import CompatServer
from tests.support.compat_venv import compat_venv
from tests.support.fake_openai import CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_TOKENS, FakeOpenAI

SCENARIOS = Path(__file__).parent / "peer_sdk"
V2 = ("langfuse-v2", ["langfuse>=2.50,<3"])
V2_OPENAI = ("langfuse-v2-openai", ["langfuse>=2.50,<3", "openai>=1.40"])
V3 = ("langfuse-3.x", ["langfuse>=3.15,<4", "openai>=1.40"])  # the same venv as test_peer_sdk.py's 3.x

pytestmark = pytest.mark.slow


def run(
    release: tuple[str, list[str]], scenario: str, server: CompatServer, tmp_path: Path, **more_env: str
) -> dict[str, Any]:
    venv = compat_venv(*release)
    out = tmp_path / f"{scenario}.json"
    env = {
        **more_env,
        "LANGFUSE_HOST": server.url,
        "LANGFUSE_BASE_URL": server.url,
        "LANGFUSE_PUBLIC_KEY": server.public_key,
        "LANGFUSE_SECRET_KEY": server.secret_key,
        "PEER_RUN": uuid.uuid4().hex[:10],
    }
    venv.run(SCENARIOS / f"{scenario}.py", str(out), env=env, timeout=300)
    summary: dict[str, Any] = json.loads(out.read_text())
    summary["run"] = env["PEER_RUN"]
    return summary


def assert_nothing_refused(summary: dict[str, Any]) -> None:
    assert summary["errors"] == {}, summary["errors"]
    batches = [r for r in summary["requests"] if r["path"] == "/api/public/ingestion"]
    assert batches, "the SDK sent no batch"
    for request in summary["requests"]:
        assert request["status"] < 400 and not request.get("errors"), request
    assert {r["status"] for r in batches} == {207}


def by_name(observations: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in observations}


def test_v2_sends_everything_through_the_batch_api(live_server_for_compat: CompatServer, tmp_path: Path) -> None:
    server = live_server_for_compat
    summary = run(V2, "batch_v2", server, tmp_path)
    assert_nothing_refused(summary)
    tag = summary["run"]

    ids = summary["low_level"]
    trace = server.get(f"traces/{ids['trace']}")
    assert (
        trace["name"] == f"chat-{tag}" and trace["userId"] == f"user-{tag}" and trace["sessionId"] == f"session-{tag}"
    )
    assert trace["release"] == f"release-{tag}" and trace["version"] == "v1" and trace["public"] is True
    assert trace["tags"] == ["batch", "updated", "v2"]
    assert trace["metadata"] == {"origin": "low-level", "stage": "done"}
    assert trace["input"] == {"question": "hi"} and trace["output"] == {"answer": "hello"}
    assert trace["timestamp"] == "2026-01-31T12:00:00.000Z" and trace["latency"] == pytest.approx(0.99)
    assert trace["observationCount"] == 4 and trace["level"] == "WARNING"
    assert trace["inputTokens"] == 1020 and trace["outputTokens"] == 500
    obs = by_name(trace["observations"])
    span, gen, embed, event = obs["retrieve"], obs["llm"], obs["embed"], obs["cache-miss"]
    assert span["type"] == "SPAN" and span["level"] == "WARNING" and span["output"] == {"documents": 2}
    assert span["endTime"] == "2026-01-31T12:00:00.990Z"
    assert gen["type"] == "GENERATION" and gen["parentObservationId"] == span["id"] and gen["model"] == "gpt-4o-mini"
    assert gen["input"] == [{"role": "user", "content": "hi"}]
    assert gen["output"] == {"role": "assistant", "content": "hello"}
    assert gen["usageDetails"]["input"] == 1000 and gen["usageDetails"]["output"] == 500
    assert gen["totalCost"] and gen["totalCost"] > 0  # priced from the catalog
    assert gen["timeToFirstToken"] == pytest.approx(0.1) and gen["latency"] == pytest.approx(0.7)
    assert gen["metadata"] == {"attempt": 1}
    assert embed["costDetails"]["input"] == pytest.approx(0.5) and embed["usageDetails"]["input"] == 20
    assert event["type"] == "EVENT" and event["parentObservationId"] == span["id"]
    assert trace["totalCost"] == pytest.approx(gen["totalCost"] + embed["totalCost"])
    scores = {s["name"]: s for s in trace["scores"]}
    assert scores["quality"]["value"] == 0.75 and scores["quality"]["comment"] == "fine"
    assert scores["verdict"]["dataType"] == "CATEGORICAL" and scores["verdict"]["stringValue"] == "good"
    assert scores["correct"]["dataType"] == "BOOLEAN" and scores["correct"]["observationId"] == gen["id"]
    session = server.get(f"sessions/session-{tag}")
    assert [t["id"] for t in session["traces"]] == [ids["trace"]]

    decorated = server.get(f"traces/{summary['decorated']['trace']}")
    assert decorated["name"] == f"decorated-{tag}" and decorated["tags"] == ["decorated"]
    assert decorated["output"] == "answer to why?"
    assert decorated["input"] == {"args": ["why?"], "kwargs": {}}
    (answer,) = decorated["observations"]  # the outermost function is the trace itself in 2.x
    assert answer["name"] == "answer" and answer["type"] == "GENERATION" and answer["model"] == "gpt-4o-mini"
    assert answer["parentObservationId"] is None and answer["metadata"] == {"question": "why?"}
    assert answer["usageDetails"]["input"] == 10 and answer["output"] == "answer to why?"
    assert answer["input"] == {"args": ["why?"], "kwargs": {}}
    assert {s["name"] for s in decorated["scores"]} == {"fluent", "overall"}

    # the SDK's own client reads it back
    assert summary["fetched"] == {
        "name": f"chat-{tag}",
        "observations": 4,
        "scores": 3,
        "total_cost": pytest.approx(trace["totalCost"]),
    }


def test_v3_create_score_lands_for_every_data_type(live_server_for_compat: CompatServer, tmp_path: Path) -> None:
    server = live_server_for_compat
    summary = run(V3, "batch_scores_v3", server, tmp_path)
    assert_nothing_refused(summary)
    stored = {s["id"]: s for s in server.get("scores", traceId=summary["trace_id"], limit=100)["data"]}
    stored.update((s["id"], s) for s in server.get("scores", sessionId=summary["session_id"])["data"])
    stored.update((s["id"], s) for s in server.get("scores", datasetRunId=summary["run_id"])["data"])
    assert set(stored) == {score["score_id"] for score in summary["scores"]}
    tag = summary["scores"][0]["score_id"].removeprefix("num-")
    expect = {
        f"num-{tag}": {"dataType": "NUMERIC", "value": 0.92},
        f"obs-{tag}": {"observationId": summary["observation_id"], "comment": "on the generation"},
        f"bool-{tag}": {"dataType": "BOOLEAN", "value": 1, "stringValue": "True"},
        f"cat-{tag}": {"dataType": "CATEGORICAL", "stringValue": "friendly"},
        f"text-{tag}": {"dataType": "TEXT", "stringValue": "concise"},
        f"session-{tag}": {"sessionId": summary["session_id"], "traceId": None, "value": 4.5},
        f"run-{tag}": {"datasetRunId": summary["run_id"], "value": 0.8},
        f"stamped-{tag}": {"timestamp": "2025-06-01T08:30:00.000Z"},
    }
    for score_id, fields in expect.items():
        assert {k: stored[score_id][k] for k in fields} == fields, stored[score_id]
    assert stored[f"obs-{tag}"]["metadata"] == {"judge": "human"}


def test_v2_openai_drop_in_generations_land(
    live_server_for_compat: CompatServer, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    server = live_server_for_compat
    env = {"OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": "sk-fake"}
    summary = run(V2_OPENAI, "batch_v2_openai", server, tmp_path, **env)
    assert_nothing_refused(summary)
    traces = summary["traces"]
    usage = {
        "input": PROMPT_TOKENS - CACHED_TOKENS,
        "input_cached_tokens": CACHED_TOKENS,
        "output": COMPLETION_TOKENS - REASONING_TOKENS,
        "output_reasoning_tokens": REASONING_TOKENS,
        "total": PROMPT_TOKENS + COMPLETION_TOKENS,
    }
    (chat,) = server.get(f"traces/{traces['chat']}")["observations"]
    assert chat["type"] == "GENERATION" and chat["name"] == "chat" and chat["model"] == "gpt-4o-mini"
    assert chat["input"] == [{"role": "user", "content": "hello"}]
    assert chat["output"] == {"role": "assistant", "content": "Echo: hello"}
    assert {k: chat["usageDetails"].get(k) for k in usage} == usage
    assert (chat["inputUsage"], chat["outputUsage"]) == (PROMPT_TOKENS, COMPLETION_TOKENS)
    assert chat["totalCost"] and chat["totalCost"] > 0 and chat["metadata"]["case"] == "chat"
    assert chat["modelParameters"]["temperature"] in (0.5, "0.5")
    (stream,) = server.get(f"traces/{traces['stream']}")["observations"]
    assert stream["output"] == "Echo: stream it" and stream["timeToFirstToken"] > 0
    assert {k: stream["usageDetails"].get(k) for k in usage} == usage
    assert traces["failing_raised"] is True
    (failing,) = server.get(f"traces/{traces['failing']}")["observations"]
    assert failing["level"] == "ERROR" and "400" in failing["statusMessage"] and failing["model"] == "fail-model"
