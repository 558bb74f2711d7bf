"""The Evaluators page (LLM-as-a-judge): the project's evaluators and their latest evaluations,
read-only, with its JSON twin. Evaluators and model connections are managed through the REST API
(``/api/public/evaluators``, ``/api/public/llm-connections``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from interactiveai.server.evals import store
from interactiveai.server.evals.models import JOB_STATUSES
from interactiveai.server.ui.auth import Access, project_access
from interactiveai.server.ui.filters import page_number
from interactiveai.server.ui.pages import json_response, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def evaluators_data(request: Request, access: Access) -> dict[str, Any]:
    engine = request.app.state.engine
    project_id = access.project.id
    params = request.query_params
    asked = params.get("status", "")
    status = asked if asked in JOB_STATUSES else None
    evaluator_id = params.get("evaluator") or None
    if evaluator_id is not None and (len(evaluator_id) > 64 or "\x00" in evaluator_id):
        evaluator_id = None  # no evaluator has such an id
    page = page_number(params.get("page"))
    listed = store.list_evaluators(engine, project_id, page=1, limit=100)
    connections = store.list_connections(engine, project_id, page=1, limit=100)
    jobs = store.list_jobs(engine, project_id, evaluator_id=evaluator_id, status=status, page=page, limit=PAGE_SIZE)
    names = {row["id"]: row["name"] for row in listed.items}
    return {
        "evaluators": [store.evaluator_json(row) for row in listed.items],
        "connections": [store.connection_json(row) for row in connections.items],
        "jobs": [{**store.job_json(row), "evaluatorName": names.get(row["evaluator_id"])} for row in jobs.items],
        "filter": {"status": status, "evaluator": evaluator_id},
        "meta": {"page": page, "limit": PAGE_SIZE, "totalItems": jobs.total, "totalPages": jobs.total_pages},
    }


@router.get("/project/{project_id}/evaluators.json")
def evaluators_json(request: Request, project_id: str) -> Response:
    return json_response(request, evaluators_data(request, project_access(request, project_id)))


@router.get("/project/{project_id}/evaluators")
def evaluators_page(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    data = evaluators_data(request, access)
    base = f"/project/{project_id}/evaluators"
    kept = {k: v for k, v in data["filter"].items() if v}
    meta = data["meta"]

    def page_url(page: int) -> str:
        return base + "?" + urlencode({**kept, "page": page})

    return render(
        request,
        "evaluators.html",
        {
            "access": access,
            "section": "evaluators",
            "statuses": JOB_STATUSES,
            "base": base,
            "prev_url": page_url(meta["page"] - 1) if meta["page"] > 1 else None,
            "next_url": page_url(meta["page"] + 1) if meta["page"] < meta["totalPages"] else None,
            **data,
        },
    )
