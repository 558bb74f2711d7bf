"""One evaluator's page: its settings, its prompt's variables and where each comes from, and its
evaluations (status, attempts, error, cost, the judged trace and the score written), paginated;
with its JSON twin. Pausing, resuming and deleting are posted from here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import case, func, select

from interactiveai.server.evals import store
from interactiveai.server.evals.models import JOB_STATUSES, EvaluatorUpdate
from interactiveai.server.storage.eval_schema import evaluator_jobs
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import page_number
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_evaluators import (
    PAGE_SIZE,
    can_edit,
    connection_path,
    describe_filter,
    edit_form,
    evaluator_path,
    evaluators_path,
    job_rows,
    judge_traces_url,
    notice,
    with_notice,
)
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)
COUNTED_JOBS = 10_000  # the status counts read this many of the newest evaluations at most


def status_counts(request: Request, project_id: str, evaluator_id: str) -> dict[str, int]:
    """How many of the evaluator's newest ``COUNTED_JOBS`` evaluations are in each shown state."""
    j = evaluator_jobs.c
    newest = (
        select(j.status, j.attempts)
        .where(j.project_id == project_id, j.evaluator_id == evaluator_id)
        .order_by(j.created_at_us.desc())
        .limit(COUNTED_JOBS)
        .subquery()
    )
    tried = case((newest.c.attempts > 0, 1), else_=0)
    query = select(newest.c.status, tried, func.count()).group_by(newest.c.status, tried)
    counts = {state: 0 for state in ("pending", "retrying", "running", "done", "failed")}
    with request.app.state.engine.connect() as conn:
        for status, was_tried, count in conn.execute(query):
            state = "retrying" if status == "pending" and was_tried else str(status)
            counts[state] = counts.get(state, 0) + int(count)
    return counts


def _variables(row: Any) -> list[dict[str, Any]]:
    """The prompt's variables with their sources, declared or implied by their names."""
    try:
        resolved = store.mapping_of(row)
    except ValueError:
        return []  # a stored prompt no rule accepts any more: the worker reports it per evaluation
    declared = store.evaluator_json(row)["variableMapping"]
    return [
        {"name": name, "source": s.source, "field": s.field, "key": s.key, "implied": name not in declared}
        for name, s in resolved.items()
    ]


def trace_project(access: Access, project_id: str | None) -> dict[str, Any] | None:
    """Where the judge's calls are traced: the project's name and its list of them, when the user
    may open it (a project they have left is shown by neither)."""
    if not project_id:
        return None
    ref = next((ref for ref in access.projects if ref.id == project_id), None)
    return {
        "id": project_id,
        "name": ref.name if ref else None,
        "own": project_id == access.project.id,
        "url": judge_traces_url(project_id) if ref else None,
    }


def evaluator_data(request: Request, access: Access, evaluator_id: str) -> dict[str, Any]:
    engine = request.app.state.engine
    project_id = access.project.id
    row = store.get_evaluator(engine, project_id, evaluator_id)
    if row is None:
        raise NotFoundPage()
    evaluator = store.evaluator_json(row)
    connection = store.get_connection(engine, project_id, evaluator["connectionId"])
    asked = request.query_params.get("status", "")
    status = asked if asked in JOB_STATUSES else None
    page = page_number(request.query_params.get("page"))
    jobs = store.list_jobs(engine, project_id, evaluator_id=evaluator["id"], status=status, page=page, limit=PAGE_SIZE)
    return {
        "evaluator": evaluator,
        "connection": store.connection_json(connection) if connection is not None else None,
        "traceProject": trace_project(access, evaluator["traceProjectId"]),
        "variables": _variables(row),
        "counts": status_counts(request, project_id, evaluator["id"]),
        "jobs": job_rows(request, project_id, jobs.items),
        "filter": {"status": status},
        "meta": {
            "page": page,
            "limit": PAGE_SIZE,
            "totalItems": jobs.total,
            "totalPages": jobs.total_pages,
            "totalExact": jobs.total_exact,
        },
    }


@router.get("/project/{project_id}/evaluators/{evaluator_id}.json")
def evaluator_json(request: Request, project_id: str, evaluator_id: str) -> Response:
    return json_response(request, evaluator_data(request, project_access(request, project_id), evaluator_id))


@router.get("/project/{project_id}/evaluators/{evaluator_id}")
def evaluator_page(request: Request, project_id: str, evaluator_id: str) -> Response:
    return _page(request, project_access(request, project_id), evaluator_id)


def _page(request: Request, access: Access, evaluator_id: str, error: str | None = None, status: int = 200) -> Response:
    project_id = access.project.id
    data = evaluator_data(request, access, evaluator_id)
    base = evaluator_path(project_id, data["evaluator"]["id"])
    meta = data["meta"]
    kept = {"status": data["filter"]["status"]} if data["filter"]["status"] else {}

    def page_url(page: int) -> str:
        return base + "?" + urlencode({**kept, "page": page})

    return render(
        request,
        "evaluators_detail.html",
        {
            "access": access,
            "section": "evaluators",
            "base": base,
            "statuses": JOB_STATUSES,
            "can_edit": can_edit(request, access),
            "notice": notice(request),
            "error": error,
            "describe_filter": describe_filter,
            "evaluators_url": evaluators_path(project_id),
            "connection_url": connection_path(project_id, data["evaluator"]["connectionId"]),
            "evaluator_path": lambda eid: evaluator_path(project_id, eid),
            "show_evaluator": False,
            "prev_url": page_url(meta["page"] - 1) if meta["page"] > 1 else None,
            "next_url": page_url(meta["page"] + 1) if meta["page"] < meta["totalPages"] else None,
            **data,
        },
        status_code=status,
    )


async def _set_enabled(request: Request, project_id: str, evaluator_id: str, enabled: bool) -> Response:
    access, _form = await edit_form(request, project_id)
    try:
        saved = store.update_evaluator(
            request.app.state.engine, project_id, evaluator_id, EvaluatorUpdate.model_validate({"enabled": enabled})
        )
    except InvalidInputError as exc:  # the stored evaluator no longer passes the rules: fix it on its form
        return _page(request, access, evaluator_id, error=f"Not changed: {exc}. Edit the evaluator.", status=400)
    if saved is None:
        raise NotFoundPage()
    return with_notice(evaluator_path(project_id, evaluator_id), "evaluator-resumed" if enabled else "evaluator-paused")


@router.post("/project/{project_id}/evaluators/{evaluator_id}/pause")
async def pause_evaluator(request: Request, project_id: str, evaluator_id: str) -> Response:
    return await _set_enabled(request, project_id, evaluator_id, False)


@router.post("/project/{project_id}/evaluators/{evaluator_id}/resume")
async def resume_evaluator(request: Request, project_id: str, evaluator_id: str) -> Response:
    return await _set_enabled(request, project_id, evaluator_id, True)


@router.post("/project/{project_id}/evaluators/{evaluator_id}/delete")
async def delete_evaluator(request: Request, project_id: str, evaluator_id: str) -> Response:
    await edit_form(request, project_id)
    if not store.delete_evaluator(request.app.state.engine, project_id, evaluator_id):
        raise NotFoundPage()
    return with_notice(evaluators_path(project_id), "evaluator-deleted")
