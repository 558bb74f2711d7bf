"""Comments on a trace and its observations, in the trace page: read with the page (one query,
grouped here by object), added and deleted through its forms.

Owners, admins and members comment (``manage.ANNOTATOR_ROLES``); viewers read. Authors delete their
own comments; owners and admins delete any, so that one written through the API (no author) or by
someone who has left can be removed. Comment text is plain text: the page escapes it and keeps its
line breaks. What a comment may hold (non-empty, at most ``MAX_COMMENT`` characters, storable text)
is the REST API's rule, checked by the same write (``writes.review.create_comment``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import exists, select

from interactiveai.server.query.review import MAX_TRACE_COMMENTS, Comment, comments_on, get_comment, trace_comments
from interactiveai.server.query.ui_trace_detail import get_trace_header
from interactiveai.server.storage.schema import observations, observations_of_trace
from interactiveai.server.ui.auth import Access, NotFoundPage
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.manage import Forbidden, can_annotate, can_manage, managed_form
from interactiveai.server.ui.pages import render
from interactiveai.server.writes.datasets import NotFoundError
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.review import (
    MAX_COMMENT,
    MAX_OBJECT_ID,
    create_comment,
    delete_comment,
    remove_comment,
)

router = APIRouter(include_in_schema=False)


def author_label(comment: Comment) -> str:
    """Who wrote it: the user's email, the id an API caller declared, or "API"."""
    return comment.author_email or comment.author_user_id or "API"


def _comment_json(comment: Comment, user_id: str, annotate: bool, manage: bool) -> dict[str, Any]:
    return {
        "id": comment.id,
        "objectType": comment.object_type,
        "objectId": comment.object_id,
        "content": comment.content,
        "author": author_label(comment),
        "authorUserId": comment.author_user_id,
        "createdAt": iso_time(comment.created_at_us),
        "mine": comment.author_user_id == user_id,
        "canDelete": annotate and (manage or comment.author_user_id == user_id),
    }


def trace_comments_data(request: Request, access: Access, trace_id: str, observation_ids: list[str]) -> dict[str, Any]:
    """The trace page's comments: the trace's, and each of these observations' by id (oldest first),
    with what the user may do. At most ``MAX_TRACE_COMMENTS`` are read (``truncated`` says so)."""
    pid = access.project.id
    engine = request.app.state.engine
    found = trace_comments(engine, pid, trace_id, observation_ids, limit=MAX_TRACE_COMMENTS + 1)
    annotate = can_annotate(request, access)
    manage = can_manage(request, access)
    on_trace: list[dict[str, Any]] = []
    on_observations: dict[str, list[dict[str, Any]]] = {}
    for comment in found[:MAX_TRACE_COMMENTS]:
        item = _comment_json(comment, access.user.id, annotate, manage)
        if comment.object_type == "TRACE":
            on_trace.append(item)
        else:
            on_observations.setdefault(comment.object_id, []).append(item)
    base = f"/project/{pid}/traces/{quote(trace_id, safe='')}/comments"
    return {
        "trace": on_trace,
        "observations": on_observations,
        "truncated": len(found) > MAX_TRACE_COMMENTS,
        "canComment": annotate,
        "maxLength": MAX_COMMENT,
        "addUrl": base,
        "deleteUrl": base + "/",  # + comment id + "/delete"
    }


def session_comments_data(request: Request, access: Access, session_id: str, trace_ids: list[str]) -> dict[str, Any]:
    """The session page's comments, read-only: the session's, and each shown trace's by id (one query)."""
    objects = {"SESSION": [session_id], "TRACE": trace_ids}
    found = comments_on(request.app.state.engine, access.project.id, objects, limit=MAX_TRACE_COMMENTS + 1)
    on_session: list[dict[str, Any]] = []
    on_traces: dict[str, list[dict[str, Any]]] = {}
    for comment in found[:MAX_TRACE_COMMENTS]:
        item = _comment_json(comment, access.user.id, False, False)
        if comment.object_type == "SESSION":
            on_session.append(item)
        else:
            on_traces.setdefault(comment.object_id, []).append(item)
    return {"session": on_session, "traces": on_traces, "truncated": len(found) > MAX_TRACE_COMMENTS}


def review_comments(request: Request, access: Access, object_type: str, object_id: str) -> list[dict[str, Any]]:
    """What a reviewer reads with a queue item: a trace's comments with its observations', else the
    object's (read-only, oldest first)."""
    engine, pid = request.app.state.engine, access.project.id
    if object_type == "TRACE":
        found = trace_comments(engine, pid, object_id)
    else:
        found = comments_on(engine, pid, {object_type: [object_id]})
    return [_comment_json(comment, access.user.id, False, False) for comment in found]


def _in_trace(request: Request, project_id: str, trace_id: str, observation_id: str) -> bool:
    """The observation is one of this trace's (a primary-key probe)."""
    query = select(exists().where(observations_of_trace(project_id, trace_id), observations.c.id == observation_id))
    with request.app.state.engine.connect() as conn:
        return bool(conn.execute(query).scalar())


def _back(project_id: str, trace_id: str, observation_id: str | None) -> Response:
    """The trace page, on the commented object's comments."""
    path = f"/project/{project_id}/traces/{quote(trace_id, safe='')}"
    if observation_id:
        return RedirectResponse(f"{path}?observation={quote(observation_id, safe='')}#comments", status_code=303)
    return RedirectResponse(f"{path}#trace-comments", status_code=303)


def _not_saved(request: Request, access: Access, message: str) -> Response:
    context = {"access": access, "section": "traces", "title": "Comment not saved", "message": message}
    return render(request, "message.html", context, status_code=400)


@router.post("/project/{project_id}/traces/{trace_id}/comments")
async def add_comment(request: Request, project_id: str, trace_id: str) -> Response:
    """A comment on the trace, or on one of its observations (``observation_id``)."""
    access, form = await managed_form(request, project_id, annotate=True)
    engine = request.app.state.engine
    if get_trace_header(engine, project_id, trace_id) is None:
        raise NotFoundPage()
    observation_id = str(form.get("observation_id", "")).strip()[: MAX_OBJECT_ID + 1] or None
    if observation_id is not None and not _in_trace(request, project_id, trace_id, observation_id):
        raise NotFoundPage()
    body = {
        "objectType": "OBSERVATION" if observation_id else "TRACE",
        "objectId": observation_id or trace_id,
        # a textarea sends its line breaks as CRLF, which its maxlength counts once: store them as LF
        "content": str(form.get("content", "")).replace("\r\n", "\n"),
    }
    try:
        create_comment(engine, project_id, body, author_user_id=access.user.id)
    except InvalidInputError as exc:
        return _not_saved(request, access, f"The comment's {exc}.")  # e.g. "content must be a non-empty string"
    except NotFoundError:  # deleted meanwhile
        raise NotFoundPage() from None
    return _back(project_id, trace_id, observation_id)


@router.post("/project/{project_id}/traces/{trace_id}/comments/{comment_id}/delete")
async def remove(request: Request, project_id: str, trace_id: str, comment_id: str) -> Response:
    """Delete a comment of this trace or of one of its observations: the author's own, or any for
    owners and admins."""
    access, _form = await managed_form(request, project_id, annotate=True)
    engine = request.app.state.engine
    comment = get_comment(engine, project_id, comment_id[:64])
    if comment is None:
        raise NotFoundPage()
    on_trace = comment.object_type == "TRACE" and comment.object_id == trace_id
    on_observation = comment.object_type == "OBSERVATION" and _in_trace(
        request, project_id, trace_id, comment.object_id
    )
    if not (on_trace or on_observation):
        raise NotFoundPage()
    if comment.author_user_id == access.user.id:
        delete_comment(engine, project_id, comment.id, author_user_id=access.user.id)
    elif can_manage(request, access):
        remove_comment(engine, project_id, comment.id)
    else:
        raise Forbidden()
    return _back(project_id, trace_id, comment.object_id if on_observation else None)
