"""``GET /projects``: the API key's own project (the SDK reads its id to build trace URLs).

The reference nests each project in an organization, and its SDK reads ``organization`` when it
builds a trace URL. A server of ours is one organization holding every project, so each project
names that one, :data:`ORGANIZATION`.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, not_found
from interactiveai.server.api.models import Projects
from interactiveai.server.storage.schema import projects

router = APIRouter(tags=["projects"])

ORGANIZATION = {"id": "default", "name": "Default organization"}
"""The single organization of a server: every project belongs to it."""


@router.get("/projects", response_model=Projects, summary="The project of the API key")
def get_projects(key: AuthKey, engine: DbEngine) -> JSON:
    with engine.connect() as conn:
        row = conn.execute(
            select(projects.c.id, projects.c.name, projects.c.retention_days).where(projects.c.id == key.project_id)
        ).first()
    if row is None:  # the key outlived its project
        raise not_found("Project", key.project_id)
    project = {
        "id": row.id,
        "name": row.name,
        "organization": ORGANIZATION,
        "metadata": {},
        "retentionDays": row.retention_days,
    }
    return JSON({"data": [project]})
