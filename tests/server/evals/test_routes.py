"""The evaluator REST API: connections (the key encrypted at rest, never returned), evaluators and
their rules, jobs; each project sees only its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from interactiveai.server.evals.crypto import secret_box
from interactiveai.server.evals.models import Connection, Evaluator, EvaluatorJobs, Evaluators
from interactiveai.server.storage.eval_schema import llm_connections
from tests.conftest import Project
from tests.server.evals.conftest import KEY

SECRET = "sk-live-0123456789abcdef"


def _connection(client: Any, project: Project, **overrides: Any) -> dict[str, Any]:
    body = {"name": "openai", "baseUrl": "http://127.0.0.1:9/v1", "model": "gpt-4o-mini", "apiKey": SECRET, **overrides}
    response = client.post("/api/public/llm-connections", json=body, headers=project.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _evaluator_body(connection_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "correctness",
        "connectionId": connection_id,
        "prompt": "Is {{output}} a correct answer to {{question}}?",
        "variableMapping": {"question": {"source": "trace", "field": "metadata", "key": "question"}},
        "score": {"name": "correct", "dataType": "BOOLEAN"},
        "samplingRate": 0.5,
        "filter": [{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": ["prod"]}],
        "delaySeconds": 10,
        **overrides,
    }


def test_the_api_key_is_stored_encrypted_and_never_returned(
    fast_client: Any, engine: Any, project: Project, tmp_path: Path
) -> None:
    created = _connection(fast_client, project, params={"temperature": 0})
    Connection.model_validate(created)
    assert created["apiKeyHint"] == "sk-…cdef"
    with engine.connect() as conn:
        row = conn.execute(select(llm_connections)).mappings().one()
    assert SECRET not in str(dict(row))
    assert secret_box(KEY, tmp_path).decrypt(row["api_key_encrypted"]) == SECRET
    for path in ("/api/public/llm-connections", f"/api/public/llm-connections/{created['id']}"):
        response = fast_client.get(path, headers=project.headers)
        assert response.status_code == 200 and SECRET not in response.text and 'apiKey"' not in response.text
    patched = fast_client.patch(
        f"/api/public/llm-connections/{created['id']}", json={"model": "gpt-4o"}, headers=project.headers
    )
    assert patched.json()["model"] == "gpt-4o" and patched.json()["apiKeyHint"] == "sk-…cdef"  # the key kept
    removed = fast_client.patch(
        f"/api/public/llm-connections/{created['id']}", json={"apiKey": None}, headers=project.headers
    )
    assert removed.json()["apiKeyHint"] is None
    with engine.connect() as conn:
        assert conn.execute(select(llm_connections.c.api_key_encrypted)).scalar_one() is None


def test_without_a_configured_key_one_is_created_in_the_data_dir(tmp_path: Path) -> None:
    box = secret_box("", tmp_path)
    token = box.encrypt(SECRET)
    assert (tmp_path / "encryption.key").stat().st_mode & 0o777 == 0o600
    assert secret_box("", tmp_path).decrypt(token) == SECRET  # the next start reads the same key
    with pytest.raises(ValueError, match="cannot be decrypted"):
        secret_box(KEY, tmp_path).decrypt(token)


def test_evaluators_are_created_read_updated_and_deleted(fast_client: Any, project: Project) -> None:
    connection = _connection(fast_client, project)
    response = fast_client.post(
        "/api/public/evaluators", json=_evaluator_body(connection["id"]), headers=project.headers
    )
    assert response.status_code == 200, response.text
    evaluator = Evaluator.model_validate(response.json())
    assert evaluator.variableMapping == {"question": {"source": "trace", "field": "metadata", "key": "question"}}
    assert (evaluator.samplingRate, evaluator.delaySeconds, evaluator.enabled) == (0.5, 10, True)
    listed = Evaluators.model_validate(fast_client.get("/api/public/evaluators", headers=project.headers).json())
    assert [e.id for e in listed.data] == [evaluator.id]

    path = f"/api/public/evaluators/{evaluator.id}"
    patched = fast_client.patch(path, json={"enabled": False, "samplingRate": 1}, headers=project.headers)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["enabled"], patched.json()["samplingRate"], patched.json()["name"]) == (
        False,
        1,
        "correctness",
    )
    # a connection in use is not deleted
    in_use = fast_client.delete(f"/api/public/llm-connections/{connection['id']}", headers=project.headers)
    assert in_use.status_code == 409 and "correctness" in in_use.json()["message"]
    assert fast_client.delete(path, headers=project.headers).status_code == 200
    assert fast_client.get(path, headers=project.headers).status_code == 404
    assert (
        fast_client.delete(f"/api/public/llm-connections/{connection['id']}", headers=project.headers).status_code
        == 200
    )


RULES = [
    ({"prompt": "Rate {{answer}}"}, "variable {{answer}} has no mapping"),
    ({"variableMapping": {"question": {"source": "observation", "field": "input"}}}, "needs target 'observation'"),
    ({"connectionId": "nope"}, "connection 'nope' does not exist"),
    ({"filter": [{"type": "string", "column": "nope", "operator": "=", "value": "x"}]}, "filter: filter condition 1"),
    ({"score": {"name": "s", "dataType": "CATEGORICAL"}}, "needs categories"),
    ({"score": {"name": "s", "dataType": "NUMERIC", "minValue": 1, "maxValue": 0}}, "below maxValue"),
    ({"score": {"name": "s", "dataType": "BOOLEAN", "categories": ["a"]}}, "CATEGORICAL scores only"),
    ({"traceProjectId": "proj-b"}, "traceProjectId must be this project"),
    ({"observationType": "GENERATION"}, "apply to target 'observation' only"),
    ({"samplingRate": 1.5}, "samplingRate"),
    ({"score": {"name": "s", "dataType": "TEXT"}}, "dataType"),
    ({"name": " "}, "name"),
]


def test_an_evaluator_breaking_a_rule_is_refused_naming_it(fast_client: Any, project: Project) -> None:
    connection = _connection(fast_client, project)
    for change, message in RULES:
        body = _evaluator_body(connection["id"], **change)
        response = fast_client.post("/api/public/evaluators", json=body, headers=project.headers)
        assert response.status_code == 400, (change, response.text)
        assert message in response.json()["message"], (change, response.text)
    assert fast_client.get("/api/public/evaluators", headers=project.headers).json()["data"] == []


def test_names_are_unique_per_project_and_projects_see_only_their_own(
    fast_client: Any, project: Project, other_project: Project
) -> None:
    connection = _connection(fast_client, project)
    assert (
        fast_client.post(
            "/api/public/llm-connections",
            json={"name": "openai", "baseUrl": "http://x/v1", "model": "m"},
            headers=project.headers,
        ).status_code
        == 409
    )
    evaluator = fast_client.post(
        "/api/public/evaluators", json=_evaluator_body(connection["id"]), headers=project.headers
    )
    again = fast_client.post("/api/public/evaluators", json=_evaluator_body(connection["id"]), headers=project.headers)
    assert again.status_code == 409
    other = other_project.headers
    assert fast_client.get(f"/api/public/evaluators/{evaluator.json()['id']}", headers=other).status_code == 404
    assert fast_client.get(f"/api/public/llm-connections/{connection['id']}", headers=other).status_code == 404
    assert fast_client.get("/api/public/evaluators", headers=other).json()["data"] == []
    # another project's connection cannot be used
    refused = fast_client.post("/api/public/evaluators", json=_evaluator_body(connection["id"]), headers=other)
    assert refused.status_code == 400
    jobs = fast_client.get("/api/public/evaluator-jobs", params={"status": "failed"}, headers=project.headers)
    assert EvaluatorJobs.model_validate(jobs.json()).data == []
    bad = fast_client.get("/api/public/evaluator-jobs", params={"status": "odd"}, headers=project.headers)
    assert bad.status_code == 400


def test_an_update_may_clear_optional_fields_and_leaves_required_ones_given_as_null(
    fast_client: Any, project: Project
) -> None:
    connection = _connection(fast_client, project)
    body = _evaluator_body(connection["id"], model="gpt-4o", traceProjectId=project.id)
    created = fast_client.post("/api/public/evaluators", json=body, headers=project.headers).json()
    path = f"/api/public/evaluators/{created['id']}"
    cleared = {"model": None, "traceProjectId": None, "score": None, "prompt": None, "connectionId": None}
    response = fast_client.patch(path, json=cleared, headers=project.headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["model"], updated["traceProjectId"]) == (None, None)
    assert (updated["score"], updated["prompt"]) == (created["score"], created["prompt"])
    observation = fast_client.patch(
        path, json={"target": "observation", "observationType": "GENERATION"}, headers=project.headers
    )
    assert observation.status_code == 200 and observation.json()["observationType"] == "GENERATION"
