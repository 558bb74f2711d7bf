"""GET /v2/observations and GET /v3/scores: the reference API's cursor lists, read by its SDK's
4.x and 5.x releases (404 before: those releases could not read observations or scores back)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.query.seed import SECOND, T0, add_observation, add_score, add_trace, obs_id, trace_id


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    add_trace(engine, project.id, trace_id(1), user_id="alice", session_id="s1", name="chat", tags=["a", "b"])
    add_trace(engine, project.id, trace_id(2), user_id="bob")
    add_observation(engine, project.id, trace_id(1), obs_id(1), name="root", start_time_us=T0, input={"q": "hi"})
    add_observation(
        engine,
        project.id,
        trace_id(1),
        obs_id(2),
        name="llm",
        type="GENERATION",
        parent_observation_id=obs_id(1),
        start_time_us=T0 + SECOND,
        output="hello",
        model="gpt-4o-mini",
        model_parameters={"temperature": 0.2},
        usage_details={"input": 12, "output": 3, "total": 15},
    )
    for n in range(3, 8):
        add_observation(engine, project.id, trace_id(2), obs_id(n), name=f"step-{n}", start_time_us=T0 + n * SECOND)
    add_observation(engine, other_project.id, trace_id(9), obs_id(9), name="theirs", start_time_us=T0)
    add_score(engine, project.id, "n1", trace_id=trace_id(1), name="quality", value=0.5, data_type="NUMERIC")
    add_score(
        engine, project.id, "b1", trace_id=trace_id(1), observation_id=obs_id(2), name="ok", value=1.0,
        data_type="BOOLEAN", string_value="True", timestamp_us=T0 + SECOND,
    )  # fmt: skip
    add_score(
        engine, project.id, "c1", session_id="s1", name="verdict", value=None, string_value="good",
        data_type="CATEGORICAL", timestamp_us=T0 + 2 * SECOND,
    )  # fmt: skip
    add_score(
        engine, project.id, "r1", dataset_run_id="run-1", name="accuracy", value=0.75, timestamp_us=T0 + 3 * SECOND
    )
    add_score(engine, other_project.id, "x1", trace_id=trace_id(9), name="theirs", value=1.0)
    return project


def get(client: Any, project: Any, path: str, **params: Any) -> Any:
    response = client.get(f"/api/public/{path}", params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_v2_observations_of_a_trace_with_the_groups_asked_for(client: Any, seeded: Any) -> None:
    body = get(client, seeded, "v2/observations", traceId=trace_id(1), fields="core,basic,io,model,usage,trace_context")
    assert [o["id"] for o in body["data"]] == [obs_id(2), obs_id(1)] and body["meta"] == {}
    llm, root = body["data"]
    assert llm["parentObservationId"] == obs_id(1) and llm["type"] == "GENERATION" and not llm["isRootObservation"]
    assert llm["output"] == "hello" and root["input"] == '{"q":"hi"}'  # the raw text, as the reference answers
    assert llm["model"] == "gpt-4o-mini" and llm["modelParameters"] == {"temperature": "0.2"}
    assert llm["usageDetails"] == {"input": 12, "output": 3, "total": 15}
    assert (llm["userId"], llm["sessionId"], llm["traceName"], llm["tags"]) == ("alice", "s1", "chat", ["a", "b"])
    core_only = get(client, seeded, "v2/observations", traceId=trace_id(1), fields="core")["data"][0]
    assert "name" not in core_only and "input" not in core_only and core_only["projectId"] == seeded.id
    default = get(client, seeded, "v2/observations", traceId=trace_id(1))["data"][0]
    assert default["name"] == "llm" and "input" not in default


def test_v2_observations_page_by_cursor_without_repeats(client: Any, seeded: Any) -> None:
    seen, cursor = [], None
    for _ in range(10):
        body = get(client, seeded, "v2/observations", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [o["id"] for o in body["data"]]
        cursor = body["meta"].get("cursor")
        if cursor is None:
            break
    assert seen == [obs_id(n) for n in (7, 6, 5, 4, 3, 2, 1)]  # newest first, nothing of the other project
    filtered = get(client, seeded, "v2/observations", sessionId="s1", isRootObservation="true")["data"]
    assert [o["id"] for o in filtered] == [obs_id(1)]
    assert [o["id"] for o in get(client, seeded, "v2/observations", userId="bob", limit=1)["data"]] == [obs_id(7)]


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor"}, {"fields": "core,everything"}, {"limit": "1001"}],
)
def test_v2_observations_refuses_what_it_cannot_answer(client: Any, seeded: Any, params: dict[str, str]) -> None:
    response = client.get("/api/public/v2/observations", params=params, headers=seeded.headers)
    assert response.status_code == 400, response.text


def test_v3_scores_have_typed_values_and_subjects(client: Any, seeded: Any) -> None:
    body = get(client, seeded, "v3/scores", fields="details,subject")
    by_id = {s["id"]: s for s in body["data"]}
    assert list(by_id) == ["r1", "c1", "b1", "n1"] and body["meta"] == {"limit": 50}
    assert by_id["n1"]["value"] == 0.5 and by_id["b1"]["value"] is True and by_id["c1"]["value"] == "good"
    assert by_id["n1"]["subject"] == {"kind": "trace", "id": trace_id(1)}
    assert by_id["b1"]["subject"] == {"kind": "observation", "id": obs_id(2), "traceId": trace_id(1)}
    assert by_id["c1"]["subject"] == {"kind": "session", "id": "s1"}
    assert by_id["r1"]["subject"] == {"kind": "experiment", "id": "run-1"}
    assert "comment" in by_id["n1"] and "subject" not in get(client, seeded, "v3/scores")["data"][0]


def test_v3_scores_filters_and_cursor(client: Any, seeded: Any) -> None:
    def ids(**params: Any) -> list[str]:
        return [s["id"] for s in get(client, seeded, "v3/scores", **params)["data"]]

    assert ids(traceId=trace_id(1)) == ["b1", "n1"]
    assert ids(traceId=trace_id(1), observationId=obs_id(2)) == ["b1"]
    assert ids(sessionId="s1") == ["c1"] and ids(experimentId="run-1") == ["r1"]
    assert ids(name="quality,ok") == ["b1", "n1"] and ids(dataType="boolean") == ["b1"]
    assert ids(dataType="CATEGORICAL", value="good") == ["c1"] and ids(dataType="BOOLEAN", value="true") == ["b1"]
    assert ids(dataType="NUMERIC", valueMin=0.6) == ["r1"] and ids(id="n1,c1") == ["c1", "n1"]
    first = get(client, seeded, "v3/scores", limit=3)
    rest = get(client, seeded, "v3/scores", limit=3, cursor=first["meta"]["cursor"])
    assert [s["id"] for s in first["data"] + rest["data"]] == ["r1", "c1", "b1", "n1"] and "cursor" not in rest["meta"]


@pytest.mark.parametrize(
    "params",
    [
        {"traceId": "t", "sessionId": "s"},
        {"observationId": "o"},
        {"value": "1"},
        {"dataType": "NUMERIC", "value": "abc"},
        {"dataType": "BOOLEAN", "valueMin": "1"},
        {"fields": "details,nothing"},
        {"cursor": "WzEsMl0"},
        {"limit": "101"},
    ],
)
def test_v3_scores_refuses_what_the_reference_refuses(client: Any, seeded: Any, params: dict[str, str]) -> None:
    response = client.get("/api/public/v3/scores", params=params, headers=seeded.headers)
    assert response.status_code == 400, response.text


def test_v2_observations_take_the_filter_of_the_v1_list(client: Any, seeded: Any) -> None:
    def condition(column: str, value: str) -> str:
        return json.dumps([{"type": "string", "column": column, "operator": "=", "value": value}])

    conditions = condition("name", "llm")
    assert [o["id"] for o in get(client, seeded, "v2/observations", filter=conditions)["data"]] == [obs_id(2)]
    by_trace = condition("traceId", trace_id(1))
    assert len(get(client, seeded, "v2/observations", filter=by_trace)["data"]) == 2
    broken = client.get("/api/public/v2/observations", params={"filter": "[{}]"}, headers=seeded.headers)
    assert broken.status_code == 400, broken.text
