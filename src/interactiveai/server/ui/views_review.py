"""Annotation queues in the UI: the list with progress, creating and deleting queues (owners and
admins), one queue's items with who reviewed what, and its reviewers. Reviewing an item is in
``views_review_items``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from interactiveai.server.query.review import (
    AnnotationQueue,
    QueueItem,
    get_queue,
    list_queue_items,
    list_queues,
    queue_reviewers,
    reviewer_counts,
)
from interactiveai.server.query.score_configs import ScoreConfig, get_score_config, list_score_configs
from interactiveai.server.storage.observation_lookup import observations_by_id
from interactiveai.server.storage.schema import memberships, traces, users
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import page_number
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.manage import can_annotate, can_manage, form_list, managed_form, notice_from
from interactiveai.server.ui.manage import redirect_with_notice as notice_redirect
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.writes import review as w
from interactiveai.server.writes.datasets import NotFoundError
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def queue_path(project_id: str, queue_id: str) -> str:
    return f"/project/{project_id}/queues/{queue_id}"


def object_path(project_id: str, object_type: str, object_id: str, trace_id: str | None = None) -> str | None:
    """Where an object under review is shown in full (an observation: on its trace's page)."""
    if object_type == "SESSION":
        return f"/project/{project_id}/sessions/{quote(object_id, safe='')}"
    if object_type == "OBSERVATION":
        if trace_id is None:
            return None  # the observation is gone
        return f"/project/{project_id}/traces/{quote(trace_id, safe='')}?observation={quote(object_id, safe='')}"
    return f"/project/{project_id}/traces/{quote(object_id, safe='')}"


def object_traces(request: Request, project_id: str, items: list[QueueItem]) -> dict[tuple[str, str], str]:
    """For each object of ``items`` still stored, its trace (a session: itself); gone ones are left out."""
    wanted: dict[str, list[str]] = {"TRACE": [], "OBSERVATION": [], "SESSION": []}
    for item in items:
        wanted[item.object_type].append(item.object_id)
    found: dict[tuple[str, str], str] = {}
    with request.app.state.engine.connect() as conn:
        if wanted["OBSERVATION"]:
            for row in observations_by_id(conn, project_id, wanted["OBSERVATION"], ["id", "trace_id"]):
                found["OBSERVATION", str(row["id"])] = str(row["trace_id"])
        for object_type, column in (("TRACE", traces.c.id), ("SESSION", traces.c.session_id)):
            if wanted[object_type]:
                query = select(column).where(traces.c.project_id == project_id, column.in_(wanted[object_type]))
                found.update({(object_type, str(v)): str(v) for v in conn.execute(query.distinct()).scalars()})
    return found


def queue_choices(request: Request, project_id: str) -> list[dict[str, str]]:
    """The project's queues for an "Add to queue" menu (the first 100 by name)."""
    page = list_queues(request.app.state.engine, project_id, limit=100)
    return [{"id": q.id, "name": q.name} for q in page.items]


def queue_json(queue: AnnotationQueue, project_id: str) -> dict[str, Any]:
    return {
        "id": queue.id,
        "name": queue.name,
        "description": queue.description,
        "scoreConfigIds": queue.score_config_ids,
        "pendingItems": queue.pending,
        "completedItems": queue.completed,
        "createdAt": iso_time(queue.created_at_us),
        "htmlPath": queue_path(project_id, queue.id),
    }


def item_json(item: QueueItem, project_id: str, stored: dict[tuple[str, str], str]) -> dict[str, Any]:
    trace_id = stored.get((item.object_type, item.object_id))
    return {
        "id": item.id,
        "objectType": item.object_type,
        "objectId": item.object_id,
        "status": item.status,
        "completedAt": iso_time(item.completed_at_us) if item.completed_at_us else None,
        "completedBy": item.completed_by_email,
        "createdAt": iso_time(item.created_at_us),
        "objectPath": object_path(project_id, item.object_type, item.object_id, trace_id) if trace_id else None,
        "reviewPath": f"{queue_path(project_id, item.queue_id)}/review?item={item.id}",
    }


def queue_configs(request: Request, project_id: str, queue: AnnotationQueue) -> list[ScoreConfig]:
    """The queue's score configs in its order (those since deleted are left out)."""
    engine = request.app.state.engine
    found = (get_score_config(engine, project_id, config_id) for config_id in queue.score_config_ids)
    return [config for config in found if config is not None]


def queues_data(request: Request, access: Access) -> dict[str, Any]:
    pid = access.project.id
    page_no = page_number(request.query_params.get("page"))
    page = list_queues(request.app.state.engine, pid, page=page_no, limit=PAGE_SIZE)
    return {
        "data": [queue_json(q, pid) for q in page.items],
        "meta": {"page": page_no, "limit": PAGE_SIZE, "totalItems": page.total or 0},
    }


@router.get("/project/{project_id}/queues.json")
def queues_json(request: Request, project_id: str) -> Response:
    return json_response(request, queues_data(request, project_access(request, project_id)))


def _queues_page(request: Request, access: Access, *, status: int = 200, error: str | None = None) -> Response:
    data = queues_data(request, access)
    configs = list_score_configs(request.app.state.engine, access.project.id, limit=100, include_archived=False)
    return render(
        request,
        "queues.html",
        {
            "access": access,
            "section": "queues",
            "rows": data["data"],
            "meta": data["meta"],
            "score_configs": configs.items,
            "can_manage": can_manage(request, access),
            "notice": notice_from(request),
            "error": error,
        },
        status_code=status,
    )


@router.get("/project/{project_id}/queues")
def queues_page(request: Request, project_id: str) -> Response:
    return _queues_page(request, project_access(request, project_id))


@router.post("/project/{project_id}/queues")
async def create_queue(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    body = {
        "name": str(form.get("name", "")).strip(),
        "description": str(form.get("description", "")).strip() or None,
        "scoreConfigIds": form_list(form, "score_config_id"),
    }
    try:
        queue = w.create_queue(request.app.state.engine, project_id, body)
    except (InvalidInputError, NotFoundError) as exc:
        return _queues_page(request, access, status=400, error=str(exc))
    return notice_redirect(queue_path(project_id, queue.id), "queue-created")


def queue_data(request: Request, access: Access, queue_id: str) -> dict[str, Any]:
    engine = request.app.state.engine
    pid = access.project.id
    queue = get_queue(engine, pid, queue_id)
    if queue is None:
        raise NotFoundPage()
    status = request.query_params.get("status", "").upper()
    wanted = status if status in ("PENDING", "COMPLETED") else None
    page_no = page_number(request.query_params.get("page"))
    items = list_queue_items(engine, pid, queue.id, status=wanted, page=page_no, limit=PAGE_SIZE)
    stored = object_traces(request, pid, items.items)  # one query per object type, not per row
    return {
        "queue": queue_json(queue, pid),
        "scoreConfigs": [
            {"id": c.id, "name": c.name, "dataType": c.data_type} for c in queue_configs(request, pid, queue)
        ],
        "reviewers": [{"id": uid, "email": email} for uid, email in queue_reviewers(engine, pid, queue.id)],
        "reviewedBy": [
            {"reviewer": who or "the API", "completed": n} for who, n in reviewer_counts(engine, pid, queue.id)
        ],
        "items": [item_json(i, pid, stored) for i in items.items],
        "meta": {"page": page_no, "limit": PAGE_SIZE, "totalItems": items.total or 0, "status": wanted},
    }


def _members(request: Request, project_id: str) -> list[dict[str, str]]:
    query = (
        users.select()
        .with_only_columns(users.c.id, users.c.email)
        .join_from(users, memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.email)
    )
    with request.app.state.engine.connect() as conn:
        return [{"id": str(row.id), "email": str(row.email)} for row in conn.execute(query)]


@router.get("/project/{project_id}/queues/{queue_id}.json")
def queue_json_page(request: Request, project_id: str, queue_id: str) -> Response:
    return json_response(request, queue_data(request, project_access(request, project_id), queue_id))


@router.get("/project/{project_id}/queues/{queue_id}")
def queue_page(request: Request, project_id: str, queue_id: str) -> Response:
    access = project_access(request, project_id)
    data = queue_data(request, access, queue_id)
    manage = can_manage(request, access)
    meta = data["meta"]
    base = queue_path(project_id, queue_id)
    status_arg = f"&status={meta['status']}" if meta["status"] else ""
    last_page = meta["page"] * PAGE_SIZE >= meta["totalItems"]
    return render(
        request,
        "queue.html",
        {
            "access": access,
            "section": "queues",
            "data": data,
            "base": base,
            "members": _members(request, project_id) if manage else [],
            "can_manage": manage,
            "can_annotate": can_annotate(request, access),
            "notice": notice_from(request),
            "prev_url": f"{base}?page={meta['page'] - 1}{status_arg}" if meta["page"] > 1 else None,
            "next_url": None if last_page else f"{base}?page={meta['page'] + 1}{status_arg}",
        },
    )


@router.post("/project/{project_id}/queues/{queue_id}/delete")
async def delete_queue(request: Request, project_id: str, queue_id: str) -> Response:
    await managed_form(request, project_id)
    if not w.delete_queue(request.app.state.engine, project_id, queue_id):
        raise NotFoundPage()
    return notice_redirect(f"/project/{project_id}/queues", "queue-deleted")


@router.post("/project/{project_id}/queues/{queue_id}/reviewers")
async def change_reviewers(request: Request, project_id: str, queue_id: str) -> Response:
    """Assign (``add``) or unassign (``remove``) a member as a reviewer of the queue."""
    _access, form = await managed_form(request, project_id)
    engine = request.app.state.engine
    try:
        if form.get("remove"):
            w.unassign_reviewer(engine, project_id, queue_id, str(form["remove"]))
        else:
            w.assign_reviewer(engine, project_id, queue_id, str(form.get("user_id", "")))
    except NotFoundError:
        raise NotFoundPage() from None
    except InvalidInputError:
        pass  # nobody picked: nothing to change
    return notice_redirect(queue_path(project_id, queue_id), "reviewers-saved")
