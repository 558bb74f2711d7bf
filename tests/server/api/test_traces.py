from __future__ import annotations

import json
from typing import Any

import pytest

from interactiveai.server.api.traces_models import Traces, TraceWithDetails
from tests.server.query.seed import SECOND, T0, add_observation, add_score, add_trace, obs_id, trace_id

URL = "/api/public/traces"


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    for i in range(6):
        add_trace(
            engine,
            project.id,
            trace_id(i),
            timestamp_us=T0 + i * SECOND,
            name="chat" if i % 2 else "search",
            user_id=f"user-{i % 2}",
            session_id="s1" if i < 3 else "s2",
            environment="production" if i < 3 else "staging",
            release="r1",
            version=f"v{i % 3}",
            tags=["a", "b"] if i % 2 else ["a"],
            input={"question": i},
            output=["answer", i],
            metadata={"run": i},
            input_tokens=10 * i,
            output_tokens=i,
            total_tokens=11 * i,
            input_cost=0.25 * i,
            output_cost=0.75 * i,
            total_cost=1.0 * i,
            latency_us=1_500_000,
            observation_count=2,
            level="WARNING",
            default_count=1,
            warning_count=1,
        )
        add_observation(engine, project.id, trace_id(i), obs_id(2 * i + 1), start_time_us=T0 + i * SECOND)
        add_observation(engine, project.id, trace_id(i), obs_id(2 * i + 2), start_time_us=T0 + i * SECOND + 5)
    add_score(engine, project.id, "score-1", trace_id=trace_id(5))
    add_trace(engine, other_project.id, trace_id(99), name="chat", user_id="user-1", tags=["a"])
    return project


def listed(client: Any, project: Any, **params: Any) -> list[int]:
    response = client.get(URL, params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    Traces.model_validate(response.json())
    return [int(t["id"], 16) for t in response.json()["data"]]


def test_trace_object_shape_and_values(client: Any, seeded: Any) -> None:
    body = client.get(URL, headers=seeded.headers).json()
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 6, "totalPages": 1}
    trace = body["data"][0]
    assert trace == {
        "id": trace_id(5),
        "projectId": seeded.id,
        "timestamp": "2026-01-01T00:00:05.000Z",
        "name": "chat",
        "input": {"question": 5},
        "output": ["answer", 5],
        "userId": "user-1",
        "sessionId": "s2",
        "release": "r1",
        "version": "v2",
        "environment": "staging",
        "tags": ["a", "b"],
        "metadata": {"run": 5},
        "public": False,
        "bookmarked": False,
        "latency": 1.5,
        "totalCost": 5.0,
        "inputCost": 1.25,
        "outputCost": 3.75,
        "inputTokens": 50,
        "outputTokens": 5,
        "totalTokens": 55,
        "observationCount": 2,
        "level": "WARNING",
        "levelCounts": {"DEBUG": 0, "DEFAULT": 1, "WARNING": 1, "ERROR": 0},
        "observations": [obs_id(11), obs_id(12)],
        "scores": ["score-1"],
        "htmlPath": f"/project/{seeded.id}/traces/{trace_id(5)}",
        "externalId": None,
        "createdAt": "2026-01-01T00:00:05.000Z",
        "updatedAt": "2026-01-01T00:00:05.000Z",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"userId": "user-1"}, [5, 3, 1]),
        ({"name": "search"}, [4, 2, 0]),
        ({"sessionId": "s1"}, [2, 1, 0]),
        ({"tags": "b"}, [5, 3, 1]),
        ({"tags": "a,b"}, [5, 3, 1]),
        ({"tags": ["a", "b"]}, [5, 3, 1]),
        ({"tags": ["a", "nope"]}, []),
        ({"environment": "production"}, [2, 1, 0]),
        ({"environment": ["production", "staging"]}, [5, 4, 3, 2, 1, 0]),
        ({"version": "v1"}, [4, 1]),
        ({"release": "r1"}, [5, 4, 3, 2, 1, 0]),
        ({"release": "r2"}, []),
        ({"fromTimestamp": "2026-01-01T00:00:02Z", "toTimestamp": "2026-01-01T00:00:04Z"}, [3, 2]),
        ({"fromTimestamp": "2026-01-01T01:00:02+01:00"}, [5, 4, 3, 2]),
        ({"userId": "user-0", "environment": "staging"}, [4]),
        ({"orderBy": "timestamp.asc"}, [0, 1, 2, 3, 4, 5]),
        ({"orderBy": "totalCost.asc"}, [0, 1, 2, 3, 4, 5]),
        ({"orderBy": "name.asc"}, [1, 3, 5, 0, 2, 4]),
        ({"orderBy": "id.desc"}, [5, 4, 3, 2, 1, 0]),
        ({"orderBy": "totalTokens.desc"}, [5, 4, 3, 2, 1, 0]),
    ],
)
def test_filters_and_orders(client: Any, seeded: Any, params: dict[str, Any], expected: list[int]) -> None:
    assert listed(client, seeded, **params) == expected


def cond(kind: str, column: str, operator: str, value: Any = None, **more: Any) -> dict[str, Any]:
    return {"type": kind, "column": column, "operator": operator, "value": value, **more}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter": [cond("string", "userId", "=", "user-1")]}, [5, 3, 1]),
        ({"filter": [cond("arrayOptions", "tags", "all of", ["a", "b"])]}, [5, 3, 1]),
        ({"filter": [cond("stringObject", "metadata", "=", "4", key="run")]}, [4]),
        ({"filter": [cond("numberObject", "metadata", ">=", 4, key="run")]}, [5, 4]),
        ({"filter": [cond("number", "totalCost", ">", 2.5)]}, [5, 4, 3]),
        ({"filter": [cond("datetime", "timestamp", "<", "2026-01-01T00:00:02Z")]}, [1, 0]),
        # a condition on a column replaces the simple parameter on it, as the reference does
        ({"userId": "user-0", "filter": [cond("string", "userId", "=", "user-1")]}, [5, 3, 1]),
        (
            {
                "fromTimestamp": "2026-01-01T00:00:05Z",
                "filter": [cond("datetime", "timestamp", "<", "2026-01-01T00:00:01Z")],
            },
            [0],
        ),
        # ... and the others still apply
        ({"environment": "staging", "filter": [cond("string", "userId", "=", "user-1")]}, [5, 3]),
        ({"filter": []}, [5, 4, 3, 2, 1, 0]),
    ],
)
def test_the_filter_parameter(client: Any, seeded: Any, params: dict[str, Any], expected: list[int]) -> None:
    params = {**params, "filter": json.dumps(params["filter"])}
    assert listed(client, seeded, **params) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[{", "filter must be a JSON list of conditions"),
        ('[{"type": "string", "column": "nope", "operator": "="}]', "filter condition 1: column must be one of"),
        ('[{"type": "number", "column": "latency", "operator": "contains", "value": 1}]', "operator must be one of"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_rule(client: Any, seeded: Any, text: str, message: str) -> None:
    response = client.get(URL, params={"filter": text}, headers=seeded.headers)
    assert response.status_code == 400 and message in response.json()["message"], response.text


def test_pagination_meta(client: Any, seeded: Any) -> None:
    body = client.get(URL, params={"page": 2, "limit": 4}, headers=seeded.headers).json()
    assert [int(t["id"], 16) for t in body["data"]] == [1, 0]
    assert body["meta"] == {"page": 2, "limit": 4, "totalItems": 6, "totalPages": 2}
    empty = client.get(URL, params={"page": 9, "limit": 4}, headers=seeded.headers).json()
    assert empty["data"] == [] and empty["meta"]["totalItems"] == 6


def test_fields_exclude_io_metrics_and_lists(client: Any, seeded: Any) -> None:
    body = client.get(URL, params={"fields": "core"}, headers=seeded.headers).json()
    trace = body["data"][0]
    assert trace["input"] is None and trace["output"] is None and trace["metadata"] is None
    assert trace["latency"] == -1 and trace["totalCost"] == -1
    assert trace["observations"] == [] and trace["scores"] == []
    assert trace["name"] == "chat" and trace["totalTokens"] == 55
    partial = client.get(URL, params={"fields": "io,scores"}, headers=seeded.headers).json()["data"][0]
    assert partial["input"] == {"question": 5} and partial["scores"] == ["score-1"] and partial["observations"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"orderBy": "input.desc"}, "cannot order traces by 'input'"),
        ({"orderBy": "timestamp.sideways"}, "direction"),
        ({"fromTimestamp": "yesterday"}, "fromTimestamp must be an ISO 8601"),
        ({"toTimestamp": "2026-13-01"}, "toTimestamp must be an ISO 8601"),
        ({"fields": "core,everything"}, "unknown fields everything"),
    ],
)
def test_bad_parameters_are_400_with_a_message(client: Any, seeded: Any, params: dict[str, Any], message: str) -> None:
    response = client.get(URL, params=params, headers=seeded.headers)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_get_trace_with_observations_and_scores(client: Any, seeded: Any, engine: Any) -> None:
    add_observation(
        engine,
        seeded.id,
        trace_id(5),
        obs_id(100),
        start_time_us=T0 + 5 * SECOND + 1,
        type="GENERATION",
        parent_observation_id=obs_id(11),
        model="gpt-4o",
        input=[{"role": "user", "content": "hi"}],
    )
    response = client.get(f"{URL}/{trace_id(5)}", headers=seeded.headers)
    assert response.status_code == 200
    body = response.json()
    TraceWithDetails.model_validate(body)
    assert [o["id"] for o in body["observations"]] == [obs_id(11), obs_id(100), obs_id(12)]
    generation = body["observations"][1]
    assert generation["type"] == "GENERATION" and generation["parentObservationId"] == obs_id(11)
    assert generation["input"] == [{"role": "user", "content": "hi"}]
    assert [s["id"] for s in body["scores"]] == ["score-1"] and body["scores"][0]["value"] == 1.0
    assert body["input"] == {"question": 5} and body["latency"] == 1.5


def test_isolation(client: Any, seeded: Any, other_project: Any) -> None:
    assert listed(client, other_project) == [99]
    assert listed(client, seeded, userId="user-1") == [5, 3, 1]  # not the other project's user-1 trace
    assert client.get(f"{URL}/{trace_id(99)}", headers=seeded.headers).status_code == 404
    assert client.get(f"{URL}/{trace_id(1)}", headers=other_project.headers).status_code == 404
    assert client.get(URL).status_code == 401


def test_large_trace_detail(client: Any, project: Any, engine: Any) -> None:
    from sqlalchemy import insert

    from interactiveai.server.storage.schema import observations

    trace = add_trace(engine, project.id, trace_id(7), observation_count=1000)
    rows = [
        {
            "project_id": project.id,
            "trace_id": trace_id(7),
            "id": obs_id(i),
            "start_time_us": T0 + (1000 - i),
            "input": f'{{"i": {i}}}',
            "created_at_us": T0,
            "trace_created_at_us": trace["created_at_us"],
        }
        for i in range(1000)
    ]
    with engine.begin() as conn:
        conn.execute(insert(observations), rows)
    body = client.get(f"{URL}/{trace_id(7)}", headers=project.headers).json()
    assert len(body["observations"]) == 1000
    assert body["observations"][0]["id"] == obs_id(999) and body["observations"][0]["input"] == {"i": 999}
