"""Every route that takes a body reads it only after the API key is accepted, and never past its cap.

The routes come from the OpenAPI document, which must describe the body of every write: a new
route is checked without being listed here. UI form posts are checked after them. What a body
costs in memory while it streams in is measured on a live server (tests/server/test_bodies_live.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interactiveai.server.tenancy import add_membership, create_user
from tests.conftest import Project
from tests.server.ui.conftest import PASSWORD, csrf_from, login

JSON_CAP = 4_000
INGEST_CAP = 8_000
FORM_CAP = 2_000
HUGE = 1_000_000  # over every cap and over the drain limit
INGEST_PATHS = {"/api/public/otel/v1/traces", "/v1/traces"}


@pytest.fixture
def capped(engine: Any, tmp_path: Path) -> Iterator[TestClient]:
    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        max_json_body_bytes=JSON_CAP,
        max_body_bytes=INGEST_CAP,
        max_form_bytes=FORM_CAP,
    )
    with TestClient(create_app(settings, engine=engine, first_start=False)) as client:
        yield client


def body_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every operation that takes a body, path parameters filled in."""
    spec = client.get("/api/public/openapi.json").json()
    routes = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch"):
                assert "requestBody" in operation, f"{method.upper()} {path} does not document its body"
            if "requestBody" in operation:
                routes.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    return routes


def test_every_write_is_enumerated(capped: TestClient) -> None:
    routes = body_routes(capped)
    expected = {
        ("POST", "/api/public/scores"),
        ("POST", "/api/public/score-configs"),
        ("PATCH", "/api/public/score-configs/x"),
        ("POST", "/api/public/datasets"),
        ("POST", "/api/public/v2/datasets"),
        ("POST", "/api/public/dataset-items"),
        ("POST", "/api/public/dataset-run-items"),
        ("POST", "/api/public/models"),
        ("DELETE", "/api/public/traces"),
        ("POST", "/api/public/otel/v1/traces"),
        ("POST", "/v1/traces"),
    }
    assert expected <= set(routes)


def _cap(path: str) -> int:
    return INGEST_CAP if path in INGEST_PATHS else JSON_CAP


def _chunks(size: int, chunk: int = 1_000) -> Iterator[bytes]:
    for _ in range(size // chunk):
        yield b"[" * chunk


def test_without_a_key_any_body_is_401(capped: TestClient) -> None:
    for method, path in body_routes(capped):
        for body in (b"{", b"[" * HUGE, _chunks(HUGE)):
            headers = {"Content-Type": "application/json"}
            response = capped.request(method, path, content=body, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "UnauthorizedError"
            assert response.headers["connection"] == "close"  # the body was not read
        wrong_key = {"Authorization": "Basic cGstbm86c2stbm8=", "Content-Type": "text/plain"}
        assert capped.request(method, path, content=b"{", headers=wrong_key).status_code == 401


def test_over_the_cap_is_413_declared_or_counted(capped: TestClient, project: Project) -> None:
    for method, path in body_routes(capped):
        cap = _cap(path)
        headers = {**project.headers, "Content-Type": "application/json"}
        declared = capped.request(method, path, content=b" " * (cap + 1), headers=headers)
        assert declared.status_code == 413, (method, path, declared.text)
        assert declared.json() == {
            "message": f"request body of {cap + 1} bytes exceeds the limit of {cap} bytes",
            "error": "PayloadTooLargeError",
        }
        counted = capped.request(method, path, content=_chunks(cap + 1_000), headers=headers)
        assert counted.status_code == 413, (method, path, counted.text)
        assert f"exceeds the limit of {cap} bytes" in counted.json()["message"]


def test_json_writes_say_what_is_wrong_with_the_body(capped: TestClient, project: Project) -> None:
    for method, path in body_routes(capped):
        if path in INGEST_PATHS:
            continue
        broken = capped.request(method, path, content=b"{", headers=project.headers)
        assert broken.status_code == 400, (method, path, broken.text)
        assert broken.json()["message"].startswith("the request body is not valid JSON: ")
        empty = capped.request(method, path, content=b"", headers=project.headers)
        assert empty.status_code == 400 and "empty" in empty.json()["message"], (method, path, empty.text)
        form = {**project.headers, "Content-Type": "application/x-www-form-urlencoded"}
        refused = capped.request(method, path, content=b'{"a": 1}', headers=form)
        assert refused.status_code == 415, (method, path, refused.text)
        assert refused.json() == {
            "message": "Unsupported Content-Type 'application/x-www-form-urlencoded': "
            "send the body as JSON, with Content-Type: application/json",
            "error": "UnsupportedMediaTypeError",
        }


def test_json_bodies_are_read_with_or_without_a_json_content_type(capped: TestClient, project: Project) -> None:
    body = b'{"name": "accuracy", "dataType": "NUMERIC"}'
    for content_type in (None, "application/json", "application/json; charset=utf-8", "application/vnd.api+json"):
        headers = dict(project.headers) | ({"Content-Type": content_type} if content_type else {})
        response = capped.post("/api/public/score-configs", content=body, headers=headers)
        assert response.status_code == 200, (content_type, response.text)


def test_typed_bodies_still_name_the_broken_field(capped: TestClient, project: Project) -> None:
    response = capped.request("DELETE", "/api/public/traces", json={"traceIds": []}, headers=project.headers)
    assert response.status_code == 400 and response.json()["message"].startswith("Invalid request: traceIds")
    response = capped.post("/api/public/models", json={"modelName": "m"}, headers=project.headers)
    assert response.status_code == 400 and "matchPattern" in response.json()["message"]
    response = capped.request("DELETE", "/api/public/traces", json={"traceIds": ["nope"]}, headers=project.headers)
    assert response.status_code == 200 and response.json()["deletedCount"] == 0


# -- web UI form posts -------------------------------------------------------------------------


def test_the_login_form_is_capped(capped: TestClient) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"email=" + b"a" * HUGE, _chunks(HUGE)):
        response = capped.post("/login", content=body, headers=form)
        assert response.status_code == 413, response.text
        assert f"limit of {FORM_CAP} bytes" in response.json()["message"]


def test_managed_form_posts_are_capped(capped: TestClient, project: Project, engine: Any) -> None:
    add_membership(engine, create_user(engine, "owner@example.com", PASSWORD), project.id)
    assert login(capped, "owner@example.com").status_code == 303
    token = csrf_from(capped.get(f"/project/{project.id}/settings").text)
    path = f"/project/{project.id}/settings/name"
    response = capped.post(path, data={"csrf_token": token, "name": "x" * (FORM_CAP + 1)}, follow_redirects=False)
    assert response.status_code == 413, response.text
    response = capped.post(path, data={"csrf_token": token, "name": "Renamed"}, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_a_form_post_without_a_session_is_not_read(capped: TestClient, project: Project) -> None:
    path = f"/project/{project.id}/settings/name"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = capped.post(path, content=_chunks(HUGE), headers=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert response.headers["connection"] == "close"
