from __future__ import annotations

import json
from typing import Any

import pytest

from interactiveai.server.api.traces_models import Observation, Observations
from tests.server.query.seed import SECOND, T0, add_observation, add_trace, obs_id, trace_id

URL = "/api/public/observations"


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    add_trace(engine, project.id, trace_id(1), user_id="alice")
    add_trace(engine, project.id, trace_id(2), user_id="bob")
    add_observation(engine, project.id, trace_id(1), obs_id(1), name="root", start_time_us=T0, version="v1")
    add_observation(
        engine,
        project.id,
        trace_id(1),
        obs_id(2),
        name="llm",
        type="GENERATION",
        parent_observation_id=obs_id(1),
        start_time_us=T0 + SECOND,
        end_time_us=T0 + 3 * SECOND,
        completion_start_time_us=T0 + SECOND + 250_000,
        level="ERROR",
        status_message="rate limited",
        environment="production",
        input=[{"role": "user", "content": "hi"}],
        output={"role": "assistant", "content": "hello"},
        metadata={"attempt": 2},
        model="gpt-4o-mini",
        model_parameters={"temperature": 0.2, "max_tokens": 64, "stream": True, "stop": ["\n"], "seed": None},
        usage_details={"input": 12, "output": 3, "total": 15},
        cost_details={"input": 0.0012, "output": 0.0009, "total": 0.0021},
        input_tokens=12,
        output_tokens=3,
        total_tokens=15,
        input_cost=0.0012,
        output_cost=0.0009,
        total_cost=0.0021,
        matched_model_id="model-1",
    )
    add_observation(engine, project.id, trace_id(2), obs_id(3), name="tool", type="TOOL", start_time_us=T0 + 2 * SECOND)
    add_observation(engine, other_project.id, trace_id(9), obs_id(9), name="root", start_time_us=T0)
    return project


def listed(client: Any, project: Any, **params: Any) -> list[int]:
    response = client.get(URL, params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    Observations.model_validate(response.json())
    return [int(o["id"], 16) for o in response.json()["data"]]


def test_observation_object(client: Any, seeded: Any) -> None:
    response = client.get(f"{URL}/{obs_id(2)}", headers=seeded.headers)
    assert response.status_code == 200
    body = response.json()
    Observation.model_validate(body)
    assert body == {
        "id": obs_id(2),
        "traceId": trace_id(1),
        "projectId": seeded.id,
        "parentObservationId": obs_id(1),
        "type": "GENERATION",
        "name": "llm",
        "startTime": "2026-01-01T00:00:01.000Z",
        "endTime": "2026-01-01T00:00:03.000Z",
        "completionStartTime": "2026-01-01T00:00:01.250Z",
        "level": "ERROR",
        "statusMessage": "rate limited",
        "version": None,
        "environment": "production",
        "input": [{"role": "user", "content": "hi"}],
        "output": {"role": "assistant", "content": "hello"},
        "metadata": {"attempt": 2},
        "model": "gpt-4o-mini",
        # as text, as the reference returns them
        "modelParameters": {
            "temperature": "0.2",
            "max_tokens": "64",
            "stream": "true",
            "stop": '["\\n"]',
            "seed": "null",
        },
        "modelId": "model-1",
        "usageDetails": {"input": 12, "output": 3, "total": 15},
        "costDetails": {"input": 0.0012, "output": 0.0009, "total": 0.0021},
        "usage": {"input": 12, "output": 3, "total": 15, "unit": "TOKENS"},
        "inputUsage": 12,
        "outputUsage": 3,
        "totalUsage": 15,
        "promptTokens": 12,
        "completionTokens": 3,
        "totalTokens": 15,
        "inputCost": 0.0012,
        "outputCost": 0.0009,
        "totalCost": 0.0021,
        "calculatedInputCost": 0.0012,
        "calculatedOutputCost": 0.0009,
        "calculatedTotalCost": 0.0021,
        "latency": 2.0,
        "timeToFirstToken": 0.25,
        "createdAt": "2026-01-01T00:00:01.000Z",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [3, 2, 1]),
        ({"traceId": trace_id(1)}, [2, 1]),
        ({"name": "llm"}, [2]),
        ({"type": "generation"}, [2]),
        ({"type": "GENERATION,TOOL"}, [3, 2]),
        ({"level": "ERROR"}, [2]),
        ({"userId": "bob"}, [3]),
        ({"parentObservationId": obs_id(1)}, [2]),
        ({"environment": "production"}, [2]),
        ({"version": "v1"}, [1]),
        ({"fromStartTime": "2026-01-01T00:00:01Z"}, [3, 2]),
        ({"toStartTime": "2026-01-01T00:00:01Z"}, [1]),
        ({"limit": 1, "page": 2}, [2]),
    ],
)
def test_filters(client: Any, seeded: Any, params: dict[str, Any], expected: list[int]) -> None:
    assert listed(client, seeded, **params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter": [{"type": "string", "column": "traceId", "operator": "=", "value": trace_id(1)}]}, [2, 1]),
        ({"filter": [{"type": "string", "column": "userId", "operator": "=", "value": "bob"}]}, [3]),
        ({"filter": [{"type": "number", "column": "latency", "operator": ">", "value": 1}]}, [2]),
        (
            {
                "filter": [
                    {"type": "stringObject", "column": "metadata", "operator": "=", "value": "2", "key": "attempt"}
                ]
            },
            [2],
        ),
        ({"filter": [{"type": "stringOptions", "column": "type", "operator": "none of", "value": ["SPAN"]}]}, [3, 2]),
        # the filter's traceId replaces the parameter, the name parameter still applies
        (
            {
                "traceId": trace_id(2),
                "name": "root",
                "filter": [{"type": "string", "column": "traceId", "operator": "=", "value": trace_id(1)}],
            },
            [1],
        ),
    ],
)
def test_the_filter_parameter(client: Any, seeded: Any, params: dict[str, Any], expected: list[int]) -> None:
    assert listed(client, seeded, **{**params, "filter": json.dumps(params["filter"])}) == expected
    response = client.get(URL, params={"filter": '[{"type": "string"}]'}, headers=seeded.headers)
    assert response.status_code == 400 and "filter condition 1: column must be one of" in response.json()["message"]


def test_meta_and_errors(client: Any, seeded: Any) -> None:
    body = client.get(URL, params={"limit": 2}, headers=seeded.headers).json()
    assert body["meta"] == {"page": 1, "limit": 2, "totalItems": 3, "totalPages": 2}
    response = client.get(URL, params={"fromStartTime": "soon"}, headers=seeded.headers)
    assert response.status_code == 400 and "fromStartTime" in response.json()["message"]
    assert client.get(URL, params={"limit": 500}, headers=seeded.headers).status_code == 400


def test_isolation(client: Any, seeded: Any, other_project: Any) -> None:
    assert listed(client, other_project) == [9]
    assert listed(client, seeded, name="root") == [1]
    assert client.get(f"{URL}/{obs_id(9)}", headers=seeded.headers).status_code == 404
    assert client.get(f"{URL}/{obs_id(2)}", headers=other_project.headers).status_code == 404
    assert client.get(f"{URL}/{obs_id(2)}").status_code == 401
