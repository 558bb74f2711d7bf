from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.api.traces_models import Sessions, SessionWithTraces
from tests.server.query.seed import SECOND, T0, add_score, add_trace, trace_id

URL = "/api/public/sessions"


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    # s1: three traces by two users; s2: one trace later, in staging; one trace without a session.
    for i, (user, start) in enumerate([("alice", 0), ("bob", 10), ("alice", 20)]):
        add_trace(
            engine,
            project.id,
            trace_id(i),
            session_id="s1",
            user_id=user,
            timestamp_us=T0 + start * SECOND,
            latency_us=2 * SECOND,
            input_tokens=10,
            output_tokens=5,
            total_tokens=15,
            total_cost=0.5,
        )
    add_trace(engine, project.id, trace_id(3), session_id="s2", environment="staging", timestamp_us=T0 + 100 * SECOND)
    add_trace(engine, project.id, trace_id(4), timestamp_us=T0 + 200 * SECOND)
    add_score(engine, project.id, "session-score", session_id="s1", name="helpful")
    add_trace(engine, other_project.id, trace_id(9), session_id="s1", user_id="mallory")
    return project


def test_list_sessions_with_aggregates(client: Any, seeded: Any) -> None:
    response = client.get(URL, headers=seeded.headers)
    assert response.status_code == 200
    body = response.json()
    Sessions.model_validate(body)
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1}
    assert [s["id"] for s in body["data"]] == ["s2", "s1"]
    s1 = body["data"][1]
    assert s1 == {
        "id": "s1",
        "projectId": seeded.id,
        "environment": "default",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "lastTraceAt": "2026-01-01T00:00:20.000Z",
        "traceCount": 3,
        "userIds": ["alice", "bob"],
        "totalCost": 1.5,
        "inputTokens": 30,
        "outputTokens": 15,
        "totalTokens": 45,
        "durationSeconds": 22.0,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"environment": "staging"}, ["s2"]),
        ({"fromTimestamp": "2026-01-01T00:01:00Z"}, ["s2"]),
        ({"toTimestamp": "2026-01-01T00:01:00Z"}, ["s1"]),
        ({"limit": 1, "page": 2}, ["s1"]),
    ],
)
def test_filters(client: Any, seeded: Any, params: dict[str, Any], expected: list[str]) -> None:
    body = client.get(URL, params=params, headers=seeded.headers).json()
    assert [s["id"] for s in body["data"]] == expected


def test_window_does_not_truncate_aggregates(client: Any, seeded: Any) -> None:
    # A window that only sees the last trace of s1 still reports the whole session.
    params = {"fromTimestamp": "2026-01-01T00:00:15Z", "toTimestamp": "2026-01-01T00:00:30Z"}
    (s1,) = client.get(URL, params=params, headers=seeded.headers).json()["data"]
    assert s1["traceCount"] == 3 and s1["createdAt"] == "2026-01-01T00:00:00.000Z"


def test_get_session_with_traces(client: Any, seeded: Any) -> None:
    response = client.get(f"{URL}/s1", headers=seeded.headers)
    assert response.status_code == 200
    body = response.json()
    SessionWithTraces.model_validate(body)
    assert [t["id"] for t in body["traces"]] == [trace_id(0), trace_id(1), trace_id(2)]
    assert body["traceCount"] == 3 and body["userIds"] == ["alice", "bob"]
    assert [s["id"] for s in body["scores"]] == ["session-score"]


def test_errors_and_isolation(client: Any, seeded: Any, other_project: Any) -> None:
    assert client.get(f"{URL}/nope", headers=seeded.headers).status_code == 404
    assert client.get(f"{URL}/s2", headers=other_project.headers).status_code == 404
    other = client.get(f"{URL}/s1", headers=other_project.headers).json()
    assert other["userIds"] == ["mallory"] and [t["id"] for t in other["traces"]] == [trace_id(9)]
    assert [s["id"] for s in client.get(URL, headers=other_project.headers).json()["data"]] == ["s1"]
    response = client.get(URL, params={"toTimestamp": "tomorrow"}, headers=seeded.headers)
    assert response.status_code == 400 and "toTimestamp" in response.json()["message"]
    assert client.get(URL).status_code == 401
