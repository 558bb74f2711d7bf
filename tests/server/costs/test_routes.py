"""The models REST API over HTTP: shapes, validation (400), isolation between projects, effect on costs."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.costs.calculator import CostCalculator

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def _create(api: Any, project: Any, **body: Any) -> Any:
    return api.post("/api/public/models", json=body, headers=project.headers)


def test_create_get_list_delete(api: Any, project: Any) -> None:
    created = _create(
        api,
        project,
        modelName="acme-llm",
        matchPattern="(?i)^acme-llm(-\\d+)?$",
        startDate="2026-01-01T00:00:00Z",
        inputPrice=1e-6,
        outputPrice=2e-6,
        prices={"input_cached_tokens": 0.1e-6},
        tokenizerId="openai",
    )
    assert created.status_code == 200, created.text
    model = created.json()
    assert model["id"].startswith("model-")
    assert model["modelName"] == "acme-llm"
    assert model["matchPattern"] == "(?i)^acme-llm(-\\d+)?$"
    assert model["startDate"] == "2026-01-01T00:00:00.000Z"
    assert model["unit"] == "TOKENS"
    assert (model["inputPrice"], model["outputPrice"], model["totalPrice"]) == (1e-6, 2e-6, None)
    assert model["prices"] == {
        "input": {"price": 1e-6},
        "input_cached_tokens": {"price": 1e-7},
        "output": {"price": 2e-6},
    }
    assert model["tokenizerId"] == "openai"
    assert model["isManaged"] is False and model["isLangfuseManaged"] is False
    assert model["createdAt"].endswith("Z")

    fetched = api.get(f"/api/public/models/{model['id']}", headers=project.headers)
    assert fetched.status_code == 200 and fetched.json() == model

    listed = api.get("/api/public/models", headers=project.headers).json()
    assert listed["data"] == [model]
    assert listed["meta"] == {"page": 1, "limit": 50, "totalItems": 1, "totalPages": 1}

    assert api.delete(f"/api/public/models/{model['id']}", headers=project.headers).status_code == 204
    assert api.get(f"/api/public/models/{model['id']}", headers=project.headers).status_code == 404
    assert api.delete(f"/api/public/models/{model['id']}", headers=project.headers).status_code == 404


def test_pagination(api: Any, project: Any) -> None:
    for i in range(5):
        assert _create(api, project, modelName=f"m{i}", matchPattern=f"^m{i}$", inputPrice=1e-6).status_code == 200
    page = api.get("/api/public/models?page=2&limit=2", headers=project.headers).json()
    assert page["meta"] == {"page": 2, "limit": 2, "totalItems": 5, "totalPages": 3}
    assert [m["modelName"] for m in page["data"]] == ["m2", "m1"]  # newest first
    assert api.get("/api/public/models?limit=0", headers=project.headers).status_code == 400
    assert api.get("/api/public/models?page=0", headers=project.headers).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"modelName": "", "matchPattern": "^x$", "inputPrice": 1}, "modelName must not be empty"),
        ({"modelName": "  ", "matchPattern": "^x$", "inputPrice": 1}, "modelName must not be empty"),
        ({"modelName": "x", "matchPattern": "[", "inputPrice": 1}, "not a valid regular expression"),
        ({"modelName": "x", "matchPattern": "^(a|a){1,60000}$", "inputPrice": 1}, "at most 1000 times"),
        ({"modelName": "x", "matchPattern": "^(a{1,100}){1,100}$", "inputPrice": 1}, "at most 1000 times"),
        ({"modelName": "x", "matchPattern": "(?<!x)y", "inputPrice": 1}, "lookbehind assertions are not supported"),
        ({"modelName": "x", "matchPattern": "\\pL{1000}", "inputPrice": 1}, "too large once compiled"),
        ({"modelName": "x", "matchPattern": "a" * 501, "inputPrice": 1}, "longer than 500"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": -1}, "non-negative"),
        ({"modelName": "x", "matchPattern": "^x$", "prices": {"output": -0.5}}, "prices.output"),
        ({"modelName": "x", "matchPattern": "^x$", "prices": {"output": "cheap"}}, "must be a number"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": "0.1"}, "inputPrice"),
        ({"modelName": "x", "matchPattern": "^x$"}, "at least one price"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": 1, "totalPrice": 1}, "totalPrice cannot be set"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": 1, "prices": {"input": 2}}, "disagree"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": 1, "unit": "PARSECS"}, "unit must be one of"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": 1, "startDate": "yesterday"}, "startDate"),
        ({"modelName": "x", "matchPattern": "^x$", "inputPrice": 1, "tokenizerId": "mine"}, "tokenizerId"),
        ({"matchPattern": "^x$", "inputPrice": 1}, "modelName"),
    ],
)
def test_validation_errors_are_400_with_a_message(api: Any, project: Any, body: dict[str, Any], message: str) -> None:
    response = api.post("/api/public/models", json=body, headers=project.headers)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_duplicate_definition_is_409(api: Any, project: Any) -> None:
    body = {"modelName": "dup", "matchPattern": "^dup$", "inputPrice": 1e-6}
    assert _create(api, project, **body).status_code == 200
    second = _create(api, project, **body)
    assert second.status_code == 409 and "already exists" in second.json()["message"]
    # The same name with a start date is a new price period, not a duplicate.
    assert _create(api, project, **body, startDate="2026-02-01").status_code == 200
    assert _create(api, project, **body, startDate="2026-02-01").status_code == 409


def test_projects_are_isolated(api: Any, project: Any, other_project: Any) -> None:
    mine = _create(api, project, modelName="secret", matchPattern="^secret$", inputPrice=1e-6).json()
    assert api.get(f"/api/public/models/{mine['id']}", headers=other_project.headers).status_code == 404
    assert api.delete(f"/api/public/models/{mine['id']}", headers=other_project.headers).status_code == 404
    assert api.get("/api/public/models", headers=other_project.headers).json()["data"] == []
    assert api.get(f"/api/public/models/{mine['id']}", headers=project.headers).status_code == 200


def test_requires_an_api_key(api: Any) -> None:
    assert api.get("/api/public/models").status_code == 401
    assert api.post("/api/public/models", json={}).status_code == 401


def test_model_created_through_the_api_prices_later_observations(api: Any, engine: Any, project: Any) -> None:
    calc = CostCalculator(engine, ttl_seconds=3600)  # a long TTL: only the API's invalidation can explain a change
    usage = {"input": 1_000, "output": 100}
    before = calc.compute(project.id, "gpt-4o-mini", usage, None, T0)
    assert before.source == "catalog"
    created = _create(api, project, modelName="mini", matchPattern="^gpt-4o-mini$", inputPrice=1e-5, outputPrice=2e-5)
    after = calc.compute(project.id, "gpt-4o-mini", usage, None, T0)
    assert (after.source, after.model_id) == ("project_model", created.json()["id"])
    assert after.total == pytest.approx(1_000 * 1e-5 + 100 * 2e-5)
    api.delete(f"/api/public/models/{created.json()['id']}", headers=project.headers)
    assert calc.compute(project.id, "gpt-4o-mini", usage, None, T0).source == "catalog"
