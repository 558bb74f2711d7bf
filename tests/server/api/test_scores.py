from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.api.scores_models import Score, Scores
from tests.server.query.seed import SECOND, T0, add_score, add_trace, trace_id

URL = "/api/public/scores"


def post(client: Any, project: Any, body: Any) -> Any:
    return client.post(URL, json=body, headers=project.headers)


def create_config(client: Any, project: Any, **body: Any) -> str:
    response = client.post("/api/public/score-configs", json=body, headers=project.headers)
    assert response.status_code == 200, response.text
    config_id: str = response.json()["id"]
    return config_id


def test_create_one_then_read_it_back(client: Any, project: Any) -> None:
    response = post(
        client,
        project,
        {
            "traceId": trace_id(1),
            "observationId": "0000000000000001",
            "name": "correctness",
            "value": 0.9,
            "comment": "close",
            "metadata": {"judge": "human"},
            "environment": "production",
            "timestamp": "2026-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 200
    score_id = response.json()["id"]
    body = client.get(f"{URL}/{score_id}", headers=project.headers).json()
    Score.model_validate(body)
    assert body["traceId"] == trace_id(1) and body["observationId"] == "0000000000000001"
    assert body["name"] == "correctness" and body["value"] == 0.9 and body["dataType"] == "NUMERIC"
    assert body["source"] == "API" and body["comment"] == "close" and body["metadata"] == {"judge": "human"}
    assert body["environment"] == "production" and body["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert body["projectId"] == project.id and body["stringValue"] is None
    # v2 path, same score
    assert client.get(f"/api/public/v2/scores/{score_id}", headers=project.headers).json() == body


def test_a_list_answers_data_ids_and_upserts_by_id(client: Any, project: Any) -> None:
    response = post(
        client,
        project,
        [
            {"id": "s-1", "traceId": "t", "name": "a", "value": 1},
            {"id": "s-2", "sessionId": "sess", "name": "label", "value": "good"},
        ],
    )
    assert response.status_code == 200
    assert response.json() == {"data": [{"id": "s-1"}, {"id": "s-2"}]}
    assert post(client, project, {"id": "s-1", "traceId": "t", "name": "a", "value": 2}).json() == {"id": "s-1"}
    body = client.get(f"{URL}/s-1", headers=project.headers).json()
    assert body["value"] == 2.0
    label = client.get(f"{URL}/s-2", headers=project.headers).json()
    assert label["dataType"] == "CATEGORICAL" and label["stringValue"] == "good" and label["sessionId"] == "sess"
    assert client.get(URL, headers=project.headers).json()["meta"]["totalItems"] == 2


@pytest.mark.parametrize(
    ("value", "data_type", "stored_value", "string_value"),
    [
        (1, "BOOLEAN", 1.0, "True"),
        (0, "BOOLEAN", 0.0, "False"),
        (True, None, 1.0, "True"),
        ("false", "BOOLEAN", 0.0, "False"),
        (3.5, None, 3.5, None),
        (-2, "NUMERIC", -2.0, None),
        ("blue", None, 0.0, "blue"),  # a label without a config maps to 0, as the reference answers
        ("a free-text remark", "TEXT", None, "a free-text remark"),
    ],
)
def test_data_types(
    client: Any, project: Any, value: Any, data_type: str | None, stored_value: Any, string_value: Any
) -> None:
    body: dict[str, Any] = {"traceId": "t", "name": "n", "value": value}
    if data_type:
        body["dataType"] = data_type
    response = post(client, project, body)
    assert response.status_code == 200, response.text
    score = client.get(f"{URL}/{response.json()['id']}", headers=project.headers).json()
    assert score["value"] == stored_value and score["stringValue"] == string_value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"traceId": "t", "name": "n", "value": 2, "dataType": "BOOLEAN"}, "BOOLEAN score's value must be 0 or 1"),
        ({"traceId": "t", "name": "n", "value": "yes", "dataType": "BOOLEAN"}, "BOOLEAN"),
        ({"traceId": "t", "name": "n", "value": "high", "dataType": "NUMERIC"}, "finite number"),
        ({"traceId": "t", "name": "n", "value": 3, "dataType": "CATEGORICAL"}, "CATEGORICAL score's value must be"),
        ({"traceId": "t", "name": "n", "value": "", "dataType": "TEXT"}, "1-500 characters"),
        ({"traceId": "t", "name": "n", "value": "x" * 501, "dataType": "TEXT"}, "1-500 characters"),
        ({"traceId": "t", "name": "n", "value": 1, "dataType": "PERCENT"}, "dataType must be one of"),
        ({"traceId": "t", "value": 1}, "name is required"),
        ({"traceId": "t", "name": "n"}, "value is required"),
        ({"name": "n", "value": 1}, "needs a target"),
        ({"observationId": "o", "name": "n", "value": 1}, "observationId requires traceId"),
        ({"traceId": "t", "name": "n", "value": 1, "source": "EVAL"}, "source must be one of API, ANNOTATION"),
        # a source is a name (or absent, null, ""): false, 0 or {} are not read as API any more
        ({"traceId": "t", "name": "n", "value": 1, "source": False}, "source must be one of API, ANNOTATION"),
        ({"traceId": "t", "name": "n", "value": 1, "source": 0}, "source must be one of API, ANNOTATION"),
        ({"traceId": "t", "name": "n", "value": 1, "source": {}}, "source must be one of API, ANNOTATION"),
        ({"traceId": "t", "name": "n", "value": 1, "timestamp": "noon"}, "timestamp"),
        ({"traceId": "t", "name": "n", "value": 1, "metadata": [1]}, "metadata must be a JSON object"),
        ({"traceId": "t", "name": "n", "value": {"a": 1}}, "value must be a number or a string"),
        ({"traceId": 5, "name": "n", "value": 1}, "traceId must be a string"),
        ({"traceId": "t", "name": "n", "value": 1, "configId": "missing"}, "does not exist in this project"),
        ([], "empty"),
        ("just a string", "a score must be a JSON object"),
    ],
)
def test_validation_errors_are_400_with_a_message(client: Any, project: Any, body: Any, message: str) -> None:
    response = post(client, project, body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    assert client.get(URL, headers=project.headers).json()["meta"]["totalItems"] == 0


def test_non_finite_numbers_are_rejected(client: Any, project: Any) -> None:
    raw = '{"traceId": "t", "name": "n", "value": NaN}'
    response = client.post(URL, content=raw, headers={**project.headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_refused_score_does_not_lose_the_others_of_its_list(client: Any, project: Any) -> None:
    # 207 as the reference answers its SDK's batches (an SDK drops a refused batch whole: was 400)
    response = post(
        client, project, [{"traceId": "t", "name": "ok", "value": 1}, {"traceId": "t", "name": "bad", "value": None}]
    )
    assert response.status_code == 207, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1) and body["errors"][0]["message"].startswith("score 1: ")
    listed = client.get(URL, headers=project.headers).json()["data"]
    assert [s["name"] for s in listed] == ["ok"] and body["data"] == [{"id": listed[0]["id"]}]


def test_a_list_of_refused_scores_is_a_400(client: Any, project: Any) -> None:
    response = post(
        client, project, [{"traceId": "t", "name": "bad", "value": None}, {"name": "no target", "value": 1}]
    )
    assert response.status_code == 400 and response.json()["message"].startswith("score 0: ")
    assert client.get(URL, headers=project.headers).json()["data"] == []


def test_config_validation(client: Any, project: Any) -> None:
    numeric = create_config(client, project, name="accuracy", dataType="NUMERIC", minValue=0, maxValue=1)
    categorical = create_config(
        client,
        project,
        name="tone",
        dataType="CATEGORICAL",
        categories=[{"label": "rude", "value": 0}, {"label": "polite", "value": 1}],
    )
    boolean = create_config(client, project, name="resolved", dataType="BOOLEAN")

    ok = post(client, project, {"traceId": "t", "name": "ignored", "value": 0.5, "configId": numeric})
    assert ok.status_code == 200
    score = client.get(f"{URL}/{ok.json()['id']}", headers=project.headers).json()
    assert score["name"] == "accuracy" and score["configId"] == numeric  # the config names the score

    too_big = post(client, project, {"traceId": "t", "value": 1.5, "configId": numeric})
    assert too_big.status_code == 400 and "maxValue" in too_big.json()["message"]
    wrong_type = post(client, project, {"traceId": "t", "value": 1, "configId": numeric, "dataType": "BOOLEAN"})
    assert wrong_type.status_code == 400 and "does not match" in wrong_type.json()["message"]

    label = post(client, project, {"traceId": "t", "value": "polite", "configId": categorical})
    assert label.status_code == 200
    stored = client.get(f"{URL}/{label.json()['id']}", headers=project.headers).json()
    assert stored["value"] == 1.0 and stored["stringValue"] == "polite" and stored["dataType"] == "CATEGORICAL"
    by_value = post(client, project, {"traceId": "t", "value": 0, "configId": categorical})
    assert client.get(f"{URL}/{by_value.json()['id']}", headers=project.headers).json()["stringValue"] == "rude"
    unknown = post(client, project, {"traceId": "t", "value": "sarcastic", "configId": categorical})
    assert unknown.status_code == 400 and "rude, polite" in unknown.json()["message"]

    assert post(client, project, {"traceId": "t", "value": 1, "configId": boolean}).status_code == 200
    assert post(client, project, {"traceId": "t", "value": 0.5, "configId": boolean}).status_code == 400

    client.patch(f"/api/public/score-configs/{numeric}", json={"isArchived": True}, headers=project.headers)
    archived = post(client, project, {"traceId": "t", "value": 0.5, "configId": numeric})
    assert archived.status_code == 400 and "archived" in archived.json()["message"]


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    add_trace(engine, project.id, trace_id(1), user_id="alice")
    add_trace(engine, project.id, trace_id(2), user_id="bob")
    add_score(engine, project.id, "a", trace_id=trace_id(1), name="quality", value=0.2, timestamp_us=T0)
    add_score(
        engine,
        project.id,
        "b",
        trace_id=trace_id(1),
        observation_id="o1",
        name="quality",
        value=0.9,
        timestamp_us=T0 + SECOND,
        source="ANNOTATION",
        config_id="cfg",
    )
    add_score(
        engine,
        project.id,
        "c",
        trace_id=trace_id(2),
        name="tone",
        value=None,
        string_value="polite",
        data_type="CATEGORICAL",
        timestamp_us=T0 + 2 * SECOND,
        environment="staging",
    )
    add_score(engine, project.id, "d", session_id="s1", name="helpful", value=1, timestamp_us=T0 + 3 * SECOND)
    add_score(engine, other_project.id, "z", trace_id=trace_id(1), name="quality", value=0.5)
    return project


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["d", "c", "b", "a"]),
        ({"name": "quality"}, ["b", "a"]),
        ({"userId": "alice"}, ["b", "a"]),
        ({"traceId": trace_id(2)}, ["c"]),
        ({"observationId": "o1"}, ["b"]),
        ({"sessionId": "s1"}, ["d"]),
        ({"source": "ANNOTATION"}, ["b"]),
        ({"dataType": "CATEGORICAL"}, ["c"]),
        ({"configId": "cfg"}, ["b"]),
        ({"environment": "staging"}, ["c"]),
        ({"scoreIds": "a,c"}, ["c", "a"]),
        ({"fromTimestamp": "2026-01-01T00:00:01Z", "toTimestamp": "2026-01-01T00:00:03Z"}, ["c", "b"]),
        ({"value": 0.5, "operator": ">"}, ["d", "b"]),
        ({"value": 0.9, "operator": "<="}, ["b", "a"]),
        ({"value": 0.2}, ["a"]),
        ({"limit": 2, "page": 2}, ["b", "a"]),
    ],
)
def test_list_filters(client: Any, seeded: Any, params: dict[str, Any], expected: list[str]) -> None:
    for path in (URL, "/api/public/v2/scores"):
        response = client.get(path, params=params, headers=seeded.headers)
        assert response.status_code == 200, response.text
        Scores.model_validate(response.json())
        assert [s["id"] for s in response.json()["data"]] == expected


def test_list_meta_and_errors(client: Any, seeded: Any) -> None:
    body = client.get(URL, params={"limit": 3}, headers=seeded.headers).json()
    assert body["meta"] == {"page": 1, "limit": 3, "totalItems": 4, "totalPages": 2}
    bad = client.get(URL, params={"value": 1, "operator": "~"}, headers=seeded.headers)
    assert bad.status_code == 400 and "operator" in bad.json()["message"]


def test_delete(client: Any, seeded: Any) -> None:
    deleted = client.delete(f"{URL}/a", headers=seeded.headers)
    assert deleted.status_code == 200 and deleted.json() == {"message": "Score deleted successfully"}
    assert client.get(f"{URL}/a", headers=seeded.headers).status_code == 404
    assert client.delete(f"{URL}/a", headers=seeded.headers).status_code == 404


def test_isolation_reads_and_writes(client: Any, seeded: Any, other_project: Any) -> None:
    # Reads: B sees only its own score; A's ids are 404 for B and the other way round.
    assert [s["id"] for s in client.get(URL, headers=other_project.headers).json()["data"]] == ["z"]
    assert client.get(f"{URL}/a", headers=other_project.headers).status_code == 404
    assert client.get(f"{URL}/z", headers=seeded.headers).status_code == 404
    # Deletes: B cannot delete A's score.
    assert client.delete(f"{URL}/a", headers=other_project.headers).status_code == 404
    assert client.get(f"{URL}/a", headers=seeded.headers).status_code == 200
    # Upsert by id from B creates B's own score; A's score with that id is untouched.
    post(client, other_project, {"id": "a", "traceId": trace_id(1), "name": "hijack", "value": 0})
    assert client.get(f"{URL}/a", headers=seeded.headers).json()["name"] == "quality"
    # B scoring A's trace id lands in B's project only: A's trace shows no new score.
    detail = client.get(f"/api/public/traces/{trace_id(1)}", headers=seeded.headers).json()
    assert sorted(s["id"] for s in detail["scores"]) == ["a", "b"]
    # B cannot use A's score config.
    config = create_config(client, seeded, name="private", dataType="NUMERIC")
    response = post(client, other_project, {"traceId": "t", "value": 1, "configId": config})
    assert response.status_code == 400 and "does not exist in this project" in response.json()["message"]
    assert client.post(URL, json={"traceId": "t", "name": "n", "value": 1}).status_code == 401


def test_a_categorical_score_reads_as_0_with_its_label_everywhere(client: Any, project: Any) -> None:
    """The reference SDK requires a number there: null failed reading any trace that had one."""
    add_trace(client.app.state.engine, project.id, trace_id(7), session_id="sess-7")
    body = {"id": "cat-1", "traceId": trace_id(7), "name": "tone", "value": "polite", "dataType": "CATEGORICAL"}
    assert post(client, project, body).status_code == 200
    assert (
        post(client, project, {"id": "cat-2", "sessionId": "sess-7", "name": "tone", "value": "curt"}).status_code
        == 200
    )
    found = [
        client.get(f"{URL}/cat-1", headers=project.headers).json(),
        client.get("/api/public/v2/scores/cat-1", headers=project.headers).json(),
        *client.get(URL, params={"dataType": "CATEGORICAL"}, headers=project.headers).json()["data"],
        *client.get(f"/api/public/traces/{trace_id(7)}", headers=project.headers).json()["scores"],
        *client.get("/api/public/sessions/sess-7", headers=project.headers).json()["scores"],
    ]
    assert len(found) == 6  # both in the list
    for score in found:
        Score.model_validate(score)
        assert score["value"] == 0 and score["stringValue"] in ("polite", "curt"), score


def test_every_refused_score_of_a_list_is_named_and_the_others_written(client: Any, project: Any) -> None:
    items = [{"traceId": "t", "name": f"s{n}", "value": None if n in (1, 3) else n} for n in range(6)]
    response = post(client, project, items)
    assert response.status_code == 207, response.text
    body = response.json()
    assert [e["message"].split(":")[0] for e in body["errors"]] == ["score 1", "score 3"]
    assert (body["accepted"], body["rejected"], len(body["data"])) == (4, 2, 4)
    listed = client.get(URL, headers=project.headers, params={"limit": 50}).json()["data"]
    assert sorted(s["name"] for s in listed) == ["s0", "s2", "s4", "s5"]
