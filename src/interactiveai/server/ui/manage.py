"""Shared by the pages that change things: who may change a project, form posts, flash notices.

Project OWNER and ADMIN members (``memberships.role``) and instance admins may change settings,
delete traces and edit datasets; every other member sees the same pages read-only (never a
secret). A change refused for the role answers 403 with a message page; a project the user
cannot see answers 404 (``project_access``), so ids never leak.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from interactiveai.server.storage.schema import memberships
from interactiveai.server.ui.auth import CSRF_FIELD, Access, check_csrf, project_access
from interactiveai.server.ui.pages import render

MANAGER_ROLES = ("OWNER", "ADMIN")
ANNOTATOR_ROLES = ("OWNER", "ADMIN", "MEMBER")  # may add annotation scores; VIEWER may not

# Flash notices travel as a code in the redirect's query string; the text is ours, never the URL's.
NOTICES = {
    "trace-deleted": "The trace was deleted, with its observations and scores.",
    "traces-deleted": "{n} trace(s) deleted, with their observations and scores.",
    "nothing-deleted": "Nothing was deleted: no trace was selected, or they were already gone.",
    "key-revoked": "The API key was revoked. Requests with it are refused from now on.",
    "model-created": "The model price was saved. New observations of matching models use it.",
    "model-deleted": "The model price was deleted.",
    "config-created": "The score config was created.",
    "config-archived": "The score config was archived.",
    "config-restored": "The score config was restored.",
    "retention-saved": "Data retention was saved.",
    "name-saved": "The project name was saved.",
    "item-added": "Added to the dataset {d}.",
    "dataset-created": "The dataset was created.",
    "dataset-deleted": "The dataset was deleted.",
    "dataset-item-created": "The item {d} was added.",
    "dataset-item-saved": "The item was saved as a new version.",
    "dataset-item-archived": "The item was archived: experiments skip it until it is restored.",
    "dataset-item-restored": "The item is active again.",
    "dataset-item-deleted": "The item {d} was deleted, with its run results.",
    "score-added": "The score was saved.",
    "member-added": "{d} was added to the project.",
    "role-changed": "The member's role was changed.",
    "member-removed": "The member was removed from the project. Their account remains.",
    "password-changed": "Your password was changed. Your other sessions were signed out.",
    "queue-created": "The review queue was created. Add traces to it from the trace list or a trace's page.",
    "queue-deleted": "The review queue was deleted. The scores given in it stay.",
    "reviewers-saved": "The queue's reviewers were saved.",
    "item-completed": "Saved. Here is the next item.",
    "queued": "Added to the review queue.",
    "dataset-imported": "{n} item(s) imported.",
    "traces-to-dataset": "{n} trace(s) added to the dataset as items (input, and output as the expected output).",
    "traces-queued": "{n} trace(s) added to the review queue (those already in it were left as they were).",
}


class Forbidden(Exception):
    """A read-only member tried to change something."""


def project_role(request: Request, access: Access) -> str | None:
    """The user's role in the project (None for an admin who is not a member)."""
    query = select(memberships.c.role).where(
        memberships.c.user_id == access.user.id, memberships.c.project_id == access.project.id
    )
    with request.app.state.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else str(row[0]).upper()


def can_manage(request: Request, access: Access) -> bool:
    cached: bool | None = getattr(request.state, "ui_can_manage", None)
    if cached is None:
        cached = access.user.is_admin or project_role(request, access) in MANAGER_ROLES
        request.state.ui_can_manage = cached
    return cached


def can_annotate(request: Request, access: Access) -> bool:
    return access.user.is_admin or project_role(request, access) in ANNOTATOR_ROLES


async def managed_form(request: Request, project_id: str, *, annotate: bool = False) -> tuple[Access, dict[str, Any]]:
    """The POSTed form of a change: project visible (else 404), CSRF valid (else 403), role allowed (else 403).

    ``annotate``: the change is an annotation, which MEMBERs may make too (``ANNOTATOR_ROLES``).
    """
    access = project_access(request, project_id)
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_csrf(request, token if isinstance(token, str) else None)
    if not (can_annotate(request, access) if annotate else can_manage(request, access)):
        raise Forbidden()
    values: dict[str, Any] = {}
    for key in form:
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    return access, values


def form_list(values: dict[str, Any], key: str) -> list[str]:
    raw = values.get(key, [])
    return [v for v in (raw if isinstance(raw, list) else [raw]) if v]


def redirect_with_notice(path: str, code: str, **params: str | int) -> Response:
    query = urlencode({"notice": code, **{k: str(v) for k, v in params.items()}})
    return RedirectResponse(f"{path}?{query}", status_code=303)


def notice_from(request: Request) -> str | None:
    """The flash notice named by ``?notice=`` (with its small, length-capped parameters)."""
    template = NOTICES.get(request.query_params.get("notice", ""))
    if template is None:
        return None
    count = request.query_params.get("n", "")
    return template.format(n=count if count.isdigit() else "?", d=request.query_params.get("d", "")[:200])


def forbidden_page(request: Request) -> Response:
    return render(
        request,
        "message.html",
        {
            "title": "Read-only access",
            "message": "Only the project's owners and admins can change this. Ask one of them.",
        },
        status_code=403,
    )
