"""Changing traces from the UI: delete one, the selected ones, or all matching the list's filters;
add a trace (or one of its observations) to a dataset. Owners/admins only (``manage``).

Deletion is real (``retention.delete_traces``): observations, scores and tag rows go too, in short
batches. "Delete all matching" first shows how many traces match, and deletes at most
``MAX_DELETE_MATCHING`` per confirmation (newest first) so one click never runs unbounded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from interactiveai.server.json_values import bound_key, bound_tag
from interactiveai.server.query.datasets import list_dataset_items, list_datasets
from interactiveai.server.query.ui_trace_detail import get_trace_header
from interactiveai.server.query.ui_traces import count_matching, matching_ids
from interactiveai.server.retention import delete_traces
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import ListState, parse_list_state
from interactiveai.server.ui.manage import (
    can_annotate,
    can_manage,
    form_list,
    managed_form,
    notice_from,
    redirect_with_notice,
)
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_review import queue_choices
from interactiveai.server.writes.datasets import NotFoundError, create_item_from_trace, upsert_dataset
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)
MAX_DELETE_MATCHING = 10_000  # traces per confirmation; larger clean-ups: repeat, or set a retention
MAX_SELECTED = 1_000
_LIST_KEYS_DROPPED = ("cursor", "notice", "n", "d")


def list_state(params: QueryParams) -> ListState:
    """The trace list's filters and sort (``ui.filters.parse_list_state``), with the names, ids and
    tags bounded as ingestion stores them (``json_values``): a long one still finds its traces."""
    state = parse_list_state(params)
    filt = state.filter
    filt.names = list(dict.fromkeys(map(bound_key, filt.names)))
    filt.user_ids = list(dict.fromkeys(map(bound_key, filt.user_ids)))
    filt.session_ids = list(dict.fromkeys(map(bound_key, filt.session_ids)))
    filt.tags = list(dict.fromkeys(map(bound_tag, filt.tags)))
    filt.releases = list(dict.fromkeys(map(bound_key, filt.releases)))
    filt.models = list(dict.fromkeys(map(bound_key, filt.models)))
    if filt.score is not None:
        filt.score.name = bound_key(filt.score.name)
    return state


def _list_query(raw: str) -> str:
    """The list's filter query string without paging and notice parameters."""
    params = [(k, v) for k, v in QueryParams(raw[:8000]).multi_items() if k not in _LIST_KEYS_DROPPED]
    return str(QueryParams(params))


def trace_page_extras(request: Request, access: Access, trace_id: str) -> dict[str, Any]:
    """What the trace page adds for these actions: role, the project's datasets, this trace's items."""
    engine = request.app.state.engine
    pid = access.project.id
    items = list_dataset_items(engine, pid, source_trace_id=trace_id, limit=100).items
    in_datasets = sorted({(i.dataset_name, i.dataset_id) for i in items})
    manage = can_manage(request, access)
    datasets = [d.name for d in list_datasets(engine, pid, limit=200).items] if manage else []
    return {
        "can_manage": manage,
        "dataset_names": datasets,
        "in_datasets": [{"name": n, "id": i} for n, i in in_datasets],
        "queue_choices": queue_choices(request, pid) if can_annotate(request, access) else [],
        "notice": notice_from(request),
    }


@router.post("/project/{project_id}/traces/{trace_id}/delete")
async def delete_one(request: Request, project_id: str, trace_id: str) -> Response:
    await managed_form(request, project_id)
    if delete_traces(request.app.state.engine, project_id, [trace_id]) == 0:
        raise NotFoundPage()
    return redirect_with_notice(f"/project/{project_id}/traces", "trace-deleted")


@router.post("/project/{project_id}/traces/delete-selected")
async def delete_selected(request: Request, project_id: str) -> Response:
    _access, form = await managed_form(request, project_id)
    ids = [i[:64] for i in form_list(form, "trace_id")][:MAX_SELECTED]
    deleted = delete_traces(request.app.state.engine, project_id, ids) if ids else 0
    code = "traces-deleted" if deleted else "nothing-deleted"
    return _back_to_list(project_id, _list_query(str(form.get("list_query", ""))), code, deleted)


def _back_to_list(project_id: str, query: str, code: str, count: int) -> Response:
    """The list with its filters, and the notice."""
    notice = urlencode({"notice": code, "n": count})
    return RedirectResponse(f"/project/{project_id}/traces?{query + '&' if query else ''}{notice}", status_code=303)


def _matching(request: Request, project_id: str, raw_query: str) -> tuple[Any, int, str]:
    query = _list_query(raw_query)
    if "\x00" in unquote(query):
        # the list's own answer to such a query (pages.SecurityHeadersMiddleware); never dropped,
        # which would widen what "delete all matching" deletes
        raise NotFoundPage()
    state = list_state(QueryParams(query))
    count = count_matching(request.app.state.engine, project_id, state.filter, MAX_DELETE_MATCHING)
    return state, count, query


@router.get("/project/{project_id}/traces/delete-matching")
def confirm_matching(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    state, count, query = _matching(request, project_id, request.url.query)
    return render(
        request,
        "delete_matching.html",
        {
            "access": access,
            "section": "traces",
            "state": state,
            "count": count,
            "capped": count > MAX_DELETE_MATCHING,
            "cap": MAX_DELETE_MATCHING,
            "list_query": query,
            "can_manage": can_manage(request, access),
        },
    )


@router.get("/project/{project_id}/traces/delete-matching.json")
def confirm_matching_json(request: Request, project_id: str) -> Response:
    project_access(request, project_id)
    state, count, _query = _matching(request, project_id, request.url.query)
    capped = count > MAX_DELETE_MATCHING
    body = {"matching": min(count, MAX_DELETE_MATCHING), "moreThan": capped, "cap": MAX_DELETE_MATCHING}
    return json_response(request, {**body, "errors": state.errors})


@router.post("/project/{project_id}/traces/delete-matching")
async def delete_matching(request: Request, project_id: str) -> Response:
    _access, form = await managed_form(request, project_id)
    state, _count, query = _matching(request, project_id, str(form.get("list_query", "")))
    engine = request.app.state.engine
    ids = matching_ids(engine, project_id, state.filter, MAX_DELETE_MATCHING)
    deleted = delete_traces(engine, project_id, ids)  # in batches of retention.DELETE_BATCH
    return _back_to_list(project_id, query, "traces-deleted" if deleted else "nothing-deleted", deleted)


@router.post("/project/{project_id}/traces/{trace_id}/add-to-dataset")
async def add_to_dataset(request: Request, project_id: str, trace_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    engine = request.app.state.engine
    if get_trace_header(engine, project_id, trace_id) is None:
        raise NotFoundPage()
    name = str(form.get("new_dataset", "")).strip() or str(form.get("dataset", "")).strip()
    observation_id = str(form.get("observation_id", "")).strip() or None
    page = f"/project/{project_id}/traces/{trace_id}"
    try:
        if not name:
            raise InvalidInputError("Choose a dataset or type the name of a new one.")
        if str(form.get("new_dataset", "")).strip():
            upsert_dataset(engine, project_id, {"name": name})
        create_item_from_trace(engine, project_id, name, trace_id, observation_id)
    except (InvalidInputError, NotFoundError) as exc:
        return render(
            request,
            "message.html",
            {"access": access, "section": "traces", "title": "Not added to a dataset", "message": str(exc)},
            status_code=400,
        )
    params: dict[str, str | int] = {"d": name}
    if observation_id:
        params["observation"] = observation_id
    return redirect_with_notice(page, "item-added", **params)
