"""Datasets: the list (item and run counts), one dataset (items with previews and source traces, runs),
create and delete; each page with its JSON twin built from the same calls."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from interactiveai.server.query.datasets import (
    Dataset,
    dataset_of_run,
    get_dataset_by_id,
    item_ids_by_dataset,
    list_dataset_items,
    list_dataset_runs,
    list_datasets,
    run_names_by_dataset,
)
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import page_number
from interactiveai.server.ui.formatting import iso_time, preview
from interactiveai.server.ui.manage import can_manage, managed_form, notice_from, redirect_with_notice
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_dataset_items import FIELDS, body_from_form
from interactiveai.server.ui.views_dataset_items import router as items_router
from interactiveai.server.ui.views_dataset_runs import router as runs_router
from interactiveai.server.ui.views_dataset_runs import run_summaries_json
from interactiveai.server.writes.datasets import NotFoundError, delete_dataset, upsert_dataset, upsert_dataset_item
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)
router.include_router(items_router)
router.include_router(runs_router)
PAGE_SIZE = 50


def _dataset_json(d: Dataset, project_id: str, items: int | None = None, runs: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": d.id,
        "name": d.name,
        "description": d.description,
        "metadata": d.metadata,
        "createdAt": iso_time(d.created_at_us),
        "updatedAt": iso_time(d.updated_at_us),
        "htmlPath": f"/project/{project_id}/datasets/{d.id}",
    }
    if items is not None:
        data["itemCount"] = items
        data["runCount"] = runs
    return data


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _preview(value: Any) -> str:
    if value is None:
        return ""
    return preview(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:4000])


def datasets_data(request: Request, access: Access) -> dict[str, Any]:
    engine = request.app.state.engine
    pid = access.project.id
    page_no = page_number(request.query_params.get("page"))
    page = list_datasets(engine, pid, page=page_no, limit=PAGE_SIZE)
    ids = [d.id for d in page.items]
    items = item_ids_by_dataset(engine, pid, ids)
    runs = run_names_by_dataset(engine, pid, ids)
    rows = [_dataset_json(d, pid, len(items[d.id]), len(runs[d.id])) for d in page.items]
    total = page.total or 0
    return {"data": rows, "meta": {"page": page_no, "limit": PAGE_SIZE, "totalItems": total}}


@router.get("/project/{project_id}/datasets.json")
def datasets_json(request: Request, project_id: str) -> Response:
    return json_response(request, datasets_data(request, project_access(request, project_id)))


def _list_page(request: Request, access: Access, *, status: int = 200, error: str | None = None) -> Response:
    data = datasets_data(request, access)
    meta = data["meta"]
    base = f"/project/{access.project.id}/datasets"
    return render(
        request,
        "datasets.html",
        {
            "access": access,
            "section": "datasets",
            "rows": data["data"],
            "base": base,
            "args": {"page": meta["page"]},
            "prev_url": f"{base}?page={meta['page'] - 1}" if meta["page"] > 1 else None,
            "next_url": f"{base}?page={meta['page'] + 1}" if meta["page"] * PAGE_SIZE < meta["totalItems"] else None,
            "total_text": _count(meta["totalItems"], "dataset"),
            "can_manage": can_manage(request, access),
            "notice": notice_from(request),
            "error": error,
        },
        status_code=status,
    )


@router.get("/project/{project_id}/datasets")
def datasets_page(request: Request, project_id: str) -> Response:
    return _list_page(request, project_access(request, project_id))


@router.post("/project/{project_id}/datasets")
async def create_dataset(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    name = str(form.get("name", "")).strip()
    description = str(form.get("description", "")).strip()
    try:
        if not name:
            raise InvalidInputError("The dataset needs a name.")
        body: dict[str, Any] = {"name": name}
        if description:
            body["description"] = description
        dataset = upsert_dataset(request.app.state.engine, project_id, body)
    except InvalidInputError as exc:
        return _list_page(request, access, status=400, error=str(exc))
    return redirect_with_notice(f"/project/{project_id}/datasets/{dataset.id}", "dataset-created")


def dataset_data(request: Request, access: Access, dataset_id: str) -> dict[str, Any]:
    engine = request.app.state.engine
    pid = access.project.id
    dataset = get_dataset_by_id(engine, pid, dataset_id)
    if dataset is None:
        raise NotFoundPage()
    page_no = page_number(request.query_params.get("page"))
    items = list_dataset_items(engine, pid, dataset_id=dataset.id, page=page_no, limit=PAGE_SIZE)
    runs = list_dataset_runs(engine, pid, dataset.id, limit=PAGE_SIZE)
    item_rows = []
    for item in items.items:
        source = None
        if item.source_trace_id:
            source = f"/project/{pid}/traces/{item.source_trace_id}"
            if item.source_observation_id:
                source += f"?observation={item.source_observation_id}"
        item_rows.append(
            {
                "id": item.id,
                "status": item.status,
                "input": item.input,
                "expectedOutput": item.expected_output,
                "inputPreview": _preview(item.input),
                "expectedOutputPreview": _preview(item.expected_output),
                "sourceTraceId": item.source_trace_id,
                "sourceObservationId": item.source_observation_id,
                "sourcePath": source,
                "createdAt": iso_time(item.created_at_us),
                "htmlPath": f"/project/{pid}/datasets/{quote(dataset.id, safe='')}/items/{quote(item.id, safe='')}",
            }
        )
    run_rows = run_summaries_json(request, pid, runs.items)
    return {
        "dataset": _dataset_json(dataset, pid, items.total or 0, runs.total or 0),
        "items": item_rows,
        "runs": run_rows,
        "meta": {"page": page_no, "limit": PAGE_SIZE, "totalItems": items.total or 0},
    }


@router.get("/project/{project_id}/datasets/{dataset_id}.json")
def dataset_json(request: Request, project_id: str, dataset_id: str) -> Response:
    return json_response(request, dataset_data(request, project_access(request, project_id), dataset_id))


@router.get("/project/{project_id}/datasets/{dataset_id}")
def dataset_page(request: Request, project_id: str, dataset_id: str) -> Response:
    return dataset_page_response(request, project_access(request, project_id), dataset_id)


def dataset_page_response(
    request: Request,
    access: Access,
    dataset_id: str,
    *,
    status: int = 200,
    item_error: str | None = None,
    item_form: dict[str, Any] | None = None,
    import_error: str | None = None,
) -> Response:
    """The dataset page; after a refused new item, with its error and the text as typed."""
    data = dataset_data(request, access, dataset_id)
    meta = data["meta"]
    base = f"/project/{access.project.id}/datasets/{dataset_id}"
    return render(
        request,
        "dataset.html",
        {
            "access": access,
            "section": "datasets",
            "data": data,
            "base": base,
            "args": {"page": meta["page"]},
            "prev_url": f"{base}?page={meta['page'] - 1}" if meta["page"] > 1 else None,
            "next_url": f"{base}?page={meta['page'] + 1}" if meta["page"] * PAGE_SIZE < meta["totalItems"] else None,
            "total_text": _count(meta["totalItems"], "item"),
            "can_manage": can_manage(request, access),
            "notice": notice_from(request),
            "item_error": item_error,
            "item_form": {f: str((item_form or {}).get(f, "")) for f in FIELDS},
            "import_error": import_error,
        },
        status_code=status,
    )


@router.post("/project/{project_id}/datasets/{dataset_id}/items")
async def create_item(request: Request, project_id: str, dataset_id: str) -> Response:
    """A new item from the dataset page's form (input required; JSON checked before the write)."""
    access, form = await managed_form(request, project_id)
    engine = request.app.state.engine
    dataset = get_dataset_by_id(engine, access.project.id, dataset_id)
    if dataset is None:
        raise NotFoundPage()
    try:
        body = body_from_form(form, dataset)
        if body["input"] is None:
            raise InvalidInputError("Input is required: the value your application is tested with.")
        item = upsert_dataset_item(engine, project_id, body)
    except (InvalidInputError, NotFoundError) as exc:
        return dataset_page_response(request, access, dataset_id, status=400, item_error=str(exc), item_form=form)
    path = f"/project/{project_id}/datasets/{quote(dataset.id, safe='')}"
    return redirect_with_notice(path, "dataset-item-created", d=item.id[:80])


@router.get("/project/{project_id}/experiments/results")
def experiment_link(request: Request, project_id: str, baseline: str = "") -> Response:
    """The experiment link of the reference SDK's 5.x release (``?baseline=<run id>``): the run's
    page; 404 for a run this project does not have (or an experiment without dataset)."""
    access = project_access(request, project_id)
    dataset_id = dataset_of_run(request.app.state.engine, access.project.id, baseline)
    if dataset_id is None:
        raise NotFoundPage()
    path = f"/project/{project_id}/datasets/{quote(dataset_id, safe='')}/compare?{urlencode({'runs': baseline})}"
    return RedirectResponse(path, status_code=303)


@router.post("/project/{project_id}/datasets/{dataset_id}/delete")
async def remove_dataset(request: Request, project_id: str, dataset_id: str) -> Response:
    await managed_form(request, project_id)
    engine = request.app.state.engine
    dataset = get_dataset_by_id(engine, project_id, dataset_id)
    if dataset is None or not delete_dataset(engine, project_id, dataset.name):
        raise NotFoundPage()
    return redirect_with_notice(f"/project/{project_id}/datasets", "dataset-deleted")
