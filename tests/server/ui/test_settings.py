"""Settings pages: API keys (secret shown once, revocation), models and price lookup, score configs,
retention and name; CSRF, project access and the read-only role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from interactiveai.server.costs.models import create_model, list_models
from interactiveai.server.query.score_configs import list_score_configs
from interactiveai.server.storage.schema import projects
from interactiveai.server.tenancy import add_membership, create_user, list_api_keys
from tests.server.ui.conftest import PASSWORD, csrf_from, login

XSS = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"


def _settings(ui: Any, pid: str) -> tuple[str, str]:
    page = ui.get(f"/project/{pid}/settings")
    assert page.status_code == 200
    return page.text, csrf_from(page.text)


def _post(ui: Any, pid: str, path: str, data: dict[str, Any], token: str | None = "auto") -> Any:
    if token == "auto":
        token = _settings(ui, pid)[1]
    body = {**data, **({"csrf_token": token} if token else {})}
    return ui.post(f"/project/{pid}/settings{path}", data=body, follow_redirects=False)


@pytest.fixture
def viewer(client: Any, engine: Any, project: Any) -> Any:
    """The client logged in as a VIEWER member of ``project`` (read-only)."""
    user_id = create_user(engine, "viewer@example.com", PASSWORD)
    add_membership(engine, user_id, project.id, role="VIEWER")
    assert login(client, "viewer@example.com").status_code == 303
    return client


def test_page_lists_every_section_with_json_twin(ui: Any, project: Any) -> None:
    html, _ = _settings(ui, project.id)
    for section in ('id="api-keys"', 'id="models"', 'id="score-configs"', 'id="retention"', 'id="project"'):
        assert section in html
    assert project.public_key in html and "sk-proj-a" not in html  # the fixture's secret is never shown
    data = ui.get(f"/project/{project.id}/settings.json").json()
    assert data["canManage"] is True
    assert [k["publicKey"] for k in data["apiKeys"]] == [project.public_key]
    assert "secret" not in str(data["apiKeys"]).replace("displaySecretKey", "")
    assert 'href="/project/proj-a/settings"' in html and 'href="/project/proj-a/datasets"' in html


def test_create_key_shows_secret_once_and_it_works(ui: Any, project: Any) -> None:
    created = _post(ui, project.id, "/api-keys", {"note": XSS})
    assert created.status_code == 200
    public = re.search(r'id="new-public-key">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="new-secret-key">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert "shown only this once" in created.text
    assert "<script>window.__xss" not in created.text and "&lt;script&gt;" in created.text
    again = ui.get(f"/project/{project.id}/settings")
    assert secret not in again.text and public in again.text
    assert secret not in ui.get(f"/project/{project.id}/settings.json").text
    import base64

    auth = {"Authorization": "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()}
    assert ui.get("/api/public/traces", headers=auth).status_code == 200


def test_revoke_stops_the_key_on_the_api(ui: Any, engine: Any, project: Any) -> None:
    assert ui.get("/api/public/traces", headers=project.headers).status_code == 200
    key_id = list_api_keys(engine, project.id)[0]["id"]
    revoked = _post(ui, project.id, f"/api-keys/{key_id}/revoke", {})
    assert revoked.status_code == 303 and "notice=key-revoked" in revoked.headers["location"]
    assert list_api_keys(engine, project.id) == []
    assert ui.get("/api/public/traces", headers=project.headers).status_code == 401
    assert "was revoked" in ui.get(revoked.headers["location"]).text


def test_revoke_of_another_projects_key_is_404(ui: Any, engine: Any, project: Any, other_project: Any) -> None:
    key_id = list_api_keys(engine, other_project.id)[0]["id"]
    assert _post(ui, project.id, f"/api-keys/{key_id}/revoke", {}).status_code == 404
    assert len(list_api_keys(engine, other_project.id)) == 1


def test_create_model_per_million_stored_per_token(ui: Any, engine: Any, project: Any) -> None:
    form = {"model_name": XSS, "match_pattern": "(?i)^my-model$", "unit": "TOKENS", "input_price": "2.5",
            "output_price": "10", "other_prices": "cache_read = 1.25", "start_date": "2025-01-02"}  # fmt: skip
    response = _post(ui, project.id, "/models", form)
    assert response.status_code == 303
    [model], _ = list_models(engine, project.id)
    assert model.prices == pytest.approx({"input": 2.5e-6, "output": 1e-5, "cache_read": 1.25e-6})
    assert model.start_date_us == 1735776000 * 1_000_000
    html = ui.get(f"/project/{project.id}/settings").text
    assert "&lt;script&gt;window.__xss" in html and "<script>window.__xss" not in html
    assert "$2.5" in html
    data = ui.get(f"/project/{project.id}/settings.json").json()
    assert data["models"][0]["pricesPerMillion"]["output"] == pytest.approx(10)
    lookup = ui.get(f"/project/{project.id}/settings.json?lookup=MY-MODEL").json()["lookup"]
    assert lookup["source"] == "project model" and lookup["matchedModelId"] == model.id
    deleted = _post(ui, project.id, f"/models/{model.id}/delete", {})
    assert deleted.status_code == 303 and list_models(engine, project.id)[0] == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"model_name": "m", "match_pattern": "(", "input_price": "1"}, "not a valid regular expression"),
        ({"model_name": "m", "match_pattern": "m", "input_price": "cheap"}, "must be a number"),
        ({"model_name": "m", "match_pattern": "m"}, "at least one price"),
        ({"model_name": "m", "match_pattern": "m", "input_price": "1", "start_date": "soon"}, "YYYY-MM-DD"),
    ],
)
def test_model_validation_errors_are_shown(
    ui: Any, engine: Any, project: Any, form: dict[str, str], message: str
) -> None:
    response = _post(ui, project.id, "/models", form)
    assert response.status_code == 400 and message in response.text
    assert 'id="model-error"' in response.text
    assert list_models(engine, project.id)[0] == []


def test_model_conflict_is_shown(ui: Any, engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="dup", match_pattern="dup", input_price=1e-6)
    response = _post(ui, project.id, "/models", {"model_name": "dup", "match_pattern": "dup", "input_price": "1"})
    assert response.status_code == 400 and "already exists" in response.text


def test_price_lookup_uses_the_catalog(ui: Any, project: Any) -> None:
    page = ui.get(f"/project/{project.id}/settings?lookup=gpt-4o-mini")
    assert 'id="lookup-result"' in page.text and "catalog" in page.text and "/ 1M" in page.text
    data = ui.get(f"/project/{project.id}/settings.json?lookup=gpt-4o-mini").json()["lookup"]
    assert data["source"] == "catalog" and data["pricesPerMillion"]["input"] > 0
    unknown = ui.get(f"/project/{project.id}/settings.json?lookup=no-such-model-xyz").json()["lookup"]
    assert unknown["source"] is None


def test_score_configs_create_each_type_and_archive(ui: Any, engine: Any, project: Any) -> None:
    forms = [
        {"name": "accuracy", "data_type": "NUMERIC", "min_value": "0", "max_value": "1"},
        {"name": "tone", "data_type": "CATEGORICAL", "categories": "good = 1\nbad = 0"},
        {"name": "correct", "data_type": "BOOLEAN"},
        {"name": "notes", "data_type": "TEXT", "description": XSS},
    ]
    for form in forms:
        assert _post(ui, project.id, "/score-configs", form).status_code == 303
    configs = {c.name: c for c in list_score_configs(engine, project.id).items}
    assert configs["accuracy"].max_value == 1 and configs["tone"].categories == [
        {"label": "good", "value": 1},
        {"label": "bad", "value": 0},
    ]
    assert configs["correct"].categories is not None and len(configs["correct"].categories) == 2
    html = ui.get(f"/project/{project.id}/settings").text
    assert "<script>window.__xss" not in html
    archived = _post(ui, project.id, f"/score-configs/{configs['notes'].id}/archive", {"archive": "yes"})
    assert archived.status_code == 303
    assert {c.name: c.is_archived for c in list_score_configs(engine, project.id).items}["notes"] is True


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "bad name!", "data_type": "TEXT"}, "1-35 characters"),
        ({"name": "r", "data_type": "NUMERIC", "min_value": "2", "max_value": "1"}, "greater than minValue"),
        ({"name": "c", "data_type": "CATEGORICAL", "categories": ""}, "non-empty list"),
    ],
)
def test_score_config_validation_errors(ui: Any, engine: Any, project: Any, form: dict[str, str], message: str) -> None:
    response = _post(ui, project.id, "/score-configs", form)
    assert response.status_code == 400 and message in response.text
    assert list_score_configs(engine, project.id).items == []


def test_retention_and_name(ui: Any, engine: Any, project: Any) -> None:
    assert _post(ui, project.id, "/retention", {"mode": "days", "retention_days": "30"}).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(select(projects.c.retention_days).where(projects.c.id == project.id)).scalar() == 30
    assert 'kept <strong id="retention-now">30 days' in ui.get(f"/project/{project.id}/settings").text
    bad = _post(ui, project.id, "/retention", {"mode": "days", "retention_days": "0"})
    assert bad.status_code == 400 and "whole number of days" in bad.text
    assert _post(ui, project.id, "/retention", {"mode": "forever"}).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(select(projects.c.retention_days).where(projects.c.id == project.id)).scalar() is None
    assert _post(ui, project.id, "/name", {"name": XSS}).status_code == 303
    html = ui.get(f"/project/{project.id}/settings").text
    assert "&lt;script&gt;window.__xss" in html and "<script>window.__xss" not in html
    assert _post(ui, project.id, "/name", {"name": "  "}).status_code == 400


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/api-keys", {"note": "x"}),
        ("/models", {"model_name": "m", "match_pattern": "m", "input_price": "1"}),
        ("/score-configs", {"name": "n", "data_type": "TEXT"}),
        ("/retention", {"mode": "forever"}),
        ("/name", {"name": "renamed"}),
    ],
)
def test_forms_without_csrf_are_refused(ui: Any, engine: Any, project: Any, path: str, data: dict[str, str]) -> None:
    assert _post(ui, project.id, path, data, token=None).status_code == 403
    assert _post(ui, project.id, path, data, token="forged").status_code == 403
    assert len(list_api_keys(engine, project.id)) == 1 and list_models(engine, project.id)[0] == []


def test_non_member_gets_404(ui: Any, engine: Any, other_project: Any, project: Any) -> None:
    token = _settings(ui, project.id)[1]
    assert ui.get(f"/project/{other_project.id}/settings").status_code == 404
    assert ui.get(f"/project/{other_project.id}/settings.json").status_code == 404
    response = ui.post(f"/project/{other_project.id}/settings/api-keys", data={"csrf_token": token})
    assert response.status_code == 404
    assert len(list_api_keys(engine, other_project.id)) == 1


def test_read_only_role_sees_no_forms_and_cannot_change(viewer: Any, engine: Any, project: Any) -> None:
    html, token = _settings(viewer, project.id)
    assert 'id="read-only"' in html and 'id="create-key"' not in html and "/revoke" not in html
    assert viewer.get(f"/project/{project.id}/settings.json").json()["canManage"] is False
    key_id = list_api_keys(engine, project.id)[0]["id"]
    for path, data in [
        ("/api-keys", {}),
        (f"/api-keys/{key_id}/revoke", {}),
        ("/models", {"model_name": "m", "match_pattern": "m", "input_price": "1"}),
        ("/retention", {"mode": "days", "retention_days": "1"}),
    ]:
        response = _post(viewer, project.id, path, data, token=token)
        assert response.status_code == 403 and "owners and admins" in response.text
    assert len(list_api_keys(engine, project.id)) == 1 and list_models(engine, project.id)[0] == []


def test_instance_admin_without_membership_can_manage(client: Any, engine: Any, project: Any) -> None:
    create_user(engine, "root@example.com", PASSWORD, is_admin=True)
    assert login(client, "root@example.com").status_code == 303
    assert client.get(f"/project/{project.id}/settings.json").json()["canManage"] is True


def test_key_note_too_long_is_refused(ui: Any, engine: Any, project: Any) -> None:
    response = _post(ui, project.id, "/api-keys", {"note": "n" * 201})
    assert response.status_code == 400 and 'id="key-error"' in response.text and 'id="new-key"' not in response.text
    assert len(list_api_keys(engine, project.id)) == 1
