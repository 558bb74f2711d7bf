"""Reviewing a queue, one item at a time: the object (a trace, an observation or a session) with its
input and output, the queue's score configs to fill in, a comment; "Complete" saves and moves on,
"Skip" moves on. Keyboard-first (``static/review.js``). Also adding to a queue: one trace or
observation from its page, the selected traces or all traces matching the list's filters.

Scores a reviewer gives are ANNOTATION scores authored by them, with ids derived from the queue,
item and config, so completing an item again corrects its scores instead of adding more.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from interactiveai.server.query.observations import get_observation
from interactiveai.server.query.review import (
    AnnotationQueue,
    QueueItem,
    get_queue,
    get_queue_item,
    next_pending_item,
)
from interactiveai.server.query.scores import scores_for_session, scores_for_trace
from interactiveai.server.query.sessions import get_session
from interactiveai.server.query.traces import get_trace
from interactiveai.server.query.ui_traces import matching_ids
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.manage import can_annotate, form_list, managed_form, notice_from
from interactiveai.server.ui.pages import render
from interactiveai.server.ui.views_comments import review_comments
from interactiveai.server.ui.views_review import object_path, queue_configs, queue_path
from interactiveai.server.ui.views_scores import _form_value as form_value
from interactiveai.server.ui.views_trace_actions import MAX_SELECTED, _back_to_list, _list_query, list_state
from interactiveai.server.writes import review as w
from interactiveai.server.writes.datasets import NotFoundError
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.scores import upsert_scores

router = APIRouter(include_in_schema=False)
PAYLOAD_CHARS = 20_000  # of each input/output shown; the full value is one click away
SESSION_TRACES = 20
SCORE_IDS = uuid.UUID("5b0c7d1e-2a43-4f6e-9d8c-1e2f3a4b5c6d")  # namespace of review score ids


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= PAYLOAD_CHARS else text[:PAYLOAD_CHARS] + "\n… (cut here; open it to see all)"


def _score_rows(scores: list[Any]) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "value": s.string_value if s.string_value is not None else s.value, "source": s.source}
        for s in scores
    ]


def review_subject(request: Request, project_id: str, item: QueueItem) -> dict[str, Any] | None:
    """What the reviewer looks at; None when the object was deleted (or expired) since it was queued."""
    engine = request.app.state.engine
    if item.object_type == "TRACE":
        trace = get_trace(engine, project_id, item.object_id)
        if trace is None:
            return None
        return {
            "title": trace.name or trace.id,
            "facts": [("Time", iso_time(trace.timestamp_us)), ("User", trace.user_id), ("Session", trace.session_id)],
            "tags": trace.tags,
            "level": trace.level,
            "parts": [("Input", _shown(trace.input)), ("Output", _shown(trace.output))],
            "scores": _score_rows(scores_for_trace(engine, project_id, trace.id)),
            "path": object_path(project_id, "TRACE", trace.id),
            "trace_id": trace.id,
            "environment": trace.environment,
        }
    if item.object_type == "OBSERVATION":
        obs = get_observation(engine, project_id, item.object_id)
        if obs is None:
            return None
        facts = [("Type", obs.type), ("Time", iso_time(obs.start_time_us)), ("Model", obs.model)]
        return {
            "title": obs.name or obs.id,
            "facts": facts,
            "tags": [],
            "level": obs.level,
            "parts": [("Input", _shown(obs.input)), ("Output", _shown(obs.output))],
            "scores": _score_rows(
                [s for s in scores_for_trace(engine, project_id, obs.trace_id) if s.observation_id == obs.id]
            ),
            "path": object_path(project_id, "OBSERVATION", obs.id, obs.trace_id),
            "trace_id": obs.trace_id,
            "environment": obs.environment,
        }
    session = get_session(engine, project_id, item.object_id)
    if session is None:
        return None
    turns = [
        (f"{t.name or t.id} · {iso_time(t.timestamp_us)}", _shown({"input": t.input, "output": t.output}))
        for t in session.traces[:SESSION_TRACES]
    ]
    return {
        "title": f"Session {session.session.id}",
        "facts": [("Traces", str(session.session.trace_count)), ("Users", ", ".join(session.session.user_ids))],
        "tags": [],
        "level": None,
        "parts": turns,
        "scores": _score_rows(scores_for_session(engine, project_id, session.session.id)),
        "path": object_path(project_id, "SESSION", session.session.id),
        "trace_id": None,
        "environment": session.session.environment,
    }


def _queue_or_404(request: Request, access: Access, queue_id: str) -> AnnotationQueue:
    queue = get_queue(request.app.state.engine, access.project.id, queue_id)
    if queue is None:
        raise NotFoundPage()
    return queue


@router.get("/project/{project_id}/queues/{queue_id}/review")
def review_page(request: Request, project_id: str, queue_id: str) -> Response:
    """The item named by ``?item=``, else the next pending one (after ``?after=``: skipping)."""
    access = project_access(request, project_id)
    queue = _queue_or_404(request, access, queue_id)
    engine = request.app.state.engine
    params = request.query_params
    if params.get("item"):
        item = get_queue_item(engine, project_id, queue_id, params["item"][:64])
        if item is None:
            raise NotFoundPage()
    else:
        after = get_queue_item(engine, project_id, queue_id, params["after"][:64]) if params.get("after") else None
        item = next_pending_item(engine, project_id, queue_id, after=after)
    subject, comments = None, []
    if item is not None:
        subject = review_subject(request, project_id, item)
        comments = review_comments(request, access, item.object_type, item.object_id)
    return render(
        request,
        "queue_review.html",
        {
            "access": access,
            "section": "queues",
            "queue": queue,
            "base": queue_path(project_id, queue_id),
            "item": item,
            "subject": subject,
            "comments": comments,
            "configs": queue_configs(request, project_id, queue),
            "done": queue.completed,
            "total": queue.pending + queue.completed,
            "can_annotate": can_annotate(request, access),
            "notice": notice_from(request),
        },
    )


def _scores_from_form(
    form: dict[str, Any], configs: list[Any], queue: AnnotationQueue, item: QueueItem, subject: dict[str, Any]
) -> list[dict[str, Any]]:
    target: dict[str, Any] = {"TRACE": {"traceId": item.object_id}, "SESSION": {"sessionId": item.object_id}}.get(
        item.object_type, {"traceId": subject["trace_id"], "observationId": item.object_id}
    )
    scores = []
    for config in configs:
        raw = str(form.get(f"score_{config.id}", "")).strip()
        if not raw:
            continue
        try:
            value = form_value(raw, config.data_type)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{config.name}: {exc}") from None
        score_id = uuid.uuid5(SCORE_IDS, f"{queue.id}/{item.id}/{config.id}").hex
        scores.append(
            {
                "id": score_id,
                "configId": config.id,
                "value": value,
                "source": "ANNOTATION",
                "environment": subject["environment"],
                **target,
            }
        )
    return scores


@router.post("/project/{project_id}/queues/{queue_id}/items/{item_id}/complete")
async def complete_item(request: Request, project_id: str, queue_id: str, item_id: str) -> Response:
    access, form = await managed_form(request, project_id, annotate=True)
    engine = request.app.state.engine
    queue = _queue_or_404(request, access, queue_id)
    item = get_queue_item(engine, project_id, queue_id, item_id[:64])
    if item is None:
        raise NotFoundPage()
    subject = review_subject(request, project_id, item)
    try:
        if subject is not None:
            scores = _scores_from_form(form, queue_configs(request, project_id, queue), queue, item, subject)
            if scores:
                upsert_scores(engine, project_id, scores, author_user_id=access.user.id)
            comment = str(form.get("comment", "")).strip()
            if comment:
                body = {"objectType": item.object_type, "objectId": item.object_id, "content": comment}
                w.create_comment(engine, project_id, body, author_user_id=access.user.id)
    except (InvalidInputError, NotFoundError) as exc:
        return render(
            request,
            "message.html",
            {"access": access, "section": "queues", "title": "Not saved", "message": str(exc)},
            status_code=400,
        )
    w.update_queue_item(engine, project_id, queue_id, item.id, {"status": "COMPLETED"}, user_id=access.user.id)
    query = urlencode({"after": item.id, "notice": "item-completed"})
    return RedirectResponse(f"{queue_path(project_id, queue_id)}/review?{query}", status_code=303)


@router.post("/project/{project_id}/queues/{queue_id}/items/{item_id}/reopen")
async def reopen_item(request: Request, project_id: str, queue_id: str, item_id: str) -> Response:
    await managed_form(request, project_id, annotate=True)
    item = w.update_queue_item(
        request.app.state.engine, project_id, queue_id, item_id[:64], {"status": "PENDING"}, user_id=None
    )
    if item is None:
        raise NotFoundPage()
    return RedirectResponse(f"{queue_path(project_id, queue_id)}/review?item={item.id}", status_code=303)


# --- adding to a queue ----------------------------------------------------------------------------


@router.post("/project/{project_id}/queues/add")
async def add_object(request: Request, project_id: str) -> Response:
    """One trace or observation, from its page; back to the page with a notice."""
    _access, form = await managed_form(request, project_id, annotate=True)
    queue_id = str(form.get("queue_id", ""))[:64]
    body = {"objectType": str(form.get("object_type", "TRACE")), "objectId": str(form.get("object_id", ""))}
    try:
        item = w.create_queue_item(request.app.state.engine, project_id, queue_id, body)
    except (NotFoundError, InvalidInputError):
        raise NotFoundPage() from None
    back = str(form.get("back", ""))
    if not back.startswith(f"/project/{project_id}/"):
        back = queue_path(project_id, queue_id)
    path, _, query = back.partition("?")
    extra = {"notice": "queued", "d": item.queue_id}
    return RedirectResponse(f"{path}?{query + '&' if query else ''}{urlencode(extra)}", status_code=303)


@router.post("/project/{project_id}/queues/add-traces")
async def add_traces(request: Request, project_id: str) -> Response:
    """The traces selected in the list (``trace_id``), or all matching its filters (``matching``)."""
    _access, form = await managed_form(request, project_id, annotate=True)
    engine = request.app.state.engine
    queue_id = str(form.get("queue_id", ""))[:64]
    query = _list_query(str(form.get("list_query", "")))
    if form.get("matching"):
        ids = matching_ids(engine, project_id, list_state(QueryParams(query)).filter, w.MAX_ITEMS_PER_CALL)
    else:
        ids = [i[:64] for i in form_list(form, "trace_id")][:MAX_SELECTED]
    try:
        added = w.add_queue_objects(engine, project_id, queue_id, "TRACE", ids)
    except NotFoundError:
        raise NotFoundPage() from None
    return _back_to_list(project_id, query, "traces-queued", added)
