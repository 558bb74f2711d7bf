"""The Evaluators page (LLM-as-a-judge): the project's evaluators, its model connections and the
latest evaluations of all evaluators, with its JSON twin; and what the evaluator pages share.

Every member reads these pages; owners, admins and members change evaluators and connections
(``manage.ANNOTATOR_ROLES``), viewers only read. Changes go through ``evals/store.py``, the same
functions (and rules) as the REST API. One evaluator's page is ``views_evaluator_page``, the forms
are ``views_evaluator_form`` and ``views_evaluator_connections``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import RowMapping, select

from interactiveai.server.evals import store
from interactiveai.server.evals.jobs import EVAL_ENVIRONMENT
from interactiveai.server.evals.models import JOB_STATUSES
from interactiveai.server.query.records import score_from_row
from interactiveai.server.storage.schema import memberships, scores
from interactiveai.server.ui.auth import Access, ProjectRef, project_access
from interactiveai.server.ui.filters import page_number
from interactiveai.server.ui.manage import ANNOTATOR_ROLES, can_annotate, managed_form
from interactiveai.server.ui.pages import json_response, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_LISTED = 100  # evaluators and connections a page lists (and offers in a form's menu)

# Flash notices of these pages: a code in the redirect's query string, the text is ours.
NOTICES = {
    "connection-created": "The model connection was saved. Its API key is stored encrypted and never shown again.",
    "connection-saved": "The model connection was saved.",
    "connection-deleted": "The model connection was deleted.",
    "evaluator-created": "The evaluator was created. It judges traces created from now on.",
    "evaluator-saved": "The evaluator was saved.",
    "evaluator-paused": "The evaluator is paused: traces created until it is resumed are not evaluated.",
    "evaluator-resumed": "The evaluator is running again, from the traces created now on.",
    "evaluator-deleted": "The evaluator was deleted with its evaluations. The scores it wrote stay.",
}


def evaluators_path(project_id: str) -> str:
    return f"/project/{project_id}/evaluators"


def evaluator_path(project_id: str, evaluator_id: str) -> str:
    return f"{evaluators_path(project_id)}/{quote(evaluator_id, safe='')}"


def connection_path(project_id: str, connection_id: str) -> str:
    return f"/project/{project_id}/llm-connections/{quote(connection_id, safe='')}"


def can_edit(request: Request, access: Access) -> bool:
    """Owners, admins and members change evaluators and connections; viewers read them."""
    return can_annotate(request, access)


def writable_projects(request: Request, access: Access) -> list[ProjectRef]:
    """The user's other projects where the judge's calls may be traced: those where they may write
    (owner, admin, member; every project for an instance admin), never those they only view."""
    others = [ref for ref in access.projects if ref.id != access.project.id]
    if access.user.is_admin:
        return others
    query = select(memberships.c.project_id, memberships.c.role).where(memberships.c.user_id == access.user.id)
    with request.app.state.engine.connect() as conn:
        allowed = {str(pid) for pid, role in conn.execute(query) if str(role).upper() in ANNOTATOR_ROLES}
    return [ref for ref in others if ref.id in allowed]


def judge_traces_url(project_id: str) -> str:
    """The trace list of a project showing the judge's traced calls only."""
    return f"/project/{quote(project_id, safe='')}/traces?{urlencode({'env': EVAL_ENVIRONMENT})}"


async def edit_form(request: Request, project_id: str) -> tuple[Access, dict[str, Any]]:
    """A POSTed change: project visible (else 404), CSRF valid and role allowed (else 403)."""
    return await managed_form(request, project_id, annotate=True)


def first_values(form: dict[str, Any], lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The form with one value per field (a field sent twice keeps its first), except ``lists``."""
    return {k: v[0] if isinstance(v, list) and v and k not in lists else v for k, v in form.items()}


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def with_notice(path: str, code: str) -> Response:
    return RedirectResponse(f"{path}?{urlencode({'notice': code})}", status_code=303)


def json_text(value: Any, *, indent: bool = False) -> str:
    """``value`` as JSON text; a stored value no writer can write (too deep) as a marker."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0).decode()
    except (orjson.JSONEncodeError, TypeError):
        return "(unreadable stored value)"


def describe_filter(conditions: Any) -> str:
    """A filter as one line of text ("name any of qa; metadata.tier = gold"); any stored shape reads."""
    if not conditions:
        return "every trace"
    parts = []
    for condition in conditions if isinstance(conditions, list) else [conditions]:
        if not isinstance(condition, dict):
            parts.append(json_text(condition))
            continue
        column = str(condition.get("column", "?")) + (f".{condition['key']}" if condition.get("key") else "")
        value = condition.get("value")
        shown = value if isinstance(value, str) else "" if value is None else json_text(value)
        parts.append(f"{column} {condition.get('operator', '?')} {shown}".strip())
    return "; ".join(parts)


def job_state(job: dict[str, Any]) -> str:
    """The status as shown: a pending job that has been tried is waiting to be retried."""
    if job["status"] == "pending" and job["attempts"] > 0:
        return "retrying"
    return str(job["status"])


def job_rows(
    request: Request, project_id: str, rows: Iterable[RowMapping], names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Jobs as the pages show them: the API's JSON, the shown state, and the score each wrote."""
    jobs = [store.job_json(row) for row in rows]
    ids = [job["scoreId"] for job in jobs if job["scoreId"]]
    written: dict[str, dict[str, Any]] = {}
    if ids:
        query = select(scores).where(scores.c.project_id == project_id, scores.c.id.in_(ids))
        with request.app.state.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                score = score_from_row(row)
                written[score.id] = {
                    "id": score.id,
                    "name": score.name,
                    "dataType": score.data_type,
                    "value": score.value,
                    "stringValue": score.string_value,
                    "comment": score.comment,
                }
    return [
        {
            **job,
            "state": job_state(job),
            "evaluatorName": (names or {}).get(job["evaluatorId"]),
            "score": written.get(job["scoreId"] or ""),
        }
        for job in jobs
    ]


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
    listed = store.list_evaluators(engine, project_id, page=1, limit=MAX_LISTED)
    connections = store.list_connections(engine, project_id, page=1, limit=MAX_LISTED)
    jobs = store.list_jobs(engine, project_id, evaluator_id=evaluator_id, status=status, page=page, limit=PAGE_SIZE)
    names = {row["id"]: row["name"] for row in listed.items}
    return {
        "evaluators": [store.evaluator_json(row) for row in listed.items],
        "connections": [store.connection_json(row) for row in connections.items],
        "listed": {"evaluators": listed.total, "connections": connections.total, "limit": MAX_LISTED},
        "jobs": job_rows(request, project_id, jobs.items, names),
        "filter": {"status": status, "evaluator": evaluator_id},
        "meta": {
            "page": page,
            "limit": PAGE_SIZE,
            "totalItems": jobs.total,
            "totalPages": jobs.total_pages,
            "totalExact": jobs.total_exact,
        },
    }


@router.get("/project/{project_id}/evaluators.json")
def evaluators_json(request: Request, project_id: str) -> Response:
    return json_response(request, evaluators_data(request, project_access(request, project_id)))


@router.get("/project/{project_id}/evaluators")
def evaluators_page(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    data = evaluators_data(request, access)
    base = evaluators_path(project_id)
    kept = {k: v for k, v in data["filter"].items() if v}
    meta = data["meta"]

    def page_url(page: int) -> str:
        return base + "?" + urlencode({**kept, "page": page})

    used_by: dict[str, list[str]] = {}
    for evaluator in data["evaluators"]:
        used_by.setdefault(evaluator["connectionId"], []).append(evaluator["name"])
    return render(
        request,
        "evaluators.html",
        {
            "access": access,
            "section": "evaluators",
            "statuses": JOB_STATUSES,
            "base": base,
            "can_edit": can_edit(request, access),
            "notice": notice(request),
            "used_by": used_by,
            "describe_filter": describe_filter,
            "connection_names": {c["id"]: c for c in data["connections"]},
            "evaluator_path": lambda eid: evaluator_path(project_id, eid),
            "connection_path": lambda cid: connection_path(project_id, cid),
            "prev_url": page_url(meta["page"] - 1) if meta["page"] > 1 else None,
            "next_url": page_url(meta["page"] + 1) if meta["page"] < meta["totalPages"] else None,
            **data,
        },
    )


_FRIENDLY = {
    "baseUrl": "must be an http:// or https:// URL without spaces",
    "name": "must not be blank",
    "model": "must not be blank",
    "score.name": "must not be blank",
    "observationName": "must not be blank",
}


def validation_errors(exc: ValidationError) -> dict[str, str]:
    """The API model's refusals by field (``score.minValue``, ``variableMapping``, …), the first per field."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        field = ".".join(loc[:2]) if loc[:1] == ["score"] else (loc[0] if loc else "form")
        message = str(error["msg"])
        if error["type"] == "string_pattern_mismatch":
            message = _FRIENDLY.get(field, "contains a character that is not allowed")
        elif loc[:1] == ["variableMapping"] and len(loc) > 1:
            message = f"{{{{{loc[1]}}}}}: {message}"
        errors.setdefault(field, message)
    return errors
