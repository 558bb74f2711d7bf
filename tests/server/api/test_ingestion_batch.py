"""``POST /api/public/ingestion``: the reference SDK's batch of events, answered 207 per event.

Everything is read back through the REST API, on both engines: what a batch stores, how later
batches update it (and its trace's roll-ups), that a bad event fails alone, that scores follow
``POST /scores``'s rules, and that hostile input is stored readable or refused for its event only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from interactiveai.server.api.ingestion_models import IngestionResult
from interactiveai.server.api.traces_models import TraceWithDetails
from tests.server.api.routes_table import API
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id
from tests.support.read_back import read_back

URL = f"{API}/ingestion"
T = "2026-01-31T12:00:00"


def event(kind: str, body: dict[str, Any], n: int = 0, *, at: str | None = None, event_id: str | None = None) -> Any:
    return {
        "id": event_id or f"ev-{kind}-{body.get('id', n)}-{n}",
        "type": kind,
        "timestamp": at or f"{T}Z",
        "body": body,
    }


def send(client: Any, project: Any, *events: Any, status: int = 207) -> dict[str, Any]:
    response = client.post(
        URL, json={"batch": list(events), "metadata": {"sdk_name": "python"}}, headers=project.headers
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    if status == 207:
        IngestionResult.model_validate(body)
    return body


def ok(client: Any, project: Any, *events: Any) -> None:
    body = send(client, project, *events)
    assert body["errors"] == [], body["errors"]
    assert [s["id"] for s in body["successes"]] == [e["id"] for e in events]
    assert {s["status"] for s in body["successes"]} <= {201}


def get(client: Any, project: Any, path: str, status: int = 200) -> Any:
    response = client.get(API + path, headers=project.headers)
    assert response.status_code == status, response.text
    return response.json()


def trace(client: Any, project: Any, tid: str) -> dict[str, Any]:
    body = get(client, project, f"/traces/{tid}")
    TraceWithDetails.model_validate(body)
    return body  # type: ignore[no-any-return]


def by_name(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in detail["observations"]}


def v2_batch(tid: str = "trace-1") -> list[Any]:
    """What the reference SDK 2.x sends for a trace with a span, a generation, an event and scores."""
    return [
        event(
            "trace-create",
            {
                "id": tid,
                "timestamp": f"{T}Z",
                "name": "chat",
                "userId": "user-1",
                "sessionId": "session-1",
                "release": "r1",
                "version": "v1",
                "tags": ["b", "a"],
                "metadata": {"k": 1},
                "input": {"q": "hi"},
                "environment": "production",
            },
        ),
        event(
            "span-create",
            {"id": "span-1", "traceId": tid, "name": "retrieve", "startTime": f"{T}.100Z", "input": "x"},
            at=f"{T}.100Z",
        ),
        event(
            "generation-create",
            {
                "id": "gen-1",
                "traceId": tid,
                "parentObservationId": "span-1",
                "name": "llm",
                "startTime": f"{T}.200Z",
                "model": "gpt-4o-mini",
                "modelParameters": {"temperature": "0.2", "stop": ["a"]},
                "input": [{"role": "user", "content": "hi"}],
                "promptName": "greeting",
                "promptVersion": 3,
            },
            at=f"{T}.200Z",
        ),
        event(
            "generation-update",
            {
                "id": "gen-1",
                "traceId": tid,
                "endTime": f"{T}.900Z",
                "completionStartTime": f"{T}.400Z",
                "output": "hello",
                "usage": {"input": 1000, "output": 500},
            },
            at=f"{T}.900Z",
        ),
        event(
            "event-create",
            {
                "id": "ev-1",
                "traceId": tid,
                "parentObservationId": "span-1",
                "name": "cache-hit",
                "startTime": f"{T}.300Z",
            },
            at=f"{T}.300Z",
        ),
        event(
            "span-update", {"id": "span-1", "traceId": tid, "endTime": f"{T}.950Z", "output": "done"}, at=f"{T}.950Z"
        ),
        event("trace-create", {"id": tid, "output": {"a": "hello"}}, n=2, at=f"{T}.960Z"),
        event("score-create", {"id": f"{tid}-s1", "traceId": tid, "name": "quality", "value": 0.5}, at=f"{T}.970Z"),
        event("sdk-log", {"log": "hello from the sdk"}),
    ]


def test_a_reference_sdk_batch_is_stored_and_reads_back(client: Any, project: Any) -> None:
    events = v2_batch()
    ok(client, project, *events)
    detail = trace(client, project, "trace-1")
    assert detail["name"] == "chat" and detail["userId"] == "user-1" and detail["sessionId"] == "session-1"
    assert detail["release"] == "r1" and detail["version"] == "v1" and detail["environment"] == "production"
    assert detail["tags"] == ["a", "b"] and detail["metadata"] == {"k": 1}
    assert detail["input"] == {"q": "hi"} and detail["output"] == {"a": "hello"}
    assert detail["timestamp"] == f"{T}.000Z" and detail["latency"] == pytest.approx(0.95)
    assert detail["observationCount"] == 3
    assert detail["inputTokens"] == 1000 and detail["outputTokens"] == 500 and detail["totalTokens"] == 1500
    assert detail["totalCost"] > 0  # gpt-4o-mini is in the price catalog
    obs = by_name(detail)
    assert {o["type"] for o in obs.values()} == {"SPAN", "GENERATION", "EVENT"}
    span, gen, ev = obs["retrieve"], obs["llm"], obs["cache-hit"]
    assert span["parentObservationId"] is None and span["endTime"] == f"{T}.950Z" and span["output"] == "done"
    assert gen["parentObservationId"] == "span-1" and ev["parentObservationId"] == "span-1"
    assert gen["model"] == "gpt-4o-mini" and gen["output"] == "hello"
    assert gen["input"] == [{"role": "user", "content": "hi"}]
    assert gen["usageDetails"] == {"input": 1000, "output": 500, "total": 1500}
    assert gen["totalCost"] == pytest.approx(detail["totalCost"]) and gen["modelId"] is not None
    assert gen["startTime"] == f"{T}.200Z" and gen["endTime"] == f"{T}.900Z"
    assert gen["timeToFirstToken"] == pytest.approx(0.2) and gen["latency"] == pytest.approx(0.7)
    assert gen["metadata"]["promptName"] == "greeting" and gen["metadata"]["promptVersion"] == 3
    assert ev["startTime"] == ev["endTime"] == f"{T}.300Z"
    (score,) = detail["scores"]
    assert score["id"] == "trace-1-s1" and score["value"] == 0.5 and score["dataType"] == "NUMERIC"
    assert score["timestamp"] == f"{T}.970Z"  # the event's timestamp: the body has none
    # the session and the lists see it too
    assert get(client, project, "/sessions/session-1")["traces"][0]["id"] == "trace-1"
    assert {o["id"] for o in get(client, project, "/observations?traceId=trace-1")["data"]} == {
        "span-1",
        "gen-1",
        "ev-1",
    }


def test_resending_a_batch_changes_nothing(client: Any, project: Any) -> None:
    events = v2_batch()
    ok(client, project, *events)
    before = trace(client, project, "trace-1")
    ok(client, project, *events)
    after = trace(client, project, "trace-1")
    assert _stable(after) == _stable(before)


def _stable(detail: dict[str, Any]) -> dict[str, Any]:
    """A trace detail without the times of the last write (of the trace and its scores)."""
    scores = [{k: v for k, v in s.items() if k != "updatedAt"} for s in detail["scores"]]
    return {**{k: v for k, v in detail.items() if k != "updatedAt"}, "scores": scores}


def test_updates_in_later_batches_merge_into_what_is_stored(client: Any, project: Any) -> None:
    tid = "trace-later"
    ok(
        client,
        project,
        event("trace-create", {"id": tid, "name": "first", "tags": ["x"], "metadata": {"a": 1}}),
        event(
            "generation-create",
            {
                "id": "g",
                "traceId": tid,
                "name": "llm",
                "model": "gpt-4o-mini",
                "startTime": f"{T}Z",
                "metadata": {"m": 1},
            },
        ),
    )
    detail = trace(client, project, tid)
    assert detail["totalCost"] == 0 and detail["level"] == "DEFAULT" and detail["latency"] == 0
    ok(
        client,
        project,
        event(
            "generation-update",
            {
                "id": "g",
                "traceId": tid,
                "endTime": f"{T}.500Z",
                "level": "ERROR",
                "statusMessage": "boom",
                "usageDetails": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
                "metadata": {"n": 2},
            },
            at=f"{T}.5Z",
        ),
        event("trace-create", {"id": tid, "name": "renamed", "tags": ["y"], "metadata": {"b": 2}, "public": True}, n=2),
    )
    detail = trace(client, project, tid)
    assert detail["name"] == "renamed" and detail["tags"] == ["x", "y"] and detail["metadata"] == {"a": 1, "b": 2}
    assert detail["public"] is True and detail["level"] == "ERROR"
    assert detail["levelCounts"] == {"DEBUG": 0, "DEFAULT": 0, "WARNING": 0, "ERROR": 1}
    assert detail["inputTokens"] == 100 and detail["outputTokens"] == 10 and detail["totalTokens"] == 110
    assert detail["totalCost"] > 0 and detail["latency"] == pytest.approx(0.5)
    (gen,) = detail["observations"]
    assert gen["name"] == "llm" and gen["statusMessage"] == "boom" and gen["metadata"] == {"m": 1, "n": 2}
    assert gen["totalCost"] == pytest.approx(detail["totalCost"])
    # a tag added by an update is found by the tag filter
    assert [t["id"] for t in get(client, project, "/traces?tags=y")["data"]] == [tid]
    # a later level and a provided cost move the roll-ups again
    ok(
        client,
        project,
        event("generation-update", {"id": "g", "traceId": tid, "level": "WARNING", "costDetails": {"total": 2.5}}, n=3),
    )
    detail = trace(client, project, tid)
    assert (
        detail["level"] == "WARNING" and detail["levelCounts"]["ERROR"] == 0 and detail["levelCounts"]["WARNING"] == 1
    )
    assert detail["totalCost"] == pytest.approx(2.5) and detail["observations"][0]["totalCost"] == pytest.approx(2.5)


def test_usage_details_as_the_reference_stores_them(client: Any, project: Any) -> None:
    """An OpenAI usage object in the canonical keys (its details apart); any other map as sent, plus total."""
    tid = "trace-usage"
    openai_usage = {
        "prompt_tokens": 42,
        "completion_tokens": 17,
        "total_tokens": 59,
        "prompt_tokens_details": {"cached_tokens": 10},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
    responses_usage = {"input_tokens": 8, "output_tokens": 2, "total_tokens": 10}
    ok(
        client,
        project,
        event("generation-create", {"id": "chat", "traceId": tid, "name": "chat", "usageDetails": openai_usage}),
        event("generation-create", {"id": "resp", "traceId": tid, "name": "resp", "usageDetails": responses_usage}),
        event("generation-create", {"id": "map", "traceId": tid, "name": "map", "usageDetails": {"prompt_tokens": 7}}),
        event(
            "generation-create", {"id": "own", "traceId": tid, "name": "own", "usageDetails": {"input": 3, "img": 2}}
        ),
        event("generation-create", {"id": "old", "traceId": tid, "name": "old", "usage": {"promptTokens": 4}}),
    )
    obs = by_name(trace(client, project, tid))
    chat = obs["chat"]
    assert chat["usageDetails"] == {
        "input": 32,
        "input_cached_tokens": 10,
        "output": 12,
        "output_reasoning_tokens": 5,
        "total": 59,
    }
    assert (chat["inputUsage"], chat["outputUsage"], chat["totalUsage"]) == (42, 17, 59)
    assert obs["resp"]["usageDetails"] == {"input": 8, "output": 2, "total": 10}
    assert obs["map"]["usageDetails"] == {"prompt_tokens": 7, "total": 7} and obs["map"]["inputUsage"] == 7
    assert obs["own"]["usageDetails"] == {"input": 3, "img": 2, "total": 3}  # total: the input and output sides
    assert obs["old"]["usageDetails"] == {"input": 4, "total": 4}
    # a later update of the model prices the stored counts again, read as they were sent
    ok(client, project, event("generation-update", {"id": "map", "traceId": tid, "model": "gpt-4o-mini"}, n=1))
    updated = by_name(trace(client, project, tid))["map"]
    assert updated["usageDetails"] == {"prompt_tokens": 7, "total": 7} and updated["totalCost"] > 0


def test_creates_apply_before_updates_whatever_their_order(client: Any, project: Any) -> None:
    tid = "trace-order"
    ok(
        client,
        project,
        event("span-update", {"id": "s", "traceId": tid, "name": "updated", "endTime": f"{T}.5Z"}, at=f"{T}.1Z"),
        event("span-create", {"id": "s", "traceId": tid, "name": "created", "startTime": f"{T}Z"}, at=f"{T}.2Z"),
        event("trace-create", {"id": tid, "name": "t"}),
    )
    (span,) = trace(client, project, tid)["observations"]
    assert span["name"] == "updated" and span["startTime"] == f"{T}.000Z" and span["endTime"] == f"{T}.500Z"


def test_an_observation_without_a_trace(client: Any, project: Any) -> None:
    """No traceId anywhere: a trace of its own (named after it); an update without one finds it."""
    ok(
        client,
        project,
        event("generation-create", {"id": "lonely", "name": "solo", "input": "q", "startTime": f"{T}Z"}),
    )
    detail = trace(client, project, "lonely")
    assert detail["name"] == "solo" and detail["input"] == "q" and detail["observationCount"] == 1
    ok(client, project, event("generation-update", {"id": "lonely", "output": "a", "endTime": f"{T}.2Z"}, n=1))
    detail = trace(client, project, "lonely")
    assert detail["output"] == "a" and detail["observations"][0]["output"] == "a"
    assert detail["latency"] == pytest.approx(0.2)


def test_a_legacy_update_merges_into_a_span_sent_over_otlp(client: Any, engine: Any, project: Any) -> None:
    tid, sid = trace_id(), span_id()
    Ingest(client, engine, project).ok([SpanSpec(tid, sid, "otlp-root", attributes={"interactiveai.trace.name": "t"})])
    ok(client, project, event("span-update", {"id": sid, "traceId": tid, "output": {"late": True}, "level": "WARNING"}))
    detail = trace(client, project, tid)
    assert detail["observationCount"] == 1 and detail["level"] == "WARNING"
    assert detail["observations"][0]["output"] == {"late": True}
    assert detail["output"] == {"late": True}  # the root span's output is the trace's


def test_legacy_and_generic_observation_types(client: Any, project: Any) -> None:
    tid = "trace-types"
    kinds = ["agent", "tool", "chain", "retriever", "evaluator", "embedding", "guardrail"]
    events = [event(f"{k}-create", {"id": k, "traceId": tid, "name": k, "model": "m"}) for k in kinds]
    events.append(event("observation-create", {"id": "old-gen", "traceId": tid, "type": "GENERATION", "name": "og"}))
    events.append(event("observation-update", {"id": "old-gen", "traceId": tid, "output": "o"}))
    ok(client, project, *events)
    obs = by_name(trace(client, project, tid))
    assert {k: obs[k]["type"] for k in kinds} == {k: k.upper() for k in kinds}
    assert obs["og"]["type"] == "GENERATION" and obs["og"]["output"] == "o"
    assert obs["tool"]["model"] == "m"


# --- a bad event fails alone ---------------------------------------------------------------------------

BAD_EVENTS = {
    "not an object": ["just text"],
    "no id": [{"type": "trace-create", "timestamp": f"{T}Z", "body": {"id": "x"}}],
    "unknown type": [{"id": "e", "type": "trace-delete", "timestamp": f"{T}Z", "body": {"id": "x"}}],
    "internal type": [event("dataset-run-item-create", {"id": "x"})],
    "body not an object": [{"id": "e", "type": "trace-create", "timestamp": f"{T}Z", "body": [1]}],
    "bad event time": [event("trace-create", {"id": "x"}, at="yesterday")],
    "event time past 9999": [event("trace-create", {"id": "x"}, at="9999-12-31T23:59:59-23:59")],
    "bad start time": [event("span-create", {"id": "x", "traceId": "t", "startTime": "0000-01-01T00:00:00Z"})],
    "time not a string": [event("span-create", {"id": "x", "traceId": "t", "endTime": 12})],
    "observation without id": [event("span-create", {"traceId": "t", "name": "n"})],
    "id too long": [event("span-create", {"id": "s" * 65, "traceId": "t"})],
    "id with a slash": [event("span-create", {"id": "a/b", "traceId": "t"})],
    "trace id with a slash": [event("generation-create", {"id": "a", "traceId": "t/1"})],
    "trace id of dots": [event("trace-create", {"id": ".."})],
    "trace id with NUL": [event("trace-create", {"id": "a\x00b"})],
    "parent not a string": [event("span-create", {"id": "x", "traceId": "t", "parentObservationId": 5})],
    "bad level": [event("span-create", {"id": "x", "traceId": "t", "level": "LOUD"})],
    "tags not strings": [event("trace-create", {"id": "x", "tags": [1, 2]})],
    "public not a boolean": [event("trace-create", {"id": "x", "public": "yes"})],
    "name not a string": [event("trace-create", {"id": "x", "name": {"a": 1}})],
    "model parameters not an object": [event("generation-create", {"id": "x", "traceId": "t", "modelParameters": 1})],
    "usage not an object": [event("generation-create", {"id": "x", "traceId": "t", "usage": [1]})],
    "legacy type unknown": [event("observation-create", {"id": "x", "traceId": "t", "type": "AGENT"})],
    "score without name": [event("score-create", {"traceId": "t", "value": 1})],
    "score without target": [event("score-create", {"name": "n", "value": 1})],
    "boolean score of 2": [event("score-create", {"traceId": "t", "name": "n", "value": 2, "dataType": "BOOLEAN"})],
    "score config unknown": [event("score-create", {"traceId": "t", "name": "n", "value": 1, "configId": "nope"})],
    "score name with NUL": [event("score-create", {"traceId": "t", "name": "a\x00", "value": 1})],
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_a_bad_event_fails_alone(client: Any, project: Any, case: str) -> None:
    (bad,) = BAD_EVENTS[case]
    good = event("trace-create", {"id": f"good-{len(case)}", "name": "fine"}, event_id="good-event")
    body = send(client, project, bad, good)
    assert body["successes"] == [{"id": "good-event", "status": 201}]
    (error,) = body["errors"]
    assert error["status"] == 400 and error["message"] == "Invalid request data" and error["error"]
    assert error["id"] == (bad.get("id", "") if isinstance(bad, dict) else "")
    assert trace(client, project, f"good-{len(case)}")["name"] == "fine"


def test_one_bad_score_among_good_ones(client: Any, project: Any) -> None:
    body = send(
        client,
        project,
        event("score-create", {"id": "s1", "traceId": "t", "name": "a", "value": 1}),
        event("score-create", {"id": "s2", "traceId": "t", "name": "b", "value": "x", "dataType": "NUMERIC"}),
        event("score-create", {"id": "s3", "traceId": "t", "name": "c", "value": 3}),
    )
    assert [s["id"] for s in body["successes"]] == ["ev-score-create-s1-0", "ev-score-create-s3-0"]
    assert [e["id"] for e in body["errors"]] == ["ev-score-create-s2-0"] and "NUMERIC" in body["errors"][0]["error"]
    assert {s["id"] for s in get(client, project, "/scores?traceId=t")["data"]} == {"s1", "s3"}


# --- scores --------------------------------------------------------------------------------------------


def test_scores_of_every_data_type_and_target(client: Any, project: Any) -> None:
    config = client.post(
        f"{API}/score-configs",
        json={"name": "verdict", "dataType": "CATEGORICAL", "categories": [{"label": "good", "value": 1}]},
        headers=project.headers,
    ).json()
    ok(
        client,
        project,
        event("score-create", {"id": "n", "traceId": "t", "observationId": "o", "name": "num", "value": 0.25}),
        event("score-create", {"id": "b", "traceId": "t", "name": "bool", "value": 1.0, "dataType": "BOOLEAN"}),
        event("score-create", {"id": "c", "traceId": "t", "name": "cat", "value": "meh", "dataType": "CATEGORICAL"}),
        event("score-create", {"id": "cc", "traceId": "t", "name": "x", "value": "good", "configId": config["id"]}),
        event("score-create", {"id": "tx", "traceId": "t", "name": "note", "value": "fine", "dataType": "TEXT"}),
        event("score-create", {"id": "ss", "sessionId": "sess", "name": "sess", "value": 2, "comment": "c"}),
        event("score-create", {"id": "rr", "datasetRunId": "run", "name": "run", "value": 3, "metadata": {"k": "v"}}),
        event(
            "score-create",
            {"id": "ts", "traceId": "t", "name": "timed", "value": 1, "timestamp": "2025-01-01T00:00:00Z"},
            at="2026-02-01T00:00:00Z",
        ),
        event("score-create", {"traceId": "t", "name": "no-id", "value": 1, "environment": "staging"}, event_id="ev-x"),
    )
    scores = {s["id"]: s for s in get(client, project, "/scores?limit=100")["data"]}
    assert scores["n"]["observationId"] == "o" and scores["n"]["dataType"] == "NUMERIC"
    assert scores["b"]["value"] == 1 and scores["b"]["stringValue"] == "True"
    assert scores["c"]["stringValue"] == "meh" and scores["c"]["dataType"] == "CATEGORICAL"
    assert scores["cc"]["value"] == 1 and scores["cc"]["name"] == "verdict" and scores["cc"]["configId"] == config["id"]
    assert scores["tx"]["dataType"] == "TEXT" and scores["tx"]["stringValue"] == "fine"
    assert scores["ss"]["sessionId"] == "sess" and scores["ss"]["comment"] == "c"
    assert scores["rr"]["datasetRunId"] == "run" and scores["rr"]["metadata"] == {"k": "v"}
    assert scores["ts"]["timestamp"] == "2025-01-01T00:00:00.000Z"  # the body's own time wins
    assert scores["n"]["timestamp"] == f"{T}.000Z"
    assert scores["ev-x"]["environment"] == "staging"  # no id: the event's
    # idempotent by id: the same score again, another value
    ok(client, project, event("score-create", {"id": "n", "traceId": "t", "name": "num", "value": 0.75}, n=9))
    assert get(client, project, "/scores/n")["value"] == 0.75


# --- the request as a whole ----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [{}, {"batch": {}}, {"batch": "x"}, [], [{"batch": []}], "batch", None, 1])
def test_a_body_that_is_not_a_batch_is_400(client: Any, project: Any, payload: Any) -> None:
    response = client.post(URL, json=payload, headers=project.headers)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message", "error"}


def test_an_empty_batch_answers_207(client: Any, project: Any) -> None:
    assert send(client, project) == {"successes": [], "errors": []}


def test_the_key_is_checked_before_the_body(client: Any, project: Any) -> None:
    bad_key = {"Authorization": "Basic " + "eDp5"}
    for content in (b"{not json", b'{"batch": []}', b"x" * 100_000):
        response = client.post(URL, content=content, headers={**bad_key, "Content-Type": "application/json"})
        assert response.status_code == 401, response.text
    assert client.post(URL, content=b"{}", headers={"Content-Type": "application/json"}).status_code == 401


def test_body_limits_and_content_type(client: Any, project: Any) -> None:
    settings = client.app.state.settings
    too_big = b'{"batch": [' + b" " * settings.max_json_body_bytes + b"]}"
    headers = {**project.headers, "Content-Type": "application/json"}
    assert client.post(URL, content=too_big, headers=headers).status_code == 413
    assert client.post(URL, content=b"{bad", headers=headers).status_code == 400
    text = {**project.headers, "Content-Type": "text/plain"}
    assert client.post(URL, content=b'{"batch": []}', headers=text).status_code == 415


def test_another_projects_key_touches_nothing_of_this_project(client: Any, project: Any, other_project: Any) -> None:
    ok(client, project, *v2_batch("shared-id"))
    before = trace(client, project, "shared-id")
    ok(client, other_project, event("trace-create", {"id": "shared-id", "name": "theirs"}))
    ok(client, other_project, event("generation-update", {"id": "gen-1", "traceId": "shared-id", "output": "x"}))
    assert _stable(trace(client, project, "shared-id")) == _stable(before)
    assert trace(client, other_project, "shared-id")["name"] == "theirs"


# --- hostile input ------------------------------------------------------------------------------------

DEEP: Any = 1
for _ in range(200):
    DEEP = [DEEP]


def test_hostile_values_are_stored_readable_or_refused_alone(client: Any, engine: Any, project: Any) -> None:
    tid = "hostile"
    long_name = "n" * 5_000
    body = send(
        client,
        project,
        event(
            "trace-create",
            {
                "id": tid,
                "name": long_name,
                "userId": "u\x00ser",
                "sessionId": "s" * 3_000,
                "tags": [f"t{i}" for i in range(300)] + ["x" * 500],
                "metadata": {"deep": DEEP, "ok": 1},
                "input": DEEP,
                "output": "\x00",
                "environment": "LANGFUSE-prod",
            },
        ),
        event(
            "generation-create",
            {
                "id": "g 1?#%\n",
                "traceId": tid,
                "name": "é" * 2_000,
                "model": "m" * 3_000,
                "modelParameters": {"deep": DEEP},
                "usage": {"input": -5, "output": 1e30, "total": "many"},
                "usageDetails": {"input": 2**70, "weird": "x", "output": 3},
                "costDetails": {"total": float("1e308")},
                "metadata": DEEP,
                "version": 2,
                "startTime": "0001-01-01T00:00:00Z",
                "endTime": "9999-12-31T23:59:59Z",
                "completionStartTime": "2026-01-31T12:00:00+23:59",
            },
        ),
        event(
            "span-create",
            {"id": "x" * 64, "traceId": tid, "parentObservationId": "g 1?#%\n", "input": {"\x00": "\x00"}},
        ),
    )
    assert body["errors"] == [], body["errors"]
    detail = trace(client, project, tid)
    assert len(detail["tags"]) == 100 and detail["userId"] == "user" and detail["environment"] == "default"
    assert len(detail["name"].encode()) <= 1_000 and detail["observationCount"] == 2
    (g,) = [o for o in detail["observations"] if o["id"] == "g 1?#%\n"]
    assert g["usageDetails"] == {"output": 3, "total": 3}  # counts out of range or not numbers are dropped
    assert g["costDetails"] == {} and g["totalCost"] is None and g["version"] == "2"
    assert g["startTime"] == "0001-01-01T00:00:00.000Z" and g["endTime"] == "9999-12-31T23:59:59.000Z"
    assert len(g["name"].encode()) <= 1_000 and len(g["model"].encode()) <= 1_000
    sweep = read_back(client, engine, project.id, project.headers)
    assert not sweep.problems, sweep.report()


# --- what the database refuses, a full queue ----------------------------------------------------------


@contextmanager
def refusing_observations_named(engine: Any, name: str) -> Iterator[None]:
    """A rule of the database itself that refuses an observation row named ``name`` (a data error)."""
    if engine.dialect.name == "postgresql":
        add = f"ALTER TABLE observations ADD CONSTRAINT refuse_name CHECK (name IS DISTINCT FROM '{name}')"
        drop = "ALTER TABLE observations DROP CONSTRAINT refuse_name"
    else:
        add = (
            f"CREATE TRIGGER refuse_name BEFORE INSERT ON observations WHEN NEW.name = '{name}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
        drop = "DROP TRIGGER refuse_name"
    with engine.begin() as conn:
        conn.exec_driver_sql(add)
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(drop)


def test_a_trace_the_database_refuses_fails_alone(client: Any, engine: Any, project: Any) -> None:
    """Only the refused trace's events fail (each trace is then written on its own); the rest is stored."""
    with refusing_observations_named(engine, "poison"):
        body = send(
            client,
            project,
            event("trace-create", {"id": "fine", "name": "fine"}, event_id="e-fine"),
            event("span-create", {"id": "s", "traceId": "fine", "name": "ok"}, event_id="e-fine-span"),
            event("trace-create", {"id": "bad", "name": "bad"}, event_id="e-bad"),
            event("span-create", {"id": "s", "traceId": "bad", "name": "poison"}, event_id="e-bad-span"),
            event("score-create", {"id": "sc", "traceId": "bad", "name": "n", "value": 1}, event_id="e-score"),
        )
    assert {e["id"] for e in body["errors"]} == {"e-bad", "e-bad-span"}
    assert all(e["status"] == 400 and "could not be stored" in e["error"] for e in body["errors"])
    assert {s["id"] for s in body["successes"]} == {"e-fine", "e-fine-span", "e-score"}
    assert trace(client, project, "fine")["observationCount"] == 1
    get(client, project, "/traces/bad", status=404)
    # once the database takes it, the same batch is stored whole
    ok(client, project, event("trace-create", {"id": "bad", "name": "bad"}, event_id="e-bad"))


def test_scores_refused_among_many_fail_alone(client: Any, project: Any) -> None:
    bad = {3, 17, 38}
    events = [
        event("score-create", {"id": f"s{i}", "traceId": "t", "name": "n", "value": "x" if i in bad else i}, n=i)
        for i in range(40)
    ]
    for i in bad:
        events[i]["body"]["dataType"] = "NUMERIC"
    body = send(client, project, *events)
    assert sorted(e["id"] for e in body["errors"]) == sorted(events[i]["id"] for i in bad)
    assert len(body["successes"]) == 37
    assert get(client, project, "/scores?traceId=t&limit=100")["meta"]["totalItems"] == 37


def test_a_full_ingestion_queue_is_429_before_the_body_is_read(client: Any, project: Any) -> None:
    queue = client.app.state.ingest.queue
    queue.take(queue.limit, "another-project")
    try:
        response = client.post(URL, json={"batch": v2_batch()}, headers=project.headers)
        assert response.status_code == 429 and response.headers["Retry-After"], response.text
        assert set(response.json()) == {"message", "error"}
    finally:
        queue.give_back(queue.limit, "another-project")
    ok(client, project, *v2_batch())
