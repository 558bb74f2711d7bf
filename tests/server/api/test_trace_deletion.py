from __future__ import annotations

from typing import Any

from tests.server.query.seed import T0, add_observation, add_score, add_trace, obs_id, trace_id

URL = "/api/public/traces"


def _seed(engine: Any, project_id: str, count: int) -> None:
    for i in range(count):
        add_trace(engine, project_id, trace_id(i), timestamp_us=T0 + i, tags=["x"])
        add_observation(engine, project_id, trace_id(i), obs_id(i), start_time_us=T0 + i)
        add_score(engine, project_id, f"score-{i}", trace_id=trace_id(i))


def test_delete_one_trace_removes_it_everywhere(client: Any, engine: Any, project: Any) -> None:
    _seed(engine, project.id, 2)
    response = client.delete(f"{URL}/{trace_id(0)}", headers=project.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Trace deleted successfully"}

    assert client.get(f"{URL}/{trace_id(0)}", headers=project.headers).status_code == 404
    assert client.get(f"/api/public/observations/{obs_id(0)}", headers=project.headers).status_code == 404
    assert client.get("/api/public/scores/score-0", headers=project.headers).status_code == 404
    assert client.get(URL, headers=project.headers, params={"tags": "x"}).json()["meta"]["totalItems"] == 1
    assert client.delete(f"{URL}/{trace_id(0)}", headers=project.headers).status_code == 404


def test_delete_many(client: Any, engine: Any, project: Any) -> None:
    _seed(engine, project.id, 5)
    ids = [trace_id(i) for i in (0, 2, 4)] + ["not-there"]
    response = client.request("DELETE", URL, headers=project.headers, json={"traceIds": ids})
    assert response.status_code == 200, response.text
    assert response.json()["deletedCount"] == 3
    remaining = {t["id"] for t in client.get(URL, headers=project.headers).json()["data"]}
    assert remaining == {trace_id(1), trace_id(3)}


def test_delete_validates_the_body(client: Any, project: Any) -> None:
    for body in ({}, {"traceIds": []}, {"traceIds": ["a"] * 1001}, {"traceIds": "abc"}):
        response = client.request("DELETE", URL, headers=project.headers, json=body)
        assert response.status_code == 400, body
        assert "traceIds" in response.json()["message"]


def test_a_key_never_deletes_another_projects_traces(
    client: Any, engine: Any, project: Any, other_project: Any
) -> None:
    _seed(engine, other_project.id, 1)
    assert client.delete(f"{URL}/{trace_id(0)}", headers=project.headers).status_code == 404
    response = client.request("DELETE", URL, headers=project.headers, json={"traceIds": [trace_id(0)]})
    assert response.json()["deletedCount"] == 0
    assert client.get(f"{URL}/{trace_id(0)}", headers=other_project.headers).status_code == 200
    assert client.delete(f"{URL}/{trace_id(0)}").status_code == 401
