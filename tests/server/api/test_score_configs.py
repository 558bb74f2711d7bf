from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.api.scores_models import ScoreConfig, ScoreConfigs

URL = "/api/public/score-configs"


def test_create_get_list_patch(client: Any, project: Any) -> None:
    response = client.post(
        URL,
        json={"name": "accuracy", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1, "description": "0..1"},
        headers=project.headers,
    )
    assert response.status_code == 200
    created = response.json()
    ScoreConfig.model_validate(created)
    assert created["name"] == "accuracy" and created["minValue"] == 0 and created["maxValue"] == 1
    assert created["isArchived"] is False and created["categories"] is None and created["projectId"] == project.id

    got = client.get(f"{URL}/{created['id']}", headers=project.headers).json()
    assert got == created

    patched = client.patch(
        f"{URL}/{created['id']}", json={"isArchived": True, "description": "archived"}, headers=project.headers
    )
    assert patched.status_code == 200
    assert patched.json()["isArchived"] is True and patched.json()["description"] == "archived"
    assert patched.json()["minValue"] == 0  # untouched fields stay

    client.post(URL, json={"name": "resolved", "dataType": "BOOLEAN"}, headers=project.headers)
    listed = client.get(URL, headers=project.headers).json()
    ScoreConfigs.model_validate(listed)
    assert [c["name"] for c in listed["data"]] == ["resolved", "accuracy"]
    assert listed["meta"] == {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1}
    assert listed["data"][0]["categories"] == [{"label": "True", "value": 1}, {"label": "False", "value": 0}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "", "dataType": "NUMERIC"}, "name must be 1-35"),
        ({"name": "x" * 36, "dataType": "NUMERIC"}, "name must be 1-35"),
        ({"name": "bad/name", "dataType": "NUMERIC"}, "name must be 1-35"),
        ({"name": "ok", "dataType": "FLOAT"}, "dataType must be one of"),
        ({"name": "ok", "dataType": "NUMERIC", "minValue": 2, "maxValue": 1}, "maxValue must be greater"),
        ({"name": "ok", "dataType": "CATEGORICAL"}, "non-empty list of categories"),
        ({"name": "ok", "dataType": "CATEGORICAL", "minValue": 1, "categories": [{"label": "a", "value": 1}]}, "only"),
        (
            {
                "name": "ok",
                "dataType": "CATEGORICAL",
                "categories": [{"label": "a", "value": 1}, {"label": "a", "value": 2}],
            },
            "unique",
        ),
        ({"name": "ok", "dataType": "CATEGORICAL", "categories": [{"label": "a"}]}, "numeric value"),
        ({"name": "ok", "dataType": "NUMERIC", "categories": [{"label": "a", "value": 1}]}, "only allowed"),
        ({"name": "ok", "dataType": "BOOLEAN", "categories": [{"label": "yes", "value": 1}]}, "fixed categories"),
        ({"name": "ok", "dataType": "NUMERIC", "isArchived": "no"}, "isArchived"),
        # what the OpenAPI document says: a boolean (or null), and a name without a trailing newline
        ({"name": "ok", "dataType": "NUMERIC", "isArchived": 0}, "isArchived"),
        ({"name": "ok", "dataType": "NUMERIC", "isArchived": ""}, "isArchived"),
        ({"name": "ok\n", "dataType": "NUMERIC"}, "name must be 1-35"),
        ([1, 2], "JSON object"),
    ],
)
def test_validation(client: Any, project: Any, body: Any, message: str) -> None:
    response = client.post(URL, json=body, headers=project.headers)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_patch_validation_and_404(client: Any, project: Any) -> None:
    config = client.post(URL, json={"name": "n", "dataType": "NUMERIC"}, headers=project.headers).json()
    bad = client.patch(f"{URL}/{config['id']}", json={"minValue": 5, "maxValue": 1}, headers=project.headers)
    assert bad.status_code == 400
    change_type = client.patch(f"{URL}/{config['id']}", json={"dataType": "TEXT"}, headers=project.headers)
    assert change_type.status_code == 400 and "cannot be changed" in change_type.json()["message"]
    assert client.patch(f"{URL}/missing", json={"isArchived": True}, headers=project.headers).status_code == 404
    assert client.get(f"{URL}/missing", headers=project.headers).status_code == 404


def test_isolation(client: Any, project: Any, other_project: Any) -> None:
    config = client.post(URL, json={"name": "mine", "dataType": "TEXT"}, headers=project.headers).json()
    assert client.get(f"{URL}/{config['id']}", headers=other_project.headers).status_code == 404
    patch = client.patch(f"{URL}/{config['id']}", json={"isArchived": True}, headers=other_project.headers)
    assert patch.status_code == 404
    assert client.get(f"{URL}/{config['id']}", headers=project.headers).json()["isArchived"] is False
    assert client.get(URL, headers=other_project.headers).json()["data"] == []
    assert client.get(URL).status_code == 401
