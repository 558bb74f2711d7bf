from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine

from interactiveai.server.api.models import Health, Projects
from interactiveai.version import __version__


def test_health_needs_no_key(client: Any) -> None:
    response = client.get("/api/public/health")
    assert response.status_code == 200
    assert response.json() == {"status": "OK", "version": __version__}
    Health.model_validate(response.json())


def test_health_is_503_when_the_database_is_unreachable(client: Any, app: Any) -> None:
    healthy = app.state.engine
    # Nothing listens on port 1: every connection attempt fails at once.
    app.state.engine = create_engine(
        "postgresql+psycopg://nobody:x@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    try:
        response = client.get("/api/public/health")
    finally:
        app.state.engine.dispose()
        app.state.engine = healthy
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "ERROR" and "Database" in body["message"]


def test_projects_lists_only_the_keys_project(client: Any, project: Any, other_project: Any) -> None:
    response = client.get("/api/public/projects", headers=project.headers)
    assert response.status_code == 200
    body = response.json()
    Projects.model_validate(body)
    organization = {"id": "default", "name": "Default organization"}  # the reference SDK's get_trace_url reads it
    assert body == {
        "data": [
            {
                "id": project.id,
                "name": "Project proj-a",
                "organization": organization,
                "metadata": {},
                "retentionDays": None,
            }
        ]
    }
    other = client.get("/api/public/projects", headers=other_project.headers).json()
    assert [(p["id"], p["organization"]) for p in other["data"]] == [(other_project.id, organization)]


def test_projects_requires_a_valid_key(client: Any, project: Any) -> None:
    assert client.get("/api/public/projects").status_code == 401
    bad = {"Authorization": "Basic cGstcHJvai1hOndyb25n"}  # pk-proj-a:wrong
    response = client.get("/api/public/projects", headers=bad)
    assert response.status_code == 401 and response.json()["error"] == "UnauthorizedError"
